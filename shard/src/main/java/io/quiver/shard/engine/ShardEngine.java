package io.quiver.shard.engine;

import io.quiver.cluster.Partitioning;
import io.quiver.cluster.ReadOnlyState;
import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.quiver.shard.index.GraphIndexer;
import io.quiver.shard.index.Metric;
import io.quiver.shard.index.PartitionIndex;
import io.quiver.shard.index.SearchHit;
import io.quiver.shard.index.SearchMode;
import io.quiver.shard.index.SearchResult;
import io.quiver.shard.index.StoredPoint;
import io.quiver.shard.index.payload.Filter;
import io.quiver.shard.index.payload.Payload;
import io.quiver.shard.storage.CheckpointFile;
import io.quiver.shard.storage.CheckpointStore;
import io.quiver.shard.storage.Durability;
import io.quiver.shard.storage.PartitionKey;
import io.quiver.shard.storage.Recovery;
import io.quiver.shard.storage.RecoveryResult;
import io.quiver.shard.storage.ShardMetadataFile;
import io.quiver.shard.storage.StorageFiles;
import io.quiver.shard.storage.StorageUnavailableException;
import io.quiver.shard.storage.WalEntry;
import io.quiver.shard.storage.WalRecord;
import io.quiver.shard.storage.WriteAheadLog;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable state machine of one shard: the collections it knows and, for each, the partitions it
 * owns (a {@link PartitionIndex} each) with their ownership epochs, kept on disk as a write-ahead log,
 * per-partition checkpoints and a metadata file ({@link StorageFiles} names them all).
 *
 * <h2>Writes</h2>
 * A write is validated (collection, dimension, ownership epoch, memory budget) before anything is
 * logged. Then, under the engine's write lock, its records (one per partition touched) are appended
 * to the WAL and applied to memory by decoding those same records, the path recovery takes too, so
 * replay cannot differ from the live path. The returned future completes when the WAL says the
 * records are durable ({@code sync}: after the group-commit force; {@code async}: once written). A
 * failed write or force switches the engine to degraded read-only for good: every later write fails
 * with {@code storage_unavailable}, reads go on. Memory may show a write a few milliseconds before
 * it is acknowledged; it is in the OS page cache by then, so only a power loss could take it back.
 *
 * <h2>Operator read-only mode</h2>
 * The cluster-wide mode ({@link ReadOnlyState}) is kept in the metadata file and enforced here: while
 * it is on, every write fails with {@code read_only} before anything is logged, checked again under
 * the write lock. {@link #applyReadOnly} persists a newer state first, then switches it under the
 * write lock, so once it has returned no further write is logged. It is not the degraded read-only
 * after a storage failure ({@code storage_unavailable}), which only a restart ends.
 *
 * <h2>Checkpoints</h2>
 * In the background (every {@code checkpointIntervalMs}, when the WAL passes {@code walMaxBytes}, and
 * on demand) each owned partition is serialised under the write lock together with the WAL sequence
 * it covers (every record of that partition up to it), written to its checkpoint file outside the
 * lock, then one manifest publishes them all and covered WAL segments are deleted.
 *
 * <h2>Recovery</h2>
 * {@link #open()} reads the metadata file, then {@link Recovery} loads each partition's checkpoint and
 * replays the WAL after it. Corruption anywhere refuses to open with the file and offset.
 *
 * <p>No Vert.x or Hazelcast here: the shard verticle calls it from worker threads. Thread-safe.
 */
public final class ShardEngine implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(ShardEngine.class);
  /** Bytes a point costs beyond its vector and payload (ids, norms, maps, graph links), for budget estimates. */
  static final int POINT_OVERHEAD_BYTES = 160;
  private static final long MEASURE_EVERY_NANOS = 200_000_000L;

  /**
   * One collection on this shard. {@code partitions[p]} is null when p is owned elsewhere;
   * {@code sealed[p]} when p is moving away (it still serves reads, refuses writes);
   * {@code incoming[p]} holds a partition copied here but not yet owned (at {@code incomingEpochs[p]}).
   */
  static final class CollectionState {
    final CollectionSpec spec;
    final PartitionIndex[] partitions;
    final long[] epochs;
    final boolean[] sealed;
    final PartitionIndex[] incoming;
    final long[] incomingEpochs;

    CollectionState(CollectionSpec spec) {
      this.spec = spec;
      this.partitions = new PartitionIndex[spec.partitions()];
      this.epochs = new long[spec.partitions()];
      this.sealed = new boolean[spec.partitions()];
      this.incoming = new PartitionIndex[spec.partitions()];
      this.incomingEpochs = new long[spec.partitions()];
    }

    java.util.Set<Integer> sealedPartitions() {
      java.util.Set<Integer> out = new java.util.TreeSet<>();
      for (int p = 0; p < sealed.length; p++) {
        if (sealed[p]) {
          out.add(p);
        }
      }
      return out;
    }

    Map<Integer, Long> incomingEpochMap() {
      Map<Integer, Long> m = new TreeMap<>();
      for (int p = 0; p < incoming.length; p++) {
        if (incoming[p] != null) {
          m.put(p, incomingEpochs[p]);
        }
      }
      return m;
    }

    int[] ownedPartitions() {
      int[] out = new int[partitions.length];
      int n = 0;
      for (int p = 0; p < partitions.length; p++) {
        if (partitions[p] != null) { // each slot read once: a move may release one meanwhile
          out[n++] = p;
        }
      }
      return Arrays.copyOf(out, n);
    }

    /**
     * The owned partitions' indexes, each slot read once. Readers that run without the engine's lock use
     * this, not {@code partitions[p]} after {@link #ownedPartitions()}: a move can release a partition (its
     * slot becomes null) in between, and a released partition is the new owner's to answer for.
     */
    List<PartitionIndex> ownedIndexes() {
      List<PartitionIndex> out = new ArrayList<>(partitions.length);
      for (PartitionIndex index : partitions) {
        if (index != null) {
          out.add(index);
        }
      }
      return out;
    }

    Map<Integer, Long> ownedEpochs() {
      Map<Integer, Long> m = new TreeMap<>();
      for (int p : ownedPartitions()) {
        m.put(p, epochs[p]);
      }
      return m;
    }
  }

  /** Result of a write: a flag per id (created / deleted / updated) in request order. */
  public record WriteResult(boolean[] flags, long sequence) {
    public int count() {
      int n = 0;
      for (boolean f : flags) {
        n += f ? 1 : 0;
      }
      return n;
    }
  }

  /** What the last checkpoint did. */
  public record CheckpointStats(Instant finishedAt, long coveredSequence, long durationMillis, int partitions,
      int segmentsDeleted) {}

  private final EngineOptions options;
  private final ExecutorService searchPool;
  /** A search fans its partitions out over the search pool only while fewer searches than this run. */
  private final int fanOutBelow;
  private final java.util.concurrent.atomic.AtomicInteger searchesRunning = new java.util.concurrent.atomic.AtomicInteger();
  /** Null: exact search only. */
  private final GraphIndexer indexer;
  private final StorageFiles files;
  private final Map<Long, CollectionState> collections = new ConcurrentHashMap<>();
  /** Uids of collections dropped in the cluster, oldest first (guarded by metadataLock). */
  private final java.util.LinkedHashSet<Long> dropped = new java.util.LinkedHashSet<>();
  /** Held while appending to the WAL and applying to memory, so memory order is log order. */
  private final ReentrantLock writeLock = new ReentrantLock();
  private final Object metadataLock = new Object();
  /** Partitions being copied to another shard (guarded by writeLock). */
  private final Map<PartitionKey, Export> exports = new java.util.HashMap<>();
  private final Object checkpointLock = new Object();
  private final AtomicBoolean checkpointQueued = new AtomicBoolean();
  private final AtomicLong checkpointFailures = new AtomicLong();
  private final AtomicLong measuredBytes = new AtomicLong();
  private final AtomicLong addedSinceMeasure = new AtomicLong();
  private volatile long measuredAtNanos;
  private volatile StorageUnavailableException degradedBy;
  /** Switched under both the metadata lock and the write lock; read by writes under the write lock. */
  private volatile ReadOnlyState readOnly = ReadOnlyState.OFF;
  private volatile CheckpointStats lastCheckpoint;
  private volatile RecoveryResult recovery;
  private volatile Runnable degradedListener = () -> {};
  private WriteAheadLog wal;
  private CheckpointStore checkpoints;
  private ScheduledExecutorService checkpointer;

  /**
   * @param searchPool runs the per-partition legs of a search
   * @param indexer    builds ANN graphs in the background (null: exact search only)
   */
  public ShardEngine(EngineOptions options, ExecutorService searchPool, Executor indexer) {
    this.options = options;
    this.searchPool = searchPool;
    this.fanOutBelow = searchPool instanceof java.util.concurrent.ThreadPoolExecutor pool
        ? Math.max(1, pool.getMaximumPoolSize()) : Runtime.getRuntime().availableProcessors();
    this.indexer = indexer == null ? null : new GraphIndexer(indexer, options.graphMaxLagPoints());
    this.files = new StorageFiles(options.dataDir());
  }

  public int shardId() {
    return options.shardId();
  }

  // ---------------------------------------------------------------- life cycle

  /**
   * Recovers the shard from its data directory (metadata, checkpoints, WAL) and starts background
   * checkpoints. Throws (naming file and offset) when anything on disk is corrupt.
   */
  public RecoveryResult open() throws IOException {
    files.createDirectories();
    ShardMetadata meta = readMetadata();
    for (ShardMetadata.CollectionEntry e : meta.collections()) {
      CollectionState c = new CollectionState(e.spec());
      e.owned().forEach((p, epoch) -> {
        c.partitions[p] = new PartitionIndex(e.spec().dimension(), e.spec().metric(), indexer);
        c.epochs[p] = epoch;
      });
      e.sealed().forEach(p -> c.sealed[p] = true);
      e.incoming().forEach((p, epoch) -> {
        c.incoming[p] = new PartitionIndex(e.spec().dimension(), e.spec().metric(), indexer);
        c.incomingEpochs[p] = epoch;
      });
      collections.put(e.spec().uid(), c);
    }
    dropped.addAll(meta.dropped());
    readOnly = meta.readOnly();
    wal = WriteAheadLog.open(files, options.walOptions());
    checkpoints = options.crashPoint() == null ? CheckpointStore.open(files) : CheckpointStore.open(files, options.crashPoint());
    recovery = new Recovery(files, wal, checkpoints).run(
        (key, covered, in) -> {
          CollectionState c = collections.get(key.collectionUid());
          if (c != null && key.partition() < c.partitions.length && c.partitions[key.partition()] != null) {
            c.partitions[key.partition()] = PartitionIndex.readFrom(in, indexer);
          } else if (c != null && key.partition() < c.partitions.length && c.incoming[key.partition()] != null) {
            c.incoming[key.partition()] = PartitionIndex.readFrom(in, indexer);
          }
        },
        this::replay);
    if (options.durability() == Durability.ASYNC) {
      LOG.warn("shard {} runs the async durability profile: a write is acknowledged before it is forced to disk, so a "
          + "power loss can lose the last {} ms of acknowledged writes", options.shardId(), options.walSyncIntervalMs());
    }
    measure();
    if (collections.isEmpty()) {
      // Before ready: the first collection must not wait for jvector to load. A shard that recovered
      // collections loaded jvector with their graphs; warming up there cost it 0.3-0.8 s of a restart.
      PartitionIndex.warmUp();
    }
    checkpointer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "quiver-shard-" + options.shardId() + "-checkpointer");
      t.setDaemon(true);
      return t;
    });
    checkpointer.scheduleWithFixedDelay(this::backgroundCheckpoint, options.checkpointIntervalMs(),
        options.checkpointIntervalMs(), TimeUnit.MILLISECONDS);
    return recovery;
  }

  private ShardMetadata readMetadata() throws IOException {
    var doc = ShardMetadataFile.read(files);
    if (doc.isEmpty()) {
      return ShardMetadata.EMPTY;
    }
    try {
      return ShardMetadata.decode(doc.get());
    } catch (IOException | RuntimeException e) {
      throw new IOException("shard metadata " + files.shardMetadata() + " does not parse: " + e.getMessage(), e);
    }
  }

  /** Applies one replayed record; records of collections or partitions no longer here are skipped. */
  private void replay(WalRecord r) {
    CollectionState c = collections.get(r.collectionUid());
    if (c == null || r.partition() >= c.partitions.length || c.partitions[r.partition()] == null) {
      return;
    }
    apply(c, r.type(), r.partition(), r.body());
  }

  /** Stops background work and closes the WAL; pending acknowledgements complete first. */
  @Override
  public void close() throws IOException {
    if (checkpointer != null) {
      checkpointer.shutdownNow();
    }
    if (wal != null) {
      wal.close();
    }
  }

  /** Called once, from the failing thread, when the engine turns degraded. */
  public void onDegraded(Runnable listener) {
    degradedListener = listener;
  }

  // ---------------------------------------------------------------- collections

  /**
   * Creates the collection here (idempotent) and takes ownership of {@code owned} partitions at the
   * given epochs, durably, before returning. Returns true when the collection was new on this shard.
   */
  public boolean createCollection(CollectionSpec spec, Map<Integer, Long> owned) throws IOException {
    synchronized (metadataLock) {
      checkWritable();
      CollectionState existing = collections.get(spec.uid());
      CollectionState c = existing != null ? existing : new CollectionState(spec);
      for (var e : owned.entrySet()) {
        int p = e.getKey();
        if (p < 0 || p >= spec.partitions()) {
          throw QuiverException.invalid("partition " + p + " is outside 0.." + (spec.partitions() - 1));
        }
        if (c.partitions[p] == null) {
          c.partitions[p] = new PartitionIndex(spec.dimension(), spec.metric(), indexer);
        }
        c.epochs[p] = Math.max(c.epochs[p], e.getValue());
      }
      collections.put(spec.uid(), c);
      writeMetadata();
      return existing == null;
    }
  }

  /**
   * Forgets the collection: metadata first (remembering the uid as dropped, even when the collection
   * was never here), then its checkpoints. Its WAL records are skipped from now on.
   */
  public boolean dropCollection(long uid) throws IOException {
    synchronized (metadataLock) {
      CollectionState c = collections.remove(uid);
      boolean known = dropped.add(uid);
      while (dropped.size() > ShardMetadata.MAX_DROPPED) {
        dropped.remove(dropped.iterator().next());
      }
      if (c == null) {
        if (known) {
          writeMetadata();
        }
        return false;
      }
      writeMetadata();
      List<PartitionKey> keys = new ArrayList<>();
      for (int p = 0; p < c.partitions.length; p++) {
        keys.add(new PartitionKey(uid, p));
      }
      synchronized (checkpointLock) {
        checkpoints.drop(keys);
      }
      return true;
    }
  }

  /**
   * {@link #dropCollection} as a client's write: refused with {@code read_only} while the operator
   * mode is on. (The cluster's own clean-up of stale collections uses {@link #dropCollection}.)
   */
  public boolean dropCollectionUnlessReadOnly(long uid) throws IOException {
    synchronized (metadataLock) {
      checkNotReadOnly();
      return dropCollection(uid);
    }
  }

  private void writeMetadata() throws IOException {
    writeMetadata(readOnly);
  }

  private void writeMetadata(ReadOnlyState readOnlyState) throws IOException {
    List<ShardMetadata.CollectionEntry> entries = new ArrayList<>();
    collections.values().stream().sorted(Comparator.comparingLong(c -> c.spec.uid()))
        .forEach(c -> entries.add(new ShardMetadata.CollectionEntry(c.spec, c.ownedEpochs(), c.sealedPartitions(),
            c.incomingEpochMap())));
    ShardMetadataFile.write(files, new ShardMetadata(entries, List.copyOf(dropped), readOnlyState).encode());
  }

  /** The operator read-only mode this shard enforces. */
  public ReadOnlyState readOnly() {
    return readOnly;
  }

  /**
   * Adopts {@code state} when it is newer than the one in force (the rule of {@link ReadOnlyState}):
   * writes it to the metadata file, then switches under the write lock, so every write logged after
   * this returns was checked against it. An older or equal state changes nothing. Returns the state
   * in force afterwards.
   */
  public ReadOnlyState applyReadOnly(ReadOnlyState state) throws IOException {
    synchronized (metadataLock) {
      if (!state.isNewerThan(readOnly)) {
        return readOnly;
      }
      writeMetadata(state);
      writeLock.lock();
      try {
        readOnly = state;
      } finally {
        writeLock.unlock();
      }
      LOG.info("shard {} read-only mode {} (version {}){}", options.shardId(), state.enabled() ? "ON" : "OFF",
          state.version(), state.reason().isEmpty() ? "" : ": " + state.reason());
      return state;
    }
  }

  public List<CollectionSpec> collections() {
    return collections.values().stream().map(c -> c.spec).toList();
  }

  /** The partitions of a collection this shard owns, with their epochs. */
  public Map<Integer, Long> ownedEpochs(long uid) {
    CollectionState c = collections.get(uid);
    return c == null ? Map.of() : c.ownedEpochs();
  }

  /** Uids of collections known to be dropped in the cluster. */
  public List<Long> droppedUids() {
    synchronized (metadataLock) {
      return List.copyOf(dropped);
    }
  }

  // ---------------------------------------------------------------- writes

  /**
   * Upserts points. {@code vectors[i]} and {@code payloads[i]} (JSON object bytes, or null) belong to
   * {@code ids[i]}; {@code epochs} maps each touched partition to the epoch the caller saw.
   */
  public CompletableFuture<WriteResult> upsert(long uid, long[] ids, float[][] vectors, byte[][] payloads,
      Map<Integer, Long> epochs) {
    checkWritable();
    CollectionState c = collection(uid);
    long growth = 0;
    for (int i = 0; i < ids.length; i++) {
      checkVector(c.spec, vectors[i]);
      growth += 4L * c.spec.dimension() + (payloads[i] == null ? 0 : 2L * payloads[i].length) + POINT_OVERHEAD_BYTES;
    }
    reserve(growth);
    int[] partitions = partitionsOf(c, ids, epochs);
    List<WalEntry> entries = new ArrayList<>();
    forEachPartition(partitions, (p, rows) -> entries.add(
        new WalEntry(WalBodies.UPSERT, uid, p, WalBodies.upsert(ids, vectors, payloads, rows, c.spec.dimension()))));
    return log(c, entries, ids, partitions);
  }

  /** Deletes points; allowed when the memory budget is full (it only frees memory). */
  public CompletableFuture<WriteResult> delete(long uid, long[] ids, Map<Integer, Long> epochs) {
    checkWritable();
    CollectionState c = collection(uid);
    int[] partitions = partitionsOf(c, ids, epochs);
    List<WalEntry> entries = new ArrayList<>();
    forEachPartition(partitions, (p, rows) -> entries.add(new WalEntry(WalBodies.DELETE, uid, p, WalBodies.delete(ids, rows))));
    return log(c, entries, ids, partitions);
  }

  /**
   * Merges {@code set} into, and removes {@code deleteKeys} from, the payload of each existing id.
   * The record carries each resulting payload, so replay does not depend on the order of merges.
   */
  public CompletableFuture<WriteResult> updatePayload(long uid, long[] ids, Payload set, List<String> deleteKeys,
      Map<Integer, Long> epochs) {
    checkWritable();
    CollectionState c = collection(uid);
    int[] partitions = partitionsOf(c, ids, epochs);
    if (set != null) {
      reserve(2L * set.jsonLength() * ids.length);
    }
    writeLock.lock();
    try {
      // Under the write lock: the payloads read here are the ones the record replaces.
      boolean[] exists = new boolean[ids.length];
      byte[][] next = new byte[ids.length][];
      for (int i = 0; i < ids.length; i++) {
        StoredPoint point = c.partitions[partitions[i]].get(ids[i]);
        if (point != null) {
          Payload p = point.payload() == null ? Payload.EMPTY : point.payload();
          if (set != null) {
            p = p.merge(set);
          }
          if (!deleteKeys.isEmpty()) {
            p = p.withoutKeys(deleteKeys);
          }
          exists[i] = true;
          next[i] = p.json();
        }
      }
      int[] present = java.util.stream.IntStream.range(0, ids.length).filter(i -> exists[i]).toArray();
      if (present.length == 0) {
        return CompletableFuture.completedFuture(new WriteResult(new boolean[ids.length], wal.lastSequence()));
      }
      int[] presentPartitions = new int[ids.length];
      Arrays.fill(presentPartitions, -1);
      for (int i : present) {
        presentPartitions[i] = partitions[i];
      }
      List<WalEntry> entries = new ArrayList<>();
      forEachPartition(presentPartitions, (p, rows) -> entries.add(
          new WalEntry(WalBodies.SET_PAYLOAD, uid, p, WalBodies.setPayload(ids, r -> next[r], rows))));
      return logLocked(c, entries, ids, presentPartitions);
    } finally {
      writeLock.unlock();
    }
  }

  private CompletableFuture<WriteResult> log(CollectionState c, List<WalEntry> entries, long[] ids, int[] partitions) {
    writeLock.lock();
    try {
      return logLocked(c, entries, ids, partitions);
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * Appends {@code entries} (one per partition, ascending) and applies them; the flags come from the
   * apply step, in request order. Caller holds the write lock.
   */
  private CompletableFuture<WriteResult> logLocked(CollectionState c, List<WalEntry> entries, long[] ids, int[] partitions) {
    checkWritable();
    CompletableFuture<Long> durable = wal.appendAll(entries);
    if (durable.isCompletedExceptionally()) {
      return durable.handle((seq, err) -> {
        throw degrade(err);
      });
    }
    boolean[] flags = new boolean[ids.length];
    for (WalEntry e : entries) {
      boolean[] applied = apply(c, e.type(), e.partition(), e.body());
      Export export = exports.get(new PartitionKey(c.spec.uid(), e.partition()));
      if (export != null) {
        byte[] body = new byte[e.body().remaining()];
        e.body().duplicate().get(body);
        export.tail.add(new TailRecord(e.type(), body));
      }
      // Entries of one partition are the request rows of that partition, in request order.
      int k = 0;
      for (int i = 0; i < ids.length; i++) {
        if (partitions[i] == e.partition()) {
          flags[i] = applied[k++];
        }
      }
    }
    if (wal.sizeBytes() > options.walMaxBytes()) {
      requestCheckpoint();
    }
    return durable.handle((seq, err) -> {
      if (err != null) {
        throw degrade(err);
      }
      return new WriteResult(flags, seq);
    });
  }

  /** Applies one record to its partition; returns a flag per entry (created / deleted / updated). */
  private static boolean[] apply(CollectionState c, byte type, int partition, ByteBuffer body) {
    return apply(c.partitions[partition], c.spec.dimension(), type, body);
  }

  private static boolean[] apply(PartitionIndex index, int dimension, byte type, ByteBuffer body) {
    WalBodies.Entry[] entries = WalBodies.decode(type, body, dimension);
    boolean[] flags = new boolean[entries.length];
    for (int i = 0; i < entries.length; i++) {
      WalBodies.Entry e = entries[i];
      flags[i] = switch (type) {
        case WalBodies.UPSERT -> index.upsert(e.id(), e.vector(), payload(e.payload()));
        case WalBodies.DELETE -> index.delete(e.id());
        case WalBodies.SET_PAYLOAD -> index.updatePayload(e.id(), payload(e.payload()));
        default -> throw new IllegalStateException("unknown record type " + type);
      };
    }
    return flags;
  }

  private static Payload payload(byte[] json) {
    return json == null || json.length == 0 ? Payload.EMPTY : Payload.fromJson(json);
  }

  private interface PartitionRows {
    void accept(int partition, int[] rows);
  }

  /** Calls {@code f} once per partition (ascending) with the request rows in it; rows with partition -1 are skipped. */
  private static void forEachPartition(int[] partitions, PartitionRows f) {
    TreeMap<Integer, List<Integer>> byPartition = new TreeMap<>();
    for (int i = 0; i < partitions.length; i++) {
      if (partitions[i] >= 0) {
        byPartition.computeIfAbsent(partitions[i], p -> new ArrayList<>()).add(i);
      }
    }
    byPartition.forEach((p, rows) -> f.accept(p, rows.stream().mapToInt(Integer::intValue).toArray()));
  }

  private QuiverException degrade(Throwable err) {
    Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
    if (cause instanceof StorageUnavailableException s && degradedBy == null) {
      degradedBy = s;
      LOG.error("shard {} storage failed; switching to degraded read-only until restarted", options.shardId(), s);
      degradedListener.run();
    }
    return new QuiverException(ErrorCode.STORAGE_UNAVAILABLE, "shard " + options.shardId()
        + " cannot write to its storage (" + cause.getMessage() + "); it serves reads only until restarted");
  }

  private void checkNotReadOnly() {
    ReadOnlyState ro = readOnly;
    if (ro.enabled()) {
      throw new QuiverException(ErrorCode.READ_ONLY, ro.refusal());
    }
  }

  private void checkWritable() {
    checkNotReadOnly();
    StorageUnavailableException s = degradedBy;
    if (s != null || (wal != null && wal.isFailed())) {
      throw degrade(s != null ? s : new StorageUnavailableException("WAL failed", null));
    }
  }

  /** True once a storage failure made this shard read-only. */
  public boolean degraded() {
    return degradedBy != null;
  }

  // ---------------------------------------------------------------- memory budget

  /**
   * Refuses growth beyond the budget with {@code resource_exhausted}; measures precisely before
   * refusing. The estimate is taken half again as large; arrays and maps grow by steps, so the last
   * accepted write may still carry usage past the budget by one such step (a few percent at most).
   */
  private void reserve(long estimate) {
    long bytes = estimate + estimate / 2;
    long budget = options.memoryBudgetBytes();
    if (measuredBytes.get() + addedSinceMeasure.get() + bytes > budget || System.nanoTime() - measuredAtNanos > MEASURE_EVERY_NANOS) {
      measure();
      if (measuredBytes.get() + bytes > budget) {
        throw new QuiverException(ErrorCode.RESOURCE_EXHAUSTED, String.format(
            "shard %d memory budget is full (%d of %d MiB used, this write needs %d KiB more); delete points or add shards",
            options.shardId(), measuredBytes.get() >> 20, budget >> 20, Math.max(1, bytes >> 10)));
      }
    }
    addedSinceMeasure.addAndGet(bytes);
  }

  private void measure() {
    addedSinceMeasure.set(0);
    measuredAtNanos = System.nanoTime();
    measuredBytes.set(ramBytesUsed());
  }

  /** Bytes held by every partition's structures and the WAL's buffers. */
  public long ramBytesUsed() {
    long n = wal == null ? 0 : wal.ramBytesUsed();
    for (CollectionState c : collections.values()) {
      for (PartitionIndex index : c.ownedIndexes()) {
        n += index.ramBytesUsed();
      }
    }
    return n;
  }

  public long memoryBudgetBytes() {
    return options.memoryBudgetBytes();
  }

  // ---------------------------------------------------------------- checkpoints

  /** Asks the background checkpointer for a checkpoint soon (once, however often it is asked). */
  public void requestCheckpoint() {
    if (checkpointer != null && checkpointQueued.compareAndSet(false, true)) {
      checkpointer.execute(this::backgroundCheckpoint);
    }
  }

  private void backgroundCheckpoint() {
    checkpointQueued.set(false);
    try {
      checkpoint();
    } catch (IOException | RuntimeException e) {
      checkpointFailures.incrementAndGet();
      LOG.error("shard {} checkpoint failed; the WAL keeps every record until one succeeds", options.shardId(), e);
    }
  }

  /**
   * Checkpoints every owned partition now and deletes the WAL segments the new checkpoints cover.
   * Writes to other partitions go on meanwhile; each partition is paused only while it is copied.
   */
  public CheckpointStats checkpoint() throws IOException {
    synchronized (checkpointLock) {
      long started = System.nanoTime();
      List<CheckpointFile> written = new ArrayList<>();
      Set<PartitionKey> live = new HashSet<>();
      long covered = 0;
      for (CollectionState c : List.copyOf(collections.values())) {
        for (int p : c.ownedPartitions()) {
          byte[] state;
          long seq;
          writeLock.lock();
          try {
            PartitionIndex index = c.partitions[p];
            if (index == null) {
              continue; // released by a move since the loop started: no longer this shard's to checkpoint
            }
            seq = wal.lastSequence();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            index.writeTo(new DataOutputStream(bytes));
            state = bytes.toByteArray();
          } finally {
            writeLock.unlock();
          }
          written.add(checkpoints.writeFile(c.spec.uid(), p, seq, out -> out.write(state)));
          live.add(new PartitionKey(c.spec.uid(), p));
          covered = Math.max(covered, seq);
        }
      }
      for (CollectionState c : collections.values()) {
        c.incomingEpochMap().keySet().forEach(p -> live.add(new PartitionKey(c.spec.uid(), p)));
      }
      if (!written.isEmpty()) {
        checkpoints.publish(written);
      }
      int deleted = checkpoints.retireObsolete(wal, live).segmentsDeleted();
      CheckpointStats stats = new CheckpointStats(Instant.now(), covered, (System.nanoTime() - started) / 1_000_000,
          written.size(), deleted);
      lastCheckpoint = stats;
      LOG.info("shard {} checkpoint: {} partitions up to sequence {} in {} ms, {} WAL segments deleted",
          options.shardId(), stats.partitions(), covered, stats.durationMillis(), deleted);
      return stats;
    }
  }

  /**
   * Checkpoints now and copies this shard's durable files into {@code target} with a checksum
   * manifest ({@link Backup}); background checkpoints wait meanwhile, writes go on.
   */
  public Backup.Result backup(java.nio.file.Path target, String backupId) throws IOException {
    synchronized (checkpointLock) {
      long started = System.nanoTime();
      CheckpointStats stats = checkpoint();
      long walSequence = wal.lastSequence();
      return Backup.copy(files, target, options.shardId(), backupId, stats.coveredSequence(), walSequence, pointCount(),
          partitionCount(), started);
    }
  }

  public CheckpointStats lastCheckpoint() {
    return lastCheckpoint;
  }

  public long checkpointFailures() {
    return checkpointFailures.get();
  }

  public RecoveryResult recovery() {
    return recovery;
  }

  public long walBytes() {
    return wal.sizeBytes();
  }

  public long walSequence() {
    return wal.lastSequence();
  }

  public long walForces() {
    return wal.forceCount();
  }

  public Durability durability() {
    return options.durability();
  }

  // ---------------------------------------------------------------- partition moves

  /** A record applied to a moving partition after its snapshot was taken. */
  public record TailRecord(byte type, byte[] body) {}

  /** A partition being copied away: its snapshot and the records applied since. Guarded by writeLock. */
  private static final class Export {
    final byte[] snapshot;
    final List<TailRecord> tail = new ArrayList<>();

    Export(byte[] snapshot) {
      this.snapshot = snapshot;
    }
  }

  /**
   * Starts copying an owned partition away: snapshots it and, from that instant, keeps every record
   * applied to it so the new owner can catch up. Returns the snapshot size and the current epoch.
   */
  public long[] exportPartition(long uid, int p) throws IOException {
    CollectionState c = collection(uid);
    writeLock.lock();
    try {
      if (c.partitions[p] == null) {
        throw new QuiverException(ErrorCode.STALE_EPOCH, "shard " + options.shardId() + " does not own partition " + p);
      }
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      c.partitions[p].writeTo(new DataOutputStream(bytes));
      Export export = new Export(bytes.toByteArray());
      exports.put(new PartitionKey(uid, p), export);
      return new long[] {export.snapshot.length, c.epochs[p]};
    } finally {
      writeLock.unlock();
    }
  }

  /** Up to {@code max} bytes of the snapshot from {@code offset}. */
  public byte[] snapshotChunk(long uid, int p, long offset, int max) {
    Export e = export(uid, p);
    int from = (int) Math.min(offset, e.snapshot.length);
    return Arrays.copyOfRange(e.snapshot, from, Math.min(e.snapshot.length, from + max));
  }

  /** Tail records {@code [from, from + max)}, the number captured so far, and whether the partition is sealed. */
  public record Tail(List<TailRecord> records, int total, boolean sealed) {}

  public Tail tail(long uid, int p, int from, int max) {
    writeLock.lock();
    try {
      Export e = export(uid, p);
      int to = Math.min(e.tail.size(), from + max);
      List<TailRecord> out = from >= to ? List.of() : List.copyOf(e.tail.subList(from, to));
      return new Tail(out, e.tail.size(), collection(uid).sealed[p]);
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * Seals a partition being copied away: from now on it refuses writes ({@code stale_epoch}, so the
   * gateway retries at the new owner) and its tail is final. Durable before it returns, so a restart
   * cannot reopen the partition for writes behind the new owner's back. Returns the tail length.
   */
  public int sealPartition(long uid, int p) throws IOException {
    CollectionState c = collection(uid);
    synchronized (metadataLock) {
      int total;
      writeLock.lock();
      try {
        Export e = export(uid, p);
        c.sealed[p] = true;
        total = e.tail.size();
      } finally {
        writeLock.unlock();
      }
      writeMetadata();
      return total;
    }
  }

  /** Gives up a move: the partition takes writes again and its snapshot and tail are forgotten. */
  public void abortExport(long uid, int p) throws IOException {
    CollectionState c = collections.get(uid);
    synchronized (metadataLock) {
      writeLock.lock();
      try {
        exports.remove(new PartitionKey(uid, p));
        if (c != null) {
          c.sealed[p] = false;
        }
      } finally {
        writeLock.unlock();
      }
      if (c != null) {
        writeMetadata();
      }
    }
  }

  /** After the new owner took over: forgets the partition here (metadata, then its checkpoint). */
  public void releasePartition(long uid, int p) throws IOException {
    CollectionState c = collections.get(uid);
    synchronized (metadataLock) {
      writeLock.lock();
      try {
        exports.remove(new PartitionKey(uid, p));
        if (c != null) {
          c.partitions[p] = null;
          c.epochs[p] = 0;
          c.sealed[p] = false;
        }
      } finally {
        writeLock.unlock();
      }
      if (c != null) {
        writeMetadata();
        synchronized (checkpointLock) {
          checkpoints.drop(List.of(new PartitionKey(uid, p)));
        }
      }
    }
  }

  /**
   * Installs a partition copied from its old owner (snapshot plus the tail applied on top) as
   * incoming: durable (its own checkpoint, covered by this shard's current WAL position, and the
   * metadata) but not owned, so it takes no write until {@link #commitIncoming}.
   */
  public void installIncoming(CollectionSpec spec, int p, long epoch, byte[] snapshot, List<TailRecord> tail)
      throws IOException {
    checkWritable();
    PartitionIndex index = PartitionIndex.readFrom(new java.io.DataInputStream(new java.io.ByteArrayInputStream(snapshot)), indexer);
    for (TailRecord r : tail) {
      apply(index, spec.dimension(), r.type(), ByteBuffer.wrap(r.body()));
    }
    synchronized (metadataLock) {
      CollectionState c = collections.computeIfAbsent(spec.uid(), u -> new CollectionState(spec));
      writeLock.lock();
      long covered;
      try {
        c.incoming[p] = index;
        c.incomingEpochs[p] = epoch;
        covered = wal.lastSequence();
      } finally {
        writeLock.unlock();
      }
      synchronized (checkpointLock) {
        checkpoints.write(spec.uid(), p, covered, out -> index.writeTo(out));
      }
      writeMetadata();
    }
  }

  /** The partition table now names this shard: the incoming partition becomes owned, durably. */
  public void commitIncoming(long uid, int p) throws IOException {
    CollectionState c = collection(uid);
    synchronized (metadataLock) {
      writeLock.lock();
      try {
        if (c.incoming[p] == null) {
          if (c.partitions[p] != null) {
            return; // already committed
          }
          throw new QuiverException(ErrorCode.STALE_EPOCH, "partition " + p + " is not arriving on shard " + options.shardId());
        }
        c.partitions[p] = c.incoming[p];
        c.epochs[p] = c.incomingEpochs[p];
        c.incoming[p] = null;
        c.incomingEpochs[p] = 0;
      } finally {
        writeLock.unlock();
      }
      writeMetadata();
    }
  }

  /** The move was given up: forgets the incoming copy. */
  public void discardIncoming(long uid, int p) throws IOException {
    CollectionState c = collections.get(uid);
    if (c == null) {
      return;
    }
    synchronized (metadataLock) {
      boolean had;
      writeLock.lock();
      try {
        had = c.incoming[p] != null;
        c.incoming[p] = null;
        c.incomingEpochs[p] = 0;
      } finally {
        writeLock.unlock();
      }
      if (had) {
        writeMetadata();
        if (c.partitions[p] == null) {
          synchronized (checkpointLock) {
            checkpoints.drop(List.of(new PartitionKey(uid, p)));
          }
        }
      }
    }
  }

  /** Partitions of a collection sealed here (moving away) and arriving here, for reconciliation after a restart. */
  public java.util.Set<Integer> sealedPartitions(long uid) {
    CollectionState c = collections.get(uid);
    return c == null ? java.util.Set.of() : c.sealedPartitions();
  }

  public Map<Integer, Long> incomingPartitions(long uid) {
    CollectionState c = collections.get(uid);
    return c == null ? Map.of() : c.incomingEpochMap();
  }

  private Export export(long uid, int p) {
    Export e = exports.get(new PartitionKey(uid, p));
    if (e == null) {
      throw new QuiverException(ErrorCode.STALE_EPOCH, "partition " + p + " of collection " + uid
          + " is not being exported by shard " + options.shardId());
    }
    return e;
  }

  /**
   * Fails with {@code stale_epoch} when the caller expected this shard to hold a partition it no
   * longer holds (it moved away since the caller read the partition table): the caller retries.
   */
  public void checkHolds(long uid, int[] expected) {
    CollectionState c = collection(uid);
    for (int p : expected) {
      if (p >= c.partitions.length || c.partitions[p] == null) {
        throw new QuiverException(ErrorCode.STALE_EPOCH, "partition " + p + " of collection '" + c.spec.name()
            + "' is not on shard " + options.shardId() + " any more");
      }
    }
  }

  // ---------------------------------------------------------------- reads

  /** The point, or null; {@code stale_epoch} when its partition is not (any more) on this shard. */
  public StoredPoint get(long uid, long id) {
    CollectionState c = collection(uid);
    int p = Partitioning.partitionOf(id, c.spec.partitions());
    PartitionIndex index = c.partitions[p];
    if (index == null) {
      throw new QuiverException(ErrorCode.STALE_EPOCH, "partition " + p + " of collection '" + c.spec.name()
          + "' is not on shard " + options.shardId());
    }
    return index.get(id);
  }

  /** Points matching {@code filter} (null = all) over the owned partitions. */
  public long count(long uid, Filter filter) {
    CollectionState c = collection(uid);
    long n = 0;
    for (PartitionIndex index : c.ownedIndexes()) {
      n += filter == null ? index.size() : index.count(filter);
    }
    return n;
  }

  /** Up to {@code limit} ids ascending (unsigned) after {@code afterId} when {@code hasAfter}. */
  public long[] idsAfter(long uid, long afterId, boolean hasAfter, int limit) {
    CollectionState c = collection(uid);
    List<long[]> pages = new ArrayList<>(c.partitions.length);
    int total = 0;
    for (PartitionIndex index : c.ownedIndexes()) {
      long[] page = index.idsAfter(afterId, hasAfter, limit);
      pages.add(page);
      total += page.length;
    }
    // Sort unsigned by flipping the sign bit, sorting signed, and flipping back.
    long[] all = new long[total];
    int at = 0;
    for (long[] page : pages) {
      for (long id : page) {
        all[at++] = id ^ Long.MIN_VALUE;
      }
    }
    Arrays.sort(all);
    long[] out = new long[Math.min(limit, total)];
    for (int i = 0; i < out.length; i++) {
      out[i] = all[i] ^ Long.MIN_VALUE;
    }
    return out;
  }

  /**
   * The best {@code k} points for each query over the owned partitions. One result per query, best first,
   * ties by id; its mode is ANN when any partition used the graph.
   *
   * <p>While fewer searches run than the search pool has threads, the partitions are searched in parallel
   * on the pool, one task each (low latency when the shard is idle). Otherwise the whole search is one task
   * on the pool that goes over the partitions one after the other: the pool's threads are already busy, and
   * splitting would only add a hand-off per partition while the pool still bounds how many searches share
   * the cores.
   */
  public List<SearchResult> search(long uid, float[][] queries, int k, Metric metric, SearchMode mode, float targetRecall,
      Filter filter, boolean includePayload) {
    CollectionState c = collection(uid);
    for (float[] q : queries) {
      if (q.length != c.spec.dimension()) {
        throw QuiverException.invalid("query has dimension " + q.length + " but collection '" + c.spec.name()
            + "' has dimension " + c.spec.dimension());
      }
      for (int i = 0; i < q.length; i++) {
        if (!Float.isFinite(q[i])) {
          throw QuiverException.invalid("query[" + i + "] is not a finite number");
        }
      }
    }
    Metric m = metric == null ? c.spec.metric() : metric;
    List<PartitionIndex> indexes = c.ownedIndexes();
    List<List<SearchResult>> answers = new ArrayList<>(indexes.size());
    int running = searchesRunning.incrementAndGet();
    try {
      if (indexes.size() > 1 && running < fanOutBelow) {
        List<CompletableFuture<List<SearchResult>>> parts = new ArrayList<>(indexes.size());
        for (PartitionIndex index : indexes) {
          parts.add(CompletableFuture.supplyAsync(
              () -> index.searchBatch(queries, k, m, mode, targetRecall, filter, includePayload), searchPool));
        }
        for (CompletableFuture<List<SearchResult>> part : parts) {
          answers.add(part.join());
        }
      } else {
        answers.addAll(CompletableFuture.supplyAsync(() -> {
          List<List<SearchResult>> all = new ArrayList<>(indexes.size());
          for (PartitionIndex index : indexes) {
            all.add(index.searchBatch(queries, k, m, mode, targetRecall, filter, includePayload));
          }
          return all;
        }, searchPool).join());
      }
    } finally {
      searchesRunning.decrementAndGet();
    }
    Comparator<SearchHit> order = hitOrder(m);
    List<SearchResult> out = new ArrayList<>(queries.length);
    for (int q = 0; q < queries.length; q++) {
      List<SearchHit> hits = new ArrayList<>();
      SearchMode ran = SearchMode.EXACT;
      for (List<SearchResult> a : answers) {
        SearchResult r = a.get(q);
        hits.addAll(r.hits());
        if (r.mode() == SearchMode.ANN) {
          ran = SearchMode.ANN;
        }
      }
      hits.sort(order);
      out.add(new SearchResult(ran, m, hits.size() > k ? new ArrayList<>(hits.subList(0, k)) : hits));
    }
    return out;
  }

  static Comparator<SearchHit> hitOrder(Metric metric) {
    Comparator<SearchHit> byScore = Comparator.comparingDouble(SearchHit::score);
    if (metric.higherIsBetter()) {
      byScore = byScore.reversed();
    }
    return byScore.thenComparing(SearchHit::id, Long::compareUnsigned);
  }

  /** Points held, over every collection. */
  public long pointCount() {
    long n = 0;
    for (CollectionState c : collections.values()) {
      for (PartitionIndex index : c.ownedIndexes()) {
        n += index.size();
      }
    }
    return n;
  }

  /**
   * Points stored but not yet in their partition's ANN graph, over every collection (found by exact
   * scans until then). Grows during an ingest (the graph yields to writes up to
   * {@link EngineOptions#graphMaxLagPoints()} per partition) and falls to 0 once the graphs caught up.
   */
  public long annPendingPoints() {
    long n = 0;
    for (CollectionState c : collections.values()) {
      for (PartitionIndex index : c.ownedIndexes()) {
        n += index.annPendingPoints();
      }
    }
    return n;
  }

  /** Partitions owned, over every collection. */
  public int partitionCount() {
    return collections.values().stream().mapToInt(c -> c.ownedPartitions().length).sum();
  }

  // ---------------------------------------------------------------- checks

  private CollectionState collection(long uid) {
    CollectionState c = collections.get(uid);
    if (c == null) {
      throw QuiverException.notFound("collection " + uid + " is not on shard " + options.shardId());
    }
    return c;
  }

  private static void checkVector(CollectionSpec spec, float[] v) {
    if (v.length != spec.dimension()) {
      throw QuiverException.invalid("values has dimension " + v.length + " but collection '" + spec.name()
          + "' has dimension " + spec.dimension());
    }
    if (spec.strictFinite()) {
      for (int i = 0; i < v.length; i++) {
        if (!Float.isFinite(v[i])) {
          throw QuiverException.invalid("values[" + i + "] is not a finite number");
        }
      }
    }
  }

  /**
   * The partition of each id, after checking that this shard owns it at the epoch the caller saw:
   * a write routed with a stale table must never be applied by a shard that no longer owns it.
   */
  private int[] partitionsOf(CollectionState c, long[] ids, Map<Integer, Long> epochs) {
    int[] partitions = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      int p = Partitioning.partitionOf(ids[i], c.spec.partitions());
      partitions[i] = p;
      Long seen = epochs.get(p);
      if (c.partitions[p] == null) {
        throw new QuiverException(ErrorCode.STALE_EPOCH, "shard " + options.shardId() + " does not own partition " + p
            + " of collection '" + c.spec.name() + "'");
      }
      if (c.sealed[p]) {
        throw new QuiverException(ErrorCode.STALE_EPOCH, "partition " + p + " of collection '" + c.spec.name()
            + "' is moving away from shard " + options.shardId());
      }
      if (seen == null || seen != c.epochs[p]) {
        throw new QuiverException(ErrorCode.STALE_EPOCH, "partition " + p + " of collection '" + c.spec.name()
            + "' is at epoch " + c.epochs[p] + " on shard " + options.shardId() + " but the write carried " + seen);
      }
    }
    return partitions;
  }
}
