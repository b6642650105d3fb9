package io.quiver.server.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Compose stack without Docker: the Quiver services of deploy/compose/docker-compose.yml (one
 * gateway, three shards) as separate JVMs through bin/quiver, each with the environment Compose
 * would give it (env files, then {@code environment:}). Only what a container gives for free is
 * rewritten: host names and 0.0.0.0 become 127.0.0.1, every port setting gets a free port (and
 * {@code host:port} references follow), data directories are temporary, the cluster name is
 * unique, and heap and memory budget are scaled down for a test machine following the sizing rule.
 * Everything else (durability, cluster token, auth mode, members list, ids, advertised hosts) is
 * passed through as written. Like Compose, the gateway starts once the shards pass the image's
 * {@code quiver healthcheck ready}. Then: create a collection, upsert a batch, search, count.
 */
class ComposeTopologyIT {
  private static final Path LAUNCHER = DeployFiles.path("bin/quiver");
  private static final Set<String> PORT_SETTINGS = Set.of("QUIVER_HTTP_PORT", "QUIVER_GRPC_PORT", "QUIVER_SHARD_PORT",
      "QUIVER_SHARD_HTTP_PORT", "QUIVER_CLUSTER_PORT");
  private static final Map<String, String> PORT_DEFAULTS = Map.of("QUIVER_HTTP_PORT", "8080", "QUIVER_GRPC_PORT", "9090",
      "QUIVER_SHARD_PORT", "9100", "QUIVER_SHARD_HTTP_PORT", "9200", "QUIVER_CLUSTER_PORT", "5701");
  private static final String TEST_HEAP = "384m";
  /** 1.1 x (1.25 x 64 MB + 256 MB) = 370 MB <= 384m: the sizing rule at test scale. */
  private static final String TEST_BUDGET_MB = "64";
  private static final int POINTS = 300;

  @TempDir static Path work;
  private static ComposeFile compose;
  private static final Map<String, Map<String, String>> env = new LinkedHashMap<>();
  private static final Map<String, Process> processes = new LinkedHashMap<>();
  private static Path imageLauncher;

  @BeforeAll
  static void startTheQuiverServices() throws Exception {
    compose = ComposeFile.load(DeployFiles.path("deploy/compose/docker-compose.yml"));
    imageLauncher = DeployFiles.writeImageLauncher(Files.createDirectories(work.resolve("image")));
    String clusterName = "compose-it-" + UUID.randomUUID();
    Map<String, Map<String, Integer>> ports = new HashMap<>();
    for (ComposeFile.Service s : compose.quiverServices()) {
      Map<String, Integer> p = new HashMap<>();
      PORT_SETTINGS.forEach(k -> p.put(k, freePort()));
      ports.put(s.name(), p);
    }
    for (ComposeFile.Service s : compose.quiverServices()) {
      Map<String, String> e = new LinkedHashMap<>();
      s.environment().forEach((k, v) -> e.put(k, rewrite(s, k, v, ports, clusterName)));
      e.put("QUIVER_HEAP", TEST_HEAP);
      if (s.role().equals("shard")) {
        e.put("QUIVER_MEMORY_BUDGET_MB", TEST_BUDGET_MB);
      }
      env.put(s.name(), e);
    }

    List<ComposeFile.Service> shards = compose.quiverServices().stream().filter(s -> s.role().equals("shard")).toList();
    for (ComposeFile.Service s : shards) {
      start(s);
    }
    for (ComposeFile.Service s : shards) {
      awaitReadyLine(s, "Quiver shard " + s.environment().get("QUIVER_SHARD_ID") + " ready");
      await(() -> healthcheck(s.name(), "ready"), Duration.ofSeconds(60), s.name() + " passes `quiver healthcheck ready`");
    }
    for (ComposeFile.Service s : compose.quiverServices()) {
      if (!s.role().equals("shard")) {
        start(s);
        awaitReadyLine(s, "Quiver " + s.role() + " ready");
      }
    }
  }

