package io.quiver.gateway;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.quiver.cluster.ClusterView;
import io.quiver.cluster.CollectionInfo;
import io.quiver.cluster.PartitionTable;
import io.quiver.cluster.Partitioning;
import io.quiver.common.ErrorCode;
import io.quiver.common.PackedFloats;
import io.quiver.common.QuiverException;
import io.quiver.proto.internal.CollectionRef;
import io.quiver.proto.internal.CollectionSpec;
import io.quiver.proto.internal.CountRequest;
import io.quiver.proto.internal.CountResponse;
import io.quiver.proto.internal.CreateCollectionRequest;
import io.quiver.proto.internal.DeleteRequest;
import io.quiver.proto.internal.DeleteResponse;
import io.quiver.proto.internal.DropCollectionRequest;
import io.quiver.proto.internal.GetRequest;
import io.quiver.proto.internal.GetResponse;
import io.quiver.proto.internal.ListIdsRequest;
import io.quiver.proto.internal.ListIdsResponse;
import io.quiver.proto.internal.PartitionEpoch;
import io.quiver.proto.internal.QueryHits;
import io.quiver.proto.internal.SearchResponse;
import io.quiver.proto.internal.ShardServiceGrpcClient;
import io.quiver.proto.internal.UpdatePayloadRequest;
import io.quiver.proto.internal.UpdatePayloadResponse;
import io.quiver.proto.internal.UpsertRequest;
import io.quiver.proto.internal.UpsertResponse;
import io.quiver.proto.v1.Filter;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The gateway's operations, independent of the protocol that asked for them: REST ({@link RestApi})
 * and gRPC ({@link GrpcApi}) parse their input into the records below, call one method here, and
 * render the result. Here: collection lookup per tenant, validation against the collection,
 * routing of writes to the owning shard (one call per shard, in parallel), fan-out of reads to every
 * owning shard and merging. Never blocks; thread-safe.
 */
public final class GatewayService {
  private static final Pattern COLLECTION_NAME = Pattern.compile("[A-Za-z0-9_.\\-]{1,128}");
  public static final int DEFAULT_LIST_LIMIT = 100;
  public static final int DEFAULT_TOP_K = 10;
  public static final float DEFAULT_TARGET_RECALL = 0.95f;

  /** A collection as the API shows it. */
  public record CollectionStats(CollectionInfo info, long pointCount) {}

  /** One point to upsert; {@code payload} is a JSON object's UTF-8 bytes or null. */
  public record PointWrite(long id, float[] values, byte[] payload) {}

  public record UpsertOutcome(long created, long updated, long[] ids, boolean[] createdFlags) {}

  /**
   * A point as its shard sent it: the vector still packed (little-endian f32, as on the wire) and
   * the payload's JSON bytes (empty: none), so REST can write them out without unpacking or copying.
   */
  public record PointRead(long id, ByteString packedValues, ByteString payloadJson) {
    public float[] values() {
      return PackedFloats.unpack(packedValues);
    }

    /** The payload's UTF-8 JSON, or null when the point has none. */
    public byte[] payload() {
      return payloadJson.isEmpty() ? null : payloadJson.toByteArray();
    }
  }

  public record IdPage(long[] ids, long total, Long nextOffset, Long nextAfterId) {}

  /** What a search asks for, after defaults; {@code metric} and {@code mode} already valid. */
  public record SearchSpec(
      String metric, String mode, float targetRecall, boolean includePayload, Filter filter, int limit,
      boolean allowPartial) {}

  public record QueryResult(String mode, List<TopKMerger.Hit> hits) {}

  public record SearchOutcome(String metric, List<QueryResult> results, boolean partial, List<Integer> failedShards) {}

  /** One registered shard as operators see it; {@code breaker} is this gateway's breaker state for it. */
  public record ShardStatus(int id, String address, String state, boolean live, int partitions, String breaker,
      boolean draining) {}

  /** The cluster as this gateway sees it. Holds no collection names: every tenant's operator may read it. */
  public record ClusterStatus(int members, long tableVersion, List<ShardStatus> shards,
      List<io.quiver.cluster.PartitionMove> moves) {}

