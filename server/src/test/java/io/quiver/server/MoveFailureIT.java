package io.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.quiver.cluster.Partitioning;
import io.quiver.common.PackedFloats;
import io.quiver.proto.internal.CollectionRef;
import io.quiver.proto.internal.PartitionEpoch;
import io.quiver.proto.internal.ShardServiceGrpcClient;
import io.quiver.proto.internal.UpsertRequest;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Partition moves when things go wrong, with real processes: the coordinator killed with SIGKILL in
 * the middle of moves (its successor finishes or rolls them back; nothing acknowledged is lost), and
 * an old owner frozen with SIGSTOP during moves and resumed later (moves complete; a late write that
 * carries the old epoch is refused by it); and a collection created right after the coordinator was
 * killed, whose partitions the next coordinator assigns (the coordinator is the only writer of the
 * partition table).
 */
class MoveFailureIT {
  private static final int DIM = 8;
  private static final int PARTITIONS = 12;

  @TempDir Path dir;
  private final Map<Integer, QuiverProcess> shards = new ConcurrentHashMap<>();
  private final Map<Integer, Integer> shardGrpcPorts = new ConcurrentHashMap<>();
  private final List<QuiverProcess> others = new ArrayList<>();
  private final ExecutorService load = Executors.newFixedThreadPool(1);
  private final String cluster = "moves-" + UUID.randomUUID();
  private int firstClusterPort;
  /** Cluster ports of every shard started so far: a restarted shard must find a live member. */
  private final List<Integer> clusterPorts = new java.util.concurrent.CopyOnWriteArrayList<>();

  @AfterEach
  void cleanUp() throws InterruptedException {
    load.shutdownNow();
    load.awaitTermination(30, TimeUnit.SECONDS);
    shards.values().forEach(p -> {
      p.process().toHandle().descendants().forEach(h -> h.destroyForcibly());
      p.close();
    });
    others.forEach(QuiverProcess::close);
  }

