package io.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.quiver.shard.ShardVerticle;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Metrics of a real standalone topology in this JVM (one member, 2 shards, one gateway, one process
 * registry): a scripted workload moves the request, search, WAL and shard meters; every metric name
 * the alert rules and the Grafana dashboard use is exported; the JSON summaries and health checks
 * say what the shards hold.
 */
class ObservabilityIT {
  private static final int DIM = 8;
  private static final int POINTS = 120;
  private static final Path OBSERVABILITY = Path.of("..", "deploy", "observability");
  private static final Pattern METRIC = Pattern.compile("\\b((?:quiver|jvm|vertx|process)_[a-zA-Z0-9_]+)");

  @TempDir static Path data;
  private static Standalone cluster;
  private static TestHttp http;

  @BeforeAll
  static void start() {
    cluster = InProcessCluster.start(data, "obs", 2);
    http = new TestHttp(cluster.httpPort());
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void scriptedWorkloadMovesTheMetersAndEveryRuleMetricIsExported() throws Exception {
    PrometheusText before = scrape(cluster.httpPort());
    workload();
    System.gc(); // so the GC pause meters the dashboard uses have a sample
    PrometheusText after = scrape(cluster.httpPort());

    String batch = "/collections/:name/points";
    assertThat(after.sum("quiver_gateway_requests_seconds_count", "endpoint", batch, "method", "POST", "status", "200"))
        .isEqualTo(before.sum("quiver_gateway_requests_seconds_count", "endpoint", batch, "method", "POST", "status", "200") + 3);
    assertThat(after.sum("quiver_gateway_requests_seconds_count", "code", "not_found")).isGreaterThanOrEqualTo(2);
    assertThat(after.sum("quiver_gateway_search_seconds_count", "mode", "exact")).isGreaterThanOrEqualTo(5);
    assertThat(after.sum("quiver_gateway_requests_seconds_bucket", "endpoint", "/collections/:name/search/topk", "le", "+Inf"))
        .isGreaterThanOrEqualTo(5);
    assertThat(after.sum("quiver_shard_points")).isEqualTo(POINTS);
    assertThat(after.sum("quiver_shard_partitions")).isEqualTo(16);
    assertThat(after.names()).contains("quiver_shard_ann_pending_points");
    assertThat(after.sum("quiver_shard_ann_pending_points")).isBetween(0.0, (double) POINTS);
    assertThat(after.sum("quiver_shard_wal_sequence")).isGreaterThan(before.sum("quiver_shard_wal_sequence"));
    assertThat(after.sum("quiver_shard_wal_fsync_seconds_count")).isGreaterThan(before.sum("quiver_shard_wal_fsync_seconds_count"));
    assertThat(after.sum("quiver_shard_calls_seconds_count", "method", "Upsert", "outcome", "ok")).isGreaterThanOrEqualTo(2);
    assertThat(after.sum("quiver_shard_memory_used_bytes")).isGreaterThan(before.sum("quiver_shard_memory_used_bytes"));
    assertThat(after.sum("quiver_shard_memory_budget_bytes")).isEqualTo(2 * 64.0 * 1024 * 1024);
    assertThat(after.sum("quiver_shard_checkpoint_age_seconds")).isLessThan(60);
    assertThat(after.sum("quiver_shard_durability_profile", "profile", "sync")).isEqualTo(2);
    assertThat(after.sum("quiver_gateway_ready")).isEqualTo(1);
    assertThat(after.sum("quiver_shard_ready")).isEqualTo(2);
    assertThat(after.sum("quiver_collections")).isEqualTo(1);
    assertThat(after.sum("vertx_http_server_requests_total")).isGreaterThan(0);
    // Route templates only: the collection name never becomes a label value.
    assertThat(after.all()).noneMatch(s -> s.labels().values().stream().anyMatch(v -> v.contains("/collections/obs")));

    Set<String> used = new TreeSet<>();
    for (String file : List.of("alerts.yml", "grafana-dashboard.json")) {
      Matcher m = METRIC.matcher(Files.readString(OBSERVABILITY.resolve(file)));
      while (m.find()) {
        used.add(m.group(1));
      }
    }
    assertThat(used).hasSizeGreaterThan(20);
    assertThat(after.names()).as("metric names used by alerts.yml and grafana-dashboard.json").containsAll(used);

    // A shard's own port serves the same process registry and its JSON summary.
    ShardVerticle shard = cluster.shards().get(0);
    assertThat(scrape(shard.httpPort()).names()).contains("quiver_shard_points", "jvm_memory_used_bytes");
    JsonObject shardSummary = new TestHttp(shard.httpPort()).get("/metrics").obj();
    assertThat(shardSummary.getInteger("shard_id")).isZero();
    assertThat(shardSummary.getLong("points")).isBetween(1L, (long) POINTS - 1);
    assertThat(shardSummary.getBoolean("read_only")).isFalse();
    assertThat(shardSummary.getString("last_checkpoint")).isNotNull();
  }

  @Test
  void jsonSummaryAndHealthSayWhatTheClusterHolds() {
    ensureLoaded();
    JsonObject m = http.get("/metrics").obj();
    assertThat(m.getInteger("collections")).isEqualTo(1);
    assertThat(m.getLong("points")).isEqualTo(POINTS);
    assertThat(m.getLong("memory_used_bytes")).isPositive();
    assertThat(m.getLong("memory_budget_bytes")).isEqualTo(2 * 64L * 1024 * 1024);
    assertThat(m.getBoolean("read_only")).isFalse();
    assertThat(m.getJsonObject("counters").getLong("requests")).isPositive();
    assertThat(m.getJsonArray("shards")).hasSize(2);
    assertThat(m.getJsonArray("failed")).isEmpty();

    TestHttp.Response ready = http.get("/ready");
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.obj().getJsonObject("checks").getString("partitions")).isEqualTo("every partition has a live owner");
    TestHttp.Response shardReady = new TestHttp(cluster.shards().get(1).httpPort()).get("/ready");
    assertThat(shardReady.status()).isEqualTo(200);
    assertThat(shardReady.obj().getJsonObject("checks").getString("recovery")).isEqualTo("done");
    assertThat(shardReady.obj().getJsonObject("checks").getString("storage")).isEqualTo("writable");
    assertThat(new TestHttp(cluster.shards().get(1).httpPort()).get("/live").obj().getString("status")).isEqualTo("live");
  }

