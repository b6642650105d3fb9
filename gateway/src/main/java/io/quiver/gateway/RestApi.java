package io.quiver.gateway;

import io.quiver.cluster.ReadOnlyFlag;
import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.PlatformHandler;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST API of API.md §2, wire-compatible with AIONBD: parses JSON into {@link GatewayService}
 * calls and renders results and errors ({@code {"code","message","request_id"}}). Each route is a
 * small named method. Runs on the event loop and never blocks. Thread-safe (stateless apart from
 * the service it calls).
 */
public final class RestApi {
  private static final Logger LOG = LoggerFactory.getLogger(RestApi.class);
  static final String REQUEST_ID = "x-request-id";
  static final String REQUEST_TIMEOUT = "x-request-timeout-ms";
  private static final BigInteger U64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
  static final String CALLER = "quiver.caller";
  /** The largest body a refused request may still send on a connection that is kept open. */
  static final long DRAINED_BODY_BYTES = 64 * 1024;
  private static final CharSequence CONTENT_TYPE = io.vertx.core.http.HttpHeaders.createOptimized("content-type");
  private static final CharSequence APPLICATION_JSON = io.vertx.core.http.HttpHeaders.createOptimized("application/json");

  /**
   * Parses request bodies. Vectors arrive as JSON numbers (a 784-d search is 784 of them): Jackson's
   * FastDoubleParser reads them with the same, correctly rounded values as Double.parseDouble in a
   * fraction of its time. Thread-safe.
   */
  static final com.fasterxml.jackson.core.JsonFactory JSON = com.fasterxml.jackson.core.JsonFactory.builder()
      .enable(com.fasterxml.jackson.core.StreamReadFeature.USE_FAST_DOUBLE_PARSER).build();

  private final GatewayService service;
  private final GatewayOptions options;
  private final Health health;
  private final Admission admission;
  private final GatewayMetrics metrics;
  private final AdminOps ops;
  private Vertx vertx;

  public RestApi(GatewayService service, Health health, Admission admission) {
    this(service, health, admission, null, null);
  }

  /** With {@code metrics} and {@code ops} (nullable): request meters, access log, /metrics and admin fan-outs. */
  RestApi(GatewayService service, Health health, Admission admission, GatewayMetrics metrics, AdminOps ops) {
    this.service = service;
    this.options = service.options();
    this.health = health;
    this.admission = admission;
    this.metrics = metrics;
    this.ops = ops;
  }

  public Router router(Vertx vertx) {
    this.vertx = vertx;
    Router router = Router.router(vertx);
    if (metrics != null) {
      router.route().handler(metrics::observe);
    }
    router.route().handler(this::identify);
    router.get("/live").handler(this::live);
    router.get("/ready").handler(this::ready);
    router.get("/healthz").handler(this::ready);

    BodyHandler body = BodyHandler.create(false).setBodyLimit(options.maxBodyBytes());
    wire(router.post("/collections"), Scope.WRITE, body, this::createCollection);
    wire(router.get("/collections"), Scope.READ, body, this::listCollections);
    wire(router.get("/collections/:name"), Scope.READ, body, this::getCollection);
    wire(router.delete("/collections/:name"), Scope.WRITE, body, this::deleteCollection);

    wire(router.put("/collections/:name/points/:id"), Scope.WRITE, body, this::upsertPoint);
    wire(router.post("/collections/:name/points"), Scope.WRITE, body, this::upsertPoints);
    wire(router.get("/collections/:name/points"), Scope.READ, body, this::listPoints);
    wire(router.post("/collections/:name/points/count"), Scope.READ, body, this::countPoints);
    wire(router.post("/collections/:name/points/payload/set"), Scope.WRITE, body, this::setPayload);
    wire(router.post("/collections/:name/points/payload/delete"), Scope.WRITE, body, this::deletePayload);
    wire(router.get("/collections/:name/points/:id"), Scope.READ, body, this::getPoint);
    wire(router.delete("/collections/:name/points/:id"), Scope.WRITE, body, this::deletePoint);

    wire(router.post("/collections/:name/search"), Scope.READ, body, this::searchTop1);
    wire(router.post("/collections/:name/search/topk"), Scope.READ, body, this::searchTopK);
    wire(router.post("/collections/:name/search/topk/batch"), Scope.READ, body, this::searchBatch);
    wire(router.post("/distance"), Scope.READ, body, this::distance);

    wire(router.get("/admin/cluster"), Scope.ADMIN, body, this::adminCluster);
    wire(router.post("/admin/drain"), Scope.ADMIN, body, this::drain);
    wire(router.get("/admin/partitions/:name"), Scope.ADMIN, body, this::partitions);
    if (ops != null) {
      metrics.mount(router, ops);
      wire(router.post("/admin/checkpoint"), Scope.ADMIN, body, ops::checkpoint);
      wire(router.post("/admin/backup"), Scope.ADMIN, body, ops::backup);
    }
    wire(router.get("/admin/read-only"), Scope.ADMIN, body, this::getReadOnly);
    wire(router.put("/admin/read-only"), Scope.ADMIN, body, this::putReadOnly);

    router.route().last().handler(ctx -> fail(ctx, new QuiverException(ErrorCode.NOT_FOUND,
        "no route for " + ctx.request().method() + " " + ctx.request().path())));
    router.route().failureHandler(this::failure);
    return router;
  }

