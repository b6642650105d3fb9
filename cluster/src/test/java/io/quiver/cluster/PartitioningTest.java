package io.quiver.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PartitioningTest {

  @Test
  void murmur3MatchesPublishedReferenceValues() {
    // Computed with an independent MurmurHash3 x86_32 implementation over the 8 little-endian
    // bytes of the id, seed 0 (the same as Python's mmh3.hash(id.to_bytes(8, "little"), 0, signed=False)).
    assertThat(Integer.toUnsignedLong(Partitioning.murmur3(0L))).isEqualTo(1669671676L);
    assertThat(Integer.toUnsignedLong(Partitioning.murmur3(1L))).isEqualTo(1392991556L);
    assertThat(Integer.toUnsignedLong(Partitioning.murmur3(42L))).isEqualTo(1871679806L);
    assertThat(Integer.toUnsignedLong(Partitioning.murmur3(123456789L))).isEqualTo(690028081L);
    assertThat(Integer.toUnsignedLong(Partitioning.murmur3(Long.MIN_VALUE))).isEqualTo(1366273829L); // 2^63
    assertThat(Integer.toUnsignedLong(Partitioning.murmur3(-1L))).isEqualTo(1651860712L); // 2^64-1
  }

  @Test
  void partitionIsTheUnsignedHashModuloPartitions() {
    assertThat(Partitioning.partitionOf(0L, 16)).isEqualTo(12);
    assertThat(Partitioning.partitionOf(1L, 16)).isEqualTo(4);
    assertThat(Partitioning.partitionOf(42L, 16)).isEqualTo(14);
    assertThat(Partitioning.partitionOf(Long.MIN_VALUE, 16)).isEqualTo(5);
    assertThat(Partitioning.partitionOf(-1L, 16)).isEqualTo(8);
    assertThat(Partitioning.partitionOf(123456789L, 16)).isEqualTo(1);
  }

  @Test
  void sequentialIdsSpreadEvenlyOverPartitions() {
    int partitions = 16;
    int[] counts = new int[partitions];
    int n = 160_000;
    for (long id = 0; id < n; id++) {
      int p = Partitioning.partitionOf(id, partitions);
      assertThat(p).isBetween(0, partitions - 1);
      counts[p]++;
    }
    for (int c : counts) {
      assertThat(c).isBetween(n / partitions * 95 / 100, n / partitions * 105 / 100);
    }
  }

  @Test
  void onePartitionTakesEverything() {
    assertThat(Partitioning.partitionOf(-7L, 1)).isZero();
    assertThat(Partitioning.partitionOf(99L, 1)).isZero();
  }
}
