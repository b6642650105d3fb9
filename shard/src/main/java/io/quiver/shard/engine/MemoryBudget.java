package io.quiver.shard.engine;

import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;

/**
 * The JVM-wide check that every shard's memory budget fits the heap. A shard's structures may grow
 * to its budget; on top of that the JVM needs room for requests in flight, search scratch space,
 * checkpoint buffers and the garbage collector. The rule: the heap (-Xmx) must be at least
 * {@code 1.25 x (sum of the budgets of the shards in this JVM) + 256 MiB}. A shard whose budget would
 * break it refuses to start. Thread-safe.
 */
public final class MemoryBudget {
  public static final double HEAP_FACTOR = 1.25;
  public static final long HEAP_RESERVE_BYTES = 256L * 1024 * 1024;
  private static long reserved;

  private MemoryBudget() {}

  /** The heap a JVM needs for shards whose budgets add up to {@code budgetBytes}. */
  public static long heapNeeded(long budgetBytes) {
    return (long) (budgetBytes * HEAP_FACTOR) + HEAP_RESERVE_BYTES;
  }

  /** Reserves {@code budgetBytes} of this JVM's heap for one shard, or refuses with the heap it needs. */
  public static synchronized void reserve(long budgetBytes, long maxHeapBytes) {
    long needed = heapNeeded(reserved + budgetBytes);
    if (needed > maxHeapBytes) {
      throw new QuiverException(ErrorCode.RESOURCE_EXHAUSTED, String.format(
          "the JVM heap (%d MiB) cannot hold the memory budget of the shards in this process (%d MiB in all): "
              + "it needs at least %d MiB (1.25 x budget + 256 MiB); raise QUIVER_HEAP or lower QUIVER_MEMORY_BUDGET_MB",
          maxHeapBytes >> 20, (reserved + budgetBytes) >> 20, (needed >> 20) + 1));
    }
    reserved += budgetBytes;
  }

  public static synchronized void release(long budgetBytes) {
    reserved = Math.max(0, reserved - budgetBytes);
  }
}
