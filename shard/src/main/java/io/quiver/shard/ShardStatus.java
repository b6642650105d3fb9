package io.quiver.shard;

import io.quiver.cluster.ShardInfo;
import io.quiver.proto.internal.StatusResponse;
import io.quiver.shard.engine.ShardEngine;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The shard's lifecycle state ({@code recovering} until recovery finished, then {@code ready}, or
 * {@code degraded} after a storage failure) and the figures reported by the Status RPC and the
 * shard's {@code /ready}. Thread-safe.
 */
final class ShardStatus {
  private final ShardOptions options;
  private final ShardEngine engine;
  private final AtomicReference<String> state = new AtomicReference<>(ShardInfo.STATE_RECOVERING);
  private final long startedNanos = System.nanoTime();

  ShardStatus(ShardOptions options, ShardEngine engine) {
    this.options = options;
    this.engine = engine;
  }

  String state() {
    return state.get();
  }

  void state(String next) {
    state.set(next);
  }

  long uptimeMillis() {
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }

  StatusResponse snapshot() {
    return StatusResponse.newBuilder()
        .setShardId(Integer.toString(options.shardId()))
        .setState(state.get())
        .setPoints(engine.pointCount())
        .setPartitions(engine.partitionCount())
        .setMemoryUsedBytes(engine.ramBytesUsed())
        .setMemoryBudgetBytes(engine.memoryBudgetBytes())
        .setWalBytes(engine.walBytes())
        .setWalSequence(engine.walSequence())
        .setDurability(options.durability())
        .setLastCheckpoint(engine.lastCheckpoint() == null ? "" : engine.lastCheckpoint().finishedAt().toString())
        .setReadOnly(engine.readOnly().enabled())
        .build();
  }

  /** The {@code checks} object of {@code /ready}. */
  JsonObject checks() {
    String s = state.get();
    JsonObject checks = new JsonObject()
        .put("recovery", s.equals(ShardInfo.STATE_RECOVERING) ? "in progress" : "done")
        .put("storage", s.equals(ShardInfo.STATE_DEGRADED) ? "degraded: storage failed, serving reads only" : "writable")
        .put("durability", options.durability())
        .put("read_only", engine.readOnly().enabled() ? "on: " + engine.readOnly().refusal() : "off")
        .put("read_only_version", engine.readOnly().version());
    if (!s.equals(ShardInfo.STATE_RECOVERING)) {
      checks.put("partitions", engine.partitionCount())
          .put("points", engine.pointCount())
          .put("ann_pending_points", engine.annPendingPoints())
          .put("memory_used_bytes", engine.ramBytesUsed())
          .put("memory_budget_bytes", engine.memoryBudgetBytes())
          .put("wal_bytes", engine.walBytes())
          .put("wal_sequence", engine.walSequence());
      if (engine.recovery() != null) {
        checks.put("recovery_ms", engine.recovery().duration().toMillis());
      }
    }
    return checks;
  }
}