  /**
   * Admission (before the body is read), then the body, then the endpoint. vertx-web orders a
   * route's handlers by kind and puts the body handler before user handlers, so the gate is a
   * {@link PlatformHandler}, the kind that runs first.
   */
  private void wire(Route route, Scope scope, BodyHandler body, Handler<RoutingContext> endpoint) {
    String template = route.getPath();
    PlatformHandler gate = ctx -> {
      ctx.put(GatewayMetrics.ROUTE, template);
      admit(ctx, scope);
    };
    route.handler(gate).handler(body).handler(endpoint);
  }

  // ---------------------------------------------------------------- per-request context

  /** Request id (from x-request-id or new), deadline (default, or lowered by x-request-timeout-ms), tenant. */
  private void identify(RoutingContext ctx) {
    String rid = ctx.request().getHeader(REQUEST_ID);
    if (rid == null || rid.isBlank() || rid.length() > 128) {
      rid = newRequestId();
    }
    ctx.response().putHeader(REQUEST_ID, rid);
    long timeoutMs = options.requestTimeoutMs();
    String asked = ctx.request().getHeader(REQUEST_TIMEOUT);
    ctx.put(CALLER, new Caller(GatewayOptions.DEFAULT_TENANT, rid, System.nanoTime() + timeoutMs * 1_000_000));
    if (asked != null) {
      try {
        long t = Long.parseLong(asked.trim());
        if (t <= 0) {
          throw new NumberFormatException();
        }
        timeoutMs = Math.min(timeoutMs, t);
      } catch (NumberFormatException e) {
        fail(ctx, QuiverException.invalid(REQUEST_TIMEOUT + " must be a positive integer of milliseconds"));
        return;
      }
      ctx.put(CALLER, new Caller(GatewayOptions.DEFAULT_TENANT, rid, System.nanoTime() + timeoutMs * 1_000_000));
    }
    ctx.next();
  }

  /**
   * A random (version 4) UUID from the thread's fast generator: request ids must be unique, not
   * unguessable, and {@code UUID.randomUUID()} goes through SecureRandom on every request.
   */
  static String newRequestId() {
    java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
    long msb = (r.nextLong() & ~0xF000L) | 0x4000L;
    long lsb = (r.nextLong() & ~(0xC000_0000_0000_0000L)) | 0x8000_0000_0000_0000L;
    return new UUID(msb, lsb).toString();
  }

  /**
   * The gate of {@link Admission}: an in-flight slot (released when the response ends) and the
   * gateway's rate at once, then credentials, scope and the tenant's rate. The request is paused
   * until the body handler runs, so no body byte is read for a refused request.
   */
  private void admit(RoutingContext ctx, Scope scope) {
    InFlightLimit.Permit permit;
    try {
      permit = admission.enter();
    } catch (QuiverException e) {
      fail(ctx, e);
      return;
    }
    ctx.addEndHandler(ar -> permit.release());
    ctx.request().pause();
    Authenticator.Credentials credentials = new Authenticator.Credentials(
        ctx.request().getHeader(Authenticator.API_KEY_HEADER), ctx.request().getHeader(Authenticator.AUTHORIZATION_HEADER));
    admission.authorize(credentials, scope).onComplete(ar -> {
      if (ar.failed()) {
        ctx.request().resume();
        fail(ctx, ar.cause());
        return;
      }
      Caller anonymous = caller(ctx);
      ctx.put(GatewayMetrics.TENANT, ar.result().tenant());
      ctx.put(CALLER, new Caller(ar.result().tenant(), anonymous.requestId(), anonymous.deadlineNanos()));
      ctx.next();
    });
  }

