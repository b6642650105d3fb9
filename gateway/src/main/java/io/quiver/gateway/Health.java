package io.quiver.gateway;

import io.quiver.cluster.ClusterView;
import io.quiver.cluster.CollectionInfo;
import io.quiver.cluster.PartitionTable;
import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * What {@code /live} and {@code /ready} report for a gateway. Ready means: the cluster is joined,
 * the partition table is loaded, and every partition of every collection has a live owner; each
 * entry of {@code checks} says which of these holds and why not. Thread-safe.
 */
public final class Health {
  /** The readiness verdict and its per-check details. */
  public record Readiness(boolean ready, JsonObject checks) {}

  private final ClusterView view;
  private final long startedNanos = System.nanoTime();

  public Health(ClusterView view) {
    this.view = view;
  }

  public long uptimeMillis() {
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }

  public Readiness readiness() {
    JsonObject checks = new JsonObject();
    boolean ready = true;
    int members = view.memberCount();
    checks.put("cluster", members > 0 ? "joined (" + members + " members)" : "not joined");
    ready &= members > 0;
    PartitionTable table = view.table();
    checks.put("partition_table", "version " + table.version());
    Map<Integer, ?> live = view.liveShards();
    checks.put("shards", live.size() + " live");
    int unowned = 0;
    String example = null;
    for (CollectionInfo c : view.allCollections()) {
      PartitionTable.Assignment a = table.assignment(c.uid());
      if (a == null) {
        unowned += c.partitions();
        example = example == null ? c.name() + " (not in the partition table)" : example;
        continue;
      }
      for (int p = 0; p < c.partitions(); p++) {
        if (!live.containsKey(a.ownerOf(p))) {
          unowned++;
          example = example == null ? c.name() + " partition " + p + " (shard " + a.ownerOf(p) + " is down)" : example;
        }
      }
    }
    checks.put("partitions", unowned == 0 ? "every partition has a live owner"
        : unowned + " partitions without a live owner, e.g. " + example);
    ready &= unowned == 0;
    return new Readiness(ready, checks);
  }
}
