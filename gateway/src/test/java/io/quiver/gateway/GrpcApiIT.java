package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.quiver.proto.v1.Collection;
import io.quiver.proto.v1.CountPointsRequest;
import io.quiver.proto.v1.CreateCollectionRequest;
import io.quiver.proto.v1.DeleteCollectionRequest;
import io.quiver.proto.v1.DeletePointRequest;
import io.quiver.proto.v1.FieldValue;
import io.quiver.proto.v1.Filter;
import io.quiver.proto.v1.FilterClause;
import io.quiver.proto.v1.GetCollectionRequest;
import io.quiver.proto.v1.GetPointRequest;
import io.quiver.proto.v1.ListCollectionsRequest;
import io.quiver.proto.v1.ListPointsRequest;
import io.quiver.proto.v1.Point;
import io.quiver.proto.v1.Query;
import io.quiver.proto.v1.QuiverGrpcClient;
import io.quiver.proto.v1.SearchBatchRequest;
import io.quiver.proto.v1.SearchRequest;
import io.quiver.proto.v1.SetPayloadRequest;
import io.quiver.proto.v1.UpsertPointRequest;
import io.quiver.proto.v1.UpsertPointsRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.health.v1.HealthCheckRequest;
import io.vertx.grpc.health.v1.HealthCheckResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The public gRPC API against the real topology (2 shards, one gateway): every operation answers
 * what its REST twin answers, and errors come back as API.md's gRPC status with the error code as
 * the first word of the message.
 */
class GrpcApiIT {
  private static final int DIM = 4;
  private static final ServiceMethod<HealthCheckResponse, HealthCheckRequest> HEALTH_CHECK = ServiceMethod.client(
      ServiceName.create("grpc.health.v1", "Health"), "Check", GrpcMessageEncoder.encoder(),
      GrpcMessageDecoder.decoder(HealthCheckResponse.newBuilder()));