  private static Caller caller(RoutingContext ctx) {
    return ctx.get(CALLER);
  }

  // ---------------------------------------------------------------- health

  private void live(RoutingContext ctx) {
    send(ctx, 200, new JsonObject().put("status", "live").put("uptime_ms", health.uptimeMillis()));
  }

  private void ready(RoutingContext ctx) {
    Health.Readiness r = health.readiness();
    send(ctx, r.ready() ? 200 : 503, new JsonObject()
        .put("status", r.ready() ? "ready" : "not_ready")
        .put("uptime_ms", health.uptimeMillis())
        .put("checks", r.checks()));
  }

  // ---------------------------------------------------------------- collections

  private void createCollection(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (body == null) {
      return;
    }
    respond(ctx, () -> service.createCollection(caller(ctx),
            string(body, "name", null),
            integer(body, "dimension", null),
            bool(body, "strict_finite", true),
            string(body, "metric", SearchParams.DEFAULT),
            integer(body, "partitions", io.quiver.cluster.Partitioning.DEFAULT_PARTITIONS)),
        RestApi::collectionJson);
  }

  private void listCollections(RoutingContext ctx) {
    respond(ctx, () -> service.listCollections(caller(ctx)), list -> {
      JsonArray arr = new JsonArray();
      list.forEach(c -> arr.add(collectionJson(c)));
      return new JsonObject().put("collections", arr);
    });
  }

  private void getCollection(RoutingContext ctx) {
    respond(ctx, () -> service.getCollection(caller(ctx), ctx.pathParam("name")), RestApi::collectionJson);
  }

  private void deleteCollection(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    respond(ctx, () -> service.deleteCollection(caller(ctx), name),
        deleted -> new JsonObject().put("name", name).put("deleted", true));
  }

  static JsonObject collectionJson(GatewayService.CollectionStats c) {
    return new JsonObject()
        .put("name", c.info().name())
        .put("dimension", c.info().dimension())
        .put("strict_finite", c.info().strictFinite())
        .put("point_count", c.pointCount())
        .put("metric", c.info().metric())
        .put("partitions", c.info().partitions());
  }

  // ---------------------------------------------------------------- points

  private void upsertPoint(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (body == null) {
      return;
    }
    respond(ctx, () -> {
      long id = pathId(ctx);
      GatewayService.PointWrite p = new GatewayService.PointWrite(id,
          Validation.floats(required(body, "values"), "values", options.maxDimension()),
          Validation.payload(body.getValue("payload"), "payload"));
      return service.upsert(caller(ctx), ctx.pathParam("name"), List.of(p));
    }, out -> new JsonObject().put("id", jsonId(out.ids()[0])).put("created", out.createdFlags()[0]));
  }

  private void upsertPoints(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (body == null) {
      return;
    }
    respond(ctx, () -> {
      if (!(body.getValue("points") instanceof JsonArray arr)) {
        throw QuiverException.invalid("points must be an array");
      }
      if (arr.size() > options.maxBatchPoints()) {
        throw QuiverException.invalid("a batch holds at most " + options.maxBatchPoints() + " points");
      }
      List<GatewayService.PointWrite> points = new ArrayList<>(arr.size());
      for (int i = 0; i < arr.size(); i++) {
        if (!(arr.getValue(i) instanceof JsonObject p)) {
          throw QuiverException.invalid("points[" + i + "] must be an object");
        }
        points.add(new GatewayService.PointWrite(
            id(p.getValue("id"), "points[" + i + "].id"),
            Validation.floats(required(p, "values", "points[" + i + "].values"), "points[" + i + "].values", options.maxDimension()),
            Validation.payload(p.getValue("payload"), "points[" + i + "].payload")));
      }
      return service.upsert(caller(ctx), ctx.pathParam("name"), points);
    }, out -> {
      JsonArray results = new JsonArray();
      for (int i = 0; i < out.ids().length; i++) {
        results.add(new JsonObject().put("id", jsonId(out.ids()[i])).put("created", out.createdFlags()[i]));
      }
      return new JsonObject().put("created", out.created()).put("updated", out.updated()).put("results", results);
    });
  }

