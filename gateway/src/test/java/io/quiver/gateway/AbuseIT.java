package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Hostile and careless inputs over REST: each is refused with a 4xx and the API error body, never a
 * 5xx, and the gateway still answers ready and serves a normal search afterwards.
 */
class AbuseIT {
  private static final int MAX_BODY = 64 * 1024;
  private static final String C = "/collections/abuse";

  private static TestCluster cluster;
  private static TestHttp http;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(2);
    GatewayVerticle g = cluster.gateway(new GatewayOptions().maxBodyBytes(MAX_BODY).maxBatchPoints(100).maxTopK(100)
        .maxPageSize(1000).maxOffset(10_000).maxBatchQueries(10).maxFilterClauses(8).maxDimension(512));
    http = new TestHttp(g.httpPort());
    assertThat(http.post("/collections", new JsonObject().put("name", "abuse").put("dimension", 3)).status()).isEqualTo(200);
    assertThat(http.put(C + "/points/1", new JsonObject().put("values", vec(3))).status()).isEqualTo(200);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  record Abuse(String name, String method, String path, Object body, int status, String code) {}

  static List<Abuse> abuses() {
    List<Abuse> a = new ArrayList<>();
    a.add(new Abuse("oversized body", "POST", C + "/points", "{\"points\":[" + "1,".repeat(MAX_BODY) + "1]}", 413, "payload_too_large"));
    a.add(new Abuse("huge top-k", "POST", C + "/search/topk", q().put("limit", 1_000_000_000), 400, "invalid_argument"));
    a.add(new Abuse("top-k beyond int", "POST", C + "/search/topk", q().put("limit", 1e30), 400, "invalid_argument"));
    a.add(new Abuse("negative top-k", "POST", C + "/search/topk", q().put("limit", -1), 400, "invalid_argument"));
    JsonArray many = new JsonArray();
    for (int i = 0; i < 101; i++) {
      many.add(new JsonObject().put("id", i).put("values", vec(3)));
    }
    a.add(new Abuse("batch over the limit", "POST", C + "/points", new JsonObject().put("points", many), 400, "invalid_argument"));
    JsonArray queries = new JsonArray();
    for (int i = 0; i < 11; i++) {
      queries.add(vec(3));
    }
    a.add(new Abuse("too many batch queries", "POST", C + "/search/topk/batch", new JsonObject().put("queries", queries), 400,
        "invalid_argument"));
    a.add(new Abuse("wrong dimension", "PUT", C + "/points/2", new JsonObject().put("values", vec(4)), 400, "invalid_argument"));
    a.add(new Abuse("query of wrong dimension", "POST", C + "/search/topk", new JsonObject().put("query", vec(2)), 400, "invalid_argument"));
    a.add(new Abuse("vector over max dimension", "PUT", C + "/points/2", new JsonObject().put("values", vec(513)), 400, "invalid_argument"));
    a.add(new Abuse("collection over max dimension", "POST", "/collections", new JsonObject().put("name", "wide").put("dimension", 1 << 30),
        400, "invalid_argument"));
    a.add(new Abuse("too many partitions", "POST", "/collections", new JsonObject().put("name", "parts").put("dimension", 2)
        .put("partitions", 1_000_000), 400, "invalid_argument"));
    a.add(new Abuse("deep offset", "GET", C + "/points?offset=1000000000", null, 400, "invalid_argument"));
    a.add(new Abuse("huge page", "GET", C + "/points?limit=1000000000", null, 400, "invalid_argument"));
    a.add(new Abuse("negative offset", "GET", C + "/points?offset=-5", null, 400, "invalid_argument"));
    a.add(new Abuse("non-numeric limit", "GET", C + "/points?limit=ten", null, 400, "invalid_argument"));
    a.add(new Abuse("bad after_id", "GET", C + "/points?after_id=-1", null, 400, "invalid_argument"));
    a.add(new Abuse("malformed JSON", "POST", C + "/search/topk", "{\"query\": [1, 2,", 400, "invalid_argument"));
    a.add(new Abuse("JSON array body", "POST", C + "/search/topk", "[1,2,3]", 400, "invalid_argument"));
    a.add(new Abuse("string body", "POST", "/collections", "\"abuse\"", 400, "invalid_argument"));
    a.add(new Abuse("empty body", "POST", "/collections", "", 400, "invalid_argument"));
    a.add(new Abuse("values not numbers", "PUT", C + "/points/2", new JsonObject().put("values", new JsonArray().add("a").add(1).add(2)),
        400, "invalid_argument"));
    a.add(new Abuse("nested payload", "PUT", C + "/points/2", new JsonObject().put("values", vec(3))
        .put("payload", new JsonObject().put("deep", new JsonObject().put("x", 1))), 400, "invalid_argument"));
    a.add(new Abuse("id beyond u64", "PUT", C + "/points/18446744073709551616", new JsonObject().put("values", vec(3)), 400,
        "invalid_argument"));
    a.add(new Abuse("negative id", "POST", C + "/points", new JsonObject().put("points", new JsonArray()
        .add(new JsonObject().put("id", -1).put("values", vec(3)))), 400, "invalid_argument"));
    a.add(new Abuse("unknown filter key", "POST", C + "/points/count", new JsonObject().put("filter", new JsonObject().put("must_maybe",
        new JsonArray())), 400, "invalid_argument"));
    a.add(new Abuse("unknown clause key", "POST", C + "/points/count", filter(new JsonObject().put("field", "a").put("eq", 1)), 400,
        "invalid_argument"));
    a.add(new Abuse("clause with value and range", "POST", C + "/points/count", filter(new JsonObject().put("field", "a").put("value", 1)
        .put("gt", 0)), 400, "invalid_argument"));
    a.add(new Abuse("clause value an object", "POST", C + "/points/count", filter(new JsonObject().put("field", "a")
        .put("value", new JsonObject())), 400, "invalid_argument"));
    a.add(new Abuse("filter not an object", "POST", C + "/search/topk", q().put("filter", "a = 1"), 400, "invalid_argument"));
    JsonArray clauses = new JsonArray();
    for (int i = 0; i < 9; i++) {
      clauses.add(new JsonObject().put("field", "f" + i).put("value", i));
    }
    a.add(new Abuse("too many filter clauses", "POST", C + "/points/count",
        new JsonObject().put("filter", new JsonObject().put("must", clauses)), 400, "invalid_argument"));
    a.add(new Abuse("minimum_should_match beyond should", "POST", C + "/points/count", new JsonObject().put("filter",
        new JsonObject().put("should", new JsonArray().add(new JsonObject().put("field", "a").put("value", 1)))
            .put("minimum_should_match", 5)), 400, "invalid_argument"));
    a.add(new Abuse("target_recall out of range", "POST", C + "/search/topk", q().put("target_recall", 7), 400, "invalid_argument"));
    a.add(new Abuse("unknown metric", "POST", C + "/search/topk", q().put("metric", "manhattan"), 400, "invalid_argument"));
    a.add(new Abuse("unknown mode", "POST", C + "/search/topk", q().put("mode", "guess"), 400, "invalid_argument"));
    a.add(new Abuse("bad collection name", "POST", "/collections", new JsonObject().put("name", "../../etc").put("dimension", 2), 400,
        "invalid_argument"));
    a.add(new Abuse("bad timeout header value", "GET", "/collections", null, 400, "invalid_argument"));
    return a;
  }

