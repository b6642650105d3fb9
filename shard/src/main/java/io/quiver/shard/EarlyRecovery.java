package io.quiver.shard;

import io.quiver.shard.engine.MemoryBudget;
import io.quiver.shard.engine.ShardEngine;
import io.quiver.shard.storage.RecoveryResult;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;

/**
 * A shard's engine, built and recovering (checkpoints + WAL replay) on its own thread before the
 * {@link ShardVerticle} is deployed, so that recovery overlaps the process's cluster join instead of
 * following it. Recovery needs nothing from the cluster: the verticle still waits for it before it
 * publishes the read-only mode, serves its gRPC port or registers, exactly as when it recovers itself.
 *
 * <p>Graph indexing waits for the verticle ({@link #indexerPool}): rows replayed from the WAL are not in
 * a graph yet, and inserting them (the most CPU-hungry work of a start-up) ran on one of two cores while
 * the process recovered, joined and registered; until then the exact scan of the unindexed tail serves them.
 *
 * <p>Created by the shard process ({@code quiver shard}) before it joins; handed to one verticle,
 * which then owns the engine and pools. If the verticle is never deployed, {@link #abandon()} closes
 * them. Thread-safe hand-off: every field is final and set before the recovery thread starts.
 */
public final class EarlyRecovery {
  final ExecutorService searchPool;
  final ExecutorService indexerPool;
  /** Opened by the verticle once it serves (see {@link #indexerPool}). */
  final CountDownLatch indexingGate = new CountDownLatch(1);
  final ShardEngine engine;
  final long budgetReserved;
  final CompletableFuture<RecoveryResult> recovered = new CompletableFuture<>();
  /** The metrics registry exists only once Vert.x runs: force latencies reach it from {@link #attach} on. */
  private final AtomicReference<LongConsumer> forceListener = new AtomicReference<>(nanos -> { });

  private EarlyRecovery(ShardOptions options) {
    int id = options.shardId();
    long budget = options.memoryBudgetMb() * 1024 * 1024;
    MemoryBudget.reserve(budget, Runtime.getRuntime().maxMemory());
    this.budgetReserved = budget;
    this.searchPool = searchPool(options);
    this.indexerPool = indexerPool(id, indexingGate);
    this.engine = new ShardEngine(options.engineOptions().walForceLatencyListener(nanos -> forceListener.get().accept(nanos)),
        searchPool, indexerPool);
  }

  /** Builds the engine and starts recovering it on a new thread; returns at once. */
  public static EarlyRecovery start(ShardOptions options) {
    if (options.shardId() < 0) {
      throw new IllegalArgumentException("a shard needs an id (QUIVER_SHARD_ID)");
    }
    EarlyRecovery early = new EarlyRecovery(options);
    Thread t = new Thread(() -> {
      try {
        early.recovered.complete(early.engine.open());
      } catch (Throwable e) {
        early.recovered.completeExceptionally(e);
      }
    }, "quiver-shard-" + options.shardId() + "-recovery");
    t.setDaemon(true);
    t.start();
    return early;
  }

  /** For a process that gives up before deploying the verticle: closes the engine once recovery ended. */
  public void abandon() {
    recovered.handle((r, e) -> {
      try {
        engine.close();
      } catch (Exception ignored) {
        // best effort: the process is exiting
      }
      searchPool.shutdownNow();
      indexingGate.countDown();
      indexerPool.shutdownNow();
      MemoryBudget.release(budgetReserved);
      return null;
    });
  }

  /** Called by the verticle that takes this engine, with its metrics' force-latency listener. */
  void attach(LongConsumer listener) {
    forceListener.set(listener);
  }

  static ExecutorService searchPool(ShardOptions options) {
    AtomicInteger n = new AtomicInteger();
    return Executors.newFixedThreadPool(options.searchThreads(), r -> {
      Thread t = new Thread(r, "quiver-shard-" + options.shardId() + "-search-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * The shard's graph indexer: one low-priority daemon thread that starts with a task waiting for
   * {@code gate}, so every insert or cleanup scheduled before the gate opens (during recovery and the
   * cluster join) runs after it. Thread priorities are ignored on Linux, hence the gate.
   */
  static ExecutorService indexerPool(int id, CountDownLatch gate) {
    ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "quiver-shard-" + id + "-indexer");
      t.setDaemon(true);
      t.setPriority(Thread.MIN_PRIORITY);
      return t;
    });
    pool.execute(() -> {
      try {
        gate.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // the pool is shutting down
      }
    });
    return pool;
  }
}