  /**
   * {@code {"id","values","payload"}}, written straight into the response buffer: the values from
   * the shard's packed floats by {@link JsonFloats}, the payload's stored JSON bytes as they are
   * (the same text a {@code JsonObject} would print: they were printed by one), {@code {}} when none.
   */
  private void getPoint(RoutingContext ctx) {
    answer(ctx, () -> service.getPoint(caller(ctx), ctx.pathParam("name"), pathId(ctx)), p -> {
      io.vertx.core.buffer.Buffer out = io.vertx.core.buffer.Buffer.buffer(64 + p.packedValues().size() * 3
          + p.payloadJson().size());
      out.appendString("{\"id\":").appendString(Long.toUnsignedString(p.id())).appendString(",\"values\":");
      JsonFloats.appendPacked(out, p.packedValues());
      out.appendString(",\"payload\":");
      if (p.payloadJson().isEmpty()) {
        out.appendString("{}");
      } else {
        out.appendBytes(p.payloadJson().toByteArray());
      }
      return out.appendByte((byte) '}');
    });
  }

  private void deletePoint(RoutingContext ctx) {
    respond(ctx, () -> {
      long id = pathId(ctx);
      return service.deletePoint(caller(ctx), ctx.pathParam("name"), id)
          .map(deleted -> new JsonObject().put("id", jsonId(id)).put("deleted", deleted));
    }, Function.identity());
  }

  private void listPoints(RoutingContext ctx) {
    respond(ctx, () -> {
      long offset = queryLong(ctx, "offset", 0L);
      long limit = queryLong(ctx, "limit", (long) GatewayService.DEFAULT_LIST_LIMIT);
      String after = ctx.request().getParam("after_id");
      Long afterId = after == null || after.isEmpty() ? null : parseId(after, "after_id");
      if (limit < 1 || limit > options.maxPageSize()) {
        throw QuiverException.invalid("limit must be between 1 and " + options.maxPageSize());
      }
      return service.listPoints(caller(ctx), ctx.pathParam("name"), offset, (int) limit, afterId);
    }, page -> {
      JsonArray points = new JsonArray();
      for (long id : page.ids()) {
        points.add(new JsonObject().put("id", jsonId(id)));
      }
      return new JsonObject().put("points", points).put("total", page.total())
          .put("next_offset", page.nextOffset())
          .put("next_after_id", page.nextAfterId() == null ? null : jsonId(page.nextAfterId()));
    });
  }

  private void countPoints(RoutingContext ctx) {
    JsonObject body = bodyOrEmpty(ctx);
    if (body == null) {
      return;
    }
    respond(ctx, () -> service.countPoints(caller(ctx), ctx.pathParam("name"),
            Validation.filter(body.getValue("filter"), options.maxFilterClauses())),
        n -> new JsonObject().put("count", n));
  }

  private void setPayload(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (body == null) {
      return;
    }
    respond(ctx, () -> {
      byte[] payload = Validation.payload(required(body, "payload"), "payload");
      return service.updatePayload(caller(ctx), ctx.pathParam("name"), ids(body), payload, List.of());
    }, n -> new JsonObject().put("updated", n));
  }

  private void deletePayload(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (body == null) {
      return;
    }
    respond(ctx, () -> {
      if (!(body.getValue("keys") instanceof JsonArray keys) || keys.isEmpty()) {
        throw QuiverException.invalid("keys must be a non-empty array of strings");
      }
      List<String> k = new ArrayList<>();
      for (Object key : keys) {
        if (!(key instanceof String s)) {
          throw QuiverException.invalid("keys must hold only strings");
        }
        k.add(s);
      }
      return service.updatePayload(caller(ctx), ctx.pathParam("name"), ids(body), null, k);
    }, n -> new JsonObject().put("updated", n));
  }

  private long[] ids(JsonObject body) {
    if (!(body.getValue("points") instanceof JsonArray arr)) {
      throw QuiverException.invalid("points must be an array of ids");
    }
    if (arr.size() > options.maxBatchPoints()) {
      throw QuiverException.invalid("points holds at most " + options.maxBatchPoints() + " ids");
    }
    long[] ids = new long[arr.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = id(arr.getValue(i), "points[" + i + "]");
    }
    return ids;
  }

  // ---------------------------------------------------------------- search

