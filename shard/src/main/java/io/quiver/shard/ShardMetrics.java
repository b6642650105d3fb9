package io.quiver.shard;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.quiver.cluster.ShardInfo;
import io.quiver.common.Meters;
import io.quiver.shard.engine.ShardEngine;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;

/**
 * The meters of one shard, all tagged {@code shard=<id>} so several shards can share a process
 * registry (standalone), and its {@code /metrics} (JSON summary) and {@code /metrics/prometheus}
 * endpoints. Prometheus names (Micrometer adds the unit and {@code _total} suffixes):
 *
 * <pre>
 * quiver_shard_ready                         1 once recovery finished (also when degraded)
 * quiver_shard_degraded                      1 after a storage failure (degraded read-only)
 * quiver_shard_read_only                     1 while the operator read-only mode is applied here
 * quiver_shard_memory_used_bytes             accounted bytes of vectors, payloads, maps, graphs
 * quiver_shard_memory_budget_bytes           QUIVER_MEMORY_BUDGET_MB
 * quiver_shard_points, quiver_shard_partitions
 * quiver_shard_ann_pending_points           points not yet in an ANN graph (exact-scanned until then)
 * quiver_shard_wal_size_bytes                WAL on disk (falls after each checkpoint)
 * quiver_shard_wal_sequence                  last WAL sequence (rate = records per second)
 * quiver_shard_wal_forces_total              WAL forces (fdatasync)
 * quiver_shard_wal_fsync_seconds_*           force latency histogram
 * quiver_shard_checkpoint_age_seconds        since the last checkpoint (or since start when none)
 * quiver_shard_checkpoint_duration_seconds   duration of the last checkpoint
 * quiver_shard_checkpoint_failures_total
 * quiver_shard_recovery_duration_seconds     time the last start spent recovering
 * quiver_shard_durability_profile{profile}   1 for the active profile (sync or async)
 * quiver_shard_calls_seconds_*{method,outcome,transport} internal calls served (transport grpc, or local: in-JVM)
 * quiver_shard_partitions_received_total     partitions this shard received in moves
 * quiver_shard_move_received_bytes_total     bytes fetched from old owners in moves (snapshot + WAL tail)
 * </pre>
 *
 * Create before the engine (its WAL force listener comes from here), {@link #bind} once the engine
 * exists, {@link #close} on undeploy. Thread-safe.
 */
public final class ShardMetrics {
  private static final Duration[] FSYNC_BUCKETS = Meters.millis(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000);
  private static final Duration[] CALL_BUCKETS = Meters.millis(0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000);

  private final MeterRegistry registry;
  private final int shardId;
  private final Tags tags;
  private final Timer fsync;
  private final List<Meter> meters = new ArrayList<>();
  private final ConcurrentMap<String, Timer> calls = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong movedBytes = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong partitionsReceived = new java.util.concurrent.atomic.AtomicLong();
  private final long startedMillis = System.currentTimeMillis();
  private volatile BooleanSupplier readOnly = () -> false;