  /** Pause between attempts when a shard says a partition moved (the table flips within milliseconds). */
  static final long STALE_RETRY_MILLIS = 20;
  /** How long a failed create waits for the coordinator to take the collection out of the table. */
  private static final java.time.Duration ROLLBACK_TIMEOUT = java.time.Duration.ofSeconds(5);

  private final io.vertx.core.Vertx vertx;
  private final ClusterView view;
  private final ShardClients shards;
  private final GatewayOptions options;
  private final ReadOnlyToggle readOnly;

  public GatewayService(io.vertx.core.Vertx vertx, ClusterView view, ShardClients shards, GatewayOptions options) {
    this.vertx = vertx;
    this.view = view;
    this.shards = shards;
    this.options = options;
    this.readOnly = new ReadOnlyToggle(view, shards);
  }

  public GatewayOptions options() {
    return options;
  }

  /** The operator read-only mode: its state, and the toggle that pushes a change to every shard. */
  public ReadOnlyToggle readOnly() {
    return readOnly;
  }

  // ---------------------------------------------------------------- collections

  public Future<CollectionStats> createCollection(
      Caller caller, String name, int dimension, boolean strictFinite, String metric, int partitions) {
    if (name == null || !COLLECTION_NAME.matcher(name).matches()) {
      return failed(QuiverException.invalid("name must be 1-128 characters of letters, digits, '_', '-' or '.'"));
    }
    if (dimension < 1 || dimension > options.maxDimension()) {
      return failed(QuiverException.invalid("dimension must be between 1 and " + options.maxDimension()));
    }
    if (partitions < 1 || partitions > Partitioning.MAX_PARTITIONS) {
      return failed(QuiverException.invalid("partitions must be between 1 and " + Partitioning.MAX_PARTITIONS));
    }
    String m = SearchParams.parse(metric == null ? SearchParams.DEFAULT : metric, "metric");
    return view.createCollection(caller.tenant(), name, dimension, m, strictFinite, partitions, untilDeadline(caller))
        .compose(info -> {
          PartitionTable.Assignment a = view.table().assignment(info.uid());
          List<Future<?>> legs = new ArrayList<>();
          for (int shard : a.shards()) {
            CreateCollectionRequest.Builder req = CreateCollectionRequest.newBuilder().setSpec(spec(info));
            for (int p : a.partitionsOf(shard)) {
              req.addOwned(PartitionEpoch.newBuilder().setPartition(p).setEpoch(a.epochOf(p)));
            }
            legs.add(shards.call(shard, ShardServiceGrpcClient.CreateCollection, req.build(), caller));
          }
          return Future.join(legs).map(new CollectionStats(info, 0))
              // Take it back everywhere (catalog, then table through the coordinator, then shards) so a retry can create it.
              .recover(err -> view.dropCollection(info, ROLLBACK_TIMEOUT)
                  .transform(ignored -> dropEverywhere(caller, info))
                  .transform(ignored -> failed(err)));
        });
  }

  public Future<List<CollectionStats>> listCollections(Caller caller) {
    List<CollectionInfo> infos = view.collections(caller.tenant());
    List<Future<CollectionStats>> stats = infos.stream().map(i -> retryStale(caller, () -> stats(caller, i))).toList();
    return Future.all(stats).map(cf -> stats.stream().map(Future::result).toList());
  }

  public Future<CollectionStats> getCollection(Caller caller, String name) {
    return retryStale(caller, () -> collection(caller, name).compose(info -> stats(caller, info)));
  }

  public Future<Boolean> deleteCollection(Caller caller, String name) {
    return collection(caller, name).compose(info -> view.dropCollection(info, untilDeadline(caller))
        .compose(removed -> dropEverywhere(caller, info).map(removed)));
  }

  /** The time left before the caller's deadline: how long to wait for the coordinator. */
  private static java.time.Duration untilDeadline(Caller caller) {
    return java.time.Duration.ofNanos(Math.max(0, caller.deadlineNanos() - System.nanoTime()));
  }

  private Future<CollectionStats> stats(Caller caller, CollectionInfo info) {
    return count(caller, info, null).map(n -> new CollectionStats(info, n));
  }

