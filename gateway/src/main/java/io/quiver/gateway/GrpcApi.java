package io.quiver.gateway;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Internal;
import io.quiver.cluster.Partitioning;
import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.quiver.proto.v1.Collection;
import io.quiver.proto.v1.CountPointsRequest;
import io.quiver.proto.v1.CountPointsResponse;
import io.quiver.proto.v1.CreateCollectionRequest;
import io.quiver.proto.v1.DeleteCollectionRequest;
import io.quiver.proto.v1.DeleteCollectionResponse;
import io.quiver.proto.v1.DeletePayloadRequest;
import io.quiver.proto.v1.DeletePointRequest;
import io.quiver.proto.v1.DeletePointResponse;
import io.quiver.proto.v1.Filter;
import io.quiver.proto.v1.GetCollectionRequest;
import io.quiver.proto.v1.GetPointRequest;
import io.quiver.proto.v1.GetReadOnlyRequest;
import io.quiver.proto.v1.Hit;
import io.quiver.proto.v1.ListCollectionsRequest;
import io.quiver.proto.v1.ListCollectionsResponse;
import io.quiver.proto.v1.ListPointsRequest;
import io.quiver.proto.v1.ListPointsResponse;
import io.quiver.proto.v1.Point;
import io.quiver.proto.v1.Query;
import io.quiver.proto.v1.QuiverGrpcService;
import io.quiver.proto.v1.ReadOnlyState;
import io.quiver.proto.v1.SearchBatchRequest;
import io.quiver.proto.v1.SearchBatchResponse;
import io.quiver.proto.v1.SearchBatchResult;
import io.quiver.proto.v1.SearchRequest;
import io.quiver.proto.v1.SearchTop1Response;
import io.quiver.proto.v1.SearchTopKResponse;
import io.quiver.proto.v1.SetPayloadRequest;
import io.quiver.proto.v1.SetReadOnlyRequest;
import io.quiver.proto.v1.UpdatePayloadResponse;
import io.quiver.proto.v1.UpsertPointRequest;
import io.quiver.proto.v1.UpsertPointResponse;
import io.quiver.proto.v1.UpsertPointsRequest;
import io.quiver.proto.v1.UpsertPointsResponse;
import io.quiver.proto.v1.UpsertResult;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.Service;
import io.vertx.grpc.server.StatusException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public gRPC API {@code quiver.v1.Quiver} (API.md §3): the same {@link GatewayService}
 * operations as {@link RestApi}, behind the same {@link Admission}. Request id ({@code x-request-id})
 * and credentials ({@code x-api-key}, {@code authorization}) come from the call's metadata, the
 * deadline from {@code grpc-timeout} (never later than the gateway's default). Errors are the gRPC
 * status of API.md's table with the error code as the first word of the status message, mapped
 * in {@link #status}, the only place that does so; shed requests also carry a {@code retry-after}
 * trailer.
 *
 * <p>It binds the generated method descriptors of {@link QuiverGrpcService} itself instead of
 * extending the generated {@code QuiverService}: the generated invoker hands a method only the
 * request message, while admission and deadlines need the call's metadata. SetReadOnly waits for
 * the shards' confirmations at most 5 s and never past the call's deadline; a shard that did not
 * confirm is listed in {@code pending_shards} (the call itself succeeds, as REST's 202 does).
 * Runs on the event loop, never blocks; thread-safe.
 */
public final class GrpcApi implements Service {
  private static final Logger LOG = LoggerFactory.getLogger(GrpcApi.class);
  static final String RETRY_AFTER_TRAILER = "retry-after";

  /** One operation: the caller (tenant, request id, deadline) and the decoded request. */
  @FunctionalInterface
  private interface Op<Req, Resp> {
    Future<Resp> apply(Caller caller, Req request);
  }

  private final Vertx vertx;
  private final GatewayService service;
  private final GatewayOptions options;
  private final Admission admission;

  public GrpcApi(Vertx vertx, GatewayService service, Admission admission) {
    this.vertx = vertx;
    this.service = service;
    this.options = service.options();
    this.admission = admission;
  }

  @Override
  public ServiceName name() {
    return QuiverGrpcService.SERVICE_NAME;
  }

  @Override
  public Descriptors.ServiceDescriptor descriptor() {
    return QuiverGrpcService.SERVICE_DESCRIPTOR;
  }

  @Override
  public void bind(GrpcServer server) {
    unary(server, QuiverGrpcService.CreateCollection, Scope.WRITE, this::createCollection);
    unary(server, QuiverGrpcService.GetCollection, Scope.READ, this::getCollection);
    unary(server, QuiverGrpcService.ListCollections, Scope.READ, this::listCollections);
    unary(server, QuiverGrpcService.DeleteCollection, Scope.WRITE, this::deleteCollection);
    unary(server, QuiverGrpcService.UpsertPoint, Scope.WRITE, this::upsertPoint);
    unary(server, QuiverGrpcService.UpsertPoints, Scope.WRITE, this::upsertPoints);
    unary(server, QuiverGrpcService.GetPoint, Scope.READ, this::getPoint);
    unary(server, QuiverGrpcService.DeletePoint, Scope.WRITE, this::deletePoint);
    unary(server, QuiverGrpcService.ListPoints, Scope.READ, this::listPoints);
    unary(server, QuiverGrpcService.CountPoints, Scope.READ, this::countPoints);
    unary(server, QuiverGrpcService.SetPayload, Scope.WRITE, this::setPayload);
    unary(server, QuiverGrpcService.DeletePayload, Scope.WRITE, this::deletePayload);
    unary(server, QuiverGrpcService.Search, Scope.READ, this::searchTop1);
    unary(server, QuiverGrpcService.SearchTopK, Scope.READ, this::searchTopK);
    unary(server, QuiverGrpcService.SearchBatch, Scope.READ, this::searchBatch);
    unary(server, QuiverGrpcService.GetReadOnly, Scope.ADMIN, this::getReadOnly);
    unary(server, QuiverGrpcService.SetReadOnly, Scope.ADMIN, this::setReadOnly);
  }

  // ---------------------------------------------------------------- per-call plumbing

  private <Req, Resp> void unary(GrpcServer server, ServiceMethod<Req, Resp> method, Scope scope, Op<Req, Resp> op) {
    server.callHandler(method, req -> handle(req, scope, op));
  }

  /**
   * Admission on arrival (before the message is decoded), then credentials and scope while the
   * message arrives, then the operation, all bounded by the call's deadline.
   */
  private <Req, Resp> void handle(GrpcServerRequest<Req, Resp> req, Scope scope, Op<Req, Resp> op) {
    MultiMap md = req.headers();
    String rid = md.get(RestApi.REQUEST_ID);
    if (rid == null || rid.isBlank() || rid.length() > 128) {
      rid = UUID.randomUUID().toString();
    }
    req.response().headers().set(RestApi.REQUEST_ID, rid);
    InFlightLimit.Permit permit;
    try {
      permit = admission.enter();
    } catch (RuntimeException e) {
      fail(req, e, rid);
      return;
    }
    long timeoutMs = options.requestTimeoutMs();
    if (req.timeout() > 0) {
      timeoutMs = Math.min(timeoutMs, req.timeout());
    }
    String requestId = rid;
    long deadline = System.nanoTime() + timeoutMs * 1_000_000;
    Promise<Req> message = Promise.promise();
    req.handler(message::tryComplete);
    req.exceptionHandler(err -> message.tryFail(QuiverException.invalid("the call's message could not be read: " + err.getMessage())));
    Authenticator.Credentials credentials = new Authenticator.Credentials(
        md.get(Authenticator.API_KEY_HEADER), md.get(Authenticator.AUTHORIZATION_HEADER));
    Caller anonymous = new Caller(null, requestId, deadline);
    Future<Resp> answer = admission.authorize(credentials, scope).compose(p -> message.future().compose(msg -> {
      try {
        return op.apply(new Caller(p.tenant(), requestId, deadline), msg);
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    }));
    anonymous.within(vertx, answer).onComplete(ar -> {
      permit.release();
      if (ar.succeeded()) {
        req.response().end(ar.result());
      } else {
        fail(req, ar.cause(), requestId);
      }
    });
  }

  private static void fail(GrpcServerRequest<?, ?> req, Throwable t, String requestId) {
    QuiverException q = quiverException(t, requestId);
    if (q.code().retryAfter()) {
      req.response().trailers().set(RETRY_AFTER_TRAILER, Long.toString(RejectedException.retryAfterSeconds(q)));
    }
    req.response().fail(status(q));
  }

  /** The one place that maps a failure to a gRPC status: API.md's status, message "<code> <text>". */
  static StatusException status(QuiverException q) {
    return new StatusException(GrpcStatus.valueOf(q.code().grpcStatus()), q.toWireMessage());
  }

  private static QuiverException quiverException(Throwable t, String requestId) {
    if (t instanceof QuiverException q) {
      return q;
    }
    LOG.error("internal error on gRPC call (request {})", requestId, t);
    return new QuiverException(ErrorCode.INTERNAL, "internal error (request " + requestId + ")");
  }

  // ---------------------------------------------------------------- collections

  private Future<Collection> createCollection(Caller caller, CreateCollectionRequest r) {
    return service.createCollection(caller, r.getName(), (int) Math.min(r.getDimension(), Integer.MAX_VALUE),
            !r.hasStrictFinite() || r.getStrictFinite(),
            r.getMetric().isEmpty() ? SearchParams.DEFAULT : r.getMetric(),
            r.getPartitions() == 0 ? Partitioning.DEFAULT_PARTITIONS : (int) Math.min(r.getPartitions(), Integer.MAX_VALUE))
        .map(GrpcApi::collection);
  }

  private Future<Collection> getCollection(Caller caller, GetCollectionRequest r) {
    return service.getCollection(caller, r.getName()).map(GrpcApi::collection);
  }

  private Future<ListCollectionsResponse> listCollections(Caller caller, ListCollectionsRequest r) {
    return service.listCollections(caller).map(list -> ListCollectionsResponse.newBuilder()
        .addAllCollections(list.stream().map(GrpcApi::collection).toList()).build());
  }

  private Future<DeleteCollectionResponse> deleteCollection(Caller caller, DeleteCollectionRequest r) {
    return service.deleteCollection(caller, r.getName())
        .map(deleted -> DeleteCollectionResponse.newBuilder().setName(r.getName()).setDeleted(true).build());
  }

  private static Collection collection(GatewayService.CollectionStats c) {
    return Collection.newBuilder().setName(c.info().name()).setDimension(c.info().dimension())
        .setStrictFinite(c.info().strictFinite()).setPointCount(c.pointCount()).setMetric(c.info().metric())
        .setPartitions(c.info().partitions()).build();
  }

  // ---------------------------------------------------------------- points

  private Future<UpsertPointResponse> upsertPoint(Caller caller, UpsertPointRequest r) {
    GatewayService.PointWrite p = new GatewayService.PointWrite(r.getId(), floats(r.getValuesList(), "values"),
        r.hasPayload() ? Structs.toJsonBytes(r.getPayload(), "payload") : null);
    return service.upsert(caller, r.getCollection(), List.of(p))
        .map(out -> UpsertPointResponse.newBuilder().setId(r.getId()).setCreated(out.createdFlags()[0]).build());
  }

  private Future<UpsertPointsResponse> upsertPoints(Caller caller, UpsertPointsRequest r) {
    if (r.getPointsCount() > options.maxBatchPoints()) {
      throw QuiverException.invalid("a batch holds at most " + options.maxBatchPoints() + " points");
    }
    List<GatewayService.PointWrite> points = new ArrayList<>(r.getPointsCount());
    for (int i = 0; i < r.getPointsCount(); i++) {
      Point p = r.getPoints(i);
      points.add(new GatewayService.PointWrite(p.getId(), floats(p.getValuesList(), "points[" + i + "].values"),
          p.hasPayload() ? Structs.toJsonBytes(p.getPayload(), "points[" + i + "].payload") : null));
    }
    return service.upsert(caller, r.getCollection(), points).map(out -> {
      UpsertPointsResponse.Builder b = UpsertPointsResponse.newBuilder().setCreated(out.created()).setUpdated(out.updated());
      for (int i = 0; i < out.ids().length; i++) {
        b.addResults(UpsertResult.newBuilder().setId(out.ids()[i]).setCreated(out.createdFlags()[i]));
      }
      return b.build();
    });
  }

  private Future<Point> getPoint(Caller caller, GetPointRequest r) {
    return service.getPoint(caller, r.getCollection(), r.getId()).map(p -> {
      Point.Builder b = Point.newBuilder().setId(p.id()).setPayload(Structs.fromJsonBytes(p.payload()));
      for (float v : p.values()) {
        b.addValues(v);
      }
      return b.build();
    });
  }

  private Future<DeletePointResponse> deletePoint(Caller caller, DeletePointRequest r) {
    return service.deletePoint(caller, r.getCollection(), r.getId())
        .map(deleted -> DeletePointResponse.newBuilder().setId(r.getId()).setDeleted(deleted).build());
  }

  private Future<ListPointsResponse> listPoints(Caller caller, ListPointsRequest r) {
    long limit = r.hasLimit() ? r.getLimit() : GatewayService.DEFAULT_LIST_LIMIT;
    if (limit < 1 || limit > options.maxPageSize()) {
      throw QuiverException.invalid("limit must be between 1 and " + options.maxPageSize());
    }
    return service.listPoints(caller, r.getCollection(), r.hasOffset() ? r.getOffset() : 0, (int) limit,
        r.hasAfterId() ? r.getAfterId() : null).map(page -> {
          ListPointsResponse.Builder b = ListPointsResponse.newBuilder().setTotal(page.total());
          for (long id : page.ids()) {
            b.addIds(id);
          }
          if (page.nextOffset() != null) {
            b.setNextOffset(page.nextOffset());
          }
          if (page.nextAfterId() != null) {
            b.setNextAfterId(page.nextAfterId());
          }
          return b.build();
        });
  }

  private Future<CountPointsResponse> countPoints(Caller caller, CountPointsRequest r) {
    return service.countPoints(caller, r.getCollection(), r.hasFilter() ? filter(r.getFilter()) : null)
        .map(n -> CountPointsResponse.newBuilder().setCount(n).build());
  }

  private Future<UpdatePayloadResponse> setPayload(Caller caller, SetPayloadRequest r) {
    if (!r.hasPayload()) {
      throw QuiverException.invalid("payload is required");
    }
    return service.updatePayload(caller, r.getCollection(), ids(r.getPointsList()), Structs.toJsonBytes(r.getPayload(), "payload"),
        List.of()).map(n -> UpdatePayloadResponse.newBuilder().setUpdated(n).build());
  }

  private Future<UpdatePayloadResponse> deletePayload(Caller caller, DeletePayloadRequest r) {
    if (r.getKeysCount() == 0) {
      throw QuiverException.invalid("keys must be a non-empty array of strings");
    }
    return service.updatePayload(caller, r.getCollection(), ids(r.getPointsList()), null, r.getKeysList())
        .map(n -> UpdatePayloadResponse.newBuilder().setUpdated(n).build());
  }

  private long[] ids(List<Long> ids) {
    if (ids.size() > options.maxBatchPoints()) {
      throw QuiverException.invalid("points holds at most " + options.maxBatchPoints() + " ids");
    }
    return ids.stream().mapToLong(Long::longValue).toArray();
  }

  // ---------------------------------------------------------------- operators

  private Future<ReadOnlyState> getReadOnly(Caller caller, GetReadOnlyRequest r) {
    return Future.succeededFuture(readOnlyState(service.readOnly().current(), List.of()));
  }

  private Future<ReadOnlyState> setReadOnly(Caller caller, SetReadOnlyRequest r) {
    if (r.getReason().length() > 1024) {
      throw QuiverException.invalid("reason holds at most 1024 characters");
    }
    // Leave time to answer before the call's deadline.
    long wait = Math.max(1, Math.min(ReadOnlyToggle.DEFAULT_CONFIRM_TIMEOUT_MS, caller.remainingMillisOrFail() - 200));
    return service.readOnly().set(caller, r.getEnabled(), r.getReason(), ReadOnlyToggle.setBy(caller.tenant(), null), wait)
        .map(out -> readOnlyState(out.state(), out.pendingShards()));
  }

  private static ReadOnlyState readOnlyState(io.quiver.cluster.ReadOnlyState s, List<Integer> pending) {
    ReadOnlyState.Builder b = ReadOnlyState.newBuilder().setEnabled(s.enabled()).setReason(s.reason()).setSince(s.since())
        .setSetBy(s.setBy());
    pending.forEach(id -> b.addPendingShards(Integer.toString(id)));
    return b.build();
  }

  // ---------------------------------------------------------------- search

  private Future<SearchTop1Response> searchTop1(Caller caller, SearchRequest r) {
    float[] q = floats(r.getQueryList(), "query");
    GatewayService.SearchSpec spec = spec(r.getMetric(), r.getMode(), r.hasTargetRecall() ? r.getTargetRecall() : null,
        r.getIncludePayload(), r.hasFilter() ? r.getFilter() : null, 1, r.getAllowPartial());
    return service.search(caller, r.getCollection(), new float[][] {q}, spec).map(out -> {
      GatewayService.QueryResult res = out.results().get(0);
      SearchTop1Response.Builder b = SearchTop1Response.newBuilder().setMetric(out.metric()).setMode(res.mode())
          .setFound(!res.hits().isEmpty()).setPartial(out.partial());
      out.failedShards().forEach(s -> b.addFailedShards(Integer.toString(s)));
      if (!res.hits().isEmpty()) {
        TopKMerger.Hit h = res.hits().get(0);
        b.setId(h.id()).setValue(h.value());
        if (h.payload() != null) {
          b.setPayload(Structs.fromJsonBytes(h.payload()));
        }
      }
      return b.build();
    });
  }

  private Future<SearchTopKResponse> searchTopK(Caller caller, SearchRequest r) {
    float[] q = floats(r.getQueryList(), "query");
    GatewayService.SearchSpec spec = spec(r.getMetric(), r.getMode(), r.hasTargetRecall() ? r.getTargetRecall() : null,
        r.getIncludePayload(), r.hasFilter() ? r.getFilter() : null, limit(r.hasLimit(), r.getLimit()), r.getAllowPartial());
    return service.search(caller, r.getCollection(), new float[][] {q}, spec).map(out -> {
      GatewayService.QueryResult res = out.results().get(0);
      SearchTopKResponse.Builder b = SearchTopKResponse.newBuilder().setMetric(out.metric()).setMode(res.mode())
          .addAllHits(hits(res)).setPartial(out.partial());
      out.failedShards().forEach(s -> b.addFailedShards(Integer.toString(s)));
      return b.build();
    });
  }

  private Future<SearchBatchResponse> searchBatch(Caller caller, SearchBatchRequest r) {
    if (r.getQueriesCount() > options.maxBatchQueries()) {
      throw QuiverException.invalid("a batch holds at most " + options.maxBatchQueries() + " queries");
    }
    float[][] queries = new float[r.getQueriesCount()][];
    for (int i = 0; i < queries.length; i++) {
      Query q = r.getQueries(i);
      queries[i] = floats(q.getValuesList(), "queries[" + i + "]");
    }
    GatewayService.SearchSpec spec = spec(r.getMetric(), r.getMode(), r.hasTargetRecall() ? r.getTargetRecall() : null,
        r.getIncludePayload(), r.hasFilter() ? r.getFilter() : null, limit(r.hasLimit(), r.getLimit()), r.getAllowPartial());
    return service.search(caller, r.getCollection(), queries, spec).map(out -> {
      SearchBatchResponse.Builder b = SearchBatchResponse.newBuilder().setMetric(out.metric()).setPartial(out.partial());
      out.results().forEach(res -> b.addResults(SearchBatchResult.newBuilder().setMode(res.mode()).addAllHits(hits(res))));
      out.failedShards().forEach(s -> b.addFailedShards(Integer.toString(s)));
      return b.build();
    });
  }

  private GatewayService.SearchSpec spec(String metric, String mode, Float recall, boolean includePayload, Filter filter,
      int limit, boolean allowPartial) {
    String m = metric.isEmpty() ? null : SearchParams.parse(metric, "metric");
    String md = SearchParams.parseMode(mode.isEmpty() ? SearchParams.DEFAULT_MODE : mode);
    float r = recall == null ? GatewayService.DEFAULT_TARGET_RECALL : recall;
    if (!(r > 0 && r <= 1)) {
      throw QuiverException.invalid("target_recall must be in (0, 1]");
    }
    return new GatewayService.SearchSpec(m, md, r, includePayload, filter == null ? null : filter(filter), limit, allowPartial);
  }

  private static int limit(boolean has, int limit) {
    // uint32 arrives as a signed int: anything above 2^31-1 is negative and fails the range check.
    return has ? limit : GatewayService.DEFAULT_TOP_K;
  }

  private static List<Hit> hits(GatewayService.QueryResult r) {
    List<Hit> out = new ArrayList<>(r.hits().size());
    for (TopKMerger.Hit h : r.hits()) {
      Hit.Builder b = Hit.newBuilder().setId(h.id()).setValue(h.value());
      if (h.payload() != null) {
        b.setPayload(Structs.fromJsonBytes(h.payload()));
      }
      out.add(b.build());
    }
    return out;
  }

  private Filter filter(Filter f) {
    return Validation.checkFilter(f, options.maxFilterClauses());
  }

  private float[] floats(List<Float> values, String field) {
    if (values.size() > options.maxDimension()) {
      throw QuiverException.invalid(field + " has " + values.size() + " values; at most " + options.maxDimension() + " are allowed");
    }
    float[] out = new float[values.size()];
    if (values instanceof Internal.FloatList packed) {
      // What the parser produces for a repeated float: read without boxing each value.
      for (int i = 0; i < out.length; i++) {
        out[i] = packed.getFloat(i);
      }
    } else {
      for (int i = 0; i < out.length; i++) {
        out[i] = values.get(i);
      }
    }
    return out;
  }
}
