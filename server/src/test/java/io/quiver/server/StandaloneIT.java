package io.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The walking skeleton's REST flow against the real standalone topology in this JVM: one Hazelcast
 * member, 2 shard verticles serving gRPC, one gateway.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneIT {
  private static final int DIM = 8;
  private static final String C = "/collections/skeleton";

  @TempDir static Path data;
  private static Standalone cluster;
  private static TestHttp http;
  private static final Map<Long, float[]> stored = new HashMap<>();

  @BeforeAll
  static void start() {
    cluster = InProcessCluster.start(data, "it", 2);
    http = new TestHttp(cluster.httpPort());
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void createsACollectionAndRefusesADuplicate() {
    TestHttp.Response r = http.post("/collections", new JsonObject().put("name", "skeleton").put("dimension", DIM));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.obj().getString("name")).isEqualTo("skeleton");
    assertThat(r.obj().getInteger("dimension")).isEqualTo(DIM);
    assertThat(r.obj().getBoolean("strict_finite")).isTrue();
    assertThat(r.obj().getLong("point_count")).isZero();

    TestHttp.Response dup = http.post("/collections", new JsonObject().put("name", "skeleton").put("dimension", DIM));
    assertError(dup, 409, "conflict");
    assertThat(http.get("/collections").obj().getJsonArray("collections")).hasSize(1);
  }

  @Test
  @Order(2)
  void upsertsSinglePointsAndBatchesIdempotently() {
    float[] v = randomVector(new Random(1));
    TestHttp.Response first = http.put(C + "/points/1", new JsonObject().put("values", json(v)).put("payload", new JsonObject().put("color", "red")));
    assertThat(first.status()).isEqualTo(200);
    assertThat(first.obj()).isEqualTo(new JsonObject().put("id", 1).put("created", true));
    TestHttp.Response again = http.put(C + "/points/1", new JsonObject().put("values", json(v)).put("payload", new JsonObject().put("color", "red")));
    assertThat(again.obj().getBoolean("created")).isFalse();
    stored.put(1L, v);

    Random rnd = new Random(42);
    JsonArray points = new JsonArray();
    for (long id = 2; id <= 300; id++) {
      float[] p = randomVector(rnd);
      stored.put(id, p);
      points.add(new JsonObject().put("id", id).put("values", json(p)).put("payload", new JsonObject().put("n", id)));
    }
    float[] top = randomVector(rnd);
    stored.put(-1L, top); // 2^64-1
    points.add(new JsonObject().put("id", new BigInteger("18446744073709551615")).put("values", json(top)));
    TestHttp.Response batch = http.post(C + "/points", new JsonObject().put("points", points));
    assertThat(batch.status()).isEqualTo(200);
    assertThat(batch.obj().getLong("created")).isEqualTo(300);
    assertThat(batch.obj().getLong("updated")).isZero();
    assertThat(batch.obj().getJsonArray("results")).hasSize(300);
    assertThat(batch.body()).contains("18446744073709551615");

    TestHttp.Response retried = http.post(C + "/points", new JsonObject().put("points", points));
    assertThat(retried.obj().getLong("created")).isZero();
    assertThat(retried.obj().getLong("updated")).isEqualTo(300);
    assertThat(http.get(C).obj().getLong("point_count")).isEqualTo(301);
  }

  @Test
  @Order(3)
  void pointsAreSpreadOverBothShards() {
    for (var shard : cluster.shards()) {
      TestHttp.Response ready = new TestHttp(shard.httpPort()).get("/ready");
      assertThat(ready.status()).isEqualTo(200);
      assertThat(ready.obj().getJsonObject("checks").getLong("points")).isBetween(60L, 240L);
      assertThat(ready.obj().getJsonObject("checks").getLong("ann_pending_points"))
          .isBetween(0L, ready.obj().getJsonObject("checks").getLong("points"));
    }
  }

  @Test
  @Order(4)
  void getsAndDeletesPoints() {
    TestHttp.Response got = http.get(C + "/points/1");
    assertThat(got.status()).isEqualTo(200);
    assertThat(got.obj().getLong("id")).isEqualTo(1);
    assertThat(got.obj().getJsonObject("payload")).isEqualTo(new JsonObject().put("color", "red"));
    JsonArray values = got.obj().getJsonArray("values");
    for (int i = 0; i < DIM; i++) {
      assertThat(values.getFloat(i)).isEqualTo(stored.get(1L)[i]);
    }
    assertThat(http.get(C + "/points/18446744073709551615").status()).isEqualTo(200);

    assertThat(http.delete(C + "/points/7").obj()).isEqualTo(new JsonObject().put("id", 7).put("deleted", true));
    assertThat(http.delete(C + "/points/7").obj().getBoolean("deleted")).isFalse();
    assertError(http.get(C + "/points/7"), 404, "not_found");
    stored.remove(7L);
  }

  @Test
  @Order(5)
  void listsIdsAscendingAcrossShardsWithOffsetAndCursor() {
    List<Long> expected = stored.keySet().stream().sorted(Long::compareUnsigned).toList();
    List<Long> byOffset = new ArrayList<>();
    long offset = 0;
    while (true) {
      TestHttp.Response page = http.get(C + "/points?limit=37&offset=" + offset);
      assertThat(page.status()).isEqualTo(200);
      assertThat(page.obj().getLong("total")).isEqualTo(expected.size());
      page.obj().getJsonArray("points").forEach(p -> byOffset.add(idOf(((JsonObject) p).getValue("id"))));
      if (page.obj().getValue("next_offset") == null) {
        break;
      }
      offset = page.obj().getLong("next_offset");
    }
    assertThat(byOffset).containsExactlyElementsOf(expected);

    List<Long> byCursor = new ArrayList<>();
    String after = "";
    while (true) {
      TestHttp.Response page = http.get(C + "/points?limit=50" + after);
      page.obj().getJsonArray("points").forEach(p -> byCursor.add(idOf(((JsonObject) p).getValue("id"))));
      Object next = page.obj().getValue("next_after_id");
      if (next == null) {
        break;
      }
      after = "&after_id=" + next;
    }
    assertThat(byCursor).containsExactlyElementsOf(expected);
  }

  @Test
  @Order(6)
  void exactTopKMatchesBruteForceForEveryMetric() {
    Random rnd = new Random(7);
    for (String metric : List.of("l2", "dot", "cosine")) {
      for (int q = 0; q < 5; q++) {
        float[] query = randomVector(rnd);
        TestHttp.Response r = http.post(C + "/search/topk", new JsonObject().put("query", json(query)).put("limit", 10)
            .put("metric", metric).put("mode", "exact"));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.obj().getString("metric")).isEqualTo(metric);
        assertThat(r.obj().getString("mode")).isEqualTo("exact");
        JsonArray hits = r.obj().getJsonArray("hits");
        List<Map.Entry<Long, Double>> truth = bruteForce(query, metric);
        assertThat(hits).hasSize(10);
        for (int i = 0; i < 10; i++) {
          JsonObject h = hits.getJsonObject(i);
          assertThat(idOf(h.getValue("id"))).as(metric + " rank " + i).isEqualTo(truth.get(i).getKey());
          assertThat(h.getDouble("value")).isCloseTo(truth.get(i).getValue(), within(1e-3));
        }
      }
    }
    TestHttp.Response top1 = http.post(C + "/search", new JsonObject().put("query", json(stored.get(1L))).put("metric", "l2")
        .put("include_payload", true));
    assertThat(idOf(top1.obj().getValue("id"))).isEqualTo(1L);
    assertThat(top1.obj().getJsonObject("payload")).isEqualTo(new JsonObject().put("color", "red"));
  }

  @Test
  @Order(7)
  void answersBadInputWithTheApiErrorShape() {
    assertError(http.get("/collections/missing"), 404, "not_found");
    assertError(http.put("/collections/missing/points/1", new JsonObject().put("values", json(new float[DIM]))), 404, "not_found");
    assertError(http.put(C + "/points/1", new JsonObject().put("values", new JsonArray().add(1).add(2))), 400, "invalid_argument");
    // 1e39 does not fit an f32: it becomes infinity, which a strict_finite collection refuses.
    JsonArray huge = json(new float[DIM]);
    huge.set(3, 1e39);
    TestHttp.Response nonFinite = http.put(C + "/points/1", new JsonObject().put("values", huge));
    assertError(nonFinite, 400, "invalid_argument");
    assertThat(nonFinite.obj().getString("message")).contains("values[3]");
    assertError(http.put(C + "/points/1", "{\"values\": [1, 2"), 400, "invalid_argument");
    assertError(http.post(C + "/search/topk", new JsonObject().put("query", json(new float[DIM])).put("limit", 0)), 400, "invalid_argument");
    assertError(http.post(C + "/search/topk", new JsonObject().put("query", json(new float[3]))), 400, "invalid_argument");
    assertError(http.put(C + "/points/abc", new JsonObject().put("values", json(new float[DIM]))), 400, "invalid_argument");
    // Nothing above changed the stored point.
    assertThat(http.get(C + "/points/1").obj().getJsonArray("values").getFloat(0)).isEqualTo(stored.get(1L)[0]);
  }

  @Test
  @Order(8)
  void acceptsABatchOfFullSizeVectorsLargerThanTheGrpcDefaultMessageLimit() {
    // 512 x 784 floats is 1.6 MB packed: far past gRPC's default 256 KiB message limit.
    assertThat(http.post("/collections", new JsonObject().put("name", "wide").put("dimension", 784)).status()).isEqualTo(200);
    JsonArray points = new JsonArray();
    Random rnd = new Random(3);
    for (int i = 0; i < 512; i++) {
      JsonArray v = new JsonArray();
      for (int d = 0; d < 784; d++) {
        v.add(rnd.nextFloat());
      }
      points.add(new JsonObject().put("id", i).put("values", v));
    }
    TestHttp.Response r = http.post("/collections/wide/points", new JsonObject().put("points", points));
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.obj().getLong("created")).isEqualTo(512);
    TestHttp.Response batch = http.post("/collections/wide/search/topk/batch", new JsonObject()
        .put("queries", new JsonArray().add(points.getJsonObject(0).getJsonArray("values")).add(points.getJsonObject(1).getJsonArray("values")))
        .put("limit", 1000).put("metric", "l2").put("mode", "exact"));
    assertThat(batch.status()).as(batch.body()).isEqualTo(200);
    assertThat(batch.obj().getJsonArray("results").getJsonObject(1).getJsonArray("hits")).hasSize(512);
    assertThat(http.delete("/collections/wide").status()).isEqualTo(200);
  }

  @Test
  @Order(9)
  void deletesTheCollection() {
    assertThat(http.delete(C).obj()).isEqualTo(new JsonObject().put("name", "skeleton").put("deleted", true));
    assertError(http.get(C), 404, "not_found");
    assertError(http.get(C + "/points/1"), 404, "not_found");
  }

  // ---------------------------------------------------------------- helpers

  private static void assertError(TestHttp.Response r, int status, String code) {
    assertThat(r.status()).as(r.body()).isEqualTo(status);
    assertThat(r.obj().getString("code")).isEqualTo(code);
    assertThat(r.obj().getString("message")).isNotBlank();
    assertThat(r.obj().getString("request_id")).isNotBlank();
  }

  private static List<Map.Entry<Long, Double>> bruteForce(float[] q, String metric) {
    List<Map.Entry<Long, Double>> scored = new ArrayList<>();
    stored.forEach((id, v) -> scored.add(Map.entry(id, score(metric, q, v))));
    Comparator<Map.Entry<Long, Double>> order = Map.Entry.comparingByValue();
    if (!metric.equals("l2")) {
      order = order.reversed();
    }
    scored.sort(order.thenComparing(Map.Entry::getKey, Long::compareUnsigned));
    return scored;
  }

  private static double score(String metric, float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    double l2 = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
      l2 += (a[i] - b[i]) * (a[i] - b[i]);
    }
    return switch (metric) {
      case "l2" -> Math.sqrt(l2);
      case "cosine" -> dot / Math.sqrt(na * nb);
      default -> dot;
    };
  }

  private static long idOf(Object json) {
    return json instanceof Number n && !(json instanceof BigInteger) ? n.longValue() : new BigInteger(json.toString()).longValue();
  }

  private static float[] randomVector(Random rnd) {
    float[] v = new float[DIM];
    for (int i = 0; i < DIM; i++) {
      v[i] = (float) rnd.nextGaussian();
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
}
