package io.quiver.loadtest;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A tiny in-memory stand-in for the Quiver gateway on 127.0.0.1 (random port) with just the endpoints
 * the bench scenarios use, exact search, the read-only flag and Quiver's error body. Knobs make it
 * misbehave on purpose so that the scenarios' checks can be seen to fail.
 *
 * <p>All handlers run on one event loop; the maps are concurrent anyway because tests read them.
 */
final class FakeQuiverServer implements AutoCloseable {

  record Collection(int dimension, Map<Long, float[]> points) {}

  private final Map<String, JsonObject> createRequests = new ConcurrentHashMap<>();

  /** The body of the last create request for {@code name}, or null. */
  JsonObject createRequest(String name) {
    return createRequests.get(name);
  }

  final Map<String, Collection> collections = new ConcurrentHashMap<>();
  final AtomicInteger upserts = new AtomicInteger();
  final AtomicInteger searches = new AtomicInteger();
  final AtomicLong readOnlySince = new AtomicLong(-1);
  volatile boolean readOnly;
  /** Acknowledge but do not store every n-th point (0 = off): "loses" acknowledged writes. */
  volatile int dropEvery;
  /** Keep accepting writes for this long after read-only was switched on (0 = off). */
  volatile long leakReadOnlyMs;
  /** Answer 503 overloaded when more than this many requests are in flight (0 = off). */
  volatile int maxInFlight;
  /** Delay every answer by this long. */
  volatile long delayMs;

  private final Vertx vertx;
  private final HttpServer server;
  private final AtomicLong pointCounter = new AtomicLong();
  private final AtomicInteger inFlight = new AtomicInteger();