  @Test
  void aCoordinatorKilledDuringMovesLosesNothing() throws Exception {
    TestHttp http = startCluster(3);
    Set<Long> acknowledged = load(http, 1500);
    AtomicBoolean running = new AtomicBoolean(true);
    startWriter(http, acknowledged, running);

    startShard(3);
    ClusterChecks.awaitStatus(http, "a move in progress", s -> !s.getJsonArray("moves").isEmpty());
    shards.remove(0).kill(); // the coordinator: the oldest data member
    // Its successor takes over the recorded moves; partitions of shard 0 wait for it to come back.
    startShard(0);
    ClusterChecks.awaitStatus(http, "even over 4 shards, no move left", s -> ClusterChecks.owned(s, 0) == 3 && ClusterChecks.owned(s, 1) == 3 && ClusterChecks.owned(s, 2) == 3
        && ClusterChecks.owned(s, 3) == 3 && s.getJsonArray("moves").isEmpty());
    running.set(false);
    load.shutdown();
    assertThat(load.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
    ClusterChecks.assertAllListed(http, "moves", acknowledged, Duration.ofSeconds(60));
  }

  @Test
  void anOldOwnerFrozenDuringMovesRefusesItsLateWrites() throws Exception {
    TestHttp http = startCluster(2);
    Set<Long> acknowledged = load(http, 1500);
    JsonObject before = http.get("/admin/partitions/moves").obj();
    long uid = before.getLong("uid");
    assertThat(ClusterChecks.owned(http.get("/admin/cluster").obj(), 1)).isEqualTo(6);

    startShard(2);
    ClusterChecks.awaitStatus(http, "a move in progress", s -> !s.getJsonArray("moves").isEmpty());
    Process frozen = shards.get(1).process();
    assertThat(signal("STOP", frozen.pid())).isZero();
    try {
      // Frozen until the gateway sees it: a write to one of its partitions times out.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      boolean noticed = false;
      for (long id = 5_000_000; !noticed && System.nanoTime() < deadline; id++) {
        noticed = upsert(http, id, 1, 300) != 200;
      }
      assertThat(noticed).as("writes to the frozen shard stall").isTrue();
    } finally {
      assertThat(signal("CONT", frozen.pid())).isZero();
    }
    ClusterChecks.awaitStatus(http, "even over 3 shards, no move left", s -> ClusterChecks.owned(s, 0) == 4 && ClusterChecks.owned(s, 1) == 4 && ClusterChecks.owned(s, 2) == 4
        && s.getJsonArray("moves").isEmpty());
    ClusterChecks.assertAllListed(http, "moves", acknowledged, Duration.ofSeconds(60));

    // A late write to shard 1 for a partition it gave away, with the epoch it had: refused.
    JsonObject after = http.get("/admin/partitions/moves").obj();
    int movedAway = -1;
    long oldEpoch = 0;
    for (int p = 0; p < PARTITIONS && movedAway < 0; p++) {
      JsonObject was = before.getJsonArray("partitions").getJsonObject(p);
      JsonObject now = after.getJsonArray("partitions").getJsonObject(p);
      if (was.getInteger("owner") == 1 && now.getInteger("owner") != 1) {
        movedAway = p;
        oldEpoch = was.getLong("epoch");
        assertThat(now.getLong("epoch")).isGreaterThan(oldEpoch);
      }
    }
    assertThat(movedAway).as("shard 1 gave away a partition; " + after).isGreaterThanOrEqualTo(0);
    long id = idIn(movedAway);
    Vertx vertx = Vertx.vertx();
    try {
      ShardServiceGrpcClient client = ShardServiceGrpcClient.create(GrpcClient.client(vertx),
          SocketAddress.inetSocketAddress(shardGrpcPorts.get(1), "127.0.0.1"));
      UpsertRequest late = UpsertRequest.newBuilder()
          .setCollection(CollectionRef.newBuilder().setTenant("default").setName("moves").setUid(uid))
          .addIds(id).setVectors(PackedFloats.pack(new float[DIM])).addPayloads(ByteString.EMPTY)
          .addEpochs(PartitionEpoch.newBuilder().setPartition(movedAway).setEpoch(oldEpoch)).build();
      Throwable refused = client.upsert(late).toCompletionStage().toCompletableFuture()
          .handle((ok, err) -> err).get(30, TimeUnit.SECONDS);
      assertThat(refused).as("the late write is refused").isNotNull();
      // ABORTED is the gRPC status of stale_epoch (ErrorCode.STALE_EPOCH).
      assertThat(refused.getMessage()).contains("ABORTED");
    } finally {
      vertx.close();
    }
    assertThat(http.get("/collections/moves/points/" + id).status()).isEqualTo(404);
  }

  @Test
  void aCollectionCreatedAfterTheCoordinatorDiedGetsItsPartitionsFromTheNextOne() throws Exception {
    TestHttp http = startCluster(2);
    shards.remove(0).kill(); // the coordinator: the oldest data member

    // Until Hazelcast has dropped the dead member nobody is coordinator: a create then answers 503
    // shard_unavailable and leaves nothing behind, so the client's retry is a clean create.
    JsonObject create = new JsonObject().put("name", "after").put("dimension", DIM).put("partitions", 4);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    TestHttp.Response r = http.post("/collections", create);
    while (r.status() == 503 && System.nanoTime() < deadline) {
      assertThat(r.obj().getString("code")).isEqualTo("shard_unavailable");
      r = http.post("/collections", create);
    }
    assertThat(r.status()).as(r.toString()).isEqualTo(200);

    JsonArray partitions = http.get("/admin/partitions/after").obj().getJsonArray("partitions");
    assertThat(partitions).hasSize(4);
    for (int p = 0; p < 4; p++) {
      assertThat(partitions.getJsonObject(p).getInteger("owner")).isEqualTo(1);
    }
    JsonObject point = new JsonObject().put("id", 7).put("values", ClusterChecks.vector(7, DIM));
    assertThat(http.post("/collections/after/points", new JsonObject().put("points", new JsonArray().add(point))).status())
        .isEqualTo(200);
    assertThat(http.get("/collections/after/points/7").status()).isEqualTo(200);
    assertThat(http.delete("/collections/after").status()).isEqualTo(200);
    assertThat(http.get("/admin/partitions/after").status()).isEqualTo(404);
  }

  // ---------------------------------------------------------------- cluster

  private TestHttp startCluster(int shardCount) throws Exception {
    for (int i = 0; i < shardCount; i++) {
      startShard(i);
    }
    int port = TestHttp.freePort();
    others.add(QuiverProcess.start(List.of("gateway", "--http-port", Integer.toString(port),
            "--grpc-port", Integer.toString(TestHttp.freePort()), "--cluster-name", cluster,
            "--cluster-port", Integer.toString(TestHttp.freePort()), "--cluster-members", "127.0.0.1:" + firstClusterPort),
        Map.of("QUIVER_HEAP", "384m"), dir.resolve("gateway.log"), "Quiver gateway ready", 180));
    TestHttp http = new TestHttp(port);
    ClusterChecks.awaitStatus(http, "gateway sees every shard", s -> s.getJsonArray("shards").size() == shardCount);
    assertThat(http.post("/collections", new JsonObject().put("name", "moves").put("dimension", DIM)
        .put("partitions", PARTITIONS)).status()).isEqualTo(200);
    return http;
  }

  private void startShard(int id) throws Exception {
    int clusterPort = TestHttp.freePort();
    if (firstClusterPort == 0) {
      firstClusterPort = clusterPort;
    }
    clusterPorts.add(clusterPort);
    String members = String.join(",", clusterPorts.stream().map(p -> "127.0.0.1:" + p).toList());
    int grpc = TestHttp.freePort();
    shardGrpcPorts.put(id, grpc);
    shards.put(id, QuiverProcess.start(List.of("shard", "--shard-id", Integer.toString(id), "--host", "127.0.0.1",
            "--shard-port", Integer.toString(grpc), "--shard-http-port", Integer.toString(TestHttp.freePort()),
            "--cluster-name", cluster, "--cluster-port", Integer.toString(clusterPort),
            "--cluster-members", members, "--memory-budget-mb", "64",
            "--data", dir.resolve("shard-" + id).toString()),
        Map.of("QUIVER_HEAP", "448m"), dir.resolve("shard-" + id + ".log"), "Quiver shard " + id + " ready", 180));
  }

  private static int signal(String sig, long pid) throws Exception {
    return new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).start().waitFor();
  }

