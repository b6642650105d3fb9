package io.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.micrometer.core.instrument.Timer;
import io.quiver.cluster.ClusterOptions;
import io.quiver.cluster.CollectionInfo;
import io.quiver.cluster.LocalShards;
import io.quiver.cluster.PartitionTable;
import io.quiver.cluster.Partitioning;
import io.quiver.cluster.ShardChannel;
import io.quiver.cluster.ShardInfo;
import io.quiver.common.ErrorCode;
import io.quiver.common.PackedFloats;
import io.quiver.common.QuiverException;
import io.quiver.gateway.GatewayOptions;
import io.quiver.proto.internal.CollectionRef;
import io.quiver.proto.internal.GetRequest;
import io.quiver.proto.internal.GetResponse;
import io.quiver.proto.internal.PartitionEpoch;
import io.quiver.proto.internal.SearchRequest;
import io.quiver.proto.internal.ShardServiceGrpcClient;
import io.quiver.proto.internal.UpsertRequest;
import io.quiver.shard.ShardOptions;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.ServiceMethod;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In-JVM shard calls in a standalone with a cluster token: shard 0 offers them (the default), shard
 * 1 has them switched off ({@code QUIVER_LOCAL_SHARD_CALLS=false}). A call to shard 0 is served
 * without gRPC (the shard's call meter says {@code transport=local} and its gRPC count does not
 * move); each failure is the same {@link QuiverException}, code and message, as the same call over
 * gRPC (made by taking shard 0 out of {@link LocalShards} for that call); the answer arrives on the
 * caller's context.
 */
class LocalShardCallsIT {
  private static final String TOKEN = "it-secret";
  private static final int DIM = 4;

  @TempDir static Path data;
  private static Standalone cluster;
  private static TestHttp http;
  private static ShardChannel channel;
  private static CollectionInfo collection;

  @BeforeAll
  static void start() {
    List<ShardOptions> shards = List.of(
        new ShardOptions().shardId(0).host("127.0.0.1").grpcPort(0).httpPort(0).memoryBudgetMb(64)
            .dataDir(data.resolve("shard-0")).clusterToken(TOKEN),
        new ShardOptions().shardId(1).host("127.0.0.1").grpcPort(0).httpPort(0).memoryBudgetMb(64)
            .dataDir(data.resolve("shard-1")).clusterToken(TOKEN).localCalls(false));
    cluster = Standalone.start(
        new ClusterOptions().clusterName("local-calls-" + UUID.randomUUID()).host("127.0.0.1").port(TestHttp.freePort()),
        new GatewayOptions().httpHost("127.0.0.1").httpPort(0).grpcPort(0).clusterToken(TOKEN), shards);
    http = new TestHttp(cluster.httpPort());
    channel = new ShardChannel(vertx(), cluster.node().view(), TOKEN);
    assertThat(http.post("/collections", new JsonObject().put("name", "local").put("dimension", DIM).put("partitions", 8))
        .status()).isEqualTo(200);
    collection = cluster.node().view().collection(GatewayOptions.DEFAULT_TENANT, "local");
    JsonArray points = new JsonArray();
    for (int id = 1; id <= 64; id++) {
      points.add(new JsonObject().put("id", id).put("values", new JsonArray().add(id).add(1).add(2).add(3)));
    }
    assertThat(http.post("/collections/local/points", new JsonObject().put("points", points)).status()).isEqualTo(200);
  }