  @AfterAll
  static void stopEverything() throws InterruptedException {
    for (Process p : processes.values()) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    for (Process p : processes.values()) {
      p.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void servesTheSmokeFlowAcrossAllShards() {
    ComposeFile.Service gatewayService = compose.quiverServices().stream().filter(s -> s.role().equals("gateway")).findFirst().orElseThrow();
    Http gateway = new Http(Integer.parseInt(env.get(gatewayService.name()).get("QUIVER_HTTP_PORT")));
    long shardCount = compose.quiverServices().stream().filter(s -> s.role().equals("shard")).count();
    await(() -> {
      Http.Response ready = gateway.get("/ready");
      return ready.status() == 200 && ready.obj().getJsonObject("checks").getString("shards").equals(shardCount + " live");
    }, Duration.ofSeconds(60), "gateway ready with " + shardCount + " live shards: " + gateway.get("/ready").body());
    assertThat(healthcheck(gatewayService.name(), "live")).as("gateway passes `quiver healthcheck live`").isTrue();

    Http.Response created = gateway.post("/collections", new JsonObject().put("name", "compose_smoke").put("dimension", 4));
    assertThat(created.status()).as(created.body()).isEqualTo(200);

    JsonArray points = new JsonArray();
    for (int i = 0; i < POINTS; i++) {
      points.add(new JsonObject().put("id", i).put("values", new JsonArray().add(i).add(1).add(0).add(0))
          .put("payload", new JsonObject().put("n", i)));
    }
    Http.Response upserted = gateway.post("/collections/compose_smoke/points", new JsonObject().put("points", points));
    assertThat(upserted.status()).as(upserted.body()).isEqualTo(200);
    assertThat(upserted.obj().getLong("created")).isEqualTo(POINTS);

    Http.Response hits = gateway.post("/collections/compose_smoke/search/topk", new JsonObject()
        .put("query", new JsonArray().add(42.2).add(1).add(0).add(0)).put("limit", 3).put("metric", "l2").put("include_payload", true));
    assertThat(hits.status()).as(hits.body()).isEqualTo(200);
    JsonArray top = hits.obj().getJsonArray("hits");
    assertThat(top.stream().map(h -> ((JsonObject) h).getLong("id")).toList()).containsExactly(42L, 43L, 41L);
    assertThat(top.getJsonObject(0).getJsonObject("payload")).isEqualTo(new JsonObject().put("n", 42));

    Http.Response collection = gateway.get("/collections/compose_smoke");
    assertThat(collection.status()).as(collection.body()).isEqualTo(200);
    assertThat(collection.obj().getLong("point_count")).isEqualTo(POINTS);

    for (ComposeFile.Service s : compose.quiverServices()) {
      if (s.role().equals("shard")) {
        Http.Response ready = new Http(Integer.parseInt(env.get(s.name()).get("QUIVER_SHARD_HTTP_PORT"))).get("/ready");
        assertThat(ready.obj().getJsonObject("checks").getLong("points")).as(s.name() + " holds part of the points").isPositive();
      }
    }
  }

  // ---------------------------------------------------------------- the environment

  /**
   * One Compose value as it must be on a single host: a port setting gets this service's free port,
   * a host name (or 0.0.0.0) becomes 127.0.0.1, and {@code service:port} follows that service's port.
   */
  private static String rewrite(ComposeFile.Service s, String key, String value, Map<String, Map<String, Integer>> ports,
      String clusterName) {
    if (PORT_SETTINGS.contains(key)) {
      return ports.get(s.name()).get(key).toString();
    }
    switch (key) {
      case "QUIVER_DATA_DIR":
        return work.resolve("data").resolve(s.name()).toString();
      case "QUIVER_CLUSTER_NAME":
        return clusterName;
      default:
        break;
    }
    List<String> items = new ArrayList<>();
    for (String item : value.split(",", -1)) {
      String host = item.contains(":") ? item.substring(0, item.indexOf(':')) : item;
      ComposeFile.Service target = serviceByHost(host);
      if (target == null && !host.equals("0.0.0.0")) {
        items.add(item);
        continue;
      }
      if (!item.contains(":")) {
        items.add("127.0.0.1");
        continue;
      }
      String port = item.substring(item.indexOf(':') + 1);
      ComposeFile.Service owner = target == null ? s : target;
      String setting = PORT_SETTINGS.stream()
          .filter(k -> owner.environment().getOrDefault(k, PORT_DEFAULTS.get(k)).equals(port)).findFirst()
          .orElseThrow(() -> new AssertionError(s.name() + " " + key + ": port " + port + " of " + owner.name()
              + " is none of its port settings"));
      items.add("127.0.0.1:" + ports.get(owner.name()).get(setting));
    }
    return String.join(",", items);
  }

  private static ComposeFile.Service serviceByHost(String host) {
    return compose.services().values().stream().filter(s -> s.hostname().equals(host) || s.name().equals(host))
        .findFirst().orElse(null);
  }

  // ---------------------------------------------------------------- processes

  private static void start(ComposeFile.Service s) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(List.of(LAUNCHER.toString())));
    pb.command().addAll(s.command());
    pb.environment().keySet().removeIf(k -> k.startsWith("QUIVER_"));
    pb.environment().putAll(env.get(s.name()));
    pb.redirectOutput(work.resolve(s.name() + ".out").toFile());
    pb.redirectError(work.resolve(s.name() + ".err").toFile());
    processes.put(s.name(), pb.start());
  }

