package io.quiver.cluster;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable snapshot of the partition table: for every collection (by uid), the owning shard and
 * ownership epoch of each partition, and the table version (incremented by every change).
 *
 * <p>Readers take the current snapshot from {@link ClusterView#table()} and never see it change.
 * Hazelcast is AP, so the table is advisory: shards check the epoch of every write.
 */
public final class PartitionTable {
  /** Ownership of one collection's partitions. Arrays are never modified after construction. */
  public record Assignment(long collectionUid, int[] owners, long[] epochs) {
    /** Owner of a partition whose shard has not (yet) claimed it after a full cluster restart. */
    public static final int UNKNOWN_OWNER = -1;

    public int ownerOf(int partition) {
      return owners[partition];
    }

    public long epochOf(int partition) {
      return epochs[partition];
    }

    /** The partitions owned by {@code shardId}, ascending. */
    public int[] partitionsOf(int shardId) {
      return java.util.stream.IntStream.range(0, owners.length).filter(p -> owners[p] == shardId).toArray();
    }

    /** The distinct shards owning at least one partition, ascending (unknown owners left out). */
    public int[] shards() {
      return Arrays.stream(owners).filter(o -> o != UNKNOWN_OWNER).distinct().sorted().toArray();
    }

    /** The first partition without a known owner, or -1 when every partition has one. */
    public int firstUnowned() {
      for (int p = 0; p < owners.length; p++) {
        if (owners[p] == UNKNOWN_OWNER) {
          return p;
        }
      }
      return -1;
    }

    /**
     * This assignment with {@code shardId}'s claims merged in: a claimed partition goes to the
     * claimer when the table does not know its owner or knows it at an older epoch.
     */
    public Assignment withClaims(int shardId, Map<Integer, Long> claims) {
      int[] o = owners.clone();
      long[] e = epochs.clone();
      claims.forEach((p, epoch) -> {
        if (p < o.length && (o[p] == UNKNOWN_OWNER || e[p] < epoch)) {
          o[p] = shardId;
          e[p] = epoch;
        }
      });
      return new Assignment(collectionUid, o, e);
    }

    /** An assignment where no partition has a known owner yet. */
    public static Assignment unknown(long uid, int partitions) {
      int[] o = new int[partitions];
      Arrays.fill(o, UNKNOWN_OWNER);
      return new Assignment(uid, o, new long[partitions]);
    }

    public JsonObject toJson() {
      JsonArray o = new JsonArray();
      JsonArray e = new JsonArray();
      for (int i = 0; i < owners.length; i++) {
        o.add(owners[i]);
        e.add(epochs[i]);
      }
      return new JsonObject().put("uid", collectionUid).put("owners", o).put("epochs", e);
    }

    public static Assignment fromJson(JsonObject j) {
      JsonArray o = j.getJsonArray("owners");
      JsonArray e = j.getJsonArray("epochs");
      int[] owners = new int[o.size()];
      long[] epochs = new long[o.size()];
      for (int i = 0; i < owners.length; i++) {
        owners[i] = o.getInteger(i);
        epochs[i] = e.getLong(i);
      }
      return new Assignment(j.getLong("uid"), owners, epochs);
    }

    /**
     * Spreads {@code partitions} over {@code shardIds} round-robin (partition p to the p-th shard
     * modulo their number, shards sorted by id), all at epoch 1.
     */
    public static Assignment roundRobin(long uid, int partitions, List<Integer> shardIds) {
      if (shardIds.isEmpty()) {
        throw new IllegalStateException("no live shard to own partitions");
      }
      List<Integer> sorted = shardIds.stream().sorted().toList();
      int[] owners = new int[partitions];
      long[] epochs = new long[partitions];
      for (int p = 0; p < partitions; p++) {
        owners[p] = sorted.get(p % sorted.size());
        epochs[p] = 1;
      }
      return new Assignment(uid, owners, epochs);
    }
  }

  public static final PartitionTable EMPTY = new PartitionTable(0, Map.of());

  private final long version;
  private final Map<Long, Assignment> byCollection;

  public PartitionTable(long version, Map<Long, Assignment> byCollection) {
    this.version = version;
    this.byCollection = Collections.unmodifiableMap(new HashMap<>(byCollection));
  }

  public long version() {
    return version;
  }

  /** The assignment of a collection, or null when the table does not (yet) know it. */
  public Assignment assignment(long collectionUid) {
    return byCollection.get(collectionUid);
  }

  public Map<Long, Assignment> assignments() {
    return byCollection;
  }
}
