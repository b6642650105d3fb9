package io.quiver.common;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Vectors as they travel between gateway and shards: little-endian IEEE-754 f32 values, row after
 * row, in one byte string (see quiver/internal/v1/shard.proto). Stateless.
 */
public final class PackedFloats {
  private PackedFloats() {}

  public static ByteString pack(float[] vector) {
    ByteBuffer buf = ByteBuffer.allocate(vector.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    buf.asFloatBuffer().put(vector);
    return wrap(buf);
  }

  /** Packs several rows of equal length into one byte string. */
  public static ByteString packRows(Iterable<float[]> rows, int count, int dimension) {
    ByteBuffer buf = ByteBuffer.allocate(count * dimension * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    FloatBuffer fb = buf.asFloatBuffer();
    for (float[] row : rows) {
      fb.put(row);
    }
    return wrap(buf);
  }

  /**
   * The bytes of {@code buf} as a byte string without copying them again: the buffer was allocated
   * by the caller for this string alone and is not written after (a batch of 256 784-d vectors is
   * 800 KB, copied once more per shard before).
   */
  private static ByteString wrap(ByteBuffer buf) {
    return UnsafeByteOperations.unsafeWrap(buf.array());
  }

  public static float[] unpack(ByteString bytes) {
    FloatBuffer fb = bytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] out = new float[fb.remaining()];
    fb.get(out);
    return out;
  }

  /** Splits packed rows of {@code dimension} floats; fails when the length does not divide. */
  public static float[][] unpackRows(ByteString bytes, int dimension) {
    if (dimension <= 0 || bytes.size() % (dimension * Float.BYTES) != 0) {
      throw QuiverException.invalid("packed vectors of " + bytes.size() + " bytes do not hold rows of dimension " + dimension);
    }
    FloatBuffer fb = bytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    int n = fb.remaining() / dimension;
    float[][] rows = new float[n][dimension];
    for (int i = 0; i < n; i++) {
      fb.get(rows[i]);
    }
    return rows;
  }
}
