package io.quiver.cluster;

/**
 * Which partition a point id belongs to: {@code murmur3_x86_32(8 little-endian bytes of id, seed 0)},
 * taken as an unsigned 32-bit number, modulo the collection's partition count.
 *
 * <p>The hash is fixed forever: changing it would move every stored point. It is the standard
 * MurmurHash3 x86 32-bit function, so any language can compute the same partition (for example
 * Python {@code mmh3.hash(id.to_bytes(8, "little"), 0, signed=False) % partitions}).
 * Stateless and thread-safe.
 */
public final class Partitioning {
  public static final int DEFAULT_PARTITIONS = 16;
  public static final int MAX_PARTITIONS = 1024;

  private Partitioning() {}

  /** The partition of {@code id} (an unsigned 64-bit id held in a long) among {@code partitions}. */
  public static int partitionOf(long id, int partitions) {
    return (int) (Integer.toUnsignedLong(murmur3(id)) % partitions);
  }

  /** MurmurHash3 x86 32-bit of the 8 little-endian bytes of {@code value}, seed 0. */
  public static int murmur3(long value) {
    int h = 0;
    h = mixH(h, mixK((int) value));
    h = mixH(h, mixK((int) (value >>> 32)));
    h ^= 8;
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    h ^= h >>> 16;
    return h;
  }

  private static int mixK(int k) {
    k *= 0xcc9e2d51;
    k = Integer.rotateLeft(k, 15);
    return k * 0x1b873593;
  }

  private static int mixH(int h, int k) {
    h ^= k;
    h = Integer.rotateLeft(h, 13);
    return h * 5 + 0xe6546b64;
  }
}