  private void searchTop1(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (body == null) {
      return;
    }
    respond(ctx, () -> {
      float[] q = Validation.floats(required(body, "query"), "query", options.maxDimension());
      return service.search(caller(ctx), ctx.pathParam("name"), new float[][] {q}, searchSpec(body, 1));
    }, out -> {
      GatewayService.QueryResult r = out.results().get(0);
      if (r.hits().isEmpty()) {
        throw QuiverException.notFound("the collection has no point matching the search");
      }
      ctx.put(GatewayMetrics.SEARCH_MODE, r.mode());
      TopKMerger.Hit h = r.hits().get(0);
      JsonObject j = new JsonObject().put("id", jsonId(h.id())).put("metric", out.metric()).put("value", h.value())
          .put("mode", r.mode());
      if (h.payload() != null) {
        j.put("payload", new JsonObject(io.vertx.core.buffer.Buffer.buffer(h.payload())));
      }
      return partial(j, out);
    });
  }

  private void searchTopK(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (body == null) {
      return;
    }
    respond(ctx, () -> {
      float[] q = Validation.floats(required(body, "query"), "query", options.maxDimension());
      return service.search(caller(ctx), ctx.pathParam("name"), new float[][] {q},
          searchSpec(body, integer(body, "limit", GatewayService.DEFAULT_TOP_K)));
    }, out -> {
      GatewayService.QueryResult r = out.results().get(0);
      ctx.put(GatewayMetrics.SEARCH_MODE, r.mode());
      return partial(new JsonObject().put("metric", out.metric()).put("mode", r.mode()).put("hits", hitsJson(r)), out);
    });
  }

  private void searchBatch(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (body == null) {
      return;
    }
    respond(ctx, () -> {
      if (!(body.getValue("queries") instanceof JsonArray arr)) {
        throw QuiverException.invalid("queries must be an array of vectors");
      }
      if (arr.size() > options.maxBatchQueries()) {
        throw QuiverException.invalid("a batch holds at most " + options.maxBatchQueries() + " queries");
      }
      float[][] queries = new float[arr.size()][];
      for (int i = 0; i < queries.length; i++) {
        queries[i] = Validation.floats(arr.getValue(i), "queries[" + i + "]", options.maxDimension());
      }
      return service.search(caller(ctx), ctx.pathParam("name"), queries,
          searchSpec(body, integer(body, "limit", GatewayService.DEFAULT_TOP_K)));
    }, out -> {
      JsonArray results = new JsonArray();
      ctx.put(GatewayMetrics.SEARCH_MODE, out.results().isEmpty() ? "exact" : out.results().get(0).mode());
      out.results().forEach(r -> results.add(new JsonObject().put("mode", r.mode()).put("hits", hitsJson(r))));
      return partial(new JsonObject().put("metric", out.metric()).put("results", results), out);
    });
  }

  private GatewayService.SearchSpec searchSpec(JsonObject body, int limit) {
    String metric = body.getValue("metric") == null ? null : SearchParams.parse(string(body, "metric", SearchParams.DEFAULT), "metric");
    String mode = SearchParams.parseMode(string(body, "mode", SearchParams.DEFAULT_MODE));
    double recall = number(body, "target_recall", GatewayService.DEFAULT_TARGET_RECALL);
    if (!(recall > 0 && recall <= 1)) {
      throw QuiverException.invalid("target_recall must be in (0, 1]");
    }
    return new GatewayService.SearchSpec(metric, mode, (float) recall, bool(body, "include_payload", false),
        Validation.filter(body.getValue("filter"), options.maxFilterClauses()), limit, bool(body, "allow_partial", false));
  }

  private static JsonArray hitsJson(GatewayService.QueryResult r) {
    JsonArray hits = new JsonArray();
    for (TopKMerger.Hit h : r.hits()) {
      JsonObject j = new JsonObject().put("id", jsonId(h.id())).put("value", h.value());
      if (h.payload() != null) {
        j.put("payload", new JsonObject(io.vertx.core.buffer.Buffer.buffer(h.payload())));
      }
      hits.add(j);
    }
    return hits;
  }

  private static JsonObject partial(JsonObject j, GatewayService.SearchOutcome out) {
    if (out.partial()) {
      j.put("partial", true).put("failed_shards", new JsonArray(new ArrayList<>(out.failedShards())));
    }
    return j;
  }

  private void distance(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (body == null) {
      return;
    }
    respond(ctx, () -> {
      float[] left = Validation.floats(required(body, "left"), "left", options.maxDimension());
      float[] right = Validation.floats(required(body, "right"), "right", options.maxDimension());
      Validation.checkVector(left, left.length, true, "left");
      Validation.checkVector(right, left.length, true, "right");
      String metric = SearchParams.parse(string(body, "metric", SearchParams.DEFAULT), "metric");
      return Future.succeededFuture(new JsonObject().put("metric", metric).put("value", Distances.score(metric, left, right)));
    }, Function.identity());
  }

