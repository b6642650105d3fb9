package io.quiver.shard.index.payload;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PayloadTest {

    @Test
    void keepsRawJsonAndParsesFlatFields() {
        String json = "{ \"city\":\"Paris\", \"n\":3, \"ok\":true, \"tags\":[\"a\",1,false,{\"x\":1}], \"nested\":{\"a\":1}, \"z\":null }";
        Payload p = Payload.fromJson(json);
        assertThat(p.jsonString()).isEqualTo(json);
        assertThat(p.field("city")).isEqualTo("Paris");
        assertThat(p.field("n")).isEqualTo(3.0);
        assertThat(p.field("ok")).isEqualTo(true);
        assertThat(p.field("tags")).isEqualTo(List.of("a", 1.0, false));
        assertThat(p.field("nested")).isNull();
        assertThat(p.field("z")).isNull();
        assertThat(p.field("missing")).isNull();
        assertThat(p.ramBytesUsed()).isGreaterThan(json.length());
    }

    @Test
    void rejectsNonObjects() {
        assertThatThrownBy(() -> Payload.fromJson("[1,2]")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("object");
        assertThatThrownBy(() -> Payload.fromJson("{bad")).isInstanceOf(IllegalArgumentException.class);
        assertThat(Payload.fromJson("")).isSameAs(Payload.EMPTY);
        assertThat(Payload.fromJson("null")).isSameAs(Payload.EMPTY);
    }

    @Test
    void mergeOverwritesTopLevelKeysAndWithoutKeysRemovesThem() {
        Payload p = Payload.fromJson("{\"a\":1,\"b\":\"x\"}");
        Payload merged = p.merge(Payload.fromJson("{\"b\":\"y\",\"c\":[1]}"));
        assertThat(merged.field("a")).isEqualTo(1.0);
        assertThat(merged.field("b")).isEqualTo("y");
        assertThat(merged.field("c")).isEqualTo(List.of(1.0));
        Payload removed = merged.withoutKeys(List.of("a", "nope"));
        assertThat(removed.field("a")).isNull();
        assertThat(removed.filterableFields()).containsExactly("b", "c");
        assertThat(p.withoutKeys(List.of("nope"))).isSameAs(p);
    }
}
