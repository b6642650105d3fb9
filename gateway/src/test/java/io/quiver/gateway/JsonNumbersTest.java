package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.StreamReadFeature;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The REST API reads JSON numbers with Jackson's fast parser, and reads them exactly as the JDK does. */
class JsonNumbersTest {

  @Test
  void bodiesDecodeAsVertxDecodesThemAndMalformedOnesAreRefused() {
    String doc = "{\"id\":18446744073709551615,\"n\":-3,\"big\":12345678901,\"f\":1.5,\"s\":\"x\","
        + "\"b\":true,\"z\":null,\"a\":[1,[2.5],{\"k\":\"v\"}]}";
    assertThat(RestApi.decodeJson(Buffer.buffer(doc))).isEqualTo(Json.decodeValue(Buffer.buffer(doc)));
    for (String bad : List.of("{", "{\"a\":}", "[1,]", "{} {}", "nul", "{\"a\":1}x")) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> RestApi.decodeJson(Buffer.buffer(bad)))
          .as(bad).isInstanceOf(io.vertx.core.json.DecodeException.class);
    }
  }

  @Test
  void requestBodiesAreReadWithTheFastParserAndTheSameValuesAsTheJdk() throws Exception {
    assertThat(RestApi.JSON.isEnabled(StreamReadFeature.USE_FAST_DOUBLE_PARSER)).isTrue();

    Random random = new Random(11);
    List<String> texts = new ArrayList<>(List.of("0", "-0.0", "1e-45", "1.4E-45", "3.4028235e38", "3.4028236e38",
        "0.1", "0.30000000000000004", "123456789012345678901234567890", "2.2250738585072014E-308",
        "4.9e-324", "1.7976931348623157e308", "9007199254740993", "0.000123456789e-3"));
    for (int i = 0; i < 20_000; i++) {
      float f = Float.intBitsToFloat(random.nextInt());
      if (!Float.isFinite(f)) {
        continue;
      }
      texts.add(switch (i % 4) {
        case 0 -> Float.toString(f);
        case 1 -> String.format(Locale.ROOT, "%.9e", f);
        case 2 -> String.format(Locale.ROOT, "%.3f", random.nextGaussian() * 100);
        default -> Double.toString(random.nextDouble() * Math.pow(10, random.nextInt(40) - 20));
      });
    }
    Buffer body = Buffer.buffer("[" + String.join(",", texts) + "]");
    JsonArray parsed = (JsonArray) RestApi.decodeJson(body);
    assertThat(parsed).isEqualTo(Json.decodeValue(body));

    for (int i = 0; i < texts.size(); i++) {
      double expected = Double.parseDouble(texts.get(i));
      Number got = (Number) parsed.getValue(i);
      assertThat(got.doubleValue()).as(texts.get(i)).isEqualTo(expected);
      assertThat(Validation.floats(new JsonArray().add(got), "query", 1)[0]).as(texts.get(i)).isEqualTo((float) expected);
    }
  }
}
