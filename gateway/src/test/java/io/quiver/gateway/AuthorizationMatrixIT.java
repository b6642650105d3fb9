package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.quiver.proto.v1.CountPointsRequest;
import io.quiver.proto.v1.CreateCollectionRequest;
import io.quiver.proto.v1.DeleteCollectionRequest;
import io.quiver.proto.v1.DeletePayloadRequest;
import io.quiver.proto.v1.DeletePointRequest;
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
import io.vertx.grpc.common.GrpcStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every REST endpoint and every gRPC method x every kind of caller, against two gateways on one
 * cluster (api_key and jwt mode). Each cell has its expected status, and no cell whose caller is
 * not tenant {@code acme} ever sees acme's collection names or data in a response body.
 */
class AuthorizationMatrixIT {
  private static final String SECRET_COLLECTION = "acme-secret";
  private static final String HIDDEN_COLLECTION = "acme-hidden";
  private static final String SECRET_PAYLOAD = "ACME-PAYLOAD-7f3a";
  private static final List<String> SECRETS = List.of("acme-", SECRET_PAYLOAD, "0.123");
  private static final String KEYS = "key-acme-own:acme:read+write+admin,key-beta:beta:read+write+admin,key-acme-read:acme:read";

  /** Who calls: the tenant and scopes the gateway should see, or none for bad credentials. */
  enum Who { OWN, OTHER_TENANT, READ_ONLY, UNAUTHENTICATED }

  /** One kind of caller: how it presents itself, on which gateway, and who that makes it. */
  record Credential(String name, Who who, boolean jwtGateway, String header, String value) {
    TestHttp http() {
      TestHttp h = jwtGateway ? jwtRest : apiRest;
      return header == null ? h : h.with(header, value);
    }

    TestGrpc grpc() {
      TestGrpc g = jwtGateway ? jwtGrpc : apiGrpc;
      return header == null ? g : g.with(header, value);
    }
  }

  /** One REST endpoint: the scope it needs, whether it names a collection, and the call. */
  record Endpoint(String name, Scope scope, boolean collectionScoped, BiFunction<TestHttp, String, TestHttp.Response> call) {}

  /** One gRPC method, the same way. */
  record Method(String name, Scope scope, boolean collectionScoped, BiFunction<TestGrpc, String, TestGrpc.Reply<?>> call) {}

  private static TestCluster cluster;
  private static TestHttp apiRest;
  private static TestHttp jwtRest;
  private static TestGrpc apiGrpc;
  private static TestGrpc jwtGrpc;
  private static final AtomicInteger fresh = new AtomicInteger();

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(2);
    GatewayVerticle api = cluster.gateway(new GatewayOptions().authMode("api_key").apiKeys(KEYS));
    GatewayVerticle jwt = cluster.gateway(new GatewayOptions().authMode("jwt").jwtSecret(Tokens.SECRET));
    apiRest = new TestHttp(api.httpPort());
    jwtRest = new TestHttp(jwt.httpPort());
    apiGrpc = new TestGrpc(cluster.vertx(), api.grpcPort());
    jwtGrpc = new TestGrpc(cluster.vertx(), jwt.grpcPort());

