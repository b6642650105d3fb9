package io.quiver.shard.engine;

import io.quiver.cluster.Partitioning;
import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.quiver.shard.index.Metric;
import io.quiver.shard.index.PartitionIndex;
import io.quiver.shard.index.SearchHit;
import io.quiver.shard.index.SearchMode;
import io.quiver.shard.index.SearchResult;
import io.quiver.shard.index.StoredPoint;
import io.quiver.shard.index.payload.Filter;
import io.quiver.shard.index.payload.Payload;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;

/**
 * The state machine of one shard: the collections it knows and, for each, the partitions it owns
 * (a {@link PartitionIndex} each) with their ownership epochs. It validates every write against the
 * collection and the epoch the caller saw, applies it, and answers reads; searches run over the
 * owned partitions in parallel on {@code searchPool}.
 *
 * <p>No Vert.x or Hazelcast here: the shard verticle calls it from a worker pool. Thread-safe:
 * writes to one partition are serialised by that partition's lock; reads run concurrently.
 */
public final class ShardEngine {
  /** One collection on this shard. {@code partitions[p]} is null when p is owned elsewhere. */
  static final class CollectionState {
    final CollectionSpec spec;
    final PartitionIndex[] partitions;
    final long[] epochs;

    CollectionState(CollectionSpec spec) {
      this.spec = spec;
      this.partitions = new PartitionIndex[spec.partitions()];
      this.epochs = new long[spec.partitions()];
    }

    int[] ownedPartitions() {
      List<Integer> owned = new ArrayList<>();
      for (int p = 0; p < partitions.length; p++) {
        if (partitions[p] != null) {
          owned.add(p);
        }
      }
      return owned.stream().mapToInt(Integer::intValue).toArray();
    }
  }

  /** Result of a write: a flag per id (created / deleted / updated) in request order. */
  public record WriteResult(boolean[] flags) {
    public int count() {
      int n = 0;
      for (boolean f : flags) {
        n += f ? 1 : 0;
      }
      return n;
    }
  }

  private final int shardId;
  private final ExecutorService searchPool;
  private final Executor indexer;
  private final Map<Long, CollectionState> collections = new ConcurrentHashMap<>();

  /**
   * @param searchPool runs the per-partition legs of a search
   * @param indexer    builds ANN graphs in the background (null: exact search only)
   */
  public ShardEngine(int shardId, ExecutorService searchPool, Executor indexer) {
    this.shardId = shardId;
    this.searchPool = searchPool;
    this.indexer = indexer;
  }

  public int shardId() {
    return shardId;
  }

  // ---------------------------------------------------------------- collections

  /**
   * Creates the collection here (idempotent) and takes ownership of {@code owned} partitions at the
   * given epochs. Returns true when the collection was new on this shard.
   */
  public synchronized boolean createCollection(CollectionSpec spec, Map<Integer, Long> owned) {
    CollectionState existing = collections.get(spec.uid());
    CollectionState state = existing != null ? existing : new CollectionState(spec);
    owned.forEach((p, epoch) -> {
      if (p < 0 || p >= spec.partitions()) {
        throw QuiverException.invalid("partition " + p + " is outside 0.." + (spec.partitions() - 1));
      }
      if (state.partitions[p] == null) {
        state.partitions[p] = new PartitionIndex(spec.dimension(), spec.metric(), indexer);
      }
      state.epochs[p] = Math.max(state.epochs[p], epoch);
    });
    collections.put(spec.uid(), state);
    return existing == null;
  }

  public synchronized boolean dropCollection(long uid) {
    return collections.remove(uid) != null;
  }

  public List<CollectionSpec> collections() {
    return collections.values().stream().map(c -> c.spec).toList();
  }

  // ---------------------------------------------------------------- writes

  /**
   * Upserts points. {@code vectors[i]} and {@code payloads[i]} (null = no payload) belong to
   * {@code ids[i]}; {@code epochs} maps each touched partition to the epoch the caller saw.
   */
  public WriteResult upsert(long uid, long[] ids, float[][] vectors, Payload[] payloads, Map<Integer, Long> epochs) {
    CollectionState c = collection(uid);
    for (int i = 0; i < ids.length; i++) {
      checkVector(c.spec, vectors[i], "values");
    }
    int[] partitions = partitionsOf(c, ids, epochs);
    boolean[] created = new boolean[ids.length];
    for (int i = 0; i < ids.length; i++) {
      PartitionIndex index = c.partitions[partitions[i]];
      created[i] = index.upsert(ids[i], vectors[i], payloads[i] == null ? Payload.EMPTY : payloads[i]);
    }
    return new WriteResult(created);
  }

  public WriteResult delete(long uid, long[] ids, Map<Integer, Long> epochs) {
    CollectionState c = collection(uid);
    int[] partitions = partitionsOf(c, ids, epochs);
    boolean[] deleted = new boolean[ids.length];
    for (int i = 0; i < ids.length; i++) {
      deleted[i] = c.partitions[partitions[i]].delete(ids[i]);
    }
    return new WriteResult(deleted);
  }

