package io.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;


import io.quiver.common.PackedFloats;
import io.quiver.proto.internal.CollectionRef;
import io.quiver.proto.internal.ShardServiceGrpcClient;
import io.quiver.proto.internal.UpsertRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator read-only mode across real processes started with {@code bin/quiver} (separate
 * shard and gateway JVMs on 127.0.0.1, one cluster name per test): once the toggle has returned no
 * gateway accepts a write and no shard logs one (the shards' WAL sequence stands still), the mode
 * survives restarts of the whole cluster and reaches shards and gateways that start later, and a
 * shard that was down during a toggle adopts it before it serves a write. Prints the toggle latency
 * (p50/p99 over 20 toggles).
 */
class ReadOnlyIT {
  private static final int DIM = 8;
  private static final Map<String, String> ENV = Map.of("QUIVER_HEAP", "512m");

  @TempDir Path dir;
  private final List<QuiverProcess> running = Collections.synchronizedList(new ArrayList<>());
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final String clusterName = "readonly-" + UUID.randomUUID();

  /**
   * Gateways keep their REST and gRPC ports across restarts (clients hold them); every other port
   * is picked just before its process starts, so a port found free long ago is not trusted, and a
   * process joins the Hazelcast ports of the processes running at that moment.
   */
  private final int[] gatewayHttp = {TestHttp.freePort(), TestHttp.freePort()};
  private final int[] gatewayGrpc = {TestHttp.freePort(), TestHttp.freePort()};
  private final int[] shardGrpc = new int[2];
  private final int[] shardHttp = new int[2];
  private final Map<QuiverProcess, Integer> clusterPorts = new ConcurrentHashMap<>();

  @AfterEach
  void cleanUp() throws InterruptedException {
    pool.shutdownNow();
    pool.awaitTermination(30, TimeUnit.SECONDS);
    synchronized (running) {
      running.forEach(QuiverProcess::close);
    }
  }

  // ---------------------------------------------------------------- tests

  @Test
  void noWriteIsAcceptedOrLoggedOnceTheToggleReturnedAndTogglesAreTimed() throws Exception {
    QuiverProcess[] shards = {startShard(0), null};
    CompletableFuture<QuiverProcess> s1 = async(() -> startShard(1));
    CompletableFuture<QuiverProcess> g0 = async(() -> startGateway(0));
    CompletableFuture<QuiverProcess> g1 = async(() -> startGateway(1));
    shards[1] = s1.get();
    g0.get();
    g1.get();
    TestHttp[] gateways = {new TestHttp(gatewayHttp[0]), new TestHttp(gatewayHttp[1])};
    for (TestHttp g : gateways) {
      await("gateway sees 2 shards", () -> g.get("/admin/cluster").obj().getJsonArray("shards").size() == 2, 60);
    }
    assertThat(gateways[0].post("/collections", new JsonObject().put("name", "w").put("dimension", DIM).put("partitions", 8))
        .status()).isEqualTo(200);

    // Writers on both gateways; each write is recorded with when it was sent and what came back.
    record Write(int gateway, long sentNanos, int status, String code) {}
    ConcurrentLinkedQueue<Write> writes = new ConcurrentLinkedQueue<>();
    AtomicBoolean writing = new AtomicBoolean(true);
    AtomicLong ids = new AtomicLong();
    List<CompletableFuture<Void>> writers = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      int gw = w % 2;
      TestHttp http = new TestHttp(gatewayHttp[gw]);
      writers.add(CompletableFuture.runAsync(() -> {
        while (writing.get()) {
          JsonArray points = new JsonArray();
          for (int i = 0; i < 4; i++) {
            long id = ids.incrementAndGet();
            points.add(new JsonObject().put("id", id).put("values", vector(id)));
          }
          long sent = System.nanoTime();
          TestHttp.Response r = http.post("/collections/w/points", new JsonObject().put("points", points));
          writes.add(new Write(gw, sent, r.status(), r.json() instanceof JsonObject o ? o.getString("code") : null));
        }
      }, pool));
    }
    await("writes acknowledged on both gateways", () -> writes.stream().filter(x -> x.status() == 200)
        .map(Write::gateway).distinct().count() == 2 && writes.size() > 40, 60);

    long calledNanos = System.nanoTime();
    TestHttp.Response on = gateways[0].put("/admin/read-only", new JsonObject().put("enabled", true).put("reason", "under test"));
    long returnedNanos = System.nanoTime();
    assertThat(on.status()).as(on.body()).isEqualTo(200);
    long[] walAtToggle = {walSequence(0), walSequence(1)};
    System.out.printf("read-only toggle under write load (4 writers, 2 gateways, 2 shards): %.1f ms%n",
        (returnedNanos - calledNanos) / 1e6);

    // Reads go on while the writers keep trying.
    long readsUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
    int reads = 0;
    while (System.nanoTime() < readsUntil) {
      TestHttp g = gateways[reads % 2];
      assertThat(g.get("/collections/w/points?limit=10").status()).isEqualTo(200);
      assertThat(g.post("/collections/w/search/topk", new JsonObject().put("query", vector(1)).put("limit", 3)).status())
          .isEqualTo(200);
      reads++;
    }
    writing.set(false);
    CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

    List<Write> after = writes.stream().filter(x -> x.sentNanos() > returnedNanos).toList();
    assertThat(after).as("writes sent after the toggle returned").isNotEmpty();
    assertThat(after.stream().map(Write::gateway).distinct()).containsExactlyInAnyOrder(0, 1);
    assertThat(after).as("every write sent after the toggle returned is refused with read_only")
        .allSatisfy(x -> {
          assertThat(x.status()).isEqualTo(403);
          assertThat(x.code()).isEqualTo("read_only");
        });
    assertThat(new long[] {walSequence(0), walSequence(1)}).as("shards' WAL sequence after the writers stopped")
        .containsExactly(walAtToggle);
    for (int s = 0; s < 2; s++) {
      assertThat(shardReady(s).getJsonObject("checks").getString("read_only")).contains("under test");
    }
    TestHttp.Response refused = gateways[1].put("/collections/w/points/1", new JsonObject().put("values", vector(1)));
    assertThat(refused.obj().getString("message")).contains("under test");
    assertThat(gateways[1].get("/admin/read-only").obj().getBoolean("enabled")).isTrue();
    assertThat(gateways[1].get("/ready").status()).isEqualTo(200);
    assertThat(gateways[1].get("/admin/cluster").obj().getJsonObject("read_only").getBoolean("enabled")).isTrue();

    // Off through the operator CLI, then writes pass again through both gateways.
    Ctl off = ctl("read-only", "off", "--url", "http://127.0.0.1:" + gatewayHttp[1]);
    assertThat(off.exit()).as(off.output()).isZero();
    assertThat(off.output()).startsWith("read-only OFF");
    for (TestHttp g : gateways) {
      assertThat(g.put("/collections/w/points/" + ids.incrementAndGet(), new JsonObject().put("values", vector(2))).status())
          .isEqualTo(200);
    }
    assertThat(walSequence(0) + walSequence(1)).isGreaterThan(walAtToggle[0] + walAtToggle[1]);

    // Toggle latency: call to every shard confirmed, 20 toggles on an idle cluster.
    List<Double> millis = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      long t = System.nanoTime();
      TestHttp.Response r = gateways[0].put("/admin/read-only", new JsonObject().put("enabled", i % 2 == 0).put("reason", "timing"));
      millis.add((System.nanoTime() - t) / 1e6);
      assertThat(r.status()).as(r.body()).isEqualTo(200);
    }
    Collections.sort(millis);
    System.out.printf("read-only toggle latency over %d toggles (2 shards, 2 gateways, idle): p50=%.1f ms p99=%.1f ms max=%.1f ms%n",
        millis.size(), percentile(millis, 50), percentile(millis, 99), millis.get(millis.size() - 1));
    assertThat(percentile(millis, 99)).isLessThan(5_000);
  }

  @Test
  void theModeSurvivesFiveRestartsOfTheWholeClusterAndBindsGatewaysStartedLater() throws Exception {
    QuiverProcess[] shards = {startShard(0), startShard(1)};
    QuiverProcess gateway = startGateway(0);
    TestHttp http = new TestHttp(gatewayHttp[0]);
    await("gateway sees 2 shards", () -> http.get("/admin/cluster").obj().getJsonArray("shards").size() == 2, 60);
    assertThat(http.post("/collections", new JsonObject().put("name", "r").put("dimension", DIM).put("partitions", 4)).status())
        .isEqualTo(200);
    assertThat(http.put("/collections/r/points/1", new JsonObject().put("values", vector(1))).status()).isEqualTo(200);
    JsonObject on = http.put("/admin/read-only", new JsonObject().put("enabled", true).put("reason", "restart drill")).obj();

    for (int cycle = 1; cycle <= 5; cycle++) {
      long t0 = System.nanoTime();
      // All down at once (SIGTERM to every process, then wait): nothing of the cluster is left in memory.
      List<QuiverProcess> all = List.of(gateway, shards[0], shards[1]);
      all.forEach(p -> p.process().destroy());
      for (QuiverProcess p : all) {
        assertThat(p.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
      }
      running.clear();
      long t1 = System.nanoTime();
      shards[0] = startShard(0);
      long t2 = System.nanoTime();
      CompletableFuture<QuiverProcess> s1 = async(() -> startShard(1));
      gateway = startGateway(0);
      shards[1] = s1.get();
      long t3 = System.nanoTime();
      String c = "after restart " + cycle;
      await(c + ": collection back and owned", () -> http.get("/collections/r/points/1").status() == 200, 60);
      System.out.printf("restart %d: stop %d ms, shard 0 %d ms, shard 1 + gateway %d ms, serving %d ms%n", cycle,
          (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000, (System.nanoTime() - t3) / 1_000_000);
      JsonObject state = http.get("/admin/read-only").obj();
      assertThat(state.getBoolean("enabled")).as(c).isTrue();
      assertThat(state.getString("reason")).as(c).isEqualTo("restart drill");
      assertThat(state.getLong("version")).as(c).isEqualTo(on.getLong("version"));
      TestHttp.Response write = http.put("/collections/r/points/2", new JsonObject().put("values", vector(2)));
      assertThat(write.status()).as(c + ": " + write.body()).isEqualTo(403);
      assertThat(write.obj().getString("code")).isEqualTo("read_only");
      for (int s = 0; s < 2; s++) {
        assertThat(shardReady(s).getJsonObject("checks").getString("read_only")).as(c + " shard " + s).startsWith("on");
      }
    }

    // A second gateway that joins now, long after the toggle, refuses writes too.
    startGateway(1);
    TestHttp late = new TestHttp(gatewayHttp[1]);
    await("late gateway ready", () -> late.get("/ready").status() == 200, 60);
    assertThat(late.put("/collections/r/points/3", new JsonObject().put("values", vector(3))).obj().getString("code"))
        .isEqualTo("read_only");
    assertThat(late.put("/admin/read-only", new JsonObject().put("enabled", false)).status()).isEqualTo(200);
    assertThat(http.put("/collections/r/points/3", new JsonObject().put("values", vector(3))).status()).isEqualTo(200);
  }

  @Test
  void aShardThatWasDownDuringAToggleAdoptsItBeforeServingAWrite() throws Exception {
    QuiverProcess[] shards = {startShard(0), startShard(1)};
    startGateway(0);
    TestHttp http = new TestHttp(gatewayHttp[0]);
    await("gateway sees 2 shards", () -> http.get("/admin/cluster").obj().getJsonArray("shards").size() == 2, 60);
    assertThat(http.post("/collections", new JsonObject().put("name", "d").put("dimension", DIM).put("partitions", 8)).status())
        .isEqualTo(200);
    for (long id = 1; id <= 16; id++) {
      assertThat(http.put("/collections/d/points/" + id, new JsonObject().put("values", vector(id))).status()).isEqualTo(200);
    }
    long walBefore = walSequence(1);
    shards[1].stop(30);
    running.remove(shards[1]);
    await("shard 1 gone", () -> http.get("/admin/cluster").obj().getJsonArray("shards").stream()
        .noneMatch(s -> ((JsonObject) s).getBoolean("live") && ((JsonObject) s).getInteger("id") == 1), 30);

    TestHttp.Response on = http.put("/admin/read-only", new JsonObject().put("enabled", true).put("reason", "while 1 was down"));
    assertThat(on.status()).as("only live shards are waited for: " + on.body()).isEqualTo(200);

    // Probe shard 1's internal port with writes from the moment it starts: none may pass.
    shardGrpc[1] = TestHttp.freePort();
    shardHttp[1] = TestHttp.freePort();
    Vertx vertx = Vertx.vertx();
    try {
      GrpcClient client = GrpcClient.client(vertx);
      SocketAddress shard1 = SocketAddress.inetSocketAddress(shardGrpc[1], "127.0.0.1");
      ConcurrentLinkedQueue<String> answers = new ConcurrentLinkedQueue<>();
      AtomicBoolean probing = new AtomicBoolean(true);
      CompletableFuture<Void> probe = CompletableFuture.runAsync(() -> {
        while (probing.get()) {
          answers.add(probeWrite(client, shard1));
          LockSupport.parkNanos(5_000_000);
        }
      }, pool);
      shards[1] = launchShard(1);
      await("shard 1 serves", () -> answers.stream().anyMatch(a -> a.startsWith("read_only")), 30);
      probing.set(false);
      probe.get(30, TimeUnit.SECONDS);
      assertThat(answers).as("answers of shard 1's write port from its start")
          .allSatisfy(a -> assertThat(a).matches("unreachable|read_only.*"));
      assertThat(shardReady(1).getJsonObject("checks").getString("read_only")).contains("while 1 was down");
      assertThat(walSequence(1)).isEqualTo(walBefore);

      // The other way round: switched off while shard 1 is down; its persisted "on" is older and loses.
      shards[1].stop(30);
      running.remove(shards[1]);
      await("shard 1 gone", () -> http.get("/admin/cluster").obj().getJsonArray("shards").stream()
          .noneMatch(s -> ((JsonObject) s).getBoolean("live") && ((JsonObject) s).getInteger("id") == 1), 30);
      assertThat(http.put("/admin/read-only", new JsonObject().put("enabled", false)).status()).isEqualTo(200);
      shards[1] = launchShard(1);
      await("shard 1 owns its partitions again", () -> http.get("/ready").status() == 200, 60);
      assertThat(http.get("/admin/read-only").obj().getBoolean("enabled")).isFalse();
      assertThat(shardReady(1).getJsonObject("checks").getString("read_only")).isEqualTo("off");
      assertThat(probeWrite(client, shard1)).as("shard 1 accepts writes (the probe's collection does not exist)").startsWith("not_found");
      for (long id = 1; id <= 16; id++) {
        assertThat(http.put("/collections/d/points/" + id, new JsonObject().put("values", vector(id + 100))).status()).isEqualTo(200);
      }
    } finally {
      vertx.close().await();
    }
  }

  // ---------------------------------------------------------------- processes

  /** Picks new ports for shard {@code id} and starts it. */
  private QuiverProcess startShard(int id) throws Exception {
    shardGrpc[id] = TestHttp.freePort();
    shardHttp[id] = TestHttp.freePort();
    return launchShard(id);
  }

  /** Starts shard {@code id} on the ports in {@link #shardGrpc} and {@link #shardHttp}. */
  private QuiverProcess launchShard(int id) throws Exception {
    int clusterPort = TestHttp.freePort();
    QuiverProcess p = QuiverProcess.start(List.of("shard", "--shard-id", Integer.toString(id), "--host", "127.0.0.1",
            "--advertised-host", "127.0.0.1", "--shard-port", Integer.toString(shardGrpc[id]),
            "--shard-http-port", Integer.toString(shardHttp[id]), "--data", dir.resolve("shard-" + id).toString(),
            "--memory-budget-mb", "64", "--cluster-name", clusterName, "--cluster-port", Integer.toString(clusterPort),
            "--cluster-members", members(clusterPort)),
        ENV, dir.resolve("shard-" + id + ".log"), "Quiver shard " + id + " ready", 120);
    return started(p, dir.resolve("shard-" + id + ".log"));
  }

  private QuiverProcess startGateway(int i) throws Exception {
    int clusterPort = TestHttp.freePort();
    QuiverProcess p = QuiverProcess.start(List.of("gateway", "--http-host", "127.0.0.1",
            "--http-port", Integer.toString(gatewayHttp[i]), "--grpc-port", Integer.toString(gatewayGrpc[i]),
            "--cluster-name", clusterName, "--cluster-port", Integer.toString(clusterPort), "--cluster-members",
            members(clusterPort)),
        ENV, dir.resolve("gateway-" + i + ".log"), "Quiver gateway ready", 120);
    return started(p, dir.resolve("gateway-" + i + ".log"));
  }

  private static final Pattern JOINED = Pattern.compile("joined cluster .* member \\[[^]]+\\]:(\\d+)");

  /**
   * Records a started process with the Hazelcast port it really bound (the last "joined cluster"
   * line of its log: Hazelcast moves to the next port when the one asked for was taken meanwhile).
   */
  private QuiverProcess started(QuiverProcess p, Path log) throws IOException {
    int port = -1;
    for (String line : Files.readAllLines(log)) {
      Matcher m = JOINED.matcher(line);
      if (m.find()) {
        port = Integer.parseInt(m.group(1));
      }
    }
    assertThat(port).as("Hazelcast port in " + log).isPositive();
    clusterPorts.put(p, port);
    running.add(p);
    return p;
  }

  /** The Hazelcast ports of the processes running now, and {@code own}. */
  private String members(int own) {
    List<Integer> ports = new ArrayList<>(List.of(own));
    synchronized (running) {
      running.stream().filter(p -> p.process().isAlive()).map(clusterPorts::get).forEach(ports::add);
    }
    return String.join(",", ports.stream().map(p -> "127.0.0.1:" + p).toList());
  }

  private record Ctl(int exit, String output) {}

  private Ctl ctl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(QuiverProcess.LAUNCHER.toString());
    cmd.add("ctl");
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("QUIVER_HEAP", "256m"); // bin/quiver starts every JVM with -Xms256m
    Process p = pb.start();
    String out;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      out = String.join("\n", r.lines().filter(l -> !l.startsWith("WARNING")).toList());
    }
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Ctl(p.exitValue(), out);
  }

  private JsonObject shardReady(int id) {
    return new TestHttp(shardHttp[id]).get("/ready").obj();
  }

  private long walSequence(int shard) {
    return shardReady(shard).getJsonObject("checks").getLong("wal_sequence");
  }

  /** One internal Upsert to a collection that does not exist: the error code the shard answers with, or "unreachable". */
  private static String probeWrite(GrpcClient grpc, SocketAddress shard) {
    UpsertRequest req = UpsertRequest.newBuilder()
        .setCollection(CollectionRef.newBuilder().setTenant("default").setName("probe").setUid(424242))
        .addIds(1).setVectors(PackedFloats.pack(new float[] {1, 2})).build();
    try {
      return grpc.request(shard, ShardServiceGrpcClient.Upsert)
          .compose(call -> call.send(req).compose(resp -> resp.last().transform(ar -> Future.succeededFuture(
              resp.status() == GrpcStatus.OK ? "accepted"
                  : resp.status() == GrpcStatus.UNAVAILABLE ? "unreachable" : String.valueOf(resp.statusMessage())))))
          .recover(err -> Future.succeededFuture("unreachable"))
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      return "unreachable";
    }
  }

  // ---------------------------------------------------------------- helpers

  private interface Start {
    QuiverProcess run() throws Exception;
  }

  private CompletableFuture<QuiverProcess> async(Start start) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return start.run();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, pool);
  }

  private static void await(String what, BooleanSupplier condition, int seconds) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      try {
        if (condition.getAsBoolean()) {
          return;
        }
      } catch (RuntimeException e) {
        // not up yet
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + seconds + " s waiting for: " + what);
      }
      LockSupport.parkNanos(50_000_000);
    }
  }

  private static double percentile(List<Double> sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }

  private static JsonArray vector(long id) {
    Random r = new Random(id);
    JsonArray v = new JsonArray();
    for (int i = 0; i < DIM; i++) {
      v.add((double) r.nextFloat());
    }
    return v;
  }
}
