package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.quiver.cluster.CollectionInfo;
import io.quiver.proto.v1.QuiverGrpcClient;
import io.quiver.proto.v1.SearchRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A shard stopped in the middle of the test (its verticle undeployed): its breaker opens, requests
 * that need it fail fast with {@code shard_unavailable}, a collection living wholly on the other
 * shard keeps working, {@code allow_partial} searches answer with what the live shard has, and once
 * the shard is deployed again (same id, new ports) half-open probes close its breaker.
 */
class ShardFailureIT {
  private static TestCluster cluster;
  private static GatewayVerticle gateway;
  private static TestHttp http;
  private static TestGrpc grpc;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(2);
    gateway = cluster.gateway(new GatewayOptions().breakerWindow(10).breakerMinCalls(4).breakerFailureRate(50)
        .breakerOpenMs(300).breakerHalfOpenCalls(1));
    http = new TestHttp(gateway.httpPort());
    grpc = new TestGrpc(cluster.vertx(), gateway.grpcPort());
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
  void aStoppedShardOpensItsBreakerAndARestartedShardClosesIt() {
    create("spread", 2);
    create("solo", 1);
    int[] spreadOwners = assignment("spread").shards();
    assertThat(spreadOwners).containsExactlyInAnyOrder(0, 1);
    int survivor = assignment("solo").ownerOf(0);
    int victim = 1 - survivor;
    JsonArray points = new JsonArray();
    for (int id = 1; id <= 40; id++) {
      points.add(new JsonObject().put("id", id).put("values", new JsonArray().add(id).add(1)));
    }
    for (String c : new String[] {"spread", "solo"}) {
      assertThat(http.post("/collections/" + c + "/points", new JsonObject().put("points", points)).status()).isEqualTo(200);
    }

    cluster.stopShard(victim);

    // Requests that need the victim fail fast, well under the 5 s deadline, and the breaker opens.
    long slowest = 0;
    TestHttp.Response last = null;
    for (int i = 0; i < 8; i++) {
      long start = System.nanoTime();
      last = http.post("/collections/spread/search/topk", query());
      slowest = Math.max(slowest, (System.nanoTime() - start) / 1_000_000);
      assertThat(last.status()).isEqualTo(503);
      assertThat(last.code()).isEqualTo("shard_unavailable");
      assertThat(last.header("retry-after")).isEqualTo("1");
    }
    System.out.printf("shard down: slowest of 8 failing searches took %d ms%n", slowest);
    assertThat(slowest).isLessThan(1_000);
    assertThat(gateway.breakers().state(victim)).isEqualTo(CircuitBreaker.State.OPEN);
    assertThat(last.json().getString("message")).contains("circuit breaker");
    JsonObject status = http.get("/admin/cluster").json();
    assertThat(status.getJsonArray("shards").stream().map(JsonObject.class::cast)
        .filter(s -> s.getInteger("id") == victim).findFirst().orElseThrow().getString("breaker")).isEqualTo("open");

    // The collection wholly on the survivor keeps working: reads and writes.
    assertThat(http.post("/collections/solo/search/topk", query()).json().getJsonArray("hits")).hasSize(10);
    assertThat(http.put("/collections/solo/points/99", new JsonObject().put("values", new JsonArray().add(1).add(2))).status())
        .isEqualTo(200);
    assertThat(http.get("/collections/solo").json().getLong("point_count")).isEqualTo(41);

    // allow_partial answers with the survivor's hits and names the failed shard, over REST and gRPC.
    JsonObject partial = http.post("/collections/spread/search/topk", query().put("allow_partial", true).put("limit", 40)).json();
    assertThat(partial.getBoolean("partial")).isTrue();
    assertThat(partial.getJsonArray("failed_shards")).containsExactly(victim);
    assertThat(partial.getJsonArray("hits").size()).isBetween(1, 39);
    var grpcPartial = GrpcApiIT.ok(grpc.call(QuiverGrpcClient.SearchTopK, SearchRequest.newBuilder().setCollection("spread")
        .addQuery(1f).addQuery(0f).setLimit(40).setAllowPartial(true).build()));
    assertThat(grpcPartial.getPartial()).isTrue();
    assertThat(grpcPartial.getFailedShardsList()).containsExactly(Integer.toString(victim));
    assertThat(grpcPartial.getHitsCount()).isEqualTo(partial.getJsonArray("hits").size());
    var grpcFailed = grpc.call(QuiverGrpcClient.SearchTopK, SearchRequest.newBuilder().setCollection("spread").addQuery(1f).addQuery(0f).build());
    assertThat(grpcFailed.status()).isEqualTo(GrpcStatus.UNAVAILABLE);
    assertThat(grpcFailed.code()).isEqualTo("shard_unavailable");
    assertThat(grpcFailed.metadata().get(GrpcApi.RETRY_AFTER_TRAILER)).isEqualTo("1");

    cluster.startShard(victim);

    // Half-open probes reach the shard again and close the breaker.
    long restarted = System.nanoTime();
    TestCluster.await("breaker of shard " + victim + " closed", () -> {
      http.post("/collections/spread/points/count", new JsonObject());
      return gateway.breakers().state(victim) == CircuitBreaker.State.CLOSED;
    }, Duration.ofSeconds(10));
    System.out.printf("shard back: breaker closed %d ms after the restart%n", (System.nanoTime() - restarted) / 1_000_000);
    create("after", 2);
    assertThat(assignment("after").shards()).containsExactlyInAnyOrder(0, 1);
    assertThat(http.post("/collections/after/points", new JsonObject().put("points", points)).status()).isEqualTo(200);
    JsonObject full = http.post("/collections/after/search/topk", query().put("limit", 40)).json();
    assertThat(full.containsKey("partial")).isFalse();
    assertThat(full.getJsonArray("hits")).hasSize(40);
  }

  private static void create(String name, int partitions) {
    TestHttp.Response r = http.post("/collections", new JsonObject().put("name", name).put("dimension", 2).put("partitions", partitions));
    assertThat(r.status()).as(r.body()).isEqualTo(200);
  }

  private static io.quiver.cluster.PartitionTable.Assignment assignment(String name) {
    CollectionInfo info = cluster.view().collection(GatewayOptions.DEFAULT_TENANT, name);
    return cluster.view().table().assignment(info.uid());
  }

  private static JsonObject query() {
    return new JsonObject().put("query", new JsonArray().add(1).add(0)).put("mode", "exact");
  }

}
