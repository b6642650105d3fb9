package io.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A standalone child process started by {@code bin/quiver} with JSON logs: every stderr line is one
 * JSON object; a request id sent by the client comes back in the response, is on the gateway's
 * access line (with the W3C trace id, tenant, status, duration and route template) and on the
 * shard lines of the work that request caused; no vector or payload reaches the log.
 */
class RequestIdLoggingIT {
  private static final String TRACE = "4bf92f3577b34e4ea8b1c2d3e4f5a6b7";
  private static final String SECRET = "payload-value-that-must-not-be-logged";

  @TempDir Path dir;
  private QuiverProcess quiver;

  @AfterEach
  void stop() {
    if (quiver != null) {
      quiver.close();
    }
  }

  @Test
  void requestIdFollowsTheCallThroughGatewayAndShardLogs() throws Exception {
    int port = TestHttp.freePort();
    Path stderr = dir.resolve("stderr.log");
    quiver = QuiverProcess.start(List.of("standalone", "--http-port", Integer.toString(port),
            "--grpc-port", Integer.toString(TestHttp.freePort()), "--shard-port", "0", "--shard-http-port", "0",
            "--cluster-port", Integer.toString(TestHttp.freePort()), "--cluster-name", "logs-" + UUID.randomUUID(),
            "--memory-budget-mb", "64", "--data", dir.resolve("data").toString()),
        Map.of("QUIVER_HEAP", "512m", "QUIVER_LOG_FORMAT", "json"), stderr, "Quiver standalone ready", 180);
    HttpClient client = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + port;
    String upsertId = "it-upsert-" + UUID.randomUUID();
    String checkpointId = "it-checkpoint-" + UUID.randomUUID();

    assertThat(send(client, base + "/collections", "POST", "{\"name\":\"logs\",\"dimension\":3}", null).statusCode())
        .isEqualTo(200);
    HttpResponse<String> put = send(client, base + "/collections/logs/points/5", "PUT",
        "{\"values\":[0.125,0.5,0.75],\"payload\":{\"secret\":\"" + SECRET + "\"}}", upsertId);
    assertThat(put.statusCode()).isEqualTo(200);
    assertThat(put.headers().firstValue("x-request-id")).contains(upsertId);
    HttpResponse<String> ckpt = send(client, base + "/admin/checkpoint", "POST", "{}", checkpointId);
    assertThat(ckpt.statusCode()).isEqualTo(200);
    quiver.stop(60); // SIGTERM: shutdown hooks run, logs are flushed

    List<JsonObject> lines = new ArrayList<>();
    for (String line : Files.readAllLines(stderr)) {
      if (line.startsWith("WARNING:")) {
        continue; // the JVM's own notice about incubator modules
      }
      try {
        lines.add(new JsonObject(line));
      } catch (DecodeException e) {
        throw new AssertionError("a log line is not one JSON object: " + line);
      }
    }
    assertThat(lines).isNotEmpty().allSatisfy(l -> assertThat(l.fieldNames())
        .contains("timestamp", "level", "service", "component", "message", "host"));

    JsonObject access = lines.stream().filter(l -> upsertId.equals(l.getString("request_id"))
        && "io.quiver.gateway.access".equals(l.getString("component"))).findFirst().orElseThrow();
    assertThat(access.getString("trace_id")).isEqualTo(TRACE);
    assertThat(access.getString("tenant_id")).isEqualTo("default");
    assertThat(access.getInteger("status")).isEqualTo(200);
    assertThat(access.getValue("duration_ms")).isInstanceOf(Number.class);
    assertThat(access.getString("path")).isEqualTo("/collections/:name/points/:id");
    assertThat(access.getString("service")).isEqualTo("quiver-standalone");

    assertThat(lines).anySatisfy(l -> {
      assertThat(l.getString("request_id")).isEqualTo(checkpointId);
      assertThat(l.getString("component")).isEqualTo("io.quiver.gateway.access");
    });
    List<JsonObject> shardLines = lines.stream().filter(l -> checkpointId.equals(l.getString("request_id"))
        && l.getString("component").startsWith("io.quiver.shard")).toList();
    assertThat(shardLines).as("shard lines carrying the checkpoint's request id").hasSizeGreaterThanOrEqualTo(2);
    assertThat(shardLines).anySatisfy(l -> assertThat(l.getString("message")).startsWith("shard 0 checkpoint"));

    String all = Files.readString(stderr);
    assertThat(all).doesNotContain(SECRET).doesNotContain("0.125");
  }

  private static HttpResponse<String> send(HttpClient client, String url, String method, String body, String requestId)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method, HttpRequest.BodyPublishers.ofString(body))
        .header("content-type", "application/json").header("traceparent", "00-" + TRACE + "-00f067aa0ba902b7-01");
    if (requestId != null) {
      b.header("x-request-id", requestId);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