  // ---------------------------------------------------------------- operators

  private void adminCluster(RoutingContext ctx) {
    respond(ctx, service::clusterStatus, status -> {
      JsonArray shards = new JsonArray();
      status.shards().forEach(s -> shards.add(new JsonObject().put("id", s.id()).put("address", s.address())
          .put("state", s.state()).put("live", s.live()).put("partitions", s.partitions()).put("breaker", s.breaker())
          .put("draining", s.draining())));
      JsonArray moves = new JsonArray();
      status.moves().forEach(m -> moves.add(new JsonObject().put("partition", m.partition()).put("from", m.from())
          .put("to", m.to()).put("epoch", m.epoch()).put("state", m.state())));
      return new JsonObject().put("members", status.members()).put("partition_table_version", status.tableVersion())
          .put("shards", shards).put("moves", moves).put("read_only", ReadOnlyFlag.toJson(service.readOnly().current()));
    });
  }

  private void getReadOnly(RoutingContext ctx) {
    respond(ctx, () -> Future.succeededFuture(service.readOnly().current()), ReadOnlyFlag::toJson);
  }

  /**
   * Sets the mode; answers once every live shard confirmed it (200), or after {@code timeout_ms}
   * (default 5 s) with the shards that did not ({@code 202}, {@code pending_shards}). The request's
   * deadline is that wait plus a second, whatever the default deadline.
   */
  private void putReadOnly(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (body == null) {
      return;
    }
    ReadOnlyToggle toggle = service.readOnly();
    Future<ReadOnlyToggle.Outcome> f;
    Caller caller;
    try {
      if (!(body.getValue("enabled") instanceof Boolean enabled)) {
        throw QuiverException.invalid("enabled must be true or false");
      }
      String reason = string(body, "reason", "");
      if (reason.length() > 1024) {
        throw QuiverException.invalid("reason holds at most 1024 characters");
      }
      long timeoutMs = body.getValue("timeout_ms") == null ? ReadOnlyToggle.DEFAULT_CONFIRM_TIMEOUT_MS
          : integer(body, "timeout_ms", null);
      if (timeoutMs < 1 || timeoutMs > ReadOnlyToggle.MAX_CONFIRM_TIMEOUT_MS) {
        throw QuiverException.invalid("timeout_ms must be between 1 and " + ReadOnlyToggle.MAX_CONFIRM_TIMEOUT_MS);
      }
      Caller c = caller(ctx);
      caller = new Caller(c.tenant(), c.requestId(), System.nanoTime() + (timeoutMs + 1000) * 1_000_000);
      f = toggle.set(caller, enabled, reason, ReadOnlyToggle.setBy(c.tenant(), ctx.request().getHeader("x-quiver-client")),
          timeoutMs);
    } catch (RuntimeException e) {
      fail(ctx, e);
      return;
    }
    caller.within(vertx, f).onComplete(ar -> {
      if (ar.failed()) {
        fail(ctx, ar.cause());
        return;
      }
      JsonObject json = ReadOnlyFlag.toJson(ar.result().state());
      if (!ar.result().pendingShards().isEmpty()) {
        json.put("pending_shards", new JsonArray(new ArrayList<>(ar.result().pendingShards())));
      }
      send(ctx, ar.result().pendingShards().isEmpty() ? 200 : 202, json);
    });
  }

  /** {@code GET /admin/partitions/{name}}: the collection's uid, and each partition's owner and epoch. */
  private void partitions(RoutingContext ctx) {
    respond(ctx, () -> service.partitions(caller(ctx), ctx.pathParam("name")), a -> {
      JsonArray parts = new JsonArray();
      for (int p = 0; p < a.owners().length; p++) {
        parts.add(new JsonObject().put("partition", p).put("owner", a.ownerOf(p)).put("epoch", a.epochOf(p)));
      }
      return new JsonObject().put("name", ctx.pathParam("name")).put("uid", a.collectionUid()).put("partitions", parts);
    });
  }

  /** {@code POST /admin/drain {"shard": N, "enabled"?: true}}: move every partition off shard N (or stop). */
  private void drain(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (body == null) {
      return;
    }
    respond(ctx, () -> {
      int shard = integer(body, "shard", null);
      boolean on = bool(body, "enabled", true);
      return service.drain(shard, on).map(left -> new JsonObject().put("shard", shard).put("draining", on)
          .put("partitions", left));
    }, Function.identity());
  }