  private static void awaitReadyLine(ComposeFile.Service s, String prefix) {
    Path out = work.resolve(s.name() + ".out");
    await(() -> {
      if (!processes.get(s.name()).isAlive()) {
        throw new AssertionError(s.name() + " exited " + processes.get(s.name()).exitValue() + ":\n" + tail(work.resolve(s.name() + ".err")));
      }
      if (tail(work.resolve(s.name() + ".err")).contains("Exception in thread \"main\"")) {
        throw new AssertionError(s.name() + " failed to start:\n" + tail(work.resolve(s.name() + ".err")));
      }
      return tail(out).lines().anyMatch(l -> l.startsWith(prefix));
    }, Duration.ofSeconds(180), s.name() + " prints '" + prefix + "'");
  }

  /** The image's `quiver healthcheck` run against this service's ports, as Compose runs it. */
  private static boolean healthcheck(String service, String what) {
    try {
      ProcessBuilder pb = new ProcessBuilder(imageLauncher.toString(), "healthcheck", what).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD);
      pb.environment().keySet().removeIf(k -> k.startsWith("QUIVER_"));
      Map<String, String> e = env.get(service);
      // A gateway container has nothing on the shard HTTP port; here another process might.
      pb.environment().put("QUIVER_SHARD_HTTP_PORT", e.getOrDefault("QUIVER_SHARD_HTTP_PORT", Integer.toString(freePort())));
      pb.environment().put("QUIVER_HTTP_PORT", e.getOrDefault("QUIVER_HTTP_PORT", Integer.toString(freePort())));
      Process p = pb.start();
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Polls {@code condition} every 200 ms until it holds or {@code timeout} passes. */
  private static void await(BooleanSupplier condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        StringBuilder logs = new StringBuilder();
        processes.keySet().forEach(n -> logs.append("\n--- ").append(n).append(" stderr:\n").append(tail(work.resolve(n + ".err"))));
        throw new AssertionError("timed out waiting for: " + what + logs);
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  private static String tail(Path file) {
    try {
      String s = Files.exists(file) ? Files.readString(file) : "";
      return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    } catch (IOException e) {
      return e.toString();
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A blocking JSON client for 127.0.0.1 (TestHttp lives in another package). */
  record Http(int port) {
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    record Response(int status, String body) {
      JsonObject obj() {
        return new JsonObject(body);
      }
    }

    Response get(String path) {
      return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    Response post(String path, JsonObject body) {
      return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(Json.encode(body))));
    }

    private URI uri(String path) {
      return URI.create("http://127.0.0.1:" + port + path);
    }

    private static Response send(HttpRequest.Builder b) {
      try {
        HttpResponse<String> r = CLIENT.send(b.timeout(Duration.ofSeconds(30)).header("content-type", "application/json").build(),
            HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body());
      } catch (IOException e) {
        return new Response(-1, e.toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }
}