  // ---------------------------------------------------------------- data

  private Set<Long> load(TestHttp http, int n) {
    Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
    for (long base = 0; base < n; base += 100) {
      assertThat(upsert(http, base, 100, 30_000)).isEqualTo(200);
      for (long id = base; id < base + 100; id++) {
        acknowledged.add(id);
      }
    }
    return acknowledged;
  }

  /** A writer that records what was acknowledged; failures are allowed (a shard may be down). */
  private void startWriter(TestHttp http, Set<Long> acknowledged, AtomicBoolean running) {
    AtomicLong next = new AtomicLong(1_000_000);
    load.submit(() -> {
      while (running.get()) {
        long base = next.getAndAdd(10);
        if (upsert(http, base, 10, 2_000) == 200) {
          for (long id = base; id < base + 10; id++) {
            acknowledged.add(id);
          }
        }
      }
      return null;
    });
  }

  private static int upsert(TestHttp http, long base, int n, long timeoutMs) {
    JsonArray points = new JsonArray();
    for (long id = base; id < base + n; id++) {
      points.add(new JsonObject().put("id", id).put("values", ClusterChecks.vector(id, DIM)));
    }
    try {
      return http.post("/collections/moves/points", new JsonObject().put("points", points),
          Map.of("x-request-timeout-ms", Long.toString(timeoutMs))).status();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  private static long idIn(int partition) {
    for (long id = 9_000_000; ; id++) {
      if (Partitioning.partitionOf(id, PARTITIONS) == partition) {
        return id;
      }
    }
  }
}