  private Future<Void> dropEverywhere(Caller caller, CollectionInfo info) {
    DropCollectionRequest req = DropCollectionRequest.newBuilder().setCollection(ref(info)).build();
    List<Future<?>> legs = new ArrayList<>();
    for (int shard : view.liveShards().keySet()) {
      legs.add(shards.call(shard, ShardServiceGrpcClient.DropCollection, req, caller));
    }
    return Future.join(legs).mapEmpty();
  }

  // ---------------------------------------------------------------- points

  public Future<UpsertOutcome> upsert(Caller caller, String name, List<PointWrite> points) {
    if (points.isEmpty()) {
      return failed(QuiverException.invalid("points must not be empty"));
    }
    if (points.size() > options.maxBatchPoints()) {
      return failed(QuiverException.invalid("a batch holds at most " + options.maxBatchPoints() + " points"));
    }
    return retryStale(caller, () -> collection(caller, name).compose(info -> {
      for (PointWrite p : points) {
        Validation.checkVector(p.values(), info.dimension(), info.strictFinite(), "values");
      }
      PartitionTable.Assignment a = assignment(info);
      // Group by owning shard, keeping each point's position in the request.
      Map<Integer, List<Integer>> byShard = new TreeMap<>();
      for (int i = 0; i < points.size(); i++) {
        int p = Partitioning.partitionOf(points.get(i).id(), info.partitions());
        byShard.computeIfAbsent(ownerOf(info, a, p), s -> new ArrayList<>()).add(i);
      }
      List<Integer> shardOrder = new ArrayList<>(byShard.keySet());
      List<Future<UpsertResponse>> legs = new ArrayList<>();
      for (int shard : shardOrder) {
        List<Integer> positions = byShard.get(shard);
        UpsertRequest.Builder req = UpsertRequest.newBuilder().setCollection(ref(info));
        List<float[]> rows = new ArrayList<>(positions.size());
        TreeSet<Integer> touched = new TreeSet<>();
        for (int i : positions) {
          PointWrite pw = points.get(i);
          req.addIds(pw.id());
          rows.add(pw.values());
          // The payload bytes were made for this write (JSON encoding) and are never written again.
          req.addPayloads(pw.payload() == null ? ByteString.EMPTY : UnsafeByteOperations.unsafeWrap(pw.payload()));
          touched.add(Partitioning.partitionOf(pw.id(), info.partitions()));
        }
        req.setVectors(PackedFloats.packRows(rows, rows.size(), info.dimension()));
        touched.forEach(p -> req.addEpochs(PartitionEpoch.newBuilder().setPartition(p).setEpoch(a.epochOf(p))));
        legs.add(shards.call(shard, ShardServiceGrpcClient.Upsert, req.build(), caller));
      }
      return Future.join(legs).transform(ignored -> {
        long[] ids = new long[points.size()];
        boolean[] created = new boolean[points.size()];
        long nCreated = 0;
        for (int s = 0; s < shardOrder.size(); s++) {
          Future<UpsertResponse> leg = legs.get(s);
          List<Integer> positions = byShard.get(shardOrder.get(s));
          if (leg.failed()) {
            return failed(partialWriteFailure(shardOrder.get(s), positions, points, leg.cause()));
          }
          for (int j = 0; j < positions.size(); j++) {
            created[positions.get(j)] = leg.result().getCreated(j);
          }
        }
        for (int i = 0; i < points.size(); i++) {
          ids[i] = points.get(i).id();
          nCreated += created[i] ? 1 : 0;
        }
        return Future.succeededFuture(new UpsertOutcome(nCreated, points.size() - nCreated, ids, created));
      });
    }));
  }

  private static QuiverException partialWriteFailure(int shard, List<Integer> positions, List<PointWrite> points, Throwable cause) {
    QuiverException q = cause instanceof QuiverException e ? e : new QuiverException(ErrorCode.INTERNAL, String.valueOf(cause));
    StringBuilder ids = new StringBuilder();
    for (int i = 0; i < positions.size() && i < 20; i++) {
      ids.append(i == 0 ? "" : ",").append(Long.toUnsignedString(points.get(positions.get(i)).id()));
    }
    if (positions.size() > 20) {
      ids.append(",... (").append(positions.size()).append(" ids)");
    }
    return new QuiverException(q.code(), q.getMessage() + " (shard " + shard + ", ids not written: [" + ids
        + "]; retrying the batch is safe)");
  }

