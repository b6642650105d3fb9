package io.quiver.shard.index.payload;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FilterTest {

    private static final Payload DOC = Payload.fromJson(
            "{\"city\":\"Paris\",\"price\":12.5,\"stock\":3,\"new\":true,\"tags\":[\"red\",\"blue\"],\"sizes\":[38,40]}");

    private static boolean matches(String filterJson) {
        return Filter.fromJson(filterJson).matches(DOC);
    }

    @Test
    void mustRequiresEveryClause() {
        assertThat(matches("{\"must\":[{\"field\":\"city\",\"value\":\"Paris\"},{\"field\":\"new\",\"value\":true}]}")).isTrue();
        assertThat(matches("{\"must\":[{\"field\":\"city\",\"value\":\"Paris\"},{\"field\":\"new\",\"value\":false}]}")).isFalse();
    }

    @Test
    void mustNotRejectsAnyMatchingClause() {
        assertThat(matches("{\"must_not\":[{\"field\":\"city\",\"value\":\"Rome\"}]}")).isTrue();
        assertThat(matches("{\"must_not\":[{\"field\":\"city\",\"value\":\"Rome\"},{\"field\":\"tags\",\"value\":\"red\"}]}")).isFalse();
        assertThat(matches("{\"must_not\":[{\"field\":\"missing\",\"value\":\"x\"}]}")).isTrue();
    }

    @Test
    void shouldNeedsOneMatchByDefaultAndMinimumShouldMatchOtherwise() {
        String two = "{\"field\":\"city\",\"value\":\"Paris\"},{\"field\":\"tags\",\"value\":\"blue\"},{\"field\":\"new\",\"value\":false}";
        assertThat(matches("{\"should\":[" + two + "]}")).isTrue();
        assertThat(matches("{\"should\":[{\"field\":\"city\",\"value\":\"Rome\"}]}")).isFalse();
        assertThat(matches("{\"should\":[" + two + "],\"minimum_should_match\":2}")).isTrue();
        assertThat(matches("{\"should\":[" + two + "],\"minimum_should_match\":3}")).isFalse();
        assertThat(matches("{\"should\":[{\"field\":\"city\",\"value\":\"Rome\"}],\"minimum_should_match\":0}")).isTrue();
        assertThat(Filter.fromJson("{\"should\":[" + two + "]}").minimumShouldMatch()).isEqualTo(1);
    }

    @Test
    void arraysMatchByMembershipForValuesAndRanges() {
        assertThat(matches("{\"must\":[{\"field\":\"tags\",\"value\":\"blue\"}]}")).isTrue();
        assertThat(matches("{\"must\":[{\"field\":\"tags\",\"value\":\"green\"}]}")).isFalse();
        assertThat(matches("{\"must\":[{\"field\":\"sizes\",\"value\":40}]}")).isTrue();
        assertThat(matches("{\"must\":[{\"field\":\"sizes\",\"gt\":39,\"lt\":41}]}")).isTrue();
        assertThat(matches("{\"must\":[{\"field\":\"sizes\",\"gt\":40}]}")).isFalse();
    }

    @Test
    void rangesCompareNumbersAsDoublesWithStrictAndInclusiveBounds() {
        assertThat(matches("{\"must\":[{\"field\":\"price\",\"gte\":12.5,\"lte\":12.5}]}")).isTrue();
        assertThat(matches("{\"must\":[{\"field\":\"price\",\"gt\":12.5}]}")).isFalse();
        assertThat(matches("{\"must\":[{\"field\":\"stock\",\"lt\":3.0001}]}")).isTrue();
        assertThat(matches("{\"must\":[{\"field\":\"stock\",\"value\":3.0}]}")).isTrue();
        assertThat(matches("{\"must\":[{\"field\":\"city\",\"gt\":0}]}")).as("range on a string").isFalse();
        assertThat(matches("{\"must\":[{\"field\":\"stock\",\"value\":\"3\"}]}")).as("string never equals number").isFalse();
    }

    @Test
    void missingFieldNeverMatchesAPositiveClause() {
        assertThat(matches("{\"must\":[{\"field\":\"nope\",\"value\":\"x\"}]}")).isFalse();
        assertThat(matches("{\"must\":[{\"field\":\"nope\",\"lt\":10}]}")).isFalse();
        assertThat(matches("{\"should\":[{\"field\":\"nope\",\"value\":1}]}")).isFalse();
    }

    @Test
    void emptyFilterMatchesEverything() {
        assertThat(matches("{}")).isTrue();
        assertThat(Filter.fromJson("{}").isEmpty()).isTrue();
        assertThat(Filter.MATCH_ALL.matches(Payload.EMPTY)).isTrue();
    }

    @Test
    void parserRejectsUnknownFieldsAndMalformedClauses() {
        assertThatThrownBy(() -> Filter.fromJson("{\"must\":[{\"field\":\"a\",\"eq\":1}]}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("eq");
        assertThatThrownBy(() -> Filter.fromJson("{\"filter\":[]}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("filter");
        assertThatThrownBy(() -> Filter.fromJson("{\"must\":[{\"field\":\"a\"}]}"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Filter.fromJson("{\"must\":[{\"field\":\"a\",\"value\":1,\"gt\":0}]}"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Filter.fromJson("{\"must\":[{\"field\":\"a\",\"value\":[1]}]}"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void programmaticConstructionMatchesParsedForm() {
        Filter f = Filter.of(List.of(FilterClause.match("city", "Paris")), List.of(), List.of(
                FilterClause.range("price", 20.0, null, null, null)), null);
        assertThat(f.matches(DOC)).isTrue();
    }
}
