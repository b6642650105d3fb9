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
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
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
 * <p>The partition table is never written here: only the coordinator's {@link PartitionTableWriter}
 * writes it. Creating a collection publishes it in the catalog and completes once the coordinator has
 * given its partitions owners in the table; deleting one removes it from the catalog and completes once
 * the coordinator has removed it from the table; a shard that starts with data hands its claims to the
 * coordinator and waits until they are merged. Each of these waits listens for the change and fails
 * with {@code shard_unavailable} after its timeout.
 *
 * <p>Layout in Hazelcast: map {@code quiver.collections} (key {@code tenant/name}, value the
 * collection JSON), map {@code quiver.meta} entry {@code partition_table} (the whole table as JSON
 * with its version, replaced by compare-and-set), map {@code quiver.shards} (key shard id, value the
 * shard JSON), map {@code quiver.dropped} (uids of dropped collections), map {@code quiver.claims}
 * (key shard id, value what a starting shard holds, until the coordinator merged it). A shard counts
 * as live while the Hazelcast member that registered it is a member.
 */
public final class ClusterView {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ClusterView.class);
  static final String COLLECTIONS = "quiver.collections";
  static final String META = "quiver.meta";
  static final String SHARDS = "quiver.shards";
  static final String DROPPED = "quiver.dropped";
  static final String MOVES = "quiver.moves";
  static final String DRAINING = "quiver.draining";
  static final String CLAIMS = "quiver.claims";
  static final String TABLE_KEY = "partition_table";

  private final Vertx vertx;
  private final HazelcastInstance hz;
  final IMap<String, String> collections;
  final IMap<String, String> meta;
  private final IMap<String, String> shards;
  final IMap<Long, Long> dropped;
  final IMap<String, String> claims;
  private final IMap<String, String> moves;
  private final IMap<Integer, Long> draining;
  private final AtomicReference<java.util.Set<Integer>> drainingShards = new AtomicReference<>(java.util.Set.of());

  private final AtomicReference<Map<String, CollectionInfo>> catalog = new AtomicReference<>(Map.of());
  private final AtomicReference<PartitionTable> table = new AtomicReference<>(PartitionTable.EMPTY);
  private final AtomicReference<Map<Integer, ShardInfo>> liveShards = new AtomicReference<>(Map.of());
  private final AtomicReference<Map<String, String>> pendingClaims = new AtomicReference<>(Map.of());
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
    this.claims = hz.getMap(CLAIMS);
    claims.addEntryListener(new Reload(this::reloadClaims), false);
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
    reloadClaims();
  }

  /** Called (on a Hazelcast event thread) after any snapshot changed. */
  public void addChangeListener(Runnable listener) {
    listeners.add(listener);
  }

  public void removeChangeListener(Runnable listener) {
    listeners.remove(listener);
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

  /** Claims of starting shards not yet merged by the coordinator, by shard id. */
  public Map<String, String> pendingClaims() {
    return pendingClaims.get();
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
   * Creates a collection: assigns it a cluster-unique uid and publishes it in the catalog, then waits
   * (at most {@code timeout}) until the coordinator has given its partitions owners in the partition
   * table. Fails with {@code conflict} when the name is taken, {@code shard_unavailable} when no shard
   * is live or no coordinator answered in time (the catalog entry is then taken back, so a retry can
   * create it).
   */
  public Future<CollectionInfo> createCollection(
      String tenant, String name, int dimension, String metric, boolean strictFinite, int partitions, Duration timeout) {
    return vertx.executeBlocking(() -> {
      if (collections.containsKey(CollectionInfo.key(tenant, name))) {
        throw new QuiverException(ErrorCode.CONFLICT, "collection '" + name + "' already exists");
      }
      if (liveShards.get().isEmpty()) {
        throw new QuiverException(ErrorCode.SHARD_UNAVAILABLE, "no live shard can own the collection's partitions");
      }
      long uid = hz.getFlakeIdGenerator("quiver.collection-uid").newId();
      CollectionInfo info = new CollectionInfo(
          tenant, name, uid, dimension, metric, strictFinite, partitions, System.currentTimeMillis());
      if (collections.putIfAbsent(info.key(), info.toJson().encode()) != null) {
        throw new QuiverException(ErrorCode.CONFLICT, "collection '" + name + "' already exists");
      }
      reloadCatalog();
      return info;
    }).compose(info -> awaitState(() -> table.get().assignment(info.uid()) != null, timeout)
        .map(info)
        .recover(err -> vertx.executeBlocking(() -> {
          collections.remove(info.key(), info.toJson().encode());
          reloadCatalog();
          throw new QuiverException(ErrorCode.SHARD_UNAVAILABLE, "no coordinator gave the partitions of collection '"
              + name + "' owners within " + timeout.toMillis() + " ms (is a shard running?); nothing was created");
        })));
  }

  /**
   * Removes a collection from the catalog and remembers its uid as dropped (so that a shard that was
   * down meanwhile deletes its copy instead of bringing it back), then waits (at most
   * {@code timeout}) until the coordinator has removed it from the partition table. Returns whether
   * this call removed the catalog entry.
   */
  public Future<Boolean> dropCollection(CollectionInfo info, Duration timeout) {
    return vertx.executeBlocking(() -> {
      dropped.put(info.uid(), System.currentTimeMillis());
      boolean removed = collections.remove(info.key(), info.toJson().encode());
      reloadCatalog();
      return removed;
    }).compose(removed -> awaitState(() -> table.get().assignment(info.uid()) == null, timeout)
        .map(removed)
        .recover(err -> Future.failedFuture(new QuiverException(ErrorCode.SHARD_UNAVAILABLE, "collection '"
            + info.name() + "' is deleted, but no coordinator released its partitions within " + timeout.toMillis()
            + " ms; a coordinator releases them when one runs"))));
  }

  /**
   * What a shard brings back after a restart: the collections on its disk, the partitions it owns
   * with their epochs, and the uids it knows were dropped. The coordinator merges the claim (see
   * {@link PartitionTableWriter}): after a restart of the whole cluster (Hazelcast keeps nothing on
   * disk) it rebuilds catalog and partition table from the claims; a claimed partition goes to the
   * claimer unless the table knows an owner at a newer epoch. Waits (at most {@code timeout}) until
   * the claim is merged, then returns the uids the shard must delete: dropped ones, and those whose
   * name the catalog now gives to another collection.
   */
  public Future<List<Long>> claim(int shardId, List<CollectionInfo> local, Map<Long, Map<Integer, Long>> owned,
      List<Long> droppedUids, Duration timeout) {
    String key = Integer.toString(shardId);
    return vertx.executeBlocking(() -> {
      droppedUids.forEach(uid -> dropped.putIfAbsent(uid, System.currentTimeMillis()));
      if (local.isEmpty()) {
        return null;
      }
      JsonArray held = new JsonArray();
      for (CollectionInfo c : local) {
        JsonObject epochs = new JsonObject();
        owned.getOrDefault(c.uid(), Map.of()).forEach((p, e) -> epochs.put(Integer.toString(p), e));
        held.add(new JsonObject().put("collection", c.toJson()).put("owned", epochs));
      }
      String claim = new JsonObject().put("shard", shardId).put("nonce", java.util.UUID.randomUUID().toString())
          .put("collections", held).encode();
      claims.put(key, claim);
      reloadClaims();
      return claim;
    }).compose(claim -> claim == null ? Future.<Void>succeededFuture()
        : awaitState(() -> !claim.equals(pendingClaims.get().get(key)), timeout)
            .recover(err -> vertx.executeBlocking(() -> {
              claims.remove(key, claim);
              throw new QuiverException(ErrorCode.SHARD_UNAVAILABLE, "no coordinator merged the claim of shard "
                  + shardId + " within " + timeout.toMillis() + " ms");
            })))
        .compose(v -> vertx.executeBlocking(() -> {
          reloadTable();
          List<Long> stale = new ArrayList<>();
          for (CollectionInfo c : local) {
            String existing = collections.get(c.key());
            if (dropped.containsKey(c.uid())
                || existing != null && CollectionInfo.fromJson(new JsonObject(existing)).uid() != c.uid()) {
              stale.add(c.uid());
            }
          }
          reloadCatalog();
          return stale;
        }));
  }

  /**
   * Completes (on the caller's context) once {@code condition}, evaluated on the local snapshots
   * after each change, holds; fails after {@code timeout}.
   */
  private Future<Void> awaitState(java.util.function.BooleanSupplier condition, Duration timeout) {
    io.vertx.core.Context ctx = vertx.getOrCreateContext();
    io.vertx.core.Promise<Void> promise = io.vertx.core.Promise.promise();
    Runnable check = () -> {
      if (condition.getAsBoolean()) {
        ctx.runOnContext(x -> promise.tryComplete());
      }
    };
    listeners.add(check);
    long timer = vertx.setTimer(Math.max(1, timeout.toMillis()), id -> ctx.runOnContext(
        x -> promise.tryFail(new java.util.concurrent.TimeoutException("waited " + timeout.toMillis() + " ms"))));
    check.run();
    return promise.future().andThen(ar -> {
      listeners.remove(check);
      vertx.cancelTimer(timer);
    });
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

  synchronized void reloadCatalog() {
    Map<String, CollectionInfo> next = new HashMap<>();
    collections.values().forEach(v -> {
      CollectionInfo c = CollectionInfo.fromJson(new JsonObject(v));
      next.put(c.key(), c);
    });
    catalog.set(Map.copyOf(next));
    fire();
  }

  /** Reloads the table snapshot from Hazelcast (the writer calls it after each write). */
  synchronized void reloadTable() {
    String json = meta.get(TABLE_KEY);
    PartitionTable next = json == null ? PartitionTable.EMPTY : parseTable(json);
    if (next.version() >= table.get().version()) {
      table.set(next);
    }
    fire();
  }

  private synchronized void reloadClaims() {
    pendingClaims.set(Map.copyOf(claims));
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