  private static synchronized void ensureLoaded() {
    if (http.get("/collections/obs").status() == 404) {
      workload();
    }
  }

  private static synchronized void workload() {
    if (http.get("/collections/obs").status() == 200) {
      return;
    }
    assertThat(http.post("/collections", new JsonObject().put("name", "obs").put("dimension", DIM)).status()).isEqualTo(200);
    Random rnd = new Random(7);
    for (int b = 0; b < 3; b++) {
      JsonArray points = new JsonArray();
      for (int i = 0; i < POINTS / 3; i++) {
        long id = b * (POINTS / 3) + i + 1;
        points.add(new JsonObject().put("id", id).put("values", vector(rnd)).put("payload", new JsonObject().put("n", id)));
      }
      assertThat(http.post("/collections/obs/points", new JsonObject().put("points", points)).status()).isEqualTo(200);
    }
    for (int i = 0; i < 5; i++) {
      assertThat(http.post("/collections/obs/search/topk", new JsonObject().put("query", vector(rnd)).put("limit", 3)
          .put("mode", "exact")).status()).isEqualTo(200);
    }
    assertThat(http.get("/collections/obs/points/1").status()).isEqualTo(200);
    assertThat(http.get("/collections/obs/points/999999").status()).isEqualTo(404);
    assertThat(http.get("/collections/nope").status()).isEqualTo(404);
    assertThat(http.post("/admin/checkpoint", new JsonObject()).status()).isEqualTo(200);
  }

  private static JsonArray vector(Random rnd) {
    JsonArray a = new JsonArray();
    for (int i = 0; i < DIM; i++) {
      a.add(rnd.nextFloat());
    }
    return a;
  }

  static PrometheusText scrape(int port) throws IOException, InterruptedException {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics/prometheus")).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/plain");
    return new PrometheusText(r.body());
  }
}
