package io.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scaling out and in with real processes: 2 shard JVMs and a gateway JVM hold a loaded collection;
 * a 3rd shard joins and the coordinator moves partitions until each shard owns an even share; then
 * the new shard is drained until it owns nothing. A writer and a reader run throughout: no request
 * may fail and no acknowledged write may be lost.
 */
class RebalanceIT {
  private static final int DIM = 16;
  private static final int PARTITIONS = 12;

  @TempDir Path dir;
  private final List<QuiverProcess> processes = new ArrayList<>();
  private final ExecutorService load = Executors.newFixedThreadPool(2);
  private final String cluster = "rebalance-" + UUID.randomUUID();
  private int firstClusterPort;

  @AfterEach
  void cleanUp() throws InterruptedException {
    load.shutdownNow();
    load.awaitTermination(30, TimeUnit.SECONDS);
    processes.forEach(QuiverProcess::close);
  }

  @Test
  void aJoiningShardGetsAnEvenShareAndADrainedShardEndsWithNothing() throws Exception {
    startShard(0);
    startShard(1);
    int port = TestHttp.freePort();
    processes.add(QuiverProcess.start(List.of("gateway", "--http-port", Integer.toString(port),
            "--grpc-port", Integer.toString(TestHttp.freePort()), "--cluster-name", cluster,
            "--cluster-port", Integer.toString(TestHttp.freePort()), "--cluster-members", "127.0.0.1:" + firstClusterPort),
        Map.of("QUIVER_HEAP", "384m"), dir.resolve("gateway.log"), "Quiver gateway ready", 180));
    TestHttp http = new TestHttp(port);
    ClusterChecks.awaitStatus(http, "gateway sees both shards", s -> s.getJsonArray("shards").size() == 2);
    assertThat(http.post("/collections", new JsonObject().put("name", "moves").put("dimension", DIM)
        .put("partitions", PARTITIONS)).status()).isEqualTo(200);
    Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
    for (long base = 0; base < 3000; base += 100) {
      assertThat(upsert(http, base, 100)).isEqualTo(200);
      for (long id = base; id < base + 100; id++) {
        acknowledged.add(id);
      }
    }

    List<String> failures = new CopyOnWriteArrayList<>();
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicLong nextId = new AtomicLong(1_000_000);
    load.submit(() -> {
      while (running.get()) {
        long base = nextId.getAndAdd(10);
        int status = upsert(http, base, 10);
        if (status == 200) {
          for (long id = base; id < base + 10; id++) {
            acknowledged.add(id);
          }
        } else {
          failures.add("upsert " + base + " -> " + status);
        }
      }
      return null;
    });
    load.submit(() -> {
      Random rnd = new Random(1);
      while (running.get()) {
        long id = rnd.nextInt(3000);
        TestHttp.Response got = http.get("/collections/moves/points/" + id);
        if (got.status() != 200) {
          failures.add("get " + id + " -> " + got.status() + " " + got.body());
        }
        TestHttp.Response hits = http.post("/collections/moves/search/topk", new JsonObject().put("query", ClusterChecks.vector(id, DIM))
            .put("limit", 1).put("metric", "l2").put("mode", "exact"));
        if (hits.status() != 200 || hits.obj().getJsonArray("hits").getJsonObject(0).getLong("id") != id) {
          failures.add("search " + id + " -> " + hits.status() + " " + hits.body());
        }
      }
      return null;
    });

    // Scale out: shard 2 joins, partitions even out to 4 / 4 / 4.
    startShard(2);
    JsonObject balanced = ClusterChecks.awaitStatus(http, "partitions even over 3 shards", s -> ClusterChecks.owned(s, 0) == 4 && ClusterChecks.owned(s, 1) == 4
        && ClusterChecks.owned(s, 2) == 4 && s.getJsonArray("moves").isEmpty());
    assertThat(balanced.getLong("partition_table_version")).isPositive();
    verify(http, acknowledged, failures);

    // Scale in: `ctl drain 2` returns once shard 2 owns nothing, under the same load.
    Process ctl = new ProcessBuilder(QuiverProcess.LAUNCHER.toString(), "ctl", "--url", "http://127.0.0.1:" + port,
        "drain", "2", "--timeout-s", "170").redirectErrorStream(true).start();
    ctl.getOutputStream().close();
    String ctlOut = new String(ctl.getInputStream().readAllBytes());
    assertThat(ctl.waitFor(180, TimeUnit.SECONDS)).isTrue();
    assertThat(ctl.exitValue()).as(ctlOut).isZero();
    assertThat(ctlOut).contains("shard 2 owns no partitions");
    ClusterChecks.awaitStatus(http, "shard 2 drained", s -> ClusterChecks.owned(s, 2) == 0 && ClusterChecks.owned(s, 0) == 6 && ClusterChecks.owned(s, 1) == 6
        && s.getJsonArray("moves").isEmpty());
    running.set(false);
    load.shutdown();
    assertThat(load.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
    verify(http, acknowledged, failures);
  }

  /** No request failed, and every write acknowledged before this call is listed (writes may still run). */
  private static void verify(TestHttp http, Set<Long> acknowledgedSoFar, List<String> failures) {
    assertThat(failures).as("requests that failed during the moves").isEmpty();
    ClusterChecks.assertAllListed(http, "moves", acknowledgedSoFar, Duration.ZERO);
  }

  private void startShard(int id) throws Exception {
    int clusterPort = TestHttp.freePort();
    if (id == 0) {
      firstClusterPort = clusterPort;
    }
    processes.add(QuiverProcess.start(List.of("shard", "--shard-id", Integer.toString(id), "--host", "127.0.0.1",
            "--shard-port", Integer.toString(TestHttp.freePort()), "--shard-http-port", Integer.toString(TestHttp.freePort()),
            "--cluster-name", cluster, "--cluster-port", Integer.toString(clusterPort),
            "--cluster-members", "127.0.0.1:" + firstClusterPort, "--memory-budget-mb", "64",
            "--data", dir.resolve("shard-" + id).toString()),
        Map.of("QUIVER_HEAP", "512m"), dir.resolve("shard-" + id + ".log"), "Quiver shard " + id + " ready", 180));
  }

  private static int upsert(TestHttp http, long base, int n) {
    JsonArray points = new JsonArray();
    for (long id = base; id < base + n; id++) {
      points.add(new JsonObject().put("id", id).put("values", ClusterChecks.vector(id, DIM)));
    }
    return http.post("/collections/moves/points", new JsonObject().put("points", points)).status();
  }
}
