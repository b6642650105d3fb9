package io.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Starts {@code bin/quiver standalone} as a child process the way a user would, waits for its ready
 * line, runs create / upsert / search over HTTP, and stops it with SIGTERM: it must exit and leave
 * no process behind. Also: a bad setting exits non-zero with a one-line reason.
 */
class LauncherIT {
  @TempDir Path data;
  private QuiverProcess quiver;

  @AfterEach
  void killLeftovers() {
    if (quiver != null) {
      quiver.close();
    }
  }

  @Test
  void standaloneStartsServesAndStopsCleanly() throws Exception {
    assertThat(Files.isExecutable(QuiverProcess.LAUNCHER)).as(QuiverProcess.LAUNCHER + " is executable").isTrue();
    int httpPort = TestHttp.freePort();
    quiver = QuiverProcess.start(List.of("standalone",
        "--http-port", Integer.toString(httpPort), "--grpc-port", Integer.toString(TestHttp.freePort()),
        "--shard-port", "0", "--shard-http-port", "0",
        "--cluster-port", Integer.toString(TestHttp.freePort()), "--cluster-name", "launcher-" + UUID.randomUUID(),
        "--memory-budget-mb", "64", "--data", data.resolve("data").toString()),
        Map.of("QUIVER_HEAP", "512m"), data.resolve("stderr.log"), "Quiver standalone ready", 180);
    assertThat(quiver.readyLine()).contains("http://127.0.0.1:" + httpPort).contains("2 shards");

    TestHttp http = new TestHttp(httpPort);
    assertThat(http.get("/ready").status()).isEqualTo(200);
    assertThat(http.post("/collections", new JsonObject().put("name", "docs").put("dimension", 2)).status()).isEqualTo(200);
    JsonArray points = new JsonArray();
    for (int i = 0; i < 20; i++) {
      points.add(new JsonObject().put("id", i).put("values", new JsonArray().add(i).add(1)));
    }
    assertThat(http.post("/collections/docs/points", new JsonObject().put("points", points)).obj().getLong("created")).isEqualTo(20);
    TestHttp.Response hits = http.post("/collections/docs/search/topk",
        new JsonObject().put("query", new JsonArray().add(4.2).add(1)).put("limit", 3).put("metric", "l2"));
    assertThat(hits.obj().getJsonArray("hits").stream().map(h -> ((JsonObject) h).getLong("id")).toList())
        .containsExactly(4L, 5L, 3L);

    List<ProcessHandle> family = quiver.process().descendants().toList();
    quiver.stop(60); // SIGTERM, as a user's Ctrl-C or a container stop
    assertThat(quiver.process().isAlive()).isFalse();
    for (ProcessHandle p : family) {
      p.onExit().get(30, TimeUnit.SECONDS);
    }
    assertThat(family).noneMatch(ProcessHandle::isAlive);
  }

  @Test
  void aHeapTooSmallForTheMemoryBudgetExitsWithAOneLineReason() throws Exception {
    ProcessBuilder pb = new ProcessBuilder(QuiverProcess.LAUNCHER.toString(), "standalone", "--memory-budget-mb", "4096",
        "--http-port", "0", "--cluster-name", "heap-" + UUID.randomUUID(), "--data", data.toString());
    pb.environment().put("QUIVER_HEAP", "256m");
    pb.redirectErrorStream(true);
    Process p = pb.start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.exitValue()).isNotZero();
    assertThat(out).contains("quiver: ").contains("QUIVER_HEAP");
    assertThat(out.lines().filter(l -> l.startsWith("quiver: ")).count()).isEqualTo(1);
  }
}