  public Future<PointRead> getPoint(Caller caller, String name, long id) {
    return retryStale(caller, () -> collection(caller, name).compose(info -> {
      int p = Partitioning.partitionOf(id, info.partitions());
      GetRequest req = GetRequest.newBuilder().setCollection(ref(info)).setId(id).build();
      return shards.call(ownerOf(info, assignment(info), p), ShardServiceGrpcClient.Get, req, caller)
          .compose((GetResponse r) -> r.getFound()
              ? Future.succeededFuture(new PointRead(id, r.getVector(), r.getPayload()))
              : failed(QuiverException.notFound("point " + Long.toUnsignedString(id) + " not found")));
    }));
  }

  public Future<Boolean> deletePoint(Caller caller, String name, long id) {
    return retryStale(caller, () -> collection(caller, name).compose(info -> {
      PartitionTable.Assignment a = assignment(info);
      int p = Partitioning.partitionOf(id, info.partitions());
      DeleteRequest req = DeleteRequest.newBuilder().setCollection(ref(info)).addIds(id)
          .addEpochs(PartitionEpoch.newBuilder().setPartition(p).setEpoch(a.epochOf(p))).build();
      return shards.call(ownerOf(info, a, p), ShardServiceGrpcClient.Delete, req, caller)
          .map((DeleteResponse r) -> r.getDeleted(0));
    }));
  }

  /** Payload set ({@code set} non-null) or key removal ({@code deleteKeys} non-empty) on the given ids. */
  public Future<Long> updatePayload(Caller caller, String name, long[] ids, byte[] set, List<String> deleteKeys) {
    if (ids.length == 0) {
      return failed(QuiverException.invalid("points must not be empty"));
    }
    if (ids.length > options.maxBatchPoints()) {
      return failed(QuiverException.invalid("points holds at most " + options.maxBatchPoints() + " ids"));
    }
    return retryStale(caller, () -> collection(caller, name).compose(info -> {
      PartitionTable.Assignment a = assignment(info);
      Map<Integer, List<Long>> byShard = new TreeMap<>();
      for (long id : ids) {
        byShard.computeIfAbsent(ownerOf(info, a, Partitioning.partitionOf(id, info.partitions())), s -> new ArrayList<>()).add(id);
      }
      List<Future<UpdatePayloadResponse>> legs = new ArrayList<>();
      byShard.forEach((shard, shardIds) -> {
        UpdatePayloadRequest.Builder req = UpdatePayloadRequest.newBuilder().setCollection(ref(info)).addAllIds(shardIds)
            .addAllDeleteKeys(deleteKeys);
        if (set != null) {
          req.setSet(ByteString.copyFrom(set));
        }
        shardIds.stream().map(id -> Partitioning.partitionOf(id, info.partitions())).distinct().sorted()
            .forEach(p -> req.addEpochs(PartitionEpoch.newBuilder().setPartition(p).setEpoch(a.epochOf(p))));
        legs.add(shards.call(shard, ShardServiceGrpcClient.UpdatePayload, req.build(), caller));
      });
      return Future.all(legs).map(cf -> legs.stream().mapToLong(f -> f.result().getUpdated()).sum());
    }));
  }

  /**
   * A page of ids, ascending (unsigned) across all shards. {@code afterId} (exclusive cursor) and
   * {@code offset} may be combined: the offset counts from the cursor.
   */
  public Future<IdPage> listPoints(Caller caller, String name, long offset, int limit, Long afterId) {
    if (limit < 1 || limit > options.maxPageSize()) {
      return failed(QuiverException.invalid("limit must be between 1 and " + options.maxPageSize()));
    }
    if (offset < 0 || offset > options.maxOffset()) {
      return failed(QuiverException.invalid("offset must be between 0 and " + options.maxOffset()
          + "; page deeper with after_id"));
    }
    return retryStale(caller, () -> collection(caller, name).compose(info -> {
      int want = (int) Math.min(Integer.MAX_VALUE, offset + limit + 1);
      ListIdsRequest.Builder req = ListIdsRequest.newBuilder().setCollection(ref(info)).setLimit(want);
      if (afterId != null) {
        req.setAfterId(afterId);
      }
      List<Future<ListIdsResponse>> legs = fanOut(info, (shard, partitions) -> shards.call(shard,
          ShardServiceGrpcClient.ListIds, req.clone().addAllPartitions(partitions).build(), caller));
      return Future.all(legs).map(cf -> {
        long total = 0;
        List<Long> merged = new ArrayList<>();
        for (Future<ListIdsResponse> f : legs) {
          total += f.result().getTotal();
          merged.addAll(f.result().getIdsList());
        }
        merged.sort(Long::compareUnsigned);
        int from = (int) Math.min(offset, merged.size());
        int to = (int) Math.min(offset + limit, merged.size());
        long[] page = merged.subList(from, to).stream().mapToLong(Long::longValue).toArray();
        boolean more = merged.size() > offset + limit;
        return new IdPage(page, total,
            more ? offset + page.length : null,
            more && page.length > 0 ? page[page.length - 1] : null);
      });
    }));
  }