    TestHttp own = apiRest.with("x-api-key", "key-acme-own");
    for (String name : List.of(SECRET_COLLECTION, HIDDEN_COLLECTION)) {
      assertThat(own.post("/collections", new JsonObject().put("name", name).put("dimension", 2).put("partitions", 2)).status())
          .isEqualTo(200);
    }
    assertThat(own.put("/collections/" + SECRET_COLLECTION + "/points/1", new JsonObject()
        .put("values", new JsonArray().add(0.123).add(0.5)).put("payload", new JsonObject().put("note", SECRET_PAYLOAD))).status())
        .isEqualTo(200);
  }

  @AfterAll
  static void stop() {
    if (apiGrpc != null) {
      apiGrpc.close();
      jwtGrpc.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  static List<Credential> credentials() {
    JsonObject expired = Tokens.claims("acme", "read write admin").put("iat", Tokens.nowSeconds() - 7200)
        .put("exp", Tokens.nowSeconds() - 3600);
    return List.of(
        new Credential("own tenant key", Who.OWN, false, "x-api-key", "key-acme-own"),
        new Credential("own tenant JWT", Who.OWN, true, "authorization",
            "Bearer " + Tokens.hs256(Tokens.claims("acme", "read write admin"), Tokens.SECRET)),
        new Credential("other tenant key", Who.OTHER_TENANT, false, "authorization", "Bearer key-beta"),
        new Credential("read-only key", Who.READ_ONLY, false, "x-api-key", "key-acme-read"),
        new Credential("unknown key", Who.UNAUTHENTICATED, false, "x-api-key", "key-acme-own-guess"),
        new Credential("expired JWT", Who.UNAUTHENTICATED, true, "authorization", "Bearer " + Tokens.hs256(expired, Tokens.SECRET)),
        new Credential("forged JWT", Who.UNAUTHENTICATED, true, "authorization",
            "Bearer " + Tokens.hs256(Tokens.claims("acme", "read write admin"), "an-attacker-secret-of-32-characters!")),
        new Credential("alg none JWT", Who.UNAUTHENTICATED, true, "authorization",
            "Bearer " + Tokens.none(Tokens.claims("acme", "read write admin"))),
        new Credential("no credentials (api_key)", Who.UNAUTHENTICATED, false, null, null),
        new Credential("no credentials (jwt)", Who.UNAUTHENTICATED, true, null, null));
  }

  static List<Endpoint> endpoints() {
    JsonArray v = new JsonArray().add(1.0).add(2.0);
    return List.of(
        new Endpoint("POST /collections", Scope.WRITE, false,
            (h, c) -> h.post("/collections", new JsonObject().put("name", "new-" + fresh.incrementAndGet()).put("dimension", 2))),
        new Endpoint("GET /collections", Scope.READ, false, (h, c) -> h.get("/collections")),
        new Endpoint("GET /collections/{c}", Scope.READ, true, (h, c) -> h.get("/collections/" + c)),
        new Endpoint("DELETE /collections/{c}", Scope.WRITE, true, (h, c) -> h.delete("/collections/" + c)),
        new Endpoint("PUT /collections/{c}/points/{id}", Scope.WRITE, true,
            (h, c) -> h.put("/collections/" + c + "/points/100", new JsonObject().put("values", v))),
        new Endpoint("POST /collections/{c}/points", Scope.WRITE, true, (h, c) -> h.post("/collections/" + c + "/points",
            new JsonObject().put("points", new JsonArray().add(new JsonObject().put("id", 101).put("values", v))))),
        new Endpoint("GET /collections/{c}/points/{id}", Scope.READ, true, (h, c) -> h.get("/collections/" + c + "/points/1")),
        new Endpoint("DELETE /collections/{c}/points/{id}", Scope.WRITE, true, (h, c) -> h.delete("/collections/" + c + "/points/100")),
        new Endpoint("GET /collections/{c}/points", Scope.READ, true, (h, c) -> h.get("/collections/" + c + "/points")),
        new Endpoint("POST /collections/{c}/points/count", Scope.READ, true,
            (h, c) -> h.post("/collections/" + c + "/points/count", new JsonObject())),
        new Endpoint("POST /collections/{c}/points/payload/set", Scope.WRITE, true, (h, c) -> h.post(
            "/collections/" + c + "/points/payload/set",
            new JsonObject().put("points", new JsonArray().add(101)).put("payload", new JsonObject().put("k", "v")))),
        new Endpoint("POST /collections/{c}/points/payload/delete", Scope.WRITE, true, (h, c) -> h.post(
            "/collections/" + c + "/points/payload/delete",
            new JsonObject().put("points", new JsonArray().add(101)).put("keys", new JsonArray().add("k")))),
        new Endpoint("POST /collections/{c}/search", Scope.READ, true, (h, c) -> h.post("/collections/" + c + "/search",
            new JsonObject().put("query", v).put("include_payload", true))),
        new Endpoint("POST /collections/{c}/search/topk", Scope.READ, true, (h, c) -> h.post("/collections/" + c + "/search/topk",
            new JsonObject().put("query", v).put("include_payload", true))),
        new Endpoint("POST /collections/{c}/search/topk/batch", Scope.READ, true, (h, c) -> h.post(
            "/collections/" + c + "/search/topk/batch", new JsonObject().put("queries", new JsonArray().add(v)).put("include_payload", true))),
        new Endpoint("POST /distance", Scope.READ, false,
            (h, c) -> h.post("/distance", new JsonObject().put("left", v).put("right", v))),
        new Endpoint("GET /admin/cluster", Scope.ADMIN, false, (h, c) -> h.get("/admin/cluster")));
  }

  static int expectedStatus(Scope scope, boolean collectionScoped, Who who) {
    return switch (who) {
      case UNAUTHENTICATED -> 401;
      case READ_ONLY -> scope == Scope.READ ? 200 : 403;
      case OTHER_TENANT -> collectionScoped ? 404 : 200;
      case OWN -> 200;
    };
  }

  @TestFactory
  Stream<DynamicTest> restMatrix() {
    List<DynamicTest> cells = new ArrayList<>();
    for (Endpoint e : endpoints()) {
      for (Credential c : credentials()) {
        int expected = expectedStatus(e.scope(), e.collectionScoped(), c.who());
        cells.add(DynamicTest.dynamicTest(e.name() + " x " + c.name() + " -> " + expected, () -> {
          TestHttp.Response r = e.call().apply(c.http(), target(e.name(), c.who()));
          assertThat(r.status()).as("%s x %s: %s", e.name(), c.name(), r.body()).isEqualTo(expected);
          if (expected != 200) {
            assertThat(r.code()).isEqualTo(switch (expected) {
              case 401 -> "unauthorized";
              case 403 -> "forbidden";
              default -> "not_found";
            });
            assertThat(r.json().getString("request_id")).isNotBlank();
          }
          if (c.who() == Who.OTHER_TENANT || c.who() == Who.UNAUTHENTICATED) {
            SECRETS.forEach(s -> assertThat(r.body()).as("%s x %s", e.name(), c.name()).doesNotContain(s));
          }
        }));
      }
    }
    return cells.stream();
  }

  static List<Method> methods() {
    return List.of(
        new Method("CreateCollection", Scope.WRITE, false, (g, c) -> g.call(QuiverGrpcClient.CreateCollection,
            CreateCollectionRequest.newBuilder().setName("new-" + fresh.incrementAndGet()).setDimension(2).build())),
        new Method("GetCollection", Scope.READ, true,
            (g, c) -> g.call(QuiverGrpcClient.GetCollection, GetCollectionRequest.newBuilder().setName(c).build())),
        new Method("ListCollections", Scope.READ, false,
            (g, c) -> g.call(QuiverGrpcClient.ListCollections, ListCollectionsRequest.getDefaultInstance())),
        new Method("DeleteCollection", Scope.WRITE, true,
            (g, c) -> g.call(QuiverGrpcClient.DeleteCollection, DeleteCollectionRequest.newBuilder().setName(c).build())),
        new Method("UpsertPoint", Scope.WRITE, true, (g, c) -> g.call(QuiverGrpcClient.UpsertPoint,
            UpsertPointRequest.newBuilder().setCollection(c).setId(100).addValues(1f).addValues(2f).build())),
        new Method("UpsertPoints", Scope.WRITE, true, (g, c) -> g.call(QuiverGrpcClient.UpsertPoints, UpsertPointsRequest.newBuilder()
            .setCollection(c).addPoints(Point.newBuilder().setId(101).addValues(1f).addValues(2f)).build())),
        new Method("GetPoint", Scope.READ, true,
            (g, c) -> g.call(QuiverGrpcClient.GetPoint, GetPointRequest.newBuilder().setCollection(c).setId(1).build())),
        new Method("DeletePoint", Scope.WRITE, true,
            (g, c) -> g.call(QuiverGrpcClient.DeletePoint, DeletePointRequest.newBuilder().setCollection(c).setId(100).build())),
        new Method("ListPoints", Scope.READ, true,
            (g, c) -> g.call(QuiverGrpcClient.ListPoints, ListPointsRequest.newBuilder().setCollection(c).build())),
        new Method("CountPoints", Scope.READ, true,
            (g, c) -> g.call(QuiverGrpcClient.CountPoints, CountPointsRequest.newBuilder().setCollection(c).build())),
        new Method("SetPayload", Scope.WRITE, true, (g, c) -> g.call(QuiverGrpcClient.SetPayload, SetPayloadRequest.newBuilder()
            .setCollection(c).addPoints(101).setPayload(Structs.fromJson(new JsonObject().put("k", "v"))).build())),
        new Method("DeletePayload", Scope.WRITE, true, (g, c) -> g.call(QuiverGrpcClient.DeletePayload,
            DeletePayloadRequest.newBuilder().setCollection(c).addPoints(101).addKeys("k").build())),
        new Method("Search", Scope.READ, true, (g, c) -> g.call(QuiverGrpcClient.Search,
            SearchRequest.newBuilder().setCollection(c).addQuery(1f).addQuery(2f).setIncludePayload(true).build())),
        new Method("SearchTopK", Scope.READ, true, (g, c) -> g.call(QuiverGrpcClient.SearchTopK,
            SearchRequest.newBuilder().setCollection(c).addQuery(1f).addQuery(2f).setIncludePayload(true).build())),
        new Method("SearchBatch", Scope.READ, true, (g, c) -> g.call(QuiverGrpcClient.SearchBatch, SearchBatchRequest.newBuilder()
            .setCollection(c).addQueries(Query.newBuilder().addValues(1f).addValues(2f)).setIncludePayload(true).build())));
  }

  @TestFactory
  Stream<DynamicTest> grpcMatrix() {
    List<DynamicTest> cells = new ArrayList<>();
    for (Method m : methods()) {
      for (Credential c : credentials()) {
        int http = expectedStatus(m.scope(), m.collectionScoped(), c.who());
        GrpcStatus expected = switch (http) {
          case 401 -> GrpcStatus.UNAUTHENTICATED;
          case 403 -> GrpcStatus.PERMISSION_DENIED;
          case 404 -> GrpcStatus.NOT_FOUND;
          default -> GrpcStatus.OK;
        };
        cells.add(DynamicTest.dynamicTest(m.name() + " x " + c.name() + " -> " + expected, () -> {
          TestGrpc.Reply<?> r = m.call().apply(c.grpc(), target(m.name(), c.who()));
          assertThat(r.status()).as("%s x %s: %s", m.name(), c.name(), r.message()).isEqualTo(expected);
          if (c.who() == Who.OTHER_TENANT || c.who() == Who.UNAUTHENTICATED) {
            String seen = r.message() + " " + r.body();
            SECRETS.forEach(s -> assertThat(seen).as("%s x %s", m.name(), c.name()).doesNotContain(s));
          }
        }));
      }
    }
    return cells.stream();
  }

  @Test
  void anotherTenantsAttemptsLeaveTheCollectionAndItsDataIntact() {
    TestHttp own = apiRest.with("x-api-key", "key-acme-own");
    JsonObject p = own.get("/collections/" + SECRET_COLLECTION + "/points/1").json();
    assertThat(p.getJsonObject("payload").getString("note")).isEqualTo(SECRET_PAYLOAD);
    TestHttp beta = apiRest.with("x-api-key", "key-beta");
    assertThat(beta.delete("/collections/" + SECRET_COLLECTION).status()).isEqualTo(404);
    assertThat(own.get("/collections/" + SECRET_COLLECTION).status()).isEqualTo(200);
    // A foreign collection and a free name answer byte for byte the same, apart from the request id.
    JsonObject foreign = beta.get("/collections/" + SECRET_COLLECTION).json();
    JsonObject free = beta.get("/collections/nobody-has-this").json();
    foreign.remove("request_id");
    free.remove("request_id");
    assertThat(foreign).isEqualTo(free);
  }

  /**
   * The collection a cell targets: acme's secret collection, except that a delete by a caller
   * allowed to delete it gets a throwaway collection of its own tenant created just before.
   */
  private static String target(String endpoint, Who who) {
    boolean deletesCollection = endpoint.startsWith("DELETE /collections/{c}") && !endpoint.contains("points")
        || endpoint.equals("DeleteCollection");
    if (deletesCollection && who == Who.OWN) {
      String name = "acme-tmp-" + fresh.incrementAndGet();
      assertThat(apiRest.with("x-api-key", "key-acme-own").post("/collections", new JsonObject().put("name", name).put("dimension", 2))
          .status()).isEqualTo(200);
      return name;
    }
    return SECRET_COLLECTION;
  }
}
