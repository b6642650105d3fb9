package io.quiver.cluster;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only writer of the partition table (map {@code quiver.meta}, entry {@code partition_table}).
 * Only the coordinator (the oldest data member, {@link ClusterView#isCoordinator()}) may use it: every
 * write checks that first and throws {@link NotCoordinatorException} otherwise, so a member that is
 * not the coordinator never writes the table. Each write replaces the whole table by compare-and-set
 * with the version + 1, so writes of a coordinator that is being replaced cannot interleave with the
 * new one's; the shards' epoch check is what guarantees one writer per partition (Hazelcast is AP).
 *
 * <p>{@link #reconcile} brings the table in line with what others asked for:
 * <ol>
 *   <li>claims of starting shards ({@code quiver.claims}) are merged: a claimed partition goes to the
 *       claimer unless the table knows an owner at a newer epoch; a claimed collection missing from the
 *       catalog (the whole cluster restarted) is published there again; dropped uids and uids whose
 *       name the catalog gives to another collection are left out; then the claim is removed;</li>
 *   <li>collections in the catalog but not in the table (just created) get their partitions spread
 *       round-robin over the live shards that are not draining, at epoch 1;</li>
 *   <li>collections in the table but not in the catalog (deleted) are removed from it.</li>
 * </ol>
 * {@link #flip} moves one partition to its new owner at the next epoch (rebalancing).
 *
 * <p>Every method calls Hazelcast and blocks: call from a worker thread. Thread-safe.
 */
public final class PartitionTableWriter {
  private static final Logger LOG = LoggerFactory.getLogger(PartitionTableWriter.class);

  /** A write attempted by a member that is not the coordinator. */
  public static final class NotCoordinatorException extends IllegalStateException {
    NotCoordinatorException() {
      super("only the coordinator (the oldest data member) writes the partition table");
    }
  }

  /** What one {@link #reconcile} changed. */
  public record Reconciled(int claimsMerged, int assigned, int removed) {
    public boolean changed() {
      return claimsMerged + assigned + removed > 0;
    }
  }

  private final ClusterView view;

  public PartitionTableWriter(ClusterView view) {
    this.view = view;
  }

  /**
   * Whether {@link #reconcile} has anything to do, judged from this member's snapshots alone (no
   * Hazelcast call): a pending claim, a catalogued collection missing from the table, or a table
   * entry missing from the catalog.
   */
  public boolean hasWork() {
    if (!view.pendingClaims().isEmpty()) {
      return true;
    }
    PartitionTable table = view.table();
    Set<Long> catalogued = new HashSet<>();
    for (CollectionInfo c : view.allCollections()) {
      catalogued.add(c.uid());
      if (table.assignment(c.uid()) == null) {
        return true;
      }
    }
    return !catalogued.containsAll(table.assignments().keySet());
  }

  /** Merges pending claims, assigns new collections, removes deleted ones (see the class comment). */
  public Reconciled reconcile() {
    int merged = mergeClaims();
    Set<Long> catalogued = new HashSet<>();
    List<CollectionInfo> catalog = new ArrayList<>();
    view.collections.values().forEach(v -> {
      CollectionInfo c = CollectionInfo.fromJson(new JsonObject(v));
      catalog.add(c);
      catalogued.add(c.uid());
    });
    PartitionTable current = read();
    List<CollectionInfo> unassigned = catalog.stream().filter(c -> current.assignment(c.uid()) == null).toList();
    List<Long> deleted = current.assignments().keySet().stream().filter(uid -> !catalogued.contains(uid)).toList();
    List<Integer> owners = eligibleOwners();
    int[] assigned = {0};
    int[] removed = {0};
    if ((!unassigned.isEmpty() && !owners.isEmpty()) || !deleted.isEmpty()) {
      update(t -> {
        assigned[0] = 0;
        removed[0] = 0;
        if (!owners.isEmpty()) {
          for (CollectionInfo c : unassigned) {
            if (t.putIfAbsent(c.uid(), PartitionTable.Assignment.roundRobin(c.uid(), c.partitions(), owners)) == null) {
              assigned[0]++;
            }
          }
        }
        for (long uid : deleted) {
          if (t.remove(uid) != null) {
            removed[0]++;
          }
        }
      });
    }
    return new Reconciled(merged, assigned[0], removed[0]);
  }

  /**
   * Flips one partition from {@code move.from()} to {@code move.to()} at {@code move.epoch()}, only if
   * the table still shows the old owner at the epoch just before: returns whether it did.
   */
  public boolean flip(PartitionMove move) {
    boolean[] flipped = {false};
    update(t -> {
      PartitionTable.Assignment a = t.get(move.collectionUid());
      flipped[0] = false;
      if (a != null && a.ownerOf(move.partition()) == move.from() && a.epochOf(move.partition()) == move.epoch() - 1) {
        int[] owners = a.owners().clone();
        long[] epochs = a.epochs().clone();
        owners[move.partition()] = move.to();
        epochs[move.partition()] = move.epoch();
        t.put(move.collectionUid(), new PartitionTable.Assignment(move.collectionUid(), owners, epochs));
        flipped[0] = true;
      }
    });
    return flipped[0];
  }

  /** Live shards that may receive a new collection's partitions: not draining, unless all are. */
  private List<Integer> eligibleOwners() {
    List<Integer> ids = new ArrayList<>(view.liveShards().keySet());
    if (ids.size() > view.drainingShards().size()) {
      ids.removeAll(view.drainingShards());
    }
    return ids;
  }

  private int mergeClaims() {
    int merged = 0;
    for (Map.Entry<String, String> e : Map.copyOf(view.claims).entrySet()) {
      JsonObject claim = new JsonObject(e.getValue());
      int shardId = claim.getInteger("shard");
      List<CollectionInfo> restore = new ArrayList<>();
      Map<Long, Map<Integer, Long>> owned = new HashMap<>();
      Map<Long, Integer> partitions = new HashMap<>();
      for (Object o : claim.getJsonArray("collections")) {
        JsonObject held = (JsonObject) o;
        CollectionInfo c = CollectionInfo.fromJson(held.getJsonObject("collection"));
        if (view.dropped.containsKey(c.uid())) {
          continue;
        }
        String existing = view.collections.get(c.key());
        if (existing != null && CollectionInfo.fromJson(new JsonObject(existing)).uid() != c.uid()) {
          continue;
        }
        if (existing == null) {
          restore.add(c);
        }
        Map<Integer, Long> epochs = new HashMap<>();
        held.getJsonObject("owned").forEach(p -> epochs.put(Integer.parseInt(p.getKey()), ((Number) p.getValue()).longValue()));
        owned.put(c.uid(), epochs);
        partitions.put(c.uid(), c.partitions());
      }
      if (!owned.isEmpty()) {
        update(t -> owned.forEach((uid, epochs) -> {
          PartitionTable.Assignment a = t.getOrDefault(uid, PartitionTable.Assignment.unknown(uid, partitions.get(uid)));
          t.put(uid, a.withClaims(shardId, epochs));
        }));
      }
      // Table first, then the catalog: a catalog entry without a table entry would look like a new collection.
      for (CollectionInfo c : restore) {
        if (view.collections.putIfAbsent(c.key(), c.toJson().encode()) == null) {
          LOG.info("collection {} restored into the catalog from shard {}", c.key(), shardId);
        }
      }
      view.claims.remove(e.getKey(), e.getValue());
      merged++;
    }
    if (merged > 0) {
      view.reloadCatalog();
    }
    return merged;
  }

  private PartitionTable read() {
    String json = view.meta.get(ClusterView.TABLE_KEY);
    return json == null ? PartitionTable.EMPTY : ClusterView.parseTable(json);
  }

  /** Compare-and-set of the whole table, retried until it applies; only on the coordinator. */
  private void update(Consumer<Map<Long, PartitionTable.Assignment>> change) {
    while (true) {
      if (!view.isCoordinator()) {
        throw new NotCoordinatorException();
      }
      String current = view.meta.get(ClusterView.TABLE_KEY);
      PartitionTable old = current == null ? PartitionTable.EMPTY : ClusterView.parseTable(current);
      Map<Long, PartitionTable.Assignment> next = new HashMap<>(old.assignments());
      change.accept(next);
      String json = ClusterView.tableJson(new PartitionTable(old.version() + 1, next));
      boolean swapped = current == null
          ? view.meta.putIfAbsent(ClusterView.TABLE_KEY, json) == null
          : view.meta.replace(ClusterView.TABLE_KEY, current, json);
      if (swapped) {
        view.reloadTable();
        return;
      }
    }
  }
}
