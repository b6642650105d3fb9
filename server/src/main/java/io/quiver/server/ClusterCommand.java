package io.quiver.server;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code ctl cluster ...}: the cluster as the gateway sees it. */
@Command(name = "cluster", mixinStandardHelpOptions = true, description = "Cluster commands.",
    subcommands = ClusterCommand.Status.class)
final class ClusterCommand implements Runnable {
  @ParentCommand CtlCommand ctl;
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /**
   * {@code ctl cluster status}: one table row per shard (state, partitions, points, memory, WAL, last
   * checkpoint, this gateway's breaker) from {@code GET /admin/cluster} and {@code GET /metrics}.
   * Exits 1 when a shard is down or not ready.
   */
  @Command(name = "status", mixinStandardHelpOptions = true, description = "Show members, shards and their figures.")
  static final class Status implements Callable<Integer> {
    @ParentCommand ClusterCommand cluster;

    @Override
    public Integer call() {
      return CtlException.run(() -> {
        CtlClient client = cluster.ctl.client();
        JsonObject admin = client.get("/admin/cluster");
        JsonObject metrics = client.get("/metrics");
        Map<Integer, JsonObject> figures = new HashMap<>();
        for (Object o : metrics.getJsonArray("shards", new JsonArray())) {
          JsonObject s = (JsonObject) o;
          figures.put(s.getInteger("shard_id"), s);
        }
        String fmt = "%-6s %-10s %-22s %10s %12s %19s %10s %-24s %-9s%n";
        System.out.printf(fmt, "SHARD", "STATE", "ADDRESS", "PARTITIONS", "POINTS", "MEMORY USED/BUDGET", "WAL",
            "LAST CHECKPOINT", "BREAKER");
        boolean healthy = true;
        for (Object o : admin.getJsonArray("shards", new JsonArray())) {
          JsonObject s = (JsonObject) o;
          JsonObject f = figures.getOrDefault(s.getInteger("id"), new JsonObject());
          String state = s.getString("state", "?");
          healthy &= s.getBoolean("live", false) && "ready".equals(state);
          System.out.printf(fmt, s.getInteger("id"), state, s.getString("address", ""), s.getInteger("partitions", 0),
              f.containsKey("points") ? f.getLong("points") : "-",
              f.containsKey("memory_used_bytes")
                  ? mib(f.getLong("memory_used_bytes")) + "/" + mib(f.getLong("memory_budget_bytes")) : "-",
              f.containsKey("wal_bytes") ? mib(f.getLong("wal_bytes")) : "-",
              f.getString("last_checkpoint") == null ? "-" : f.getString("last_checkpoint"),
              s.getString("breaker", "-"));
        }
        System.out.printf("members %d, partition table version %d, collections %d, points %d, read-only %s%n",
            admin.getInteger("members", 0), admin.getLong("partition_table_version", 0L),
            metrics.getInteger("collections", 0), metrics.getLong("points", 0L),
            metrics.getBoolean("read_only", false) ? "ON" : "off");
        for (Object o : metrics.getJsonArray("failed", new JsonArray())) {
          JsonObject f = (JsonObject) o;
          System.out.printf("shard %d did not answer: %s%n", f.getInteger("shard_id"), f.getString("message"));
        }
        return healthy ? CtlCommand.OK : CtlCommand.FAILED;
      });
    }
  }

  static String mib(long bytes) {
    return bytes < 1024 * 1024 ? (bytes >> 10) + "KiB" : String.format("%.1fMiB", bytes / 1048576.0);
  }
}