  /** Merges {@code set} into, and removes {@code deleteKeys} from, the payload of each existing id. */
  public WriteResult updatePayload(long uid, long[] ids, Payload set, List<String> deleteKeys, Map<Integer, Long> epochs) {
    CollectionState c = collection(uid);
    int[] partitions = partitionsOf(c, ids, epochs);
    boolean[] updated = new boolean[ids.length];
    for (int i = 0; i < ids.length; i++) {
      PartitionIndex index = c.partitions[partitions[i]];
      StoredPoint point = index.get(ids[i]);
      if (point == null) {
        continue;
      }
      Payload next = point.payload() == null ? Payload.EMPTY : point.payload();
      if (set != null) {
        next = next.merge(set);
      }
      if (!deleteKeys.isEmpty()) {
        next = next.withoutKeys(deleteKeys);
      }
      updated[i] = index.updatePayload(ids[i], next);
    }
    return new WriteResult(updated);
  }

  // ---------------------------------------------------------------- reads

  public StoredPoint get(long uid, long id) {
    CollectionState c = collection(uid);
    PartitionIndex index = c.partitions[Partitioning.partitionOf(id, c.spec.partitions())];
    return index == null ? null : index.get(id);
  }

  /** Points matching {@code filter} (null = all) over the owned partitions. */
  public long count(long uid, Filter filter) {
    CollectionState c = collection(uid);
    long n = 0;
    for (int p : c.ownedPartitions()) {
      n += filter == null ? c.partitions[p].size() : c.partitions[p].count(filter);
    }
    return n;
  }

  /** Up to {@code limit} ids ascending (unsigned) after {@code afterId} when {@code hasAfter}. */
  public long[] idsAfter(long uid, long afterId, boolean hasAfter, int limit) {
    CollectionState c = collection(uid);
    long[][] pages = new long[c.partitions.length][];
    int total = 0;
    for (int p : c.ownedPartitions()) {
      pages[p] = c.partitions[p].idsAfter(afterId, hasAfter, limit);
      total += pages[p].length;
    }
    // Sort unsigned by flipping the sign bit, sorting signed, and flipping back.
    long[] all = new long[total];
    int at = 0;
    for (long[] page : pages) {
      if (page != null) {
        for (long id : page) {
          all[at++] = id ^ Long.MIN_VALUE;
        }
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
   * The best {@code k} points for each query over the owned partitions, searched in parallel on the
   * search pool. One result per query, best first, ties by id; its mode is ANN when any partition
   * used the graph.
   */
  public List<SearchResult> search(long uid, float[][] queries, int k, Metric metric, SearchMode mode, float targetRecall,
      Filter filter, boolean includePayload) {
    CollectionState c = collection(uid);
    for (float[] q : queries) {
      checkVector(c.spec, q, "query");
      for (int i = 0; i < q.length; i++) {
        if (!Float.isFinite(q[i])) {
          throw QuiverException.invalid("query[" + i + "] is not a finite number");
        }
      }
    }
    Metric m = metric == null ? c.spec.metric() : metric;
    int[] owned = c.ownedPartitions();
    List<CompletableFuture<List<SearchResult>>> parts = new ArrayList<>(owned.length);
    for (int p : owned) {
      PartitionIndex index = c.partitions[p];
      parts.add(CompletableFuture.supplyAsync(
          () -> index.searchBatch(queries, k, m, mode, targetRecall, filter, includePayload), searchPool));
    }
    Comparator<SearchHit> order = hitOrder(m);
    List<SearchResult> out = new ArrayList<>(queries.length);
    List<List<SearchResult>> answers = parts.stream().map(CompletableFuture::join).toList();
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
      for (int p : c.ownedPartitions()) {
        n += c.partitions[p].size();
      }
    }
    return n;
  }

  /** Partitions owned, over every collection. */
  public int partitionCount() {
    return collections.values().stream().mapToInt(c -> c.ownedPartitions().length).sum();
  }

  /** Bytes held by every partition's structures. */
  public long ramBytesUsed() {
    long n = 0;
    for (CollectionState c : collections.values()) {
      for (int p : c.ownedPartitions()) {
        n += c.partitions[p].ramBytesUsed();
      }
    }
    return n;
  }

  // ---------------------------------------------------------------- checks

  private CollectionState collection(long uid) {
    CollectionState c = collections.get(uid);
    if (c == null) {
      throw QuiverException.notFound("collection " + uid + " is not on shard " + shardId);
    }
    return c;
  }

  private static void checkVector(CollectionSpec spec, float[] v, String field) {
    if (v.length != spec.dimension()) {
      throw QuiverException.invalid(field + " has dimension " + v.length + " but collection '" + spec.name()
          + "' has dimension " + spec.dimension());
    }
    if (spec.strictFinite() && field.equals("values")) {
      for (int i = 0; i < v.length; i++) {
        if (!Float.isFinite(v[i])) {
          throw QuiverException.invalid(field + "[" + i + "] is not a finite number");
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
        throw new QuiverException(ErrorCode.STALE_EPOCH, "shard " + shardId + " does not own partition " + p
            + " of collection '" + c.spec.name() + "'");
      }
      if (seen == null || seen != c.epochs[p]) {
        throw new QuiverException(ErrorCode.STALE_EPOCH, "partition " + p + " of collection '" + c.spec.name()
            + "' is at epoch " + c.epochs[p] + " on shard " + shardId + " but the write carried " + seen);
      }
    }
    return partitions;
  }
}