  private static TestCluster cluster;
  private static TestHttp rest;
  private static TestGrpc grpc;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(2);
    GatewayVerticle g = cluster.gateway(new GatewayOptions().maxBodyBytes(256 * 1024).maxTopK(100));
    rest = new TestHttp(g.httpPort());
    grpc = new TestGrpc(cluster.vertx(), g.grpcPort());
  }

  @AfterAll
  static void stop() {
    if (grpc != null) {
      grpc.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void restAndGrpcTwinsGiveTheSameAnswers() {
    // create: the same collection under two names, one per protocol
    JsonObject restColl = rest.post("/collections", new JsonObject().put("name", "twin-rest").put("dimension", DIM)
        .put("metric", "l2").put("partitions", 4)).json();
    Collection grpcColl = ok(grpc.call(QuiverGrpcClient.CreateCollection, CreateCollectionRequest.newBuilder()
        .setName("twin-grpc").setDimension(DIM).setMetric("l2").setPartitions(4).build()));
    assertThat(grpcColl.getDimension()).isEqualTo(restColl.getInteger("dimension"));
    assertThat(grpcColl.getMetric()).isEqualTo(restColl.getString("metric"));
    assertThat(grpcColl.getPartitions()).isEqualTo(restColl.getInteger("partitions"));
    assertThat(grpcColl.getStrictFinite()).isEqualTo(restColl.getBoolean("strict_finite"));
    assertThat(grpcColl.getPointCount()).isEqualTo(restColl.getLong("point_count"));

    // upsert: the same points, as a batch and one by one
    Random rnd = new Random(7);
    JsonArray restPoints = new JsonArray();
    UpsertPointsRequest.Builder batch = UpsertPointsRequest.newBuilder().setCollection("twin-grpc");
    for (long id = 1; id <= 30; id++) {
      float[] v = vector(rnd);
      JsonObject payload = new JsonObject().put("group", id % 3 == 0 ? "a" : "b").put("rank", id).put("tags", new JsonArray().add("x").add(id));
      restPoints.add(new JsonObject().put("id", id).put("values", json(v)).put("payload", payload));
      Point.Builder p = Point.newBuilder().setId(id).setPayload(Structs.fromJson(payload));
      for (float f : v) {
        p.addValues(f);
      }
      batch.addPoints(p);
    }
    JsonObject restUp = rest.post("/collections/twin-rest/points", new JsonObject().put("points", restPoints)).json();
    var grpcUp = ok(grpc.call(QuiverGrpcClient.UpsertPoints, batch.build()));
    assertThat(grpcUp.getCreated()).isEqualTo(restUp.getLong("created")).isEqualTo(30);
    assertThat(grpcUp.getResultsCount()).isEqualTo(restUp.getJsonArray("results").size());
    float[] extra = vector(rnd);
    JsonObject restOne = rest.put("/collections/twin-rest/points/31", new JsonObject().put("values", json(extra))).json();
    UpsertPointRequest.Builder one = UpsertPointRequest.newBuilder().setCollection("twin-grpc").setId(31);
    for (float f : extra) {
      one.addValues(f);
    }
    assertThat(ok(grpc.call(QuiverGrpcClient.UpsertPoint, one.build())).getCreated()).isEqualTo(restOne.getBoolean("created")).isTrue();

    // get: values and payload read back identically
    JsonObject restGet = rest.get("/collections/twin-rest/points/6").json();
    Point grpcGet = ok(grpc.call(QuiverGrpcClient.GetPoint, GetPointRequest.newBuilder().setCollection("twin-grpc").setId(6).build()));
    assertThat(grpcGet.getValuesList()).containsExactlyElementsOf(floats(restGet.getJsonArray("values")));
    assertThat(Structs.toJson(grpcGet.getPayload())).isEqualTo(restGet.getJsonObject("payload"));

    // search: same ids and scores, top-k, top-1 and batch, with a filter and payloads
    float[] q = vector(rnd);
    JsonObject restTopK = rest.post("/collections/twin-rest/search/topk", new JsonObject().put("query", json(q)).put("limit", 5)
        .put("mode", "exact").put("include_payload", true)
        .put("filter", new JsonObject().put("must", new JsonArray().add(new JsonObject().put("field", "group").put("value", "b"))))).json();
    var grpcTopK = ok(grpc.call(QuiverGrpcClient.SearchTopK, search("twin-grpc", q).setLimit(5).setMode("exact").setIncludePayload(true)
        .setFilter(Filter.newBuilder().addMust(FilterClause.newBuilder().setField("group")
            .setValue(FieldValue.newBuilder().setStringValue("b")))).build()));
    assertThat(grpcTopK.getHitsList().stream().map(h -> h.getId()).toList())
        .isEqualTo(restTopK.getJsonArray("hits").stream().map(h -> ((JsonObject) h).getLong("id")).toList()).hasSize(5);
    for (int i = 0; i < 5; i++) {
      JsonObject h = restTopK.getJsonArray("hits").getJsonObject(i);
      assertThat(grpcTopK.getHits(i).getValue()).isEqualTo(h.getFloat("value"));
      assertThat(Structs.toJson(grpcTopK.getHits(i).getPayload())).isEqualTo(h.getJsonObject("payload"));
    }
    assertThat(grpcTopK.getMetric()).isEqualTo(restTopK.getString("metric")).isEqualTo("l2");
    assertThat(grpcTopK.getMode()).isEqualTo(restTopK.getString("mode"));

    JsonObject restTop1 = rest.post("/collections/twin-rest/search", new JsonObject().put("query", json(q))).json();
    var grpcTop1 = ok(grpc.call(QuiverGrpcClient.Search, search("twin-grpc", q).build()));
    assertThat(grpcTop1.getFound()).isTrue();
    assertThat(grpcTop1.getId()).isEqualTo(restTop1.getLong("id"));
    assertThat(grpcTop1.getValue()).isEqualTo(restTop1.getFloat("value"));

    float[] q2 = vector(rnd);
    JsonObject restBatch = rest.post("/collections/twin-rest/search/topk/batch", new JsonObject()
        .put("queries", new JsonArray().add(json(q)).add(json(q2))).put("limit", 3)).json();
    var grpcBatch = ok(grpc.call(QuiverGrpcClient.SearchBatch, SearchBatchRequest.newBuilder().setCollection("twin-grpc")
        .addQueries(query(q)).addQueries(query(q2)).setLimit(3).build()));
    for (int i = 0; i < 2; i++) {
      JsonArray hits = restBatch.getJsonArray("results").getJsonObject(i).getJsonArray("hits");
      assertThat(grpcBatch.getResults(i).getHitsList().stream().map(h -> h.getId()).toList())
          .isEqualTo(hits.stream().map(h -> ((JsonObject) h).getLong("id")).toList());
    }

    // count, list, payload update, delete point, get collection, list collections
    JsonObject filterJson = new JsonObject().put("must", new JsonArray().add(new JsonObject().put("field", "rank").put("gte", 10)));
    Filter filter = Filter.newBuilder().addMust(FilterClause.newBuilder().setField("rank").setGte(10)).build();
    assertThat(ok(grpc.call(QuiverGrpcClient.CountPoints, CountPointsRequest.newBuilder().setCollection("twin-grpc").setFilter(filter).build()))
        .getCount()).isEqualTo(rest.post("/collections/twin-rest/points/count", new JsonObject().put("filter", filterJson)).json().getLong("count"))
        .isEqualTo(21);
    JsonObject restPage = rest.get("/collections/twin-rest/points?limit=7&offset=3").json();
    var grpcPage = ok(grpc.call(QuiverGrpcClient.ListPoints, ListPointsRequest.newBuilder().setCollection("twin-grpc").setLimit(7).setOffset(3).build()));
    assertThat(grpcPage.getIdsList()).isEqualTo(restPage.getJsonArray("points").stream().map(p -> ((JsonObject) p).getLong("id")).toList());
    assertThat(grpcPage.getTotal()).isEqualTo(restPage.getLong("total"));
    assertThat(grpcPage.getNextAfterId()).isEqualTo(restPage.getLong("next_after_id"));
    assertThat(ok(grpc.call(QuiverGrpcClient.SetPayload, SetPayloadRequest.newBuilder().setCollection("twin-grpc").addPoints(1).addPoints(2)
        .setPayload(Struct.newBuilder().putFields("color", Value.newBuilder().setStringValue("red").build())).build())).getUpdated())
        .isEqualTo(rest.post("/collections/twin-rest/points/payload/set", new JsonObject().put("points", new JsonArray().add(1).add(2))
            .put("payload", new JsonObject().put("color", "red"))).json().getLong("updated"));
    assertThat(ok(grpc.call(QuiverGrpcClient.DeletePoint, DeletePointRequest.newBuilder().setCollection("twin-grpc").setId(31).build()))
        .getDeleted()).isEqualTo(rest.delete("/collections/twin-rest/points/31").json().getBoolean("deleted")).isTrue();
    assertThat(ok(grpc.call(QuiverGrpcClient.GetCollection, GetCollectionRequest.newBuilder().setName("twin-grpc").build())).getPointCount())
        .isEqualTo(rest.get("/collections/twin-rest").json().getLong("point_count")).isEqualTo(30);
    assertThat(ok(grpc.call(QuiverGrpcClient.ListCollections, ListCollectionsRequest.getDefaultInstance())).getCollectionsList()
        .stream().map(Collection::getName).toList()).containsExactlyElementsOf(
            rest.get("/collections").json().getJsonArray("collections").stream().map(c -> ((JsonObject) c).getString("name")).toList());

    // delete
    assertThat(ok(grpc.call(QuiverGrpcClient.DeleteCollection, DeleteCollectionRequest.newBuilder().setName("twin-grpc").build())).getDeleted())
        .isEqualTo(rest.delete("/collections/twin-rest").json().getBoolean("deleted")).isTrue();
    assertError(grpc.call(QuiverGrpcClient.GetCollection, GetCollectionRequest.newBuilder().setName("twin-grpc").build()),
        GrpcStatus.NOT_FOUND, "not_found");
    assertThat(rest.get("/collections/twin-rest").status()).isEqualTo(404);
  }

  @Test
  void errorsComeBackAsTheStatusOfTheApiTableWithTheCodeFirst() {
    ok(grpc.call(QuiverGrpcClient.CreateCollection, CreateCollectionRequest.newBuilder().setName("errs").setDimension(DIM).setPartitions(2).build()));
    assertError(grpc.call(QuiverGrpcClient.CreateCollection, CreateCollectionRequest.newBuilder().setName("errs").setDimension(DIM).build()),
        GrpcStatus.ALREADY_EXISTS, "conflict");
    assertError(grpc.call(QuiverGrpcClient.GetPoint, GetPointRequest.newBuilder().setCollection("errs").setId(404).build()),
        GrpcStatus.NOT_FOUND, "not_found");
    assertError(grpc.call(QuiverGrpcClient.UpsertPoint, UpsertPointRequest.newBuilder().setCollection("errs").setId(1).addValues(1f).build()),
        GrpcStatus.INVALID_ARGUMENT, "invalid_argument");
    assertError(grpc.call(QuiverGrpcClient.SearchTopK, search("errs", new float[DIM]).setLimit(1_000_000).build()),
        GrpcStatus.INVALID_ARGUMENT, "invalid_argument");
    assertError(grpc.call(QuiverGrpcClient.SearchTopK, search("errs", new float[DIM]).setLimit(-1).build()),
        GrpcStatus.INVALID_ARGUMENT, "invalid_argument");
    assertError(grpc.call(QuiverGrpcClient.SearchTopK, search("errs", new float[DIM]).setFilter(Filter.newBuilder()
        .addMust(FilterClause.newBuilder().setField("f"))).build()), GrpcStatus.INVALID_ARGUMENT, "invalid_argument");
    assertError(grpc.call(QuiverGrpcClient.ListPoints, ListPointsRequest.newBuilder().setCollection("errs").setOffset(Long.MAX_VALUE).build()),
        GrpcStatus.INVALID_ARGUMENT, "invalid_argument");
    assertError(grpc.call(QuiverGrpcClient.CreateCollection, CreateCollectionRequest.newBuilder().setName("huge").setDimension(Integer.MAX_VALUE).build()),
        GrpcStatus.INVALID_ARGUMENT, "invalid_argument");
    assertError(grpc.call(QuiverGrpcClient.CreateCollection, CreateCollectionRequest.newBuilder().setName("bad name!").setDimension(2).build()),
        GrpcStatus.INVALID_ARGUMENT, "invalid_argument");
  }

  @Test
  void upsertPointsErrorsMapToTheStatusOfTheApiTable() {
    ok(grpc.call(QuiverGrpcClient.CreateCollection, CreateCollectionRequest.newBuilder().setName("upserrs").setDimension(DIM).setPartitions(2).build()));
    UpsertPointsRequest.Builder wrongDim = UpsertPointsRequest.newBuilder().setCollection("upserrs");
    wrongDim.addPoints(Point.newBuilder().setId(1).addAllValues(java.util.Collections.nCopies(DIM, 0.5f)));
    wrongDim.addPoints(Point.newBuilder().setId(2).addAllValues(java.util.Collections.nCopies(DIM + 1, 0.5f)));
    assertError(grpc.call(QuiverGrpcClient.UpsertPoints, wrongDim.build()), GrpcStatus.INVALID_ARGUMENT, "invalid_argument");
    UpsertPointsRequest.Builder nan = UpsertPointsRequest.newBuilder().setCollection("upserrs");
    nan.addPoints(Point.newBuilder().setId(3).addAllValues(java.util.Collections.nCopies(DIM, Float.NaN)));
    assertError(grpc.call(QuiverGrpcClient.UpsertPoints, nan.build()), GrpcStatus.INVALID_ARGUMENT, "invalid_argument");
    assertError(grpc.call(QuiverGrpcClient.UpsertPoints, UpsertPointsRequest.newBuilder().setCollection("upserrs").build()),
        GrpcStatus.INVALID_ARGUMENT, "invalid_argument");
    UpsertPointsRequest.Builder unknown = UpsertPointsRequest.newBuilder().setCollection("nosuchcollection");
    unknown.addPoints(Point.newBuilder().setId(1).addAllValues(java.util.Collections.nCopies(DIM, 0.5f)));
    assertError(grpc.call(QuiverGrpcClient.UpsertPoints, unknown.build()), GrpcStatus.NOT_FOUND, "not_found");
    // Nothing of a refused batch was written.
    assertError(grpc.call(QuiverGrpcClient.GetPoint, GetPointRequest.newBuilder().setCollection("upserrs").setId(1).build()),
        GrpcStatus.NOT_FOUND, "not_found");
  }

  @Test
  void checksTheSameSizeLimitsAsRestBeforeBuildingAnything() {
    ok(grpc.call(QuiverGrpcClient.CreateCollection, CreateCollectionRequest.newBuilder().setName("limits").setDimension(DIM).build()));
    UpsertPointRequest.Builder tooWide = UpsertPointRequest.newBuilder().setCollection("limits").setId(1);
    for (int i = 0; i < GatewayOptions.DEFAULT_MAX_DIMENSION + 1; i++) {
      tooWide.addValues(0f);
    }
    assertError(grpc.call(QuiverGrpcClient.UpsertPoint, tooWide.build()), GrpcStatus.INVALID_ARGUMENT, "invalid_argument");
    UpsertPointsRequest.Builder tooMany = UpsertPointsRequest.newBuilder().setCollection("limits");
    for (int i = 0; i < 40_000; i++) {
      tooMany.addPoints(Point.newBuilder().setId((1L << 50) + i).addValues(1f));
    }
    // Over the 256 KiB message limit of this gateway.
    GrpcStatus bigStatus = grpc.call(QuiverGrpcClient.UpsertPoints, tooMany.build()).status();
    assertThat(bigStatus).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
    SearchBatchRequest.Builder manyQueries = SearchBatchRequest.newBuilder().setCollection("limits");
    for (int i = 0; i < GatewayOptions.DEFAULT_MAX_BATCH_QUERIES + 1; i++) {
      manyQueries.addQueries(Query.getDefaultInstance());
    }
    assertError(grpc.call(QuiverGrpcClient.SearchBatch, manyQueries.build()), GrpcStatus.INVALID_ARGUMENT, "invalid_argument");
    assertThat(ok(grpc.call(HEALTH_CHECK, HealthCheckRequest.getDefaultInstance())).getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }

  @Test
  void aPassedDeadlineAnswersDeadlineExceeded() {
    ok(grpc.call(QuiverGrpcClient.CreateCollection, CreateCollectionRequest.newBuilder().setName("slow").setDimension(64).build()));
    UpsertPointsRequest.Builder big = UpsertPointsRequest.newBuilder().setCollection("slow");
    Random rnd = new Random(1);
    for (int i = 0; i < 500; i++) {
      Point.Builder p = Point.newBuilder().setId(i);
      for (int d = 0; d < 64; d++) {
        p.addValues(rnd.nextFloat());
      }
      big.addPoints(p);
    }
    var reply = grpc.with("grpc-timeout", "1m").call(QuiverGrpcClient.UpsertPoints, big.build());
    assertThat(reply.status()).isEqualTo(GrpcStatus.DEADLINE_EXCEEDED);
    assertThat(reply.code()).isEqualTo("timeout");
  }

  @Test
  void answersTheHealthCheckOfTheQuiverService() {
    var reply = grpc.call(HEALTH_CHECK, HealthCheckRequest.newBuilder().setService("quiver.v1.Quiver").build());
    assertThat(ok(reply).getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }

  // ---------------------------------------------------------------- helpers

  static <T> T ok(TestGrpc.Reply<T> r) {
    assertThat(r.status()).as("status of %s", r.message()).isEqualTo(GrpcStatus.OK);
    return r.body();
  }

  static void assertError(TestGrpc.Reply<?> r, GrpcStatus status, String code) {
    assertThat(r.status()).as("status (message: %s)", r.message()).isEqualTo(status);
    assertThat(r.code()).isEqualTo(code);
  }

  private static SearchRequest.Builder search(String collection, float[] q) {
    SearchRequest.Builder b = SearchRequest.newBuilder().setCollection(collection);
    for (float f : q) {
      b.addQuery(f);
    }
    return b;
  }

  private static Query query(float[] q) {
    Query.Builder b = Query.newBuilder();
    for (float f : q) {
      b.addValues(f);
    }
    return b.build();
  }

  private static float[] vector(Random rnd) {
    float[] v = new float[DIM];
    for (int i = 0; i < DIM; i++) {
      v[i] = rnd.nextFloat() * 2 - 1;
    }
    return v;
  }

  private static JsonArray json(float[] v) {
    JsonArray a = new JsonArray();
    for (float f : v) {
      a.add(f);
    }
    return a;
  }

  private static List<Float> floats(JsonArray a) {
    List<Float> out = new ArrayList<>();
    a.forEach(x -> out.add(((Number) x).floatValue()));
    return out;
  }
}
