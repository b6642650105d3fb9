package io.quiver.server;

import io.vertx.core.json.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A blocking JSON-over-HTTP client for tests against 127.0.0.1, and a free-port finder. */
final class TestHttp {
  /** A response: status and the decoded JSON body (JsonObject, JsonArray or null). */
  record Response(int status, Object json, String body) {
    io.vertx.core.json.JsonObject obj() {
      return (io.vertx.core.json.JsonObject) json;
    }
  }

  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;

  TestHttp(int port) {
    this.base = "http://127.0.0.1:" + port;
  }

  Response get(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
  }

  Response delete(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE());
  }

  Response post(String path, Object body) {
    return post(path, body, java.util.Map.of());
  }

  Response post(String path, Object body, java.util.Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).POST(HttpRequest.BodyPublishers.ofString(text(body)));
    headers.forEach(b::header);
    return send(b);
  }

  Response put(String path, Object body) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).PUT(HttpRequest.BodyPublishers.ofString(text(body))));
  }

  private static String text(Object body) {
    return body instanceof String s ? s : Json.encode(body);
  }

  private Response send(HttpRequest.Builder b) {
    try {
      HttpResponse<String> r = client.send(b.timeout(Duration.ofSeconds(30)).header("content-type", "application/json").build(),
          HttpResponse.BodyHandlers.ofString());
      Object json = r.body().isEmpty() ? null : Json.decodeValue(r.body());
      return new Response(r.statusCode(), json, r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
