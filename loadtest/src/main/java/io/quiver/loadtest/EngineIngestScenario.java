package io.quiver.loadtest;

import io.quiver.cluster.Partitioning;
import io.quiver.common.QuiverException;
import io.quiver.shard.engine.CollectionSpec;
import io.quiver.shard.engine.EngineOptions;
import io.quiver.shard.engine.ShardEngine;
import io.quiver.shard.storage.Durability;
import io.quiver.shard.storage.RecoveryResult;
import io.vertx.core.Future;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench engine-ingest}: the storage engine alone, in this JVM, with no network: one
 * {@link ShardEngine} owning every partition of a collection, {@code --concurrency} writer threads
 * upserting the dataset in {@code --batch} point batches (as the shard's worker pool would). Reports
 * points/s and the WAL forces per acknowledged batch ({@link ShardEngine#walForces()}, which no
 * endpoint exposes), the group-commit figure of the {@code sync} profile.
 *
 * <p>With {@code --reopen} it then measures restart-to-ready of the engine: close, open a new engine
 * on the same directory and time {@link ShardEngine#open()} (recovery by WAL replay); then checkpoint,
 * close and open again (recovery from the checkpoint). The JVM start and the cluster join of a real
 * shard process are not included; {@code loadtest/benchmarks.sh} measures those separately.
 *
 * <p>Sends no request: {@code --url} is unused. Not thread-safe (one run per instance).
 */
@Command(name = "engine-ingest", mixinStandardHelpOptions = true,
    description = "In-process: upsert the dataset into a ShardEngine (no network); points/s, WAL forces per batch, restart time.")
public final class EngineIngestScenario extends ScenarioCommand {

  @Option(names = "--batch", defaultValue = "256", description = "Points per upsert (default ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--durability", defaultValue = "sync", description = "sync or async (default ${DEFAULT-VALUE}).")
  String durability;

  @Option(names = "--wal-sync-interval-ms", defaultValue = "1000",
      description = "Force interval of the async profile (default ${DEFAULT-VALUE}).")
  long walSyncIntervalMs;


  @Option(names = "--memory-budget-mb", defaultValue = "2048", description = "Engine memory budget (default ${DEFAULT-VALUE}).")
  long memoryBudgetMb;

  @Option(names = "--data-dir", description = "Engine data directory (default: a temporary directory, deleted afterwards).")
  Path dataDir;

  @Option(names = "--no-ann", description = "No background graph indexer (storage cost only).")
  boolean noAnn;

  @Option(names = "--reopen", description = "Afterwards, measure restart: reopen by WAL replay, then checkpoint and reopen from the checkpoint.")
  boolean reopen;

  @Override
  protected boolean needsTransport() {
    return false;
  }

  @Override
  protected void validate() {
    super.validate();
    if (batch < 1 || partitions() < 1) {
      throw new IllegalArgumentException("need --batch >= 1 and --partitions >= 1");
    }
    durability();
    if (load.rate != null) {
      throw new IllegalArgumentException("engine-ingest is closed loop: use --concurrency");
    }
  }

  private Durability durability() {
    return switch (durability.toLowerCase(Locale.ROOT)) {
      case "sync" -> Durability.SYNC;
      case "async" -> Durability.ASYNC;
      default -> throw new IllegalArgumentException("--durability must be sync or async");
    };
  }

  /** {@code --partitions}, 16 (the server's default) when not given. */
  private int partitions() {
    return collection.partitionsOr(io.quiver.cluster.Partitioning.DEFAULT_PARTITIONS);
  }

  @Override
  protected void execute(BenchRun run) throws Exception {
    Dataset d = dataset();
    boolean temporary = dataDir == null;
    Path dir = temporary ? Files.createTempDirectory("quiver-engine-ingest") : Files.createDirectories(dataDir);
    int concurrency = load.concurrency != null ? load.concurrency : 8;
    ExecutorService writers = Executors.newFixedThreadPool(concurrency);
    EngineThreads threads = new EngineThreads(noAnn);
    try {
      ShardEngine engine = new ShardEngine(options(dir), threads.search, threads.indexer);
      engine.open();
      CollectionSpec spec = new CollectionSpec("bench", collection.name, 1L, d.dimension(),
          EngineSearchScenario.shardMetric(metric()), true, partitions());
      Map<Integer, Long> owned = new LinkedHashMap<>();
      for (int p = 0; p < partitions(); p++) {
        owned.put(p, 1L);
      }
      engine.createCollection(spec, owned);
      long batches = (d.size() + batch - 1) / batch;
      LoadDriver.Workload workload = seq -> {
        int first = (int) ((seq * batch) % d.size());
        int n = Math.min(batch, d.size() - first);
        long[] ids = new long[n];
        float[][] vectors = new float[n][];
        byte[][] payloads = new byte[n][];
        Map<Integer, Long> epochs = new LinkedHashMap<>();
        for (int j = 0; j < n; j++) {
          ids[j] = first + j;
          vectors[j] = d.base()[first + j];
          payloads[j] = ("{\"label\":" + d.labels()[first + j] + "}").getBytes(StandardCharsets.UTF_8);
          epochs.put(Partitioning.partitionOf(ids[j], partitions()), 1L);
        }
        CompletableFuture<Reply> reply = CompletableFuture
            .supplyAsync(() -> engine.upsert(spec.uid(), ids, vectors, payloads, epochs), writers)
            .thenCompose(f -> f)
            .handle((r, err) -> err == null ? Reply.success(200, null) : failure(err));
        return new LoadDriver.Request(Workloads.UPSERT, Future.fromCompletionStage(reply));
      };
      long forces0 = engine.walForces();
      long seq0 = engine.walSequence();
      Report.PhaseReport phase = run.phase("ingest", new LoadDriver.ClosedLoop(concurrency),
          load.limits(null, batches), workload, load.maxInFlight);
      long forces = engine.walForces() - forces0;
      Report.OpReport op = phase.op(Workloads.UPSERT);
      long acked = op == null ? 0 : op.ok();
      run.note("durability", durability.toLowerCase(Locale.ROOT));
      run.note("points_per_s", op == null ? 0.0 : op.throughput() * batch);
      run.note("acked_batches", acked);
      run.note("wal_records", engine.walSequence() - seq0);
      run.note("wal_forces", forces);
      run.note("wal_forces_per_acked_batch", acked == 0 ? 0.0 : (double) forces / acked);
      run.note("points", engine.pointCount());
      run.note("memory_used_bytes", engine.ramBytesUsed());
      if (reopen) {
        engine.close();
        measureReopen(run, dir, threads, "reopen_wal_replay", false);
        measureReopen(run, dir, threads, "reopen_from_checkpoint", true);
      } else {
        engine.close();
      }
    } finally {
      writers.shutdownNow();
      threads.close();
      if (temporary) {
        deleteTree(dir);
      }
    }
  }

  /**
   * Opens a fresh engine on {@code dir} and records how long {@link ShardEngine#open()} took; with
   * {@code checkpointFirst} it first opens, checkpoints and closes one, so the timed open loads the
   * checkpoint instead of replaying the WAL.
   */
  private void measureReopen(BenchRun run, Path dir, EngineThreads threads, String name, boolean checkpointFirst)
      throws IOException {
    if (checkpointFirst) {
      ShardEngine e = new ShardEngine(options(dir), threads.search, threads.indexer);
      e.open();
      e.checkpoint();
      e.close();
    }
    ShardEngine e = new ShardEngine(options(dir), threads.search, threads.indexer);
    long t0 = System.nanoTime();
    RecoveryResult r = e.open();
    double ms = (System.nanoTime() - t0) / 1e6;
    run.note(name + "_ms", ms);
    run.note(name + "_points", e.pointCount());
    run.note(name + "_checkpoints_loaded", r.checkpointsLoaded());
    run.note(name + "_wal_records_replayed", r.recordsReplayed());
    e.close();
  }

  private EngineOptions options(Path dir) {
    return new EngineOptions().shardId(0).dataDir(dir).durability(durability())
        .walSyncIntervalMs(walSyncIntervalMs).memoryBudgetBytes(memoryBudgetMb * 1024 * 1024);
  }

  private static Reply failure(Throwable err) {
    Throwable t = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
    if (t instanceof QuiverException q) {
      return Reply.failure(q.code().httpStatus(), q.code().code(), null);
    }
    return Reply.failure(500, "internal", null);
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** The engine's pools as the shard verticle makes them: search legs on all cores, one low-priority indexer. */
  static final class EngineThreads implements AutoCloseable {
    final ExecutorService search = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors(), r -> {
      Thread t = new Thread(r, "bench-engine-search");
      t.setDaemon(true);
      return t;
    });
    final ExecutorService indexer;

    EngineThreads(boolean noAnn) {
      indexer = noAnn ? null : Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "bench-engine-indexer");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        return t;
      });
    }

    @Override
    public void close() throws InterruptedException {
      search.shutdownNow();
      if (indexer != null) {
        indexer.shutdownNow();
        indexer.awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }
}