  // ---------------------------------------------------------------- plumbing

  /** Runs {@code call} (whose own validation may throw) and renders its result as 200 JSON. */
  private <T> void respond(RoutingContext ctx, java.util.concurrent.Callable<Future<T>> call, Function<T, JsonObject> render) {
    answer(ctx, call, render.andThen(JsonObject::toBuffer));
  }

  /** {@link #respond} for a renderer that writes the JSON text itself. */
  private <T> void answer(RoutingContext ctx, java.util.concurrent.Callable<Future<T>> call,
      Function<T, io.vertx.core.buffer.Buffer> render) {
    Future<T> f;
    try {
      f = call.call();
    } catch (Exception e) {
      fail(ctx, e);
      return;
    }
    caller(ctx).within(vertx, f).onComplete(ar -> {
      if (ar.failed()) {
        fail(ctx, ar.cause());
        return;
      }
      io.vertx.core.buffer.Buffer json;
      try {
        json = render.apply(ar.result());
      } catch (RuntimeException e) {
        fail(ctx, e);
        return;
      }
      send(ctx, 200, json);
    });
  }

  private static void send(RoutingContext ctx, int status, JsonObject json) {
    send(ctx, status, json.toBuffer());
  }

  private static void send(RoutingContext ctx, int status, io.vertx.core.buffer.Buffer json) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response().setStatusCode(status).putHeader(CONTENT_TYPE, APPLICATION_JSON).end(json);
  }

  private void failure(RoutingContext ctx) {
    if (ctx.statusCode() == 413) {
      fail(ctx, new QuiverException(ErrorCode.PAYLOAD_TOO_LARGE, "request body is larger than " + options.maxBodyBytes() + " bytes"));
    } else if (ctx.failure() != null) {
      fail(ctx, ctx.failure());
    } else {
      fail(ctx, new QuiverException(ErrorCode.INTERNAL, "request failed with status " + ctx.statusCode()));
    }
  }

  /** Renders any failure as the API error body; unknown failures are {@code internal} and logged. */
  static void fail(RoutingContext ctx, Throwable t) {
    QuiverException q;
    if (t instanceof QuiverException e) {
      q = e;
    } else if (t instanceof DecodeException) {
      q = QuiverException.invalid("malformed JSON body: " + t.getMessage());
    } else {
      q = new QuiverException(ErrorCode.INTERNAL, "internal error");
      LOG.error("internal error on {} {} (request {})", ctx.request().method(), ctx.request().path(),
          ctx.response().headers().get(REQUEST_ID), t);
    }
    if (ctx.response().ended()) {
      return;
    }
    ctx.put(GatewayMetrics.ERROR_CODE, q.code().code());
    if (q.code().retryAfter()) {
      ctx.response().putHeader("retry-after", Long.toString(RejectedException.retryAfterSeconds(q)));
    }
    if (!ctx.request().isEnded() && ctx.request().version() != io.vertx.core.http.HttpVersion.HTTP_2) {
      // Answered before the body was read (refused at the gate, or too large): an HTTP/1 connection
      // would otherwise wait for the rest of a body nobody reads, and the next request on it hangs.
      // A small body of known length is read and dropped instead, so a client refused under
      // overload keeps its connection (closing made every refusal cost it a reconnect).
      if (smallKnownBody(ctx.request())) {
        ctx.request().handler(ignored -> {});
        ctx.request().resume();
      } else {
        ctx.response().putHeader("connection", "close");
      }
    }
    send(ctx, q.code().httpStatus(), new JsonObject().put("code", q.code().code()).put("message", q.getMessage())
        .put("request_id", ctx.response().headers().get(REQUEST_ID)));
  }

  /** At most {@link #DRAINED_BODY_BYTES} announced by Content-Length, not chunked. */
  private static boolean smallKnownBody(io.vertx.core.http.HttpServerRequest request) {
    if (request.getHeader("transfer-encoding") != null) {
      return false;
    }
    String length = request.getHeader("content-length");
    if (length == null) {
      return true;
    }
    try {
      long n = Long.parseLong(length.trim());
      return n >= 0 && n <= DRAINED_BODY_BYTES;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** The JSON object body, or null after answering 400 for a missing or malformed one. */
  private static JsonObject body(RoutingContext ctx) {
    try {
      io.vertx.core.buffer.Buffer buf = ctx.body().buffer();
      if (buf == null || buf.length() == 0) {
        fail(ctx, QuiverException.invalid("a JSON object body is required"));
        return null;
      }
      Object parsed = decodeJson(buf);
      if (!(parsed instanceof JsonObject obj)) {
        fail(ctx, QuiverException.invalid("the body must be a JSON object"));
        return null;
      }
      return obj;
    } catch (DecodeException e) {
      fail(ctx, QuiverException.invalid("malformed JSON body: " + e.getMessage()));
      return null;
    }
  }

  /** A JSON value (JsonObject, JsonArray, String, Number, Boolean or null), as {@code Json.decodeValue} reads it. */
  static Object decodeJson(io.vertx.core.buffer.Buffer buf) {
    com.fasterxml.jackson.core.JsonParser parser;
    try {
      parser = JSON.createParser(buf.getBytes());
    } catch (java.io.IOException e) {
      throw new DecodeException("Failed to decode: " + e.getMessage(), e);
    }
    return io.vertx.core.json.jackson.JacksonCodec.fromParser(parser, Object.class);
  }

  private static JsonObject bodyOrEmpty(RoutingContext ctx) {
    io.vertx.core.buffer.Buffer buf = ctx.body().buffer();
    return buf == null || buf.length() == 0 ? new JsonObject() : body(ctx);
  }

  private static Object required(JsonObject body, String field) {
    return required(body, field, field);
  }

  private static Object required(JsonObject body, String field, String name) {
    Object v = body.getValue(field);
    if (v == null) {
      throw QuiverException.invalid(name + " is required");
    }
    return v;
  }

  private static String string(JsonObject body, String field, String def) {
    Object v = body.getValue(field);
    if (v == null) {
      if (def == null) {
        throw QuiverException.invalid(field + " is required");
      }
      return def;
    }
    if (!(v instanceof String s)) {
      throw QuiverException.invalid(field + " must be a string");
    }
    return s;
  }

  private static int integer(JsonObject body, String field, Integer def) {
    Object v = body.getValue(field);
    if (v == null) {
      if (def == null) {
        throw QuiverException.invalid(field + " is required");
      }
      return def;
    }
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())
        || n.doubleValue() > Integer.MAX_VALUE || n.doubleValue() < Integer.MIN_VALUE) {
      throw QuiverException.invalid(field + " must be an integer");
    }
    return n.intValue();
  }

  private static double number(JsonObject body, String field, double def) {
    Object v = body.getValue(field);
    if (v == null) {
      return def;
    }
    if (!(v instanceof Number n)) {
      throw QuiverException.invalid(field + " must be a number");
    }
    return n.doubleValue();
  }

  private static boolean bool(JsonObject body, String field, boolean def) {
    Object v = body.getValue(field);
    if (v == null) {
      return def;
    }
    if (!(v instanceof Boolean b)) {
      throw QuiverException.invalid(field + " must be true or false");
    }
    return b;
  }

  private static long queryLong(RoutingContext ctx, String name, long def) {
    String v = ctx.request().getParam(name);
    if (v == null || v.isEmpty()) {
      return def;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw QuiverException.invalid(name + " must be an integer");
    }
  }

  private static long pathId(RoutingContext ctx) {
    return parseId(ctx.pathParam("id"), "id");
  }

  /** A u64 id written in decimal. */
  static long parseId(String s, String field) {
    try {
      return Long.parseUnsignedLong(s);
    } catch (NumberFormatException e) {
      throw QuiverException.invalid(field + " must be an unsigned 64-bit integer; got '" + s + "'");
    }
  }

  /** A u64 id given as a JSON number. */
  static long id(Object v, String field) {
    if (v instanceof Integer || v instanceof Long || v instanceof Short) {
      long l = ((Number) v).longValue();
      if (l < 0) {
        throw QuiverException.invalid(field + " must be an unsigned 64-bit integer");
      }
      return l;
    }
    if (v instanceof BigInteger b && b.signum() >= 0 && b.compareTo(U64_MAX) <= 0) {
      return b.longValue();
    }
    throw QuiverException.invalid(field + " must be an unsigned 64-bit integer");
  }

  /** A u64 id as a JSON number (ids above 2^63-1 become a BigInteger so they print unsigned). */
  static Number jsonId(long id) {
    return id >= 0 ? (Number) id : new BigInteger(Long.toUnsignedString(id));
  }
}
