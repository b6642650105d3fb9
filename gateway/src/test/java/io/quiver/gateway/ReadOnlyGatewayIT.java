package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.quiver.cluster.ShardInfo;
import io.quiver.proto.v1.DeleteCollectionRequest;
import io.quiver.proto.v1.GetPointRequest;
import io.quiver.proto.v1.GetReadOnlyRequest;
import io.quiver.proto.v1.QuiverGrpcClient;
import io.quiver.proto.v1.SetReadOnlyRequest;
import io.quiver.proto.v1.UpsertPointRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator read-only mode at a gateway on the real topology (2 shard verticles, one gateway,
 * api_key auth): the toggle over REST and gRPC, every write refused with {@code read_only} (403 /
 * FAILED_PRECONDITION) carrying the reason, reads untouched, and a 202 naming a shard that did not
 * confirm.
 */
class ReadOnlyGatewayIT {
  private static final String KEYS = "k-admin:acme:read+write+admin,k-write:acme:read+write";
  private static TestCluster cluster;
  private static TestHttp admin;
  private static TestHttp writer;
  private static TestGrpc grpcAdmin;
  private static TestGrpc grpcWriter;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(2);
    GatewayVerticle g = cluster.gateway(new GatewayOptions().authMode("api_key").apiKeys(KEYS));
    admin = new TestHttp(g.httpPort()).with("x-api-key", "k-admin");
    writer = new TestHttp(g.httpPort()).with("x-api-key", "k-write");
    TestGrpc grpc = new TestGrpc(cluster.vertx(), g.grpcPort());
    grpcAdmin = grpc.with("x-api-key", "k-admin");
    grpcWriter = grpc.with("x-api-key", "k-write");
    assertThat(writer.post("/collections", new JsonObject().put("name", "ro").put("dimension", 2).put("partitions", 4))
        .status()).isEqualTo(200);
    JsonArray points = new JsonArray();
    for (int id = 1; id <= 8; id++) {
      points.add(new JsonObject().put("id", id).put("values", new JsonArray().add(id).add(1.0))
          .put("payload", new JsonObject().put("k", "v")));
    }
    assertThat(writer.post("/collections/ro/points", new JsonObject().put("points", points)).status()).isEqualTo(200);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @AfterEach
  void off() {
    assertThat(admin.put("/admin/read-only", new JsonObject().put("enabled", false)).status()).isEqualTo(200);
  }

  @Test
  void restRefusesEveryWriteWithReadOnlyAndTheReasonWhileReadsGoOn() {
    TestHttp.Response on = admin.put("/admin/read-only", new JsonObject().put("enabled", true).put("reason", "disk migration"));
    assertThat(on.status()).as(on.body()).isEqualTo(200);
    assertThat(on.json().getBoolean("enabled")).isTrue();
    assertThat(on.json().getString("reason")).isEqualTo("disk migration");
    assertThat(on.json().getString("set_by")).isEqualTo("acme");
    assertThat(on.json().getString("since")).isNotEmpty();
    assertThat(on.json().containsKey("pending_shards")).isFalse();
    assertThat(admin.get("/admin/read-only").json().getBoolean("enabled")).isTrue();
    assertThat(admin.get("/admin/cluster").json().getJsonObject("read_only").getString("reason")).isEqualTo("disk migration");

    JsonObject point = new JsonObject().put("values", new JsonArray().add(0.5).add(0.5));
    List<Supplier<TestHttp.Response>> writes = List.of(
        () -> writer.post("/collections", new JsonObject().put("name", "new").put("dimension", 2)),
        () -> writer.delete("/collections/ro"),
        () -> writer.put("/collections/ro/points/100", point),
        () -> writer.post("/collections/ro/points", new JsonObject().put("points", new JsonArray().add(point.copy().put("id", 101)))),
        () -> writer.delete("/collections/ro/points/1"),
        () -> writer.post("/collections/ro/points/payload/set", new JsonObject().put("points", new JsonArray().add(1))
            .put("payload", new JsonObject().put("x", 1))),
        () -> writer.post("/collections/ro/points/payload/delete", new JsonObject().put("points", new JsonArray().add(1))
            .put("keys", new JsonArray().add("k"))));
    for (Supplier<TestHttp.Response> w : writes) {
      TestHttp.Response r = w.get();
      assertThat(r.status()).as(r.body()).isEqualTo(403);
      assertThat(r.code()).isEqualTo("read_only");
      assertThat(r.json().getString("message")).contains("disk migration");
    }

    assertThat(writer.get("/collections/ro/points/1").status()).isEqualTo(200);
    assertThat(writer.get("/collections/ro/points?limit=100").json().getLong("total")).isEqualTo(8);
    assertThat(writer.post("/collections/ro/points/count", new JsonObject()).json().getLong("count")).isEqualTo(8);
    assertThat(writer.post("/collections/ro/search/topk", new JsonObject().put("query", new JsonArray().add(1).add(1))
        .put("limit", 3)).status()).isEqualTo(200);
    assertThat(writer.get("/ready").status()).isEqualTo(200);

    assertThat(admin.put("/admin/read-only", new JsonObject().put("enabled", false)).json().getBoolean("enabled")).isFalse();
    assertThat(writes.get(2).get().status()).isEqualTo(200);
  }

