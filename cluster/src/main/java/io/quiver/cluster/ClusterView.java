package io.quiver.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * The shared cluster state as every process sees it: the collection catalog, the partition table
 * and the shard registry, each held in Hazelcast and mirrored here as an immutable snapshot that is
 * swapped whenever Hazelcast reports a change. Readers ({@link #collection}, {@link #table},
 * {@link #liveShards}) never touch the network; writers run the Hazelcast calls on a worker thread
 * and return a Future. Thread-safe.
 *
 * <p>Layout in Hazelcast: map {@code quiver.collections} (key {@code tenant/name}, value the
 * collection JSON), map {@code quiver.meta} entry {@code partition_table} (the whole table as JSON
 * with its version, replaced by compare-and-set), map {@code quiver.shards} (key shard id, value the
 * shard JSON), map {@code quiver.dropped} (uids of dropped collections). A shard counts as live while the Hazelcast member that registered it is a member.
 */
public final class ClusterView {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ClusterView.class);
  static final String COLLECTIONS = "quiver.collections";
  static final String META = "quiver.meta";
  static final String SHARDS = "quiver.shards";
  static final String DROPPED = "quiver.dropped";
  static final String MOVES = "quiver.moves";
  static final String DRAINING = "quiver.draining";
  static final String TABLE_KEY = "partition_table";

  private final Vertx vertx;
  private final HazelcastInstance hz;
  private final IMap<String, String> collections;
  private final IMap<String, String> meta;
  private final IMap<String, String> shards;
  private final IMap<Long, Long> dropped;
  private final IMap<String, String> moves;
  private final IMap<Integer, Long> draining;
  private final AtomicReference<java.util.Set<Integer>> drainingShards = new AtomicReference<>(java.util.Set.of());

  private final AtomicReference<Map<String, CollectionInfo>> catalog = new AtomicReference<>(Map.of());
  private final AtomicReference<PartitionTable> table = new AtomicReference<>(PartitionTable.EMPTY);
  private final AtomicReference<Map<Integer, ShardInfo>> liveShards = new AtomicReference<>(Map.of());
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private final ReadOnlyFlag readOnly;

  ClusterView(Vertx vertx, HazelcastInstance hz) {
    this.vertx = vertx;
    this.hz = hz;
    this.collections = hz.getMap(COLLECTIONS);
    this.meta = hz.getMap(META);
    this.shards = hz.getMap(SHARDS);
    this.dropped = hz.getMap(DROPPED);
    this.moves = hz.getMap(MOVES);
    this.draining = hz.getMap(DRAINING);
    draining.addEntryListener(new Reload(this::reloadDraining), false);
    this.readOnly = new ReadOnlyFlag(vertx, hz, java.time.Clock.systemUTC());
    // Listen first, then load: a change between the two is seen by the reload it triggers.
    collections.addEntryListener(new Reload(this::reloadCatalog), false);
    meta.addEntryListener(new Reload(this::reloadTable), TABLE_KEY, false);
    shards.addEntryListener(new Reload(this::reloadShards), false);
    hz.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent e) {
        reloadShards();
      }

      @Override
      public void memberRemoved(MembershipEvent e) {
        reloadShards();
      }
    });
    reloadCatalog();
    reloadTable();
    reloadShards();
    reloadDraining();
  }

  /** Called (on a Hazelcast event thread) after any snapshot changed. */
  public void addChangeListener(Runnable listener) {
    listeners.add(listener);
  }

  // ---- readers: local snapshots, no network ----

  public CollectionInfo collection(String tenant, String name) {
    return catalog.get().get(CollectionInfo.key(tenant, name));
  }

  /** The tenant's collections, by name. */
  public List<CollectionInfo> collections(String tenant) {
    return catalog.get().values().stream()
        .filter(c -> c.tenant().equals(tenant))
        .sorted(Comparator.comparing(CollectionInfo::name))
        .toList();
  }

  public List<CollectionInfo> allCollections() {
    return List.copyOf(catalog.get().values());
  }

  public PartitionTable table() {
    return table.get();
  }

  /** Registered shards whose Hazelcast member is alive, by id. */
  public Map<Integer, ShardInfo> liveShards() {
    return liveShards.get();
  }

  /** Every registered shard, alive or not, by id. */
  public Map<Integer, ShardInfo> registeredShards() {
    Map<Integer, ShardInfo> all = new TreeMap<>();
    shards.values().forEach(v -> {
      ShardInfo s = ShardInfo.fromJson(new JsonObject(v));
      all.put(s.id(), s);
    });
    return all;
  }

  /** The operator read-only mode of the cluster. */
  public ReadOnlyFlag readOnly() {
    return readOnly;
  }

  public int memberCount() {
    return hz.getCluster().getMembers().size();
  }

  /** Shards being drained: they receive no partitions and lose the ones they have. */
  public java.util.Set<Integer> drainingShards() {
    return drainingShards.get();
  }

  /**
   * True when this process is the coordinator: the oldest data (non-lite) member of the cluster.
   * Hazelcast lists members oldest first and every member sees the same list, so exactly one member
   * considers itself coordinator once membership has settled.
   */
  public boolean isCoordinator() {
    Member local = hz.getCluster().getLocalMember();
    for (Member m : hz.getCluster().getMembers()) {
      if (!m.isLiteMember()) {
        return m.getUuid().equals(local.getUuid());
      }
    }
    return false;
  }

  // ---- writers: Hazelcast calls on a worker thread ----

  /** Marks a shard as draining (or not). */
  public Future<Void> setDraining(int shardId, boolean on) {
    return vertx.executeBlocking(() -> {
      if (on) {
        draining.put(shardId, System.currentTimeMillis());
      } else {
        draining.remove(shardId);
      }
      reloadDraining();
      return null;
    });
  }

  /** Moves in progress, as the coordinator recorded them (key {@code uid/partition}). */
  public Future<List<PartitionMove>> moves() {
    return vertx.executeBlocking(() -> moves.values().stream().map(v -> PartitionMove.fromJson(new JsonObject(v))).toList());
  }

  public Future<Void> recordMove(PartitionMove move) {
    return vertx.executeBlocking(() -> {
      moves.put(move.key(), move.toJson().encode());
      return null;
    });
  }

  public Future<Void> forgetMove(PartitionMove move) {
    return vertx.executeBlocking(() -> {
      moves.remove(move.key());
      return null;
    });
  }

  /**
   * Flips one partition from {@code move.from()} to {@code move.to()} at {@code move.epoch()},
   * only if the table still shows the old owner at the epoch just before: returns whether it did.
   */
  public Future<Boolean> flip(PartitionMove move) {
    return vertx.executeBlocking(() -> {
      boolean[] flipped = {false};
      updateTable(t -> {
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
    });
  }

  /**
   * Registers a shard under its id. Fails when another live member already holds that id: two live
   * shards with one id would both accept writes for the same partitions.
   */
  public Future<Void> registerShard(ShardInfo shard) {
    return vertx.executeBlocking(() -> {
      String key = Integer.toString(shard.id());
      String json = shard.toJson().encode();
      String previous = shards.putIfAbsent(key, json);
      if (previous != null) {
        ShardInfo old = ShardInfo.fromJson(new JsonObject(previous));
        if (!old.memberUuid().equals(shard.memberUuid()) && isMember(old.memberUuid())) {
          throw new QuiverException(ErrorCode.CONFLICT, "shard id " + shard.id()
              + " is already registered by a live process at " + old.grpcAddress()
              + "; give each shard its own QUIVER_SHARD_ID");
        }
        if (!shards.replace(key, previous, json)) {
          throw new QuiverException(ErrorCode.CONFLICT, "shard id " + shard.id() + " registered concurrently");
        }
      }
      reloadShards();
      return null;
    });
  }

  public Future<Void> updateShardState(ShardInfo shard) {
    return vertx.executeBlocking(() -> {
      shards.put(Integer.toString(shard.id()), shard.toJson().encode());
      reloadShards();
      return null;
    });
  }

  /** Removes this shard's registration (clean shutdown), if it is still ours. */
  public Future<Void> unregisterShard(ShardInfo shard) {
    return vertx.executeBlocking(() -> {
      String key = Integer.toString(shard.id());
      String current = shards.get(key);
      if (current != null && ShardInfo.fromJson(new JsonObject(current)).memberUuid().equals(shard.memberUuid())) {
        shards.remove(key, current);
      }
      return null;
    });
  }

  /**
   * Creates a collection: assigns it a cluster-unique uid, spreads its partitions over the live
   * shards in the partition table, then publishes it in the catalog. Fails with {@code conflict} when
   * the name is taken, {@code shard_unavailable} when no shard is live.
   */
  public Future<CollectionInfo> createCollection(
      String tenant, String name, int dimension, String metric, boolean strictFinite, int partitions) {
    return vertx.executeBlocking(() -> {
      if (collections.containsKey(CollectionInfo.key(tenant, name))) {
        throw new QuiverException(ErrorCode.CONFLICT, "collection '" + name + "' already exists");
      }
      List<Integer> shardIds = new ArrayList<>(liveShards.get().keySet());
      if (shardIds.size() > drainingShards.get().size()) {
        shardIds.removeAll(drainingShards.get());
      }
      if (shardIds.isEmpty()) {
        throw new QuiverException(ErrorCode.SHARD_UNAVAILABLE, "no live shard can own the collection's partitions");
      }
      long uid = hz.getFlakeIdGenerator("quiver.collection-uid").newId();
      CollectionInfo info = new CollectionInfo(
          tenant, name, uid, dimension, metric, strictFinite, partitions, System.currentTimeMillis());
      PartitionTable.Assignment assignment = PartitionTable.Assignment.roundRobin(uid, partitions, shardIds);
      updateTable(t -> t.put(uid, assignment));
      if (collections.putIfAbsent(info.key(), info.toJson().encode()) != null) {
        updateTable(t -> t.remove(uid));
        throw new QuiverException(ErrorCode.CONFLICT, "collection '" + name + "' already exists");
      }
      reloadCatalog();
      return info;
    });
  }

  /**
   * Removes a collection from the catalog and the partition table, and remembers its uid as dropped
   * so that a shard that was down meanwhile deletes its copy instead of bringing it back.
   */
  public Future<Boolean> dropCollection(CollectionInfo info) {
    return vertx.executeBlocking(() -> {
      dropped.put(info.uid(), System.currentTimeMillis());
      boolean removed = collections.remove(info.key(), info.toJson().encode());
      updateTable(t -> t.remove(info.uid()));
      reloadCatalog();
      return removed;
    });
  }

  /**
   * What a shard brings back after a restart: the collections on its disk, the partitions it owns
   * with their epochs, and the uids it knows were dropped. Rebuilds the catalog and partition table
   * after a restart of the whole cluster (Hazelcast keeps nothing on disk): a collection missing from
   * the catalog is published again, and each claimed partition goes to the claimer unless the table
   * knows an owner at a newer epoch. Returns the uids the shard must delete: dropped ones, and those
   * whose name the catalog now gives to another collection.
   */
  public Future<List<Long>> claim(int shardId, List<CollectionInfo> local, Map<Long, Map<Integer, Long>> owned,
      List<Long> droppedUids) {
    return vertx.executeBlocking(() -> {
      droppedUids.forEach(uid -> dropped.putIfAbsent(uid, System.currentTimeMillis()));
      List<Long> stale = new ArrayList<>();
      for (CollectionInfo c : local) {
        if (dropped.containsKey(c.uid())) {
          stale.add(c.uid());
          continue;
        }
        String existing = collections.get(c.key());
        if (existing != null && CollectionInfo.fromJson(new JsonObject(existing)).uid() != c.uid()) {
          stale.add(c.uid());
          continue;
        }
        Map<Integer, Long> claims = owned.getOrDefault(c.uid(), Map.of());
        updateTable(t -> {
          PartitionTable.Assignment a = t.getOrDefault(c.uid(), PartitionTable.Assignment.unknown(c.uid(), c.partitions()));
          t.put(c.uid(), a.withClaims(shardId, claims));
        });
        if (existing == null && collections.putIfAbsent(c.key(), c.toJson().encode()) == null) {
          LOG.info("collection {} restored into the catalog from shard {}", c.key(), shardId);
        }
      }
      reloadCatalog();
      return stale;
    });
  }

  private void updateTable(java.util.function.Consumer<Map<Long, PartitionTable.Assignment>> change) {
    while (true) {
      String current = meta.get(TABLE_KEY);
      PartitionTable old = current == null ? PartitionTable.EMPTY : parseTable(current);
      Map<Long, PartitionTable.Assignment> next = new HashMap<>(old.assignments());
      change.accept(next);
      String json = tableJson(new PartitionTable(old.version() + 1, next));
      boolean swapped = current == null ? meta.putIfAbsent(TABLE_KEY, json) == null : meta.replace(TABLE_KEY, current, json);
      if (swapped) {
        reloadTable();
        return;
      }
    }
  }

  static String tableJson(PartitionTable t) {
    JsonObject assignments = new JsonObject();
    t.assignments().forEach((uid, a) -> assignments.put(Long.toString(uid), a.toJson()));
    return new JsonObject().put("version", t.version()).put("assignments", assignments).encode();
  }

  static PartitionTable parseTable(String json) {
    JsonObject j = new JsonObject(json);
    Map<Long, PartitionTable.Assignment> m = new HashMap<>();
    JsonObject a = j.getJsonObject("assignments");
    for (String uid : a.fieldNames()) {
      m.put(Long.parseLong(uid), PartitionTable.Assignment.fromJson(a.getJsonObject(uid)));
    }
    return new PartitionTable(j.getLong("version"), m);
  }

  // ---- snapshot reloads ----

  private synchronized void reloadCatalog() {
    Map<String, CollectionInfo> next = new HashMap<>();
    collections.values().forEach(v -> {
      CollectionInfo c = CollectionInfo.fromJson(new JsonObject(v));
      next.put(c.key(), c);
    });
    catalog.set(Map.copyOf(next));
    fire();
  }

  private synchronized void reloadTable() {
    String json = meta.get(TABLE_KEY);
    PartitionTable next = json == null ? PartitionTable.EMPTY : parseTable(json);
    if (next.version() >= table.get().version()) {
      table.set(next);
    }
    fire();
  }

  private synchronized void reloadDraining() {
    drainingShards.set(java.util.Set.copyOf(draining.keySet()));
    fire();
  }

  private synchronized void reloadShards() {
    Set<String> members = hz.getCluster().getMembers().stream()
        .map(m -> m.getUuid().toString()).collect(Collectors.toSet());
    Map<Integer, ShardInfo> next = new TreeMap<>();
    shards.values().forEach(v -> {
      ShardInfo s = ShardInfo.fromJson(new JsonObject(v));
      if (members.contains(s.memberUuid())) {
        next.put(s.id(), s);
      }
    });
    liveShards.set(java.util.Collections.unmodifiableMap(next));
    fire();
  }

  private boolean isMember(String uuid) {
    for (Member m : hz.getCluster().getMembers()) {
      if (m.getUuid().toString().equals(uuid)) {
        return true;
      }
    }
    return false;
  }

  private void fire() {
    listeners.forEach(Runnable::run);
  }

  /** Reloads one snapshot on any entry event. */
  private record Reload(Runnable reload)
      implements EntryAddedListener<String, String>, EntryUpdatedListener<String, String>,
          EntryRemovedListener<String, String> {
    @Override
    public void entryAdded(EntryEvent<String, String> e) {
      reload.run();
    }

    @Override
    public void entryUpdated(EntryEvent<String, String> e) {
      reload.run();
    }

    @Override
    public void entryRemoved(EntryEvent<String, String> e) {
      reload.run();
    }
  }
}