  public Future<Long> countPoints(Caller caller, String name, Filter filter) {
    return retryStale(caller, () -> collection(caller, name).compose(info -> count(caller, info, filter)));
  }

  private Future<Long> count(Caller caller, CollectionInfo info, Filter filter) {
    CountRequest.Builder req = CountRequest.newBuilder().setCollection(ref(info));
    if (filter != null) {
      req.setFilter(filter);
    }
    List<Future<CountResponse>> legs = fanOut(info, (shard, partitions) -> shards.call(shard,
        ShardServiceGrpcClient.Count, req.clone().addAllPartitions(partitions).build(), caller));
    return Future.all(legs).map(cf -> legs.stream().mapToLong(f -> f.result().getCount()).sum());
  }

  // ---------------------------------------------------------------- search

  /**
   * Runs {@code queries} against every shard owning a partition of the collection and merges the
   * per-shard top-k. A failed shard fails the search unless {@code spec.allowPartial()}.
   */
  public Future<SearchOutcome> search(Caller caller, String name, float[][] queries, SearchSpec spec) {
    if (queries.length == 0) {
      return failed(QuiverException.invalid("queries must not be empty"));
    }
    if (queries.length > options.maxBatchQueries()) {
      return failed(QuiverException.invalid("a batch holds at most " + options.maxBatchQueries() + " queries"));
    }
    if (spec.limit() < 1 || spec.limit() > options.maxTopK()) {
      return failed(QuiverException.invalid("limit must be between 1 and " + options.maxTopK()));
    }
    return retryStale(caller, () -> collection(caller, name).compose(info -> {
      for (float[] q : queries) {
        Validation.checkVector(q, info.dimension(), true, "query");
      }
      String metric = spec.metric() == null ? info.metric() : spec.metric();
      io.quiver.proto.internal.SearchRequest.Builder req = io.quiver.proto.internal.SearchRequest.newBuilder()
          .setCollection(ref(info))
          .setQueries(PackedFloats.packRows(Arrays.asList(queries), queries.length, info.dimension()))
          .setQueryCount(queries.length)
          .setLimit(spec.limit())
          .setMetric(metric)
          .setMode(spec.mode())
          .setTargetRecall(spec.targetRecall())
          .setIncludePayload(spec.includePayload());
      if (spec.filter() != null) {
        req.setFilter(spec.filter());
      }
      PartitionTable.Assignment assignment = assignment(info);
      boolean unowned = assignment.firstUnowned() >= 0;
      if (unowned && !spec.allowPartial()) {
        throw unowned(info, assignment.firstUnowned());
      }
      int[] owners = assignment.shards();
      List<Future<SearchResponse>> legs = new ArrayList<>();
      for (int shard : owners) {
        legs.add(shards.call(shard, ShardServiceGrpcClient.Search,
            req.clone().addAllPartitions(partitionList(assignment, shard)).build(), caller));
      }
      return Future.join(legs).transform(ignored -> {
        List<Integer> failedShards = new ArrayList<>();
        List<SearchResponse> answers = new ArrayList<>();
        Throwable firstError = null;
        for (int i = 0; i < legs.size(); i++) {
          if (legs.get(i).succeeded()) {
            answers.add(legs.get(i).result());
          } else {
            failedShards.add(owners[i]);
            firstError = firstError == null ? legs.get(i).cause() : firstError;
          }
        }
        if (answers.isEmpty() && firstError == null) {
          return failed(unowned(info, assignment.firstUnowned()));
        }
        if (firstError != null && (!spec.allowPartial() || answers.isEmpty() || !isShardFailure(firstError))) {
          return failed(firstError);
        }
        boolean higherIsBetter = SearchParams.higherIsBetter(metric);
        List<QueryResult> results = new ArrayList<>(queries.length);
        for (int q = 0; q < queries.length; q++) {
          List<List<TopKMerger.Hit>> perShard = new ArrayList<>();
          String mode = null;
          for (SearchResponse r : answers) {
            QueryHits h = r.getResults(q);
            mode = SearchParams.combineModes(mode, h.getMode());
            List<TopKMerger.Hit> hits = new ArrayList<>(h.getIdsCount());
            for (int j = 0; j < h.getIdsCount(); j++) {
              byte[] payload = j < h.getPayloadsCount() && !h.getPayloads(j).isEmpty() ? h.getPayloads(j).toByteArray() : null;
              hits.add(new TopKMerger.Hit(h.getIds(j), h.getValues(j), payload));
            }
            perShard.add(hits);
          }
          results.add(new QueryResult(SearchParams.displayMode(mode == null ? "exact" : mode, spec.mode()),
              TopKMerger.merge(perShard, spec.limit(), higherIsBetter)));
        }
        return Future.succeededFuture(new SearchOutcome(metric, results, unowned || !failedShards.isEmpty(), failedShards));
      });
    }));
  }

