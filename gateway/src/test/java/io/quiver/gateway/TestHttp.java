package io.quiver.gateway;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.net.ssl.SSLContext;

/** A blocking HTTP/1.1 client for one gateway's REST port, with fixed extra headers. Thread-safe. */
final class TestHttp {
  /** A response: status, raw body, parsed JSON object (null when the body is not one), headers. */
  record Response(int status, String body, JsonObject json, java.net.http.HttpHeaders headers) {
    String code() {
      return json == null ? null : json.getString("code");
    }

    String header(String name) {
      return headers.firstValue(name).orElse(null);
    }
  }

  private final HttpClient client;
  private final String scheme;
  private final int port;
  private final SSLContext tls;
  private final String base;
  private final Map<String, String> headers;

  TestHttp(int port) {
    this("http", port, null, Map.of());
  }

  private TestHttp(String scheme, int port, SSLContext tls, Map<String, String> headers) {
    HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5));
    if (tls != null) {
      b.sslContext(tls);
    }
    this.client = b.build();
    this.scheme = scheme;
    this.port = port;
    this.tls = tls;
    this.base = scheme + "://127.0.0.1:" + port;
    this.headers = Map.copyOf(headers);
  }

  static TestHttp tls(int port, SSLContext tls) {
    return new TestHttp("https", port, tls, Map.of());
  }

  /** The same gateway with {@code name: value} sent on every request. */
  TestHttp with(String name, String value) {
    Map<String, String> h = new LinkedHashMap<>(headers);
    h.put(name, value);
    return new TestHttp(scheme, port, tls, h);
  }

  Response get(String path) {
    return send("GET", path, null);
  }

  Response delete(String path) {
    return send("DELETE", path, null);
  }

  Response post(String path, Object body) {
    return send("POST", path, body);
  }

  Response put(String path, Object body) {
    return send("PUT", path, body);
  }

  /** {@code body}: null, a String sent as is, or anything whose toString() is JSON. */
  Response send(String method, String path, Object body) {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body.toString()));
    if (body != null) {
      r.header("content-type", "application/json");
    }
    headers.forEach(r::header);
    try {
      HttpResponse<String> resp = client.send(r.build(), HttpResponse.BodyHandlers.ofString());
      JsonObject json = null;
      try {
        json = resp.body().isEmpty() ? null : new JsonObject(resp.body());
      } catch (DecodeException | ClassCastException e) {
        json = null;
      }
      return new Response(resp.statusCode(), resp.body(), json, resp.headers());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
