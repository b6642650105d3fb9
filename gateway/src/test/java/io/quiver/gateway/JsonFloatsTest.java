package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.quiver.common.PackedFloats;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import java.util.Random;
import org.junit.jupiter.api.Test;

class JsonFloatsTest {

  /** What the REST API printed before JsonFloats: a JsonArray of boxed floats, encoded by Jackson. */
  private static String jackson(float[] v) {
    JsonArray a = new JsonArray();
    for (float f : v) {
      a.add(f);
    }
    return a.encode();
  }

  private static String written(float[] v) {
    Buffer packed = Buffer.buffer();
    JsonFloats.appendPacked(packed, PackedFloats.pack(v));
    Buffer plain = Buffer.buffer();
    JsonFloats.append(plain, v);
    assertThat(packed.toString()).isEqualTo(plain.toString());
    return packed.toString();
  }

  @Test
  void writesSpecialValuesLikeJackson() {
    float[] v = {0f, -0f, 1f, -1f, 0.1f, 1f / 3, 255f, 1e-7f, 1e7f, 1.0E10f, 123456.79f, Float.MIN_VALUE, -Float.MIN_VALUE,
        Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
    assertThat(written(v)).isEqualTo(jackson(v));
  }

  @Test
  void writesEmptyAndSingleValueArrays() {
    assertThat(written(new float[0])).isEqualTo("[]");
    assertThat(written(new float[] {0.5f})).isEqualTo("[0.5]");
  }

  @Test
  void writesRandomBitPatternsLikeJacksonAlsoWhenTheMemoCollides() {
    Random r = new Random(42);
    for (int round = 0; round < 50; round++) {
      float[] v = new float[784];
      for (int i = 0; i < v.length; i++) {
        v[i] = switch (i % 3) {
          case 0 -> Float.intBitsToFloat(r.nextInt());
          case 1 -> r.nextInt(256) / 255f;
          default -> (float) r.nextGaussian();
        };
      }
      // Twice: the second pass reads the memo the first filled.
      assertThat(written(v)).isEqualTo(jackson(v));
      assertThat(written(v)).isEqualTo(jackson(v));
    }
  }

  @Test
  void growsForVectorsLongerThanTheScratchArray() {
    float[] v = new float[20_000];
    for (int i = 0; i < v.length; i++) {
      v[i] = -Float.MIN_NORMAL * (i + 1);
    }
    assertThat(written(v)).isEqualTo(jackson(v));
  }
}
