package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.quiver.proto.v1.Filter;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class ValidationTest {

  private static void assertInvalid(Runnable r, String messagePart) {
    assertThatThrownBy(r::run)
        .isInstanceOfSatisfying(QuiverException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT))
        .hasMessageContaining(messagePart);
  }

  @Test
  void rejectsWrongDimensionNamingBothSizes() {
    assertInvalid(() -> Validation.checkVector(new float[] {1, 2}, 3, true, "values"), "dimension 2 but the collection has dimension 3");
  }

  @Test
  void rejectsNonFiniteValuesWhenStrict() {
    assertInvalid(() -> Validation.checkVector(new float[] {1, Float.NaN, 0}, 3, true, "values"), "values[1] is not a finite number");
    assertInvalid(() -> Validation.checkVector(new float[] {Float.POSITIVE_INFINITY}, 1, true, "query"), "query[0]");
  }

  @Test
  void acceptsNonFiniteValuesWhenNotStrict() {
    Validation.checkVector(new float[] {Float.NaN}, 1, false, "values");
  }

  @Test
  void floatsMustBeAnArrayOfNumbersWithinTheDimensionLimit() {
    assertThat(Validation.floats(new JsonArray().add(1).add(2.5), "values", 10)).containsExactly(1f, 2.5f);
    assertInvalid(() -> Validation.floats("nope", "values", 10), "values must be an array of numbers");
    assertInvalid(() -> Validation.floats(new JsonArray().add(1).add("x"), "values", 10), "values[1] must be a number");
    assertInvalid(() -> Validation.floats(new JsonArray().add(1).add(2).add(3), "values", 2), "at most 2");
  }

  @Test
  void payloadValuesMustBeScalarsOrArraysOfScalars() {
    assertThat(Validation.payload(new JsonObject().put("a", 1).put("b", new JsonArray().add("x")), "payload")).isNotEmpty();
    assertInvalid(() -> Validation.payload(new JsonObject().put("a", new JsonObject()), "payload"), "payload.a");
    assertInvalid(() -> Validation.payload(new JsonObject().put("a", new JsonArray().add(new JsonObject())), "payload"), "payload.a");
    assertInvalid(() -> Validation.payload(new JsonArray(), "payload"), "payload must be a JSON object");
  }

  @Test
  void parsesFilterClausesIntoTheSharedForm() {
    Filter f = Validation.filter(new JsonObject()
        .put("must", new JsonArray().add(new JsonObject().put("field", "color").put("value", "red")))
        .put("should", new JsonArray().add(new JsonObject().put("field", "price").put("gte", 1).put("lt", 5)))
        .put("minimum_should_match", 1), 10);
    assertThat(f.getMust(0).getValue().getStringValue()).isEqualTo("red");
    assertThat(f.getShould(0).getGte()).isEqualTo(1.0);
    assertThat(f.getShould(0).getLt()).isEqualTo(5.0);
    assertThat(f.getMinimumShouldMatch()).isEqualTo(1);
  }

  @Test
  void rejectsMalformedFiltersNamingTheField() {
    assertInvalid(() -> Validation.filter(new JsonObject().put("must", new JsonArray().add(new JsonObject().put("field", "a").put("eq", 1))), 10),
        "unknown field 'eq' in filter clause filter.must[0]");
    assertInvalid(() -> Validation.filter(new JsonObject().put("nope", new JsonArray()), 10), "unknown field 'nope' in filter");
    assertInvalid(() -> Validation.filter(new JsonObject().put("must", new JsonArray().add(new JsonObject().put("value", 1))), 10),
        "filter.must[0].field");
    assertInvalid(() -> Validation.filter(new JsonObject().put("must", new JsonArray().add(new JsonObject().put("field", "a"))), 10),
        "needs either value or a range");
    assertInvalid(() -> Validation.filter(new JsonObject().put("must", new JsonArray().add(new JsonObject().put("field", "a").put("value", 1).put("gt", 0))), 10),
        "needs either value or a range");
    assertInvalid(() -> Validation.filter(new JsonObject().put("must", new JsonArray().add(new JsonObject().put("field", "a").put("gt", "x"))), 10),
        "filter.must[0].gt must be a finite number");
    assertInvalid(() -> Validation.filter(new JsonObject().put("should", new JsonArray()).put("minimum_should_match", 2), 10),
        "minimum_should_match");
  }

  @Test
  void limitsTheNumberOfFilterClauses() {
    JsonArray must = new JsonArray();
    for (int i = 0; i < 5; i++) {
      must.add(new JsonObject().put("field", "f" + i).put("value", i));
    }
    assertInvalid(() -> Validation.filter(new JsonObject().put("must", must), 4), "at most 4");
  }

  @Test
  void idsAreUnsigned64BitIntegers() {
    assertThat(RestApi.id(5, "id")).isEqualTo(5L);
    assertThat(RestApi.id(new BigInteger("18446744073709551615"), "id")).isEqualTo(-1L);
    assertThat(RestApi.jsonId(-1L).toString()).isEqualTo("18446744073709551615");
    assertInvalid(() -> RestApi.id(-1, "id"), "unsigned 64-bit");
    assertInvalid(() -> RestApi.id(new BigInteger("18446744073709551616"), "id"), "unsigned 64-bit");
    assertInvalid(() -> RestApi.id(1.5, "id"), "unsigned 64-bit");
    assertInvalid(() -> RestApi.parseId("abc", "id"), "unsigned 64-bit");
  }
}
