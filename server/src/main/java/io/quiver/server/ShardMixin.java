package io.quiver.server;

import io.quiver.shard.ShardOptions;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Storage settings of a shard; each flag also reads its {@code QUIVER_*} variable (flag wins). */
final class ShardMixin {
  @Option(names = "--durability", defaultValue = "${env:QUIVER_DURABILITY:-sync}",
      description = "sync: force the WAL before acknowledging; async: force every --wal-sync-interval-ms (env QUIVER_DURABILITY).")
  String durability;

  @Option(names = "--memory-budget-mb", defaultValue = "${env:QUIVER_MEMORY_BUDGET_MB:-1024}",
      description = "Memory a shard may hold for points and indexes (env QUIVER_MEMORY_BUDGET_MB).")
  long memoryBudgetMb;

  @Option(names = "--wal-sync-interval-ms", defaultValue = "${env:QUIVER_WAL_SYNC_INTERVAL_MS:-1000}",
      description = "Force interval of the async profile (env QUIVER_WAL_SYNC_INTERVAL_MS).")
  long walSyncIntervalMs;

  @Option(names = "--checkpoint-interval-s", defaultValue = "${env:QUIVER_CHECKPOINT_INTERVAL_S:-300}",
      description = "Background checkpoint interval (env QUIVER_CHECKPOINT_INTERVAL_S).")
  long checkpointIntervalS;

  @Option(names = "--wal-max-mb", defaultValue = "${env:QUIVER_WAL_MAX_MB:-64}",
      description = "WAL size that triggers a checkpoint (env QUIVER_WAL_MAX_MB).")
  long walMaxMb;

  @Option(names = "--graph-max-lag-points", defaultValue = "${env:QUIVER_GRAPH_MAX_LAG_POINTS:-20000}",
      description = "Points per partition the ANN graph may lag behind while writes keep arriving; "
          + "0 inserts into the graph as points arrive (env QUIVER_GRAPH_MAX_LAG_POINTS).")
  int graphMaxLagPoints;

  @Option(names = "--local-shard-calls", defaultValue = "${env:QUIVER_LOCAL_SHARD_CALLS:-true}", arity = "1",
      description = "Callers in the same process (standalone's gateway) call a shard directly, without gRPC; false forces gRPC (env QUIVER_LOCAL_SHARD_CALLS).")
  boolean localShardCalls;

  ShardOptions apply(ShardOptions o, Path dataDir) {
    return o.durability(durability)
        .memoryBudgetMb(memoryBudgetMb)
        .walSyncIntervalMs(walSyncIntervalMs)
        .checkpointIntervalS(checkpointIntervalS)
        .walMaxMb(walMaxMb)
        .graphMaxLagPoints(graphMaxLagPoints)
        .localCalls(localShardCalls)
        .dataDir(dataDir);
  }
}
