package io.quiver.shard.engine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.IntFunction;

/**
 * The bodies of the shard's WAL records: what one write did to one partition. The WAL frames each
 * body with its type, sequence, collection uid and partition (see
 * {@link io.quiver.shard.storage.WalSegment}); the body layouts, little-endian, are:
 *
 * <pre>
 * UPSERT (type 1)       int count, then count times:
 *                         long id, float[dimension] vector, int payloadLength, byte[payloadLength] payload JSON
 * DELETE (type 2)       int count, then count times: long id
 * SET_PAYLOAD (type 3)  int count, then count times: long id, int payloadLength, byte[payloadLength] payload JSON
 *                         (the whole new payload, so replaying it twice gives the same state)
 * </pre>
 *
 * Every record is idempotent: applying it again over a state that already has it changes nothing.
 * Stateless.
 */
final class WalBodies {
  static final byte UPSERT = 1;
  static final byte DELETE = 2;
  static final byte SET_PAYLOAD = 3;

  private WalBodies() {}

  /** One point of an UPSERT body, or of a SET_PAYLOAD body (vector null). */
  record Entry(long id, float[] vector, byte[] payload) {}

  static ByteBuffer upsert(long[] ids, float[][] vectors, byte[][] payloads, int[] rows, int dimension) {
    int size = 4;
    for (int r : rows) {
      size += 8 + dimension * 4 + 4 + (payloads[r] == null ? 0 : payloads[r].length);
    }
    ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(rows.length);
    for (int r : rows) {
      b.putLong(ids[r]);
      b.asFloatBuffer().put(vectors[r]);
      b.position(b.position() + dimension * 4);
      byte[] p = payloads[r];
      b.putInt(p == null ? 0 : p.length);
      if (p != null) {
        b.put(p);
      }
    }
    return b.flip();
  }

  static ByteBuffer delete(long[] ids, int[] rows) {
    ByteBuffer b = ByteBuffer.allocate(4 + 8 * rows.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(rows.length);
    for (int r : rows) {
      b.putLong(ids[r]);
    }
    return b.flip();
  }

  static ByteBuffer setPayload(long[] ids, IntFunction<byte[]> payloadOfRow, int[] rows) {
    byte[][] p = new byte[rows.length][];
    int size = 4;
    for (int i = 0; i < rows.length; i++) {
      p[i] = payloadOfRow.apply(rows[i]);
      size += 8 + 4 + p[i].length;
    }
    ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(rows.length);
    for (int i = 0; i < rows.length; i++) {
      b.putLong(ids[rows[i]]).putInt(p[i].length).put(p[i]);
    }
    return b.flip();
  }

  /** Decodes any body into entries (vector null for DELETE and SET_PAYLOAD, payload null for DELETE). */
  static Entry[] decode(byte type, ByteBuffer body, int dimension) {
    ByteBuffer b = body.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int n = b.getInt();
    if (n < 0 || n > b.remaining()) {
      throw new IllegalArgumentException("record claims " + n + " entries in " + b.remaining() + " bytes");
    }
    Entry[] out = new Entry[n];
    for (int i = 0; i < n; i++) {
      long id = b.getLong();
      switch (type) {
        case UPSERT -> {
          float[] v = new float[dimension];
          b.asFloatBuffer().get(v);
          b.position(b.position() + dimension * 4);
          out[i] = new Entry(id, v, bytes(b));
        }
        case DELETE -> out[i] = new Entry(id, null, null);
        case SET_PAYLOAD -> out[i] = new Entry(id, null, bytes(b));
        default -> throw new IllegalArgumentException("unknown record type " + type);
      }
    }
    return out;
  }

  private static byte[] bytes(ByteBuffer b) {
    int len = b.getInt();
    if (len < 0 || len > b.remaining()) {
      throw new IllegalArgumentException("payload of " + len + " bytes in " + b.remaining() + " remaining");
    }
    byte[] p = new byte[len];
    b.get(p);
    return p;
  }
}