  private static boolean isShardFailure(Throwable t) {
    return t instanceof QuiverException q
        && (q.code() == ErrorCode.SHARD_UNAVAILABLE || q.code() == ErrorCode.TIMEOUT || q.code() == ErrorCode.STORAGE_UNAVAILABLE);
  }

  // ---------------------------------------------------------------- operators

  /** Shards, their partition counts and states, and the partition moves in progress. */
  public Future<ClusterStatus> clusterStatus() {
    PartitionTable table = view.table();
    Map<Integer, Integer> owned = new TreeMap<>();
    for (PartitionTable.Assignment a : table.assignments().values()) {
      for (int p = 0; p < a.owners().length; p++) {
        owned.merge(a.ownerOf(p), 1, Integer::sum);
      }
    }
    // Local snapshots only (registeredShards() would be a Hazelcast call on the event loop): a shard
    // that owns partitions but is not live shows as "down".
    Map<Integer, io.quiver.cluster.ShardInfo> live = view.liveShards();
    TreeSet<Integer> ids = new TreeSet<>(live.keySet());
    ids.addAll(owned.keySet());
    List<ShardStatus> out = new ArrayList<>();
    for (int id : ids) {
      io.quiver.cluster.ShardInfo s = live.get(id);
      out.add(new ShardStatus(id, s == null ? "" : s.grpcAddress(), s == null ? "down" : s.state(), s != null,
          owned.getOrDefault(id, 0), shards.breakers().state(id).name().toLowerCase(java.util.Locale.ROOT),
          view.drainingShards().contains(id)));
    }
    return view.moves().map(moves -> new ClusterStatus(view.memberCount(), table.version(), out, moves));
  }

  /** Where a collection's partitions live: its uid and, per partition, the owner and ownership epoch. */
  public Future<PartitionTable.Assignment> partitions(Caller caller, String name) {
    return collection(caller, name).map(this::assignment);
  }

  /**
   * Starts (or cancels) draining a shard: the coordinator moves all its partitions to the other
   * shards and gives it no new ones. Returns the partitions it still owns.
   */
  public Future<Integer> drain(int shardId, boolean on) {
    if (on && !view.liveShards().containsKey(shardId)) {
      return failed(QuiverException.notFound("shard " + shardId + " is not live"));
    }
    if (on && view.liveShards().keySet().stream().noneMatch(id -> id != shardId && !view.drainingShards().contains(id))) {
      return failed(QuiverException.invalid("shard " + shardId + " is the last shard that is not draining: "
          + "its partitions would have nowhere to go"));
    }
    return view.setDraining(shardId, on).map(v -> {
      int owned = 0;
      for (PartitionTable.Assignment a : view.table().assignments().values()) {
        owned += a.partitionsOf(shardId).length;
      }
      return owned;
    });
  }