  FakeQuiverServer(Vertx vertx) {
    this.vertx = vertx;
    Router router = Router.router(vertx);
    router.route().handler(BodyHandler.create());
    router.route().handler(this::admission);
    router.get("/ready").handler(ctx -> reply(ctx, 200, new JsonObject().put("status", "ready")));
    router.post("/collections").handler(this::createCollection);
    router.delete("/collections/:name").handler(this::deleteCollection);
    router.post("/collections/:name/points").handler(this::upsert);
    router.get("/collections/:name/points/:id").handler(this::getPoint);
    router.post("/collections/:name/search/topk").handler(this::search);
    router.post("/collections/:name/search/topk/batch").handler(this::searchBatch);
    router.put("/admin/read-only").handler(this::setReadOnly);
    this.server = BenchRun.await(vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
  }

  String url() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  int points(String collection) {
    Collection c = collections.get(collection);
    return c == null ? 0 : c.points().size();
  }

  @Override
  public void close() {
    BenchRun.await(server.close());
  }

  private void admission(RoutingContext ctx) {
    if (maxInFlight > 0 && inFlight.get() >= maxInFlight) {
      ctx.response().putHeader("retry-after", "1");
      error(ctx, 503, "overloaded", "gateway concurrency limit reached");
      return;
    }
    inFlight.incrementAndGet();
    ctx.addEndHandler(v -> inFlight.decrementAndGet());
    ctx.next();
  }

  private void createCollection(RoutingContext ctx) {
    JsonObject body = ctx.body().asJsonObject();
    String name = body.getString("name");
    createRequests.put(name, body.copy());
    Collection fresh = new Collection(body.getInteger("dimension"), new ConcurrentHashMap<>());
    if (collections.putIfAbsent(name, fresh) != null) {
      error(ctx, 409, "conflict", "collection exists");
      return;
    }
    reply(ctx, 200, new JsonObject().put("name", name).put("dimension", fresh.dimension())
        .put("strict_finite", true).put("point_count", 0));
  }

  private void deleteCollection(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    if (collections.remove(name) == null) {
      error(ctx, 404, "not_found", "no collection " + name);
      return;
    }
    reply(ctx, 200, new JsonObject().put("name", name).put("deleted", true));
  }

  private void upsert(RoutingContext ctx) {
    Collection c = collection(ctx);
    if (c == null) {
      return;
    }
    long since = readOnlySince.get();
    if (readOnly && (leakReadOnlyMs == 0 || System.currentTimeMillis() - since > leakReadOnlyMs)) {
      error(ctx, 403, "read_only", "read-only: bench");
      return;
    }
    JsonArray points = ctx.body().asJsonObject().getJsonArray("points");
    JsonArray results = new JsonArray();
    int created = 0;
    for (Object o : points) {
      JsonObject p = (JsonObject) o;
      float[] v = vector(p.getJsonArray("values"));
      if (v.length != c.dimension()) {
        error(ctx, 400, "invalid_argument", "dimension " + v.length + " != " + c.dimension());
        return;
      }
      long id = p.getLong("id");
      boolean isNew = !c.points().containsKey(id);
      if (dropEvery == 0 || pointCounter.incrementAndGet() % dropEvery != 0) {
        c.points().put(id, v);
      }
      created += isNew ? 1 : 0;
      results.add(new JsonObject().put("id", id).put("created", isNew));
    }
    upserts.incrementAndGet();
    reply(ctx, 200, new JsonObject().put("created", created).put("updated", points.size() - created)
        .put("results", results));
  }

  private void getPoint(RoutingContext ctx) {
    Collection c = collection(ctx);
    if (c == null) {
      return;
    }
    long id = Long.parseLong(ctx.pathParam("id"));
    float[] v = c.points().get(id);
    if (v == null) {
      error(ctx, 404, "not_found", "no point " + id);
      return;
    }
    JsonArray values = new JsonArray();
    for (float f : v) {
      values.add(f);
    }
    reply(ctx, 200, new JsonObject().put("id", id).put("values", values).put("payload", new JsonObject()));
  }

  private void search(RoutingContext ctx) {
    Collection c = collection(ctx);
    if (c == null) {
      return;
    }
    JsonObject body = ctx.body().asJsonObject();
    searches.incrementAndGet();
    reply(ctx, 200, new JsonObject().put("metric", body.getString("metric", "dot")).put("mode", "exact")
        .put("hits", topk(c, vector(body.getJsonArray("query")), body)));
  }

  private void searchBatch(RoutingContext ctx) {
    Collection c = collection(ctx);
    if (c == null) {
      return;
    }
    JsonObject body = ctx.body().asJsonObject();
    JsonArray results = new JsonArray();
    for (Object q : body.getJsonArray("queries")) {
      results.add(new JsonObject().put("mode", "exact").put("hits", topk(c, vector((JsonArray) q), body)));
    }
    searches.incrementAndGet();
    reply(ctx, 200, new JsonObject().put("metric", body.getString("metric", "dot")).put("results", results));
  }

  private void setReadOnly(RoutingContext ctx) {
    JsonObject body = ctx.body().asJsonObject();
    readOnly = body.getBoolean("enabled");
    readOnlySince.set(System.currentTimeMillis());
    reply(ctx, 200, new JsonObject().put("enabled", readOnly).put("reason", body.getString("reason"))
        .put("since", readOnlySince.get()).put("set_by", "test"));
  }

  private JsonArray topk(Collection c, float[] query, JsonObject body) {
    Metric metric = Metric.parse(body.getString("metric", "dot"));
    int limit = body.getInteger("limit", 10);
    List<Map.Entry<Long, float[]>> all = new ArrayList<>(c.points().entrySet());
    all.sort(Comparator.<Map.Entry<Long, float[]>>comparingDouble(e -> -metric.score(e.getValue(), query))
        .thenComparing(Map.Entry::getKey));
    JsonArray hits = new JsonArray();
    for (int i = 0; i < Math.min(limit, all.size()); i++) {
      hits.add(new JsonObject().put("id", all.get(i).getKey()).put("value", metric.score(all.get(i).getValue(), query)));
    }
    return hits;
  }

  private Collection collection(RoutingContext ctx) {
    Collection c = collections.get(ctx.pathParam("name"));
    if (c == null) {
      error(ctx, 404, "not_found", "no collection " + ctx.pathParam("name"));
    }
    return c;
  }

  private static float[] vector(JsonArray a) {
    float[] v = new float[a.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = ((Number) a.getValue(i)).floatValue();
    }
    return v;
  }

  private void error(RoutingContext ctx, int status, String code, String message) {
    reply(ctx, status, new JsonObject().put("code", code).put("message", message)
        .put("request_id", UUID.randomUUID().toString()));
  }

  private void reply(RoutingContext ctx, int status, JsonObject body) {
    Runnable send = () -> ctx.response().setStatusCode(status).putHeader("content-type", "application/json")
        .end(body.toBuffer());
    if (delayMs > 0) {
      vertx.setTimer(delayMs, id -> send.run());
    } else {
      send.run();
    }
  }
}
