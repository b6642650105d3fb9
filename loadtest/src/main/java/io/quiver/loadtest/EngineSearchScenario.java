package io.quiver.loadtest;

import io.quiver.cluster.Partitioning;
import io.quiver.shard.index.PartitionIndex;
import io.quiver.shard.index.SearchHit;
import io.quiver.shard.index.SearchMode;
import io.quiver.shard.index.SearchResult;
import io.quiver.shard.index.payload.Payload;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bench engine-search}: the search engine alone, in this JVM, with no network, so that the cost
 * of the REST and gRPC path is visible next to {@code bench search}. The dataset goes into
 * {@code --partitions} {@link PartitionIndex} partitions spread round-robin over {@code --shards}
 * simulated shards, each with its own single background indexer and its own search pool of all cores (as
 * each shard process has). A query goes to every simulated shard on a worker thread (as a shard's gRPC
 * worker), which searches its partitions as {@code ShardEngine.search} does: one task per partition on the
 * shard's search pool while fewer searches than the pool has threads run on that shard, else one task for
 * all of them; the per-partition top-k are merged, as the shards and the gateway do.
 *
 * <p>Reports, in order: load time; how long after the load the ANN graphs were complete (every row
 * indexed, {@link PartitionIndex#indexedCount()}); memory per point ({@link PartitionIndex#ramBytesUsed()}
 * over points) against the raw {@code 4 x dimension} bytes; then phases {@code ann} (recall@k, closed loop
 * at {@code --ann-concurrency}), {@code exact} (single queries at {@code --exact-concurrency}) and
 * {@code exact_batch} ({@code --batch-queries} per call at {@code --batch-concurrency}).
 *
 * <p>Sends no request: {@code --url} is unused. Not thread-safe (one run per instance).
 */
@Command(name = "engine-search", mixinStandardHelpOptions = true,
    description = "In-process: load the dataset into PartitionIndex partitions (no network); ANN build time, memory/point, ANN and exact search.")
public final class EngineSearchScenario extends ScenarioCommand {

  @Mixin
  Options.Search search;


  @Option(names = "--shards", defaultValue = "2", description = "Simulated shards: one background indexer thread each (default ${DEFAULT-VALUE}).")
  int shards;

  @Option(names = "--ann-concurrency", defaultValue = "16", description = "Concurrent clients of the ANN phase (default ${DEFAULT-VALUE}).")
  int annConcurrency;

  @Option(names = "--exact-concurrency", defaultValue = "1", description = "Concurrent clients of the exact phase (default ${DEFAULT-VALUE}).")
  int exactConcurrency;

  @Option(names = "--batch-concurrency", defaultValue = "1", description = "Concurrent clients of the exact batch phase (default ${DEFAULT-VALUE}).")
  int batchConcurrency;

  @Option(names = "--always-fan-out", description = "One search-pool task per partition even when the shard is busy (the engine's behaviour before busy searches became one task; for comparison).")
  boolean alwaysFanOut;

  @Option(names = "--phase-duration", defaultValue = "20s", converter = DurationConverter.class,
      description = "Length of each search phase (default ${DEFAULT-VALUE}).")
  Duration phaseDuration;

  @Option(names = "--build-timeout", defaultValue = "600s", converter = DurationConverter.class,
      description = "Give up waiting for the ANN graphs after this long (default ${DEFAULT-VALUE}).")
  Duration buildTimeout;

  @Override
  protected boolean needsTransport() {
    return false;
  }

  @Override
  protected void validate() {
    super.validate();
    if (partitions() < 1 || shards < 1 || annConcurrency < 1 || exactConcurrency < 1 || batchConcurrency < 1) {
      throw new IllegalArgumentException("partitions, shards and concurrencies must be >= 1");
    }
    if (search.k < 1) {
      throw new IllegalArgumentException("--k must be >= 1");
    }
  }

  static io.quiver.shard.index.Metric shardMetric(Metric m) {
    return switch (m) {
      case L2 -> io.quiver.shard.index.Metric.L2;
      case DOT -> io.quiver.shard.index.Metric.DOT;
      case COSINE -> io.quiver.shard.index.Metric.COSINE;
    };
  }

  /** {@code --partitions}, 16 (the server's default) when not given. */
  private int partitions() {
    return collection.partitionsOr(io.quiver.cluster.Partitioning.DEFAULT_PARTITIONS);
  }

  @Override
  protected void execute(BenchRun run) throws Exception {
    Dataset d = dataset();
    GroundTruth truth = search.noRecall ? null : groundTruth(search.k);
    io.quiver.shard.index.Metric metric = shardMetric(metric());
    ExecutorService[] indexers = new ExecutorService[shards];
    for (int s = 0; s < shards; s++) {
      int shard = s;
      indexers[s] = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "bench-engine-indexer-" + shard);
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        return t;
      });
    }
    int cores = Runtime.getRuntime().availableProcessors();
    SimulatedShard[] sims = new SimulatedShard[shards];
    for (int s = 0; s < shards; s++) {
      sims[s] = new SimulatedShard(Executors.newFixedThreadPool(cores, daemon("bench-engine-search-" + s)),
          alwaysFanOut ? Integer.MAX_VALUE : cores);
    }
    ExecutorService workers = Executors.newCachedThreadPool(daemon("bench-engine-worker"));
    ExecutorService clients = Executors.newCachedThreadPool(daemon("bench-engine-client"));
    try {
      PartitionIndex[] parts = new PartitionIndex[partitions()];
      List<List<PartitionIndex>> owned = new ArrayList<>();
      for (int s = 0; s < shards; s++) {
        owned.add(new ArrayList<>());
      }
      for (int p = 0; p < partitions(); p++) {
        parts[p] = new PartitionIndex(d.dimension(), metric, indexers[p % shards]);
        owned.get(p % shards).add(parts[p]);
      }
      for (int s = 0; s < shards; s++) {
        sims[s].partitions = owned.get(s).toArray(PartitionIndex[]::new);
      }
      Payload[] labels = new Payload[11];
      long t0 = System.nanoTime();
      for (int i = 0; i < d.size(); i++) {
        int label = d.labels()[i];
        if (label >= 0 && label < labels.length && labels[label] == null) {
          labels[label] = Payload.fromJson("{\"label\":" + label + "}");
        }
        Payload payload = label >= 0 && label < labels.length ? labels[label] : Payload.fromJson("{\"label\":" + label + "}");
        parts[Partitioning.partitionOf(i, partitions())].upsert(i, d.base()[i], payload);
      }
      long loaded = System.nanoTime();
      run.note("points", (long) d.size());
      run.note("load_s", (loaded - t0) / 1e9);
      run.note("load_points_per_s", d.size() / ((loaded - t0) / 1e9));
      long deadline = loaded + buildTimeout.toNanos();
      while (indexed(parts) < d.size() && System.nanoTime() < deadline) {
        BenchRun.await(run.delay(Duration.ofMillis(50)));
      }
      long built = System.nanoTime();
      boolean complete = indexed(parts) >= d.size();
      run.check("ann_built", complete, complete);
      run.note("ann_build_after_load_s", (built - loaded) / 1e9);
      long bytes = 0;
      for (PartitionIndex p : parts) {
        bytes += p.ramBytesUsed();
      }
      double perPoint = (double) bytes / d.size();
      run.note("memory_used_bytes", bytes);
      run.note("memory_bytes_per_point", perPoint);
      run.note("raw_bytes_per_point", 4L * d.dimension());
      run.note("memory_over_raw", perPoint / (4.0 * d.dimension()));

      Float target = search.targetRecall;
      float targetRecall = target == null ? 0f : target;
      runPhase(run, "ann", SearchMode.ANN, targetRecall, 0, annConcurrency, sims, d, metric, truth, workers, clients);
      runPhase(run, "exact", SearchMode.EXACT, 0f, 0, exactConcurrency, sims, d, metric, truth, workers, clients);
      int bq = search.batchQueries > 0 ? search.batchQueries : 100;
      Report.PhaseReport b = runPhase(run, "exact_batch", SearchMode.EXACT, 0f, bq, batchConcurrency, sims, d, metric,
          truth, workers, clients);
      Report.OpReport op = b.op(Workloads.SEARCH_BATCH);
      run.note("exact_batch_queries_per_s", op == null ? 0.0 : op.throughput() * bq);
    } finally {
      clients.shutdownNow();
      workers.shutdownNow();
      for (SimulatedShard sim : sims) {
        sim.searchPool.shutdownNow();
      }
      for (ExecutorService e : indexers) {
        e.shutdownNow();
        e.awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }

  private Report.PhaseReport runPhase(BenchRun run, String name, SearchMode mode, float targetRecall, int batchQueries,
      int concurrency, SimulatedShard[] sims, Dataset d, io.quiver.shard.index.Metric metric, GroundTruth truth,
      ExecutorService workers, ExecutorService clients) {
    int nq = truth != null ? Math.min(truth.queries(), d.queries().length) : d.queries().length;
    int k = search.k;
    Comparator<SearchHit> order = Comparator.comparingDouble(SearchHit::score);
    if (metric.higherIsBetter()) {
      order = order.reversed();
    }
    Comparator<SearchHit> hitOrder = order.thenComparing(SearchHit::id, Long::compareUnsigned);
    String op = batchQueries > 0 ? Workloads.SEARCH_BATCH : Workloads.SEARCH;
    int perRequest = Math.max(1, batchQueries);
    LoadDriver.Workload workload = seq -> {
      int first = (int) ((seq * perRequest) % nq);
      float[][] queries = new float[perRequest][];
      for (int i = 0; i < perRequest; i++) {
        queries[i] = d.queries()[(first + i) % nq];
      }
      CompletableFuture<Reply> reply = CompletableFuture.supplyAsync(() -> {
        List<CompletableFuture<List<List<SearchResult>>>> shardsOut = new ArrayList<>(sims.length);
        for (SimulatedShard sim : sims) {
          shardsOut.add(CompletableFuture.supplyAsync(
              () -> sim.search(queries, k, metric, mode, targetRecall), workers));
        }
        List<List<SearchResult>> answers = new ArrayList<>();
        for (CompletableFuture<List<List<SearchResult>>> shard : shardsOut) {
          answers.addAll(shard.join());
        }
        double recallSum = 0;
        for (int q = 0; q < queries.length; q++) {
          List<SearchHit> hits = new ArrayList<>();
          for (List<SearchResult> a : answers) {
            hits.addAll(a.get(q).hits());
          }
          hits.sort(hitOrder);
          long[] ids = new long[Math.min(k, hits.size())];
          for (int i = 0; i < ids.length; i++) {
            ids[i] = hits.get(i).id();
          }
          if (truth != null) {
            recallSum += truth.recall((first + q) % nq, ids);
          }
        }
        return Reply.success(200, new JsonObject().put("recall", recallSum / queries.length));
      }, clients).exceptionally(err -> Reply.failure(500, "internal", null));
      return new LoadDriver.Request(op, Future.fromCompletionStage(reply),
          truth == null ? null : r -> r.body().getDouble("recall"));
    };
    return run.phase(name, new LoadDriver.ClosedLoop(concurrency), new LoadDriver.Limits(phaseDuration.toNanos(), 0),
        workload, load.maxInFlight, java.util.Map.of("mode", mode.name().toLowerCase(Locale.ROOT),
            "concurrency", concurrency, "queries_per_request", perRequest), true);
  }

  /** One simulated shard: its partitions and search pool, searched as {@code ShardEngine.search} does. */
  private static final class SimulatedShard {
    final ExecutorService searchPool;
    final int fanOutBelow;
    final java.util.concurrent.atomic.AtomicInteger running = new java.util.concurrent.atomic.AtomicInteger();
    PartitionIndex[] partitions;

    SimulatedShard(ExecutorService searchPool, int fanOutBelow) {
      this.searchPool = searchPool;
      this.fanOutBelow = fanOutBelow;
    }

    List<List<SearchResult>> search(float[][] queries, int k, io.quiver.shard.index.Metric metric, SearchMode mode,
        float targetRecall) {
      List<List<SearchResult>> answers = new ArrayList<>(partitions.length);
      int now = running.incrementAndGet();
      try {
        if (partitions.length > 1 && now < fanOutBelow) {
          List<CompletableFuture<List<SearchResult>>> legs = new ArrayList<>(partitions.length);
          for (PartitionIndex p : partitions) {
            legs.add(CompletableFuture.supplyAsync(
                () -> p.searchBatch(queries, k, metric, mode, targetRecall, null, false), searchPool));
          }
          for (CompletableFuture<List<SearchResult>> leg : legs) {
            answers.add(leg.join());
          }
        } else {
          answers.addAll(CompletableFuture.supplyAsync(() -> {
            List<List<SearchResult>> all = new ArrayList<>(partitions.length);
            for (PartitionIndex p : partitions) {
              all.add(p.searchBatch(queries, k, metric, mode, targetRecall, null, false));
            }
            return all;
          }, searchPool).join());
        }
      } finally {
        running.decrementAndGet();
      }
      return answers;
    }
  }

  private static long indexed(PartitionIndex[] parts) {
    long n = 0;
    for (PartitionIndex p : parts) {
      n += p.indexedCount();
    }
    return n;
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