  // ---------------------------------------------------------------- helpers

  /**
   * The caller's collection, or {@code not_found}, also for another tenant's collection. The message
   * does not repeat the name, so an error body is the same whether the name is free or another
   * tenant's, and never carries another tenant's collection name.
   */
  private Future<CollectionInfo> collection(Caller caller, String name) {
    CollectionInfo info = view.collection(caller.tenant(), name);
    return info == null ? failed(QuiverException.notFound("collection not found")) : Future.succeededFuture(info);
  }

  /** The owner of {@code partition}, or {@code shard_unavailable} when no shard has claimed it yet. */
  private static int ownerOf(CollectionInfo info, PartitionTable.Assignment a, int partition) {
    int owner = a.ownerOf(partition);
    if (owner == PartitionTable.Assignment.UNKNOWN_OWNER) {
      throw unowned(info, partition);
    }
    return owner;
  }

  private PartitionTable.Assignment assignment(CollectionInfo info) {
    PartitionTable.Assignment a = view.table().assignment(info.uid());
    if (a == null) {
      throw new QuiverException(ErrorCode.SHARD_UNAVAILABLE, "the partition table does not know collection '" + info.name() + "' yet");
    }
    return a;
  }

  /** One call per owning shard, told which partitions the table says it owns (it refuses if it moved). */
  private <T> List<Future<T>> fanOut(CollectionInfo info, java.util.function.BiFunction<Integer, List<Integer>, Future<T>> call) {
    PartitionTable.Assignment a = assignment(info);
    if (a.firstUnowned() >= 0) {
      throw unowned(info, a.firstUnowned());
    }
    List<Future<T>> legs = new ArrayList<>();
    for (int shard : a.shards()) {
      legs.add(call.apply(shard, partitionList(a, shard)));
    }
    return legs;
  }

  private static List<Integer> partitionList(PartitionTable.Assignment a, int shard) {
    return Arrays.stream(a.partitionsOf(shard)).boxed().toList();
  }

  /**
   * Runs {@code op} again, with the partition table as it is then, while a shard answers that a
   * partition moved ({@code stale_epoch}: it was sealed for a move, or the caller's table was older
   * than the shard's) and the deadline allows. Safe for writes because upserts, deletes and payload
   * changes are idempotent. A move that outlasts the deadline answers {@code shard_unavailable}.
   */
  private <T> Future<T> retryStale(Caller caller, java.util.function.Supplier<Future<T>> op) {
    Future<T> attempt;
    try {
      attempt = op.get();
    } catch (RuntimeException e) {
      attempt = Future.failedFuture(e);
    }
    return attempt.recover(err -> {
      if (!(err instanceof QuiverException q) || q.code() != ErrorCode.STALE_EPOCH) {
        return Future.failedFuture(err);
      }
      if ((caller.deadlineNanos() - System.nanoTime()) / 1_000_000 <= STALE_RETRY_MILLIS * 2) {
        return Future.failedFuture(new QuiverException(ErrorCode.SHARD_UNAVAILABLE,
            q.getMessage() + "; the partition is moving between shards, retry shortly"));
      }
      io.vertx.core.Promise<T> next = io.vertx.core.Promise.promise();
      vertx.setTimer(STALE_RETRY_MILLIS, id -> retryStale(caller, op).onComplete(next));
      return next.future();
    });
  }

  private static QuiverException unowned(CollectionInfo info, int partition) {
    return new QuiverException(ErrorCode.SHARD_UNAVAILABLE, "partition " + partition + " of collection '" + info.name()
        + "' has no known owner: its shard has not rejoined the cluster since it restarted");
  }

  static CollectionRef ref(CollectionInfo info) {
    return CollectionRef.newBuilder().setTenant(info.tenant()).setName(info.name()).setUid(info.uid()).build();
  }

  static CollectionSpec spec(CollectionInfo info) {
    return CollectionSpec.newBuilder().setRef(ref(info)).setDimension(info.dimension()).setStrictFinite(info.strictFinite())
        .setMetric(info.metric()).setPartitions(info.partitions()).build();
  }

  private static <T> Future<T> failed(Throwable t) {
    return Future.failedFuture(t);
  }
}