  @TestFactory
  Stream<DynamicTest> everyAbuseIsAClientErrorNeverAServerError() {
    return abuses().stream().map(x -> DynamicTest.dynamicTest(x.name() + " -> " + x.status(), () -> {
      TestHttp client = x.name().startsWith("bad timeout") ? http.with("x-request-timeout-ms", "soon") : http;
      TestHttp.Response r = client.send(x.method(), x.path(), x.body());
      assertThat(r.status()).as("%s: %s", x.name(), r.body()).isEqualTo(x.status());
      assertThat(r.code()).isEqualTo(x.code());
      assertThat(r.json().getString("request_id")).isNotBlank();
    }));
  }

  @Test
  void theGatewayIsHealthyAndServesAfterTheAbuse() {
    everyAbuseIsAClientErrorNeverAServerError().forEach(t -> {
      try {
        t.getExecutable().execute();
      } catch (Throwable e) {
        throw new AssertionError(e);
      }
    });
    assertThat(http.get("/ready").status()).isEqualTo(200);
    TestHttp.Response r = http.post(C + "/search/topk", q());
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getJsonArray("hits")).hasSize(1);
  }

  private static JsonObject q() {
    return new JsonObject().put("query", vec(3));
  }

  private static JsonObject filter(JsonObject clause) {
    return new JsonObject().put("filter", new JsonObject().put("must", new JsonArray().add(clause)));
  }

  private static JsonArray vec(int n) {
    JsonArray a = new JsonArray();
    for (int i = 0; i < n; i++) {
      a.add(0.25 * (i + 1));
    }
    return a;
  }
}
