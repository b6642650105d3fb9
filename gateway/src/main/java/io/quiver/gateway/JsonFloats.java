package io.quiver.gateway;

import com.google.protobuf.ByteString;
import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Writes f32 vectors as JSON arrays of numbers straight into a {@link Buffer}, byte for byte what
 * Jackson writes for a {@code JsonArray} of boxed {@code Float}s (the REST API's earlier rendering):
 * {@link Float#toString(float)}, the shortest decimal that reads back to the same float (JDK 19+),
 * and non-finite values as the strings {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"}.
 *
 * <p>Why: a point GET answers 784 floats, and boxing them into a {@code JsonArray} and formatting
 * each through {@code Float.toString} was half of the gateway's CPU per request. Here {@code 0.0}
 * (most pixels of an image, most entries of a sparse vector) is a constant, and other values go
 * through a small direct-mapped memo of recently formatted floats (vectors of real data repeat
 * values: quantized pixels, embeddings with few distinct levels); a miss formats with
 * {@link StringBuilder#append(float)}, which does not allocate a String.
 *
 * <p>Thread-safe: the memo holds immutable entries, so a racing read sees either a whole entry or
 * another; the scratch array is per thread.
 */
final class JsonFloats {
  private static final int MEMO_BITS = 12;
  private static final int MEMO_MASK = (1 << MEMO_BITS) - 1;
  private static final byte[] ZERO = "0.0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final byte[] NEGATIVE_ZERO = "-0.0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final Formatted[] MEMO = new Formatted[1 << MEMO_BITS];
  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  /** A float's bits and the ASCII text Jackson would write for it. Immutable. */
  private record Formatted(int bits, byte[] text) {}

  private JsonFloats() {}

  /** Appends {@code [v0,v1,...]} for the little-endian f32 values packed in {@code packed}. */
  static void appendPacked(Buffer out, ByteString packed) {
    ByteBuffer b = packed.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    int n = b.remaining() / Float.BYTES;
    Scratch s = SCRATCH.get();
    s.reset(n);
    for (int i = 0; i < n; i++) {
      s.value(i, text(b.getFloat(i * Float.BYTES)));
    }
    s.close(out);
  }

  /** Appends {@code [v0,v1,...]}. */
  static void append(Buffer out, float[] values) {
    Scratch s = SCRATCH.get();
    s.reset(values.length);
    for (int i = 0; i < values.length; i++) {
      s.value(i, text(values[i]));
    }
    s.close(out);
  }

  /** A per-thread byte array the array is built in, then copied to the buffer at once. */
  private static final class Scratch {
    final StringBuilder digits = new StringBuilder(32);
    byte[] bytes = new byte[8192];
    int length;

    void reset(int values) {
      // The longest float text is 15 characters ("-1.17549435E-38"), plus a comma.
      int worst = 2 + values * 16;
      if (bytes.length < worst) {
        bytes = new byte[worst];
      }
      bytes[0] = '[';
      length = 1;
    }

    void value(int index, byte[] text) {
      if (index > 0) {
        bytes[length++] = ',';
      }
      System.arraycopy(text, 0, bytes, length, text.length);
      length += text.length;
    }

    void close(Buffer out) {
      bytes[length++] = ']';
      out.appendBytes(bytes, 0, length);
    }
  }

  /** The JSON text of one value (shared: callers must not modify it). */
  static byte[] text(float f) {
    int bits = Float.floatToRawIntBits(f);
    if (bits == 0) {
      return ZERO;
    }
    if (bits == 0x8000_0000) {
      return NEGATIVE_ZERO;
    }
    // murmur3's finalizer: the bits of nearby floats (k / 255, say) differ in few places.
    int h = bits;
    h ^= h >>> 16;
    h *= 0x85EB_CA6B;
    h ^= h >>> 13;
    h *= 0xC2B2_AE35;
    h ^= h >>> 16;
    int slot = h & MEMO_MASK;
    // Two ways: a value looks in its slot and the neighbour slot ^ 1, so two values sharing a slot
    // do not evict each other on every vector.
    Formatted memo = MEMO[slot];
    if (memo != null && memo.bits == bits) {
      return memo.text;
    }
    Formatted other = MEMO[slot ^ 1];
    if (other != null && other.bits == bits) {
      return other.text;
    }
    byte[] text = format(f);
    MEMO[memo == null || other != null ? slot : slot ^ 1] = new Formatted(bits, text);
    return text;
  }

  private static byte[] format(float f) {
    if (!Float.isFinite(f)) {
      // Jackson's default (WRITE_NAN_AS_STRINGS): quoted.
      return ("\"" + Float.toString(f) + "\"").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
    StringBuilder sb = SCRATCH.get().digits;
    sb.setLength(0);
    sb.append(f);
    byte[] text = new byte[sb.length()];
    for (int i = 0; i < text.length; i++) {
      text[i] = (byte) sb.charAt(i);
    }
    return text;
  }
}