  /** {@code registry} null: a private Prometheus registry, so the endpoints still work (tests). */
  public ShardMetrics(MeterRegistry registry, int shardId) {
    this.registry = registry != null ? registry : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    this.shardId = shardId;
    this.tags = Tags.of("shard", Integer.toString(shardId));
    this.fsync = add(Timer.builder("quiver.shard.wal.fsync").description("WAL force (fdatasync) latency")
        .tags(tags).serviceLevelObjectives(FSYNC_BUCKETS).register(this.registry));
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** The WAL force listener to hand to the engine's options. */
  public LongConsumer fsyncListener() {
    return nanos -> fsync.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Where {@code quiver_shard_read_only} reads the operator read-only state (wired by read-only mode). */
  public void readOnly(BooleanSupplier supplier) {
    readOnly = supplier;
  }

  boolean readOnly() {
    return readOnly.getAsBoolean();
  }

  /** Registers the gauges over {@code engine} and {@code status}. */
  void bind(ShardEngine engine, ShardStatus status) {
    gauge("quiver.shard.ready", "1 once recovery finished", status,
        s -> s.state().equals(ShardInfo.STATE_RECOVERING) ? 0 : 1, null);
    gauge("quiver.shard.degraded", "1 after a storage failure: the shard serves reads only until restarted", engine,
        e -> e.degraded() ? 1 : 0, null);
    gauge("quiver.shard.read_only", "1 while the operator read-only mode is on", this, m -> m.readOnly() ? 1 : 0, null);
    gauge("quiver.shard.memory.used", "bytes held by points and indexes", engine, ShardEngine::ramBytesUsed, "bytes");
    gauge("quiver.shard.memory.budget", "memory budget", engine, ShardEngine::memoryBudgetBytes, "bytes");
    gauge("quiver.shard.points", "points held", engine, ShardEngine::pointCount, null);
    gauge("quiver.shard.ann.pending.points", "points not yet in an ANN graph (found by exact scans until then)",
        engine, ShardEngine::annPendingPoints, null);
    gauge("quiver.shard.partitions", "partitions owned", engine, ShardEngine::partitionCount, null);
    gauge("quiver.shard.wal.size", "WAL bytes on disk", engine, ShardEngine::walBytes, "bytes");
    gauge("quiver.shard.wal.sequence", "last WAL sequence", engine, ShardEngine::walSequence, null);
    add(FunctionCounter.builder("quiver.shard.wal.forces", engine, ShardEngine::walForces)
        .description("WAL forces").tags(tags).register(registry));
    gauge("quiver.shard.checkpoint.age", "time since the last checkpoint (since start when none yet)", engine,
        e -> e.lastCheckpoint() == null ? (System.currentTimeMillis() - startedMillis) / 1000.0
            : (System.currentTimeMillis() - e.lastCheckpoint().finishedAt().toEpochMilli()) / 1000.0, "seconds");
    gauge("quiver.shard.checkpoint.duration", "duration of the last checkpoint", engine,
        e -> e.lastCheckpoint() == null ? 0 : e.lastCheckpoint().durationMillis() / 1000.0, "seconds");
    add(FunctionCounter.builder("quiver.shard.checkpoint.failures", engine, ShardEngine::checkpointFailures)
        .description("background checkpoints that failed").tags(tags).register(registry));
    gauge("quiver.shard.recovery.duration", "time the last start spent recovering", engine,
        e -> e.recovery() == null ? 0 : e.recovery().duration().toMillis() / 1000.0, "seconds");
    add(FunctionCounter.builder("quiver.shard.move.received", movedBytes, java.util.concurrent.atomic.AtomicLong::get)
        .description("bytes fetched from old owners in partition moves (snapshot + WAL tail)").baseUnit("bytes")
        .tags(tags).register(registry));
    add(FunctionCounter.builder("quiver.shard.partitions.received", partitionsReceived,
        java.util.concurrent.atomic.AtomicLong::get).description("partitions received in moves").tags(tags).register(registry));
    add(Gauge.builder("quiver.shard.durability.profile", () -> 1).description("1 for the active durability profile")
        .tags(tags).tag("profile", engine.durability().name().toLowerCase(java.util.Locale.ROOT))
        .strongReference(true).register(registry));
  }

  /**
   * Records one internal call served: {@code outcome} is {@code ok} or the error code; {@code transport}
   * {@code grpc} or {@code local} (a caller in this JVM, no gRPC).
   */
  void recordCall(String method, String outcome, String transport, long nanos) {
    calls.computeIfAbsent(method + ' ' + outcome + ' ' + transport, k -> add(Timer.builder("quiver.shard.calls")
        .description("internal calls served by the shard").tags(tags).tag("method", method).tag("outcome", outcome)
        .tag("transport", transport).serviceLevelObjectives(CALL_BUCKETS).register(registry))).record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Counts bytes fetched from an old owner during a partition move. */
  void movedBytes(long bytes) {
    movedBytes.addAndGet(bytes);
  }

  /** Counts one partition installed here by a move. */
  void partitionReceived() {
    partitionsReceived.incrementAndGet();
  }

  /** {@code GET /metrics} (JSON summary) and {@code GET /metrics/prometheus} on the shard's HTTP port. */
  void mount(Router router, ShardStatus status) {
    PrometheusMeterRegistry prometheus = Meters.prometheus(registry);
    router.get("/metrics/prometheus").handler(prometheus != null ? PrometheusScrapingHandler.create(prometheus)
        : ctx -> ctx.response().setStatusCode(404).end("no Prometheus registry in this process\n"));
    router.get("/metrics").handler(ctx -> ctx.json(summary(status)));
  }

  JsonObject summary(ShardStatus status) {
    var s = status.snapshot();
    return new JsonObject()
        .put("shard_id", shardId)
        .put("state", s.getState())
        .put("points", s.getPoints())
        .put("partitions", s.getPartitions())
        .put("memory_used_bytes", s.getMemoryUsedBytes())
        .put("memory_budget_bytes", s.getMemoryBudgetBytes())
        .put("wal_bytes", s.getWalBytes())
        .put("wal_sequence", s.getWalSequence())
        .put("durability", s.getDurability())
        .put("last_checkpoint", s.getLastCheckpoint().isEmpty() ? null : s.getLastCheckpoint())
        .put("read_only", readOnly())
        .put("degraded", s.getState().equals(ShardInfo.STATE_DEGRADED))
        .put("move_received_bytes", movedBytes.get())
        .put("partitions_received", partitionsReceived.get())
        .put("wal_fsync_count", fsync.count())
        .put("wal_fsync_mean_ms", fsync.mean(TimeUnit.MILLISECONDS));
  }

  /** Removes this shard's meters from the registry (the process may outlive the verticle). */
  void close() {
    synchronized (meters) {
      meters.forEach(registry::remove);
      meters.clear();
    }
    calls.clear();
  }

  private <T> void gauge(String name, String description, T obj, java.util.function.ToDoubleFunction<T> f, String unit) {
    Gauge.Builder<T> b = Gauge.builder(name, obj, f).description(description).tags(tags).strongReference(true);
    if (unit != null) {
      b.baseUnit(unit);
    }
    add(b.register(registry));
  }

  private <M extends Meter> M add(M meter) {
    synchronized (meters) {
      meters.add(meter);
    }
    return meter;
  }
}
