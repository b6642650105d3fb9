package io.quiver.server;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Blocking JSON calls from {@code ctl} to a gateway's REST API. Every request says
 * {@code x-quiver-client: ctl} (so a read-only switch is recorded as set by "ctl"). A refused call
 * becomes a {@link CtlException} whose message is the server's {@code code: message}; an unreachable
 * gateway one with exit code {@link CtlCommand#UNREACHABLE}. Not thread-safe (one per command).
 */
final class CtlClient {
  private static final Duration LONG = Duration.ofMinutes(30);

  /** A successful answer: its HTTP status (200, 202, ...) and JSON object body. */
  record Answer(int status, JsonObject body) {}

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;
  private final String apiKey;

  CtlClient(String url, String apiKey) {
    this.base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    this.apiKey = apiKey == null ? "" : apiKey;
  }

  JsonObject get(String path) {
    return send("GET", path, null, Duration.ofSeconds(30)).body();
  }

  /** A POST that may run long (checkpoint, backup): waits up to 30 minutes. */
  JsonObject post(String path, JsonObject body) {
    return send("POST", path, body, LONG).body();
  }

  /** One request with a JSON body (or none) that must be answered within {@code timeout}. */
  Answer send(String method, String path, JsonObject body, Duration timeout) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(timeout).header("x-quiver-client", "ctl");
    if (body == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("content-type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body.encode()));
    }
    if (!apiKey.isEmpty()) {
      b.header("x-api-key", apiKey);
    }
    HttpRequest req = b.build();
    HttpResponse<String> r;
    try {
      r = http.send(req, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new CtlException(CtlCommand.UNREACHABLE, "cannot reach the gateway at " + base + ": "
          + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CtlException(CtlCommand.FAILED, "interrupted");
    }
    JsonObject json;
    try {
      json = r.body().isEmpty() ? new JsonObject() : new JsonObject(r.body());
    } catch (DecodeException e) {
      throw new CtlException(CtlCommand.FAILED, req.method() + " " + req.uri().getPath() + " answered " + r.statusCode()
          + " with a body that is not JSON");
    }
    if (r.statusCode() >= 300) {
      throw new CtlException(CtlCommand.FAILED, req.method() + " " + req.uri().getPath() + " failed: "
          + json.getString("code", "http_" + r.statusCode()) + ": " + json.getString("message", ""));
    }
    return new Answer(r.statusCode(), json);
  }

  private URI uri(String path) {
    try {
      return URI.create(base + path);
    } catch (IllegalArgumentException e) {
      throw new CtlException(2, "--url '" + base + "' is not a URL");
    }
  }
}