  @Test
  void grpcTogglesAndRefusesWritesWithFailedPrecondition() {
    var on = grpcAdmin.call(QuiverGrpcClient.SetReadOnly, SetReadOnlyRequest.newBuilder().setEnabled(true)
        .setReason("grpc freeze").build());
    assertThat(on.status()).as(on.message()).isEqualTo(GrpcStatus.OK);
    assertThat(on.body().getEnabled()).isTrue();
    assertThat(on.body().getPendingShardsCount()).isZero();
    assertThat(grpcWriter.call(QuiverGrpcClient.GetReadOnly, GetReadOnlyRequest.getDefaultInstance()).status())
        .as("reading the mode needs the admin scope").isEqualTo(GrpcStatus.PERMISSION_DENIED);
    var state = grpcAdmin.call(QuiverGrpcClient.GetReadOnly, GetReadOnlyRequest.getDefaultInstance());
    assertThat(state.body().getReason()).isEqualTo("grpc freeze");
    assertThat(state.body().getSetBy()).isEqualTo("acme");

    UpsertPointRequest upsert = UpsertPointRequest.newBuilder().setCollection("ro").setId(200).addValues(1).addValues(2).build();
    var refused = grpcWriter.call(QuiverGrpcClient.UpsertPoint, upsert);
    assertThat(refused.status()).isEqualTo(GrpcStatus.FAILED_PRECONDITION);
    assertThat(refused.code()).isEqualTo("read_only");
    assertThat(refused.message()).contains("grpc freeze");
    assertThat(grpcWriter.call(QuiverGrpcClient.DeleteCollection, DeleteCollectionRequest.newBuilder().setName("ro").build())
        .status()).isEqualTo(GrpcStatus.FAILED_PRECONDITION);
    assertThat(grpcWriter.call(QuiverGrpcClient.GetPoint, GetPointRequest.newBuilder().setCollection("ro").setId(2).build())
        .status()).isEqualTo(GrpcStatus.OK);
    assertThat(grpcWriter.call(QuiverGrpcClient.SetReadOnly, SetReadOnlyRequest.newBuilder().setEnabled(false).build())
        .status()).as("a write key cannot lift the mode").isEqualTo(GrpcStatus.PERMISSION_DENIED);

    var off = grpcAdmin.call(QuiverGrpcClient.SetReadOnly, SetReadOnlyRequest.newBuilder().setEnabled(false).build());
    assertThat(off.body().getEnabled()).isFalse();
    assertThat(grpcWriter.call(QuiverGrpcClient.UpsertPoint, upsert).status()).isEqualTo(GrpcStatus.OK);
  }

  @Test
  void answers202NamingALiveShardThatDidNotConfirmWithinTheTimeout() {
    // A shard registered under this live member but with nothing listening on its port.
    ShardInfo ghost = new ShardInfo(9, "127.0.0.1", TestCluster.freePort(), TestCluster.freePort(), cluster.memberId(), "ready");
    cluster.view().registerShard(ghost).await();
    try {
      long started = System.nanoTime();
      TestHttp.Response r = admin.put("/admin/read-only", new JsonObject().put("enabled", true).put("reason", "r")
          .put("timeout_ms", 1500));
      assertThat(r.status()).as(r.body()).isEqualTo(202);
      assertThat(r.json().getJsonArray("pending_shards")).containsExactly(9);
      assertThat(r.json().getBoolean("enabled")).isTrue();
      assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(5_000);
    } finally {
      cluster.view().unregisterShard(ghost).await();
    }
  }

  @Test
  void onlyAnAdminMayToggleAndTheBodyIsValidated() {
    assertThat(writer.put("/admin/read-only", new JsonObject().put("enabled", true)).code()).isEqualTo("forbidden");
    assertThat(writer.get("/admin/read-only").code()).isEqualTo("forbidden");
    assertThat(admin.put("/admin/read-only", new JsonObject().put("enabled", "yes")).status()).isEqualTo(400);
    assertThat(admin.put("/admin/read-only", new JsonObject().put("enabled", true).put("timeout_ms", 0)).status()).isEqualTo(400);
    assertThat(admin.get("/admin/read-only").json().getBoolean("enabled")).isFalse();
  }
}
