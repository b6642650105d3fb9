package io.quiver.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import java.util.List;
import org.junit.jupiter.api.Test;

class PackedFloatsTest {

  @Test
  void packsLittleEndianAndUnpacksTheSameValues() {
    float[] v = {1.5f, -0f, Float.MAX_VALUE, Float.NaN};
    ByteString packed = PackedFloats.pack(v);
    assertThat(packed.size()).isEqualTo(16);
    assertThat(packed.byteAt(0)).isEqualTo((byte) 0x00);
    assertThat(packed.byteAt(3)).isEqualTo((byte) 0x3f); // 1.5f = 0x3fc00000, little-endian
    assertThat(PackedFloats.unpack(packed)).containsExactly(v);
  }

  @Test
  void aPackedStringDoesNotChangeWhenTheSourceRowsDo() {
    float[] a = {1, 2};
    float[] b = {3, 4};
    ByteString one = PackedFloats.pack(a);
    ByteString rows = PackedFloats.packRows(List.of(a, b), 2, 2);
    a[0] = 99;
    b[1] = 99;
    assertThat(PackedFloats.unpack(one)).containsExactly(1, 2);
    assertThat(PackedFloats.unpackRows(rows, 2)).isDeepEqualTo(new float[][] {{1, 2}, {3, 4}});
  }

  @Test
  void refusesBytesThatDoNotHoldWholeRows() {
    assertThatThrownBy(() -> PackedFloats.unpackRows(ByteString.copyFrom(new byte[12]), 2))
        .isInstanceOf(QuiverException.class).hasMessageContaining("12 bytes");
  }
}
