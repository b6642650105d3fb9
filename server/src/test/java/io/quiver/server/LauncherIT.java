package io.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Starts {@code bin/quiver standalone} as a child process the way a user would, waits for its ready
 * line, runs create / upsert / search over HTTP, and stops it with SIGTERM: it must exit and leave
 * no process behind.
 */
class LauncherIT {
  private static final Path LAUNCHER = Path.of("..", "bin", "quiver").toAbsolutePath().normalize();

  @TempDir Path data;
  private Process process;

  @AfterEach
  void killLeftovers() {
    if (process != null) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
  }

  @Test
  void standaloneStartsServesAndStopsCleanly() throws Exception {
    assertThat(Files.isExecutable(LAUNCHER)).as(LAUNCHER + " is executable").isTrue();
    int httpPort = TestHttp.freePort();
    ProcessBuilder pb = new ProcessBuilder(List.of(LAUNCHER.toString(), "standalone",
        "--http-port", Integer.toString(httpPort), "--grpc-port", Integer.toString(TestHttp.freePort()),
        "--shard-port", "0", "--shard-http-port", "0",
        "--cluster-port", Integer.toString(TestHttp.freePort()), "--cluster-name", "launcher-" + UUID.randomUUID(),
        "--memory-budget-mb", "64", "--data", data.toString()));
    pb.environment().put("QUIVER_HEAP", "512m");
    pb.redirectError(data.resolve("stderr.log").toFile());
    process = pb.start();

    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String ready = CompletableFuture.supplyAsync(() -> {
      try {
        for (String line; (line = out.readLine()) != null; ) {
          if (line.startsWith("Quiver standalone ready")) {
            return line;
          }
        }
        return null;
      } catch (IOException e) {
        return null;
      }
    }).get(180, TimeUnit.SECONDS);
    assertThat(ready).as("ready line; stderr:\n" + Files.readString(data.resolve("stderr.log")))
        .isNotNull().contains("http://127.0.0.1:" + httpPort).contains("2 shards");

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

    List<ProcessHandle> family = process.descendants().toList();
    process.destroy(); // SIGTERM, as a user's Ctrl-C or a container stop
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exits after SIGTERM").isTrue();
    for (ProcessHandle p : family) {
      p.onExit().get(30, TimeUnit.SECONDS);
    }
    assertThat(family).noneMatch(ProcessHandle::isAlive);
  }
}