  @AfterAll
  static void stop() {
    if (channel != null) {
      channel.close().await();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private static Vertx vertx() {
    return cluster.node().vertx();
  }

  @Test
  void theGatewayReachesALocalShardWithoutGrpcAndTheOtherOverGrpc() {
    long[] before = {reads(0, "local"), reads(0, "grpc"), reads(1, "local"), reads(1, "grpc")};
    for (int id = 1; id <= 64; id++) {
      TestHttp.Response r = http.get("/collections/local/points/" + id);
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.obj().getJsonArray("values").getDouble(0)).isEqualTo(id);
    }
    assertThat(http.post("/collections/local/search", new JsonObject().put("query", new JsonArray().add(1).add(1).add(2).add(3))
        .put("metric", "l2")).status()).isEqualTo(200);
    long toShard0 = ownedIds(0);
    assertThat(toShard0).as("ids owned by shard 0").isBetween(1L, 63L);
    assertThat(reads(0, "local") - before[0]).isEqualTo(toShard0 + 1);
    assertThat(reads(0, "grpc") - before[1]).as("gRPC calls served by shard 0").isZero();
    assertThat(reads(1, "local") - before[2]).as("local calls to the shard that has them off").isZero();
    awaitCount("calls to shard 1 over gRPC", () -> reads(1, "grpc") - before[3], 64 - toShard0 + 1);
  }

  @Test
  void aMissingCollectionFailsAlikeLocallyAndOverGrpc() {
    GetRequest get = GetRequest.newBuilder().setCollection(CollectionRef.newBuilder().setTenant("default").setName("nope")
        .setUid(123456789L)).setId(1).build();
    assertSameFailure(ShardServiceGrpcClient.Get, get);
  }

  @Test
  void aMalformedUpsertAndAWrongDimensionFailAlike() {
    UpsertRequest torn = UpsertRequest.newBuilder().setCollection(ref()).addIds(1).setVectors(ByteString.copyFrom(new byte[7]))
        .build();
    QuiverException e = assertSameFailure(ShardServiceGrpcClient.Upsert, torn);
    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);

    long id = idOwnedBy(0);
    UpsertRequest wrongDimension = UpsertRequest.newBuilder().setCollection(ref()).addIds(id)
        .setVectors(PackedFloats.pack(new float[] {1, 2})).addEpochs(epoch(id)).build();
    assertThat(assertSameFailure(ShardServiceGrpcClient.Upsert, wrongDimension).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);

    SearchRequest badMode = SearchRequest.newBuilder().setCollection(ref()).setQueries(PackedFloats.pack(new float[] {1, 2, 3, 4}))
        .setQueryCount(1).setLimit(3).setMode("sideways").build();
    assertThat(assertSameFailure(ShardServiceGrpcClient.Search, badMode).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
  }

  @Test
  void aWriteInReadOnlyModeFailsAlike() {
    assertThat(http.put("/admin/read-only", new JsonObject().put("enabled", true).put("reason", "local calls IT")).status())
        .isEqualTo(200);
    try {
      long id = idOwnedBy(0);
      UpsertRequest write = UpsertRequest.newBuilder().setCollection(ref()).addIds(id)
          .setVectors(PackedFloats.pack(new float[] {1, 2, 3, 4})).addEpochs(epoch(id)).build();
      assertThat(assertSameFailure(ShardServiceGrpcClient.Upsert, write).code()).isEqualTo(ErrorCode.READ_ONLY);
    } finally {
      assertThat(http.put("/admin/read-only", new JsonObject().put("enabled", false)).status()).isEqualTo(200);
    }
  }

  @Test
  void aWrongClusterTokenIsRefusedAlike() {
    ShardChannel intruder = new ShardChannel(vertx(), cluster.node().view(), "not-the-token");
    try {
      GetRequest get = GetRequest.newBuilder().setCollection(ref()).setId(1).build();
      QuiverException local = failure(() -> intruder.call(0, ShardServiceGrpcClient.Get, get, "rid", deadline(5000)));
      QuiverException remote = overGrpc(0, () -> failure(() -> intruder.call(0, ShardServiceGrpcClient.Get, get, "rid", deadline(5000))));
      // The shard's grpc-message starts with "unauthorized", which the channel reads as the error code.
      assertThat(local.code()).isEqualTo(ErrorCode.UNAUTHORIZED);
      assertThat(local.code()).isEqualTo(remote.code());
      assertThat(local.getMessage()).isEqualTo(remote.getMessage());
    } finally {
      intruder.close().await();
    }
  }

  @Test
  void aCallStillRunningAtItsDeadlineFailsWithTimeoutAndOnePastItAtOnce() throws Exception {
    // Every worker thread of shard 0 waits on the latch, so its Get cannot run before the deadline.
    WorkerExecutor shardWorkers = vertx().createSharedWorkerExecutor("quiver-shard-0", 1);
    CountDownLatch release = new CountDownLatch(1);
    try {
      for (int i = 0; i < 64; i++) {
        shardWorkers.executeBlocking(() -> release.await(30, TimeUnit.SECONDS), false);
      }
      GetRequest get = GetRequest.newBuilder().setCollection(ref()).setId(idOwnedBy(0)).build();
      long started = System.nanoTime();
      QuiverException local = failure(() -> channel.call(0, ShardServiceGrpcClient.Get, get, "rid", deadline(300)));
      long tookMs = (System.nanoTime() - started) / 1_000_000;
      assertThat(local.code()).isEqualTo(ErrorCode.TIMEOUT);
      assertThat(local.getMessage()).isEqualTo("shard 0 did not answer before the deadline");
      assertThat(tookMs).isBetween(250L, 5_000L);
    } finally {
      release.countDown();
      shardWorkers.close();
    }
    GetRequest get = GetRequest.newBuilder().setCollection(ref()).setId(1).build();
    QuiverException passed = failure(() -> channel.call(0, ShardServiceGrpcClient.Get, get, "rid", System.nanoTime() - 1));
    assertThat(passed.code()).isEqualTo(ErrorCode.TIMEOUT);
  }

  @Test
  void theAnswerArrivesOnTheCallersContext() throws Exception {
    long id = idOwnedBy(0);
    Context caller = vertx().getOrCreateContext();
    CompletableFuture<Context> answeredOn = new CompletableFuture<>();
    CompletableFuture<GetResponse> answer = new CompletableFuture<>();
    caller.runOnContext(v -> channel.call(0, ShardServiceGrpcClient.Get,
            GetRequest.newBuilder().setCollection(ref()).setId(id).build(), "rid-ctx", deadline(5000))
        .onComplete(ar -> {
          answeredOn.complete(Vertx.currentContext());
          if (ar.succeeded()) {
            answer.complete(ar.result());
          } else {
            answer.completeExceptionally(ar.cause());
          }
        }));
    assertThat(answer.get(10, TimeUnit.SECONDS).getFound()).isTrue();
    assertThat(answeredOn.get(10, TimeUnit.SECONDS)).isSameAs(caller);
  }

  // ---------------------------------------------------------------- helpers

  /** Calls shard 0 locally, then the same over gRPC; both must fail with the same code and message. */
  private static <Req, Resp> QuiverException assertSameFailure(ServiceMethod<Resp, Req> method, Req message) {
    String name = method.methodName();
    long localBefore = calls(0, "local", name);
    QuiverException local = failure(() -> channel.call(0, method, message, "rid-local", deadline(5000)));
    assertThat(calls(0, "local", name)).as("served locally").isEqualTo(localBefore + 1);
    long grpcBefore = calls(0, "grpc", name);
    QuiverException remote = overGrpc(0, () -> failure(() -> channel.call(0, method, message, "rid-grpc", deadline(5000))));
    // The gRPC server records the call when its response has ended, which may be after the caller has it.
    awaitCount("served over gRPC", () -> calls(0, "grpc", name), grpcBefore + 1);
    assertThat(local.code()).isEqualTo(remote.code());
    assertThat(local.getMessage()).isEqualTo(remote.getMessage());
    return local;
  }

  /** Runs {@code call} with shard {@code id} taken out of {@link LocalShards}, so the channel uses gRPC. */
  private static <T> T overGrpc(int id, Supplier<T> call) {
    ShardInfo shard = cluster.node().view().liveShards().get(id);
    LocalShards.Endpoint endpoint = LocalShards.find(shard.host(), shard.grpcPort());
    assertThat(endpoint).isNotNull();
    LocalShards.unregister(shard.host(), shard.grpcPort(), endpoint);
    try {
      return call.get();
    } finally {
      LocalShards.register(shard.host(), shard.grpcPort(), endpoint);
    }
  }

  private static QuiverException failure(Supplier<Future<?>> call) {
    try {
      call.get().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(QuiverException.class);
      return (QuiverException) e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("the call succeeded");
  }

  /** Polls {@code count} until it equals {@code expected}, for up to 10 s. */
  private static void awaitCount(String what, java.util.function.LongSupplier count, long expected) {
    long until = System.nanoTime() + 10_000_000_000L;
    while (count.getAsLong() != expected && System.nanoTime() < until) {
      java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
    }
    assertThat(count.getAsLong()).as(what).isEqualTo(expected);
  }

  private static long deadline(long millis) {
    return System.nanoTime() + millis * 1_000_000;
  }

  /** Calls of {@code method} served by shard {@code shard} over {@code transport} so far (every outcome). */
  private static long calls(int shard, String transport, String method) {
    return cluster.meters().find("quiver.shard.calls").tag("shard", Integer.toString(shard)).tag("transport", transport)
        .tag("method", method).timers().stream().mapToLong(Timer::count).sum();
  }

  /** Get and Search calls served by shard {@code shard} over {@code transport} so far. */
  private static long reads(int shard, String transport) {
    return calls(shard, transport, "Get") + calls(shard, transport, "Search");
  }

  private static CollectionRef ref() {
    return CollectionRef.newBuilder().setTenant(collection.tenant()).setName(collection.name()).setUid(collection.uid()).build();
  }

  private static PartitionTable.Assignment assignment() {
    return cluster.node().view().table().assignment(collection.uid());
  }

  private static long idOwnedBy(int shard) {
    for (long id = 1; id <= 64; id++) {
      if (assignment().ownerOf(Partitioning.partitionOf(id, collection.partitions())) == shard) {
        return id;
      }
    }
    throw new AssertionError("no id of 1..64 lives on shard " + shard);
  }

  private static long ownedIds(int shard) {
    long n = 0;
    for (long id = 1; id <= 64; id++) {
      if (assignment().ownerOf(Partitioning.partitionOf(id, collection.partitions())) == shard) {
        n++;
      }
    }
    return n;
  }

  private static PartitionEpoch epoch(long id) {
    int p = Partitioning.partitionOf(id, collection.partitions());
    return PartitionEpoch.newBuilder().setPartition(p).setEpoch(assignment().epochOf(p)).build();
  }
}
