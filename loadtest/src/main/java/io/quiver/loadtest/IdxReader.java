package io.quiver.loadtest;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or not.
 *
 * <p>Layout, all integers big-endian: two zero bytes, a type byte ({@code 0x08} = unsigned byte, the
 * only type read here), a byte with the number of dimensions {@code n}, then {@code n} int32 sizes, then
 * the items row-major. An item is everything after the first dimension: a 28x28 image is one item of
 * 784 values; a label file (n = 1) has items of one value.
 *
 * <p>Stateless and thread-safe.
 */
public final class IdxReader {

  static final int TYPE_UNSIGNED_BYTE = 0x08;

  private IdxReader() {}

  /** Reads up to {@code limit} items (0 = all) as floats scaled to [0, 1] (pixel / 255). */
  public static float[][] readImages(Path file, int limit) throws IOException {
    try (DataInputStream in = open(file)) {
      int[] dims = header(in, file);
      int count = limitOf(dims[0], limit);
      int itemSize = 1;
      for (int i = 1; i < dims.length; i++) {
        itemSize = Math.multiplyExact(itemSize, dims[i]);
      }
      float[][] out = new float[count][itemSize];
      byte[] row = new byte[itemSize];
      for (int i = 0; i < count; i++) {
        readItem(in, row, file, i);
        for (int j = 0; j < itemSize; j++) {
          out[i][j] = (row[j] & 0xff) / 255f;
        }
      }
      return out;
    }
  }

  /** Reads up to {@code limit} labels (0 = all) from a one-dimensional IDX file. */
  public static int[] readLabels(Path file, int limit) throws IOException {
    try (DataInputStream in = open(file)) {
      int[] dims = header(in, file);
      if (dims.length != 1) {
        throw new IOException(file + ": a label file has 1 dimension, this one has " + dims.length);
      }
      int count = limitOf(dims[0], limit);
      byte[] raw = new byte[count];
      readItem(in, raw, file, 0);
      int[] out = new int[count];
      for (int i = 0; i < count; i++) {
        out[i] = raw[i] & 0xff;
      }
      return out;
    }
  }

  private static DataInputStream open(Path file) throws IOException {
    InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    raw.mark(2);
    int b1 = raw.read();
    int b2 = raw.read();
    raw.reset();
    InputStream in = (b1 == 0x1f && b2 == 0x8b) ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16) : raw;
    return new DataInputStream(in);
  }

  private static int[] header(DataInputStream in, Path file) throws IOException {
    int magic;
    try {
      magic = in.readInt();
    } catch (EOFException e) {
      throw new IOException(file + ": too short for an IDX header", e);
    }
    if ((magic >>> 16) != 0) {
      throw new IOException(file + ": not an IDX file (magic 0x" + Integer.toHexString(magic) + " at offset 0)");
    }
    int type = (magic >>> 8) & 0xff;
    if (type != TYPE_UNSIGNED_BYTE) {
      throw new IOException(file + ": IDX type 0x" + Integer.toHexString(type) + " is not supported (only unsigned byte)");
    }
    int n = magic & 0xff;
    if (n < 1) {
      throw new IOException(file + ": IDX file with 0 dimensions");
    }
    int[] dims = new int[n];
    for (int i = 0; i < n; i++) {
      dims[i] = in.readInt();
      if (dims[i] < 0) {
        throw new IOException(file + ": negative dimension " + dims[i] + " at offset " + (4 + 4 * i));
      }
    }
    return dims;
  }

  private static int limitOf(int available, int limit) {
    return limit > 0 ? Math.min(limit, available) : available;
  }

  private static void readItem(DataInputStream in, byte[] into, Path file, int item) throws IOException {
    try {
      in.readFully(into);
    } catch (EOFException e) {
      throw new IOException(file + ": truncated at item " + item, e);
    }
  }
}
