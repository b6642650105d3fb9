package io.quiver.loadtest;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.URI;
import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * The bench tool's one HTTP helper: the Quiver REST API over a non-blocking Vert.x WebClient.
 *
 * <p>Every request goes to the base URL given on the command line and nowhere else. Bodies with vectors
 * are written straight into a buffer (no boxing through JsonArray) so that the client is not the
 * bottleneck of what it measures. Non-2xx answers are mapped to the {@code code} of Quiver's error body
 * ({@code {"code","message","request_id"}}), or {@code http_<status>} when the body has none.
 *
 * <p>Thread-safe: the WebClient is, and this class holds no other mutable state.
 */
public final class RestTransport implements Transport {

  private final WebClient client;
  private final String base;
  private final String apiKey;
  private final long timeoutMs;

  public RestTransport(Vertx vertx, String baseUrl, String apiKey, long timeoutMs, int connections) {
    URI uri = URI.create(baseUrl);
    if (uri.getScheme() == null || uri.getHost() == null) {
      throw new IllegalArgumentException("--url must look like http://host:port, got " + baseUrl);
    }
    this.base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    this.apiKey = apiKey;
    this.timeoutMs = timeoutMs;
    WebClientOptions options = new WebClientOptions()
        .setKeepAlive(true)
        .setTcpNoDelay(true)
        .setUserAgent("quiver-bench")
        .setSsl("https".equals(uri.getScheme()));
    PoolOptions pool = new PoolOptions().setHttp1MaxSize(connections).setMaxWaitQueueSize(-1);
    this.client = WebClient.create(vertx, options, pool);
  }

  @Override
  public Future<Reply> createCollection(String name, int dimension, String metric, Integer partitions) {
    JsonObject body = new JsonObject().put("name", name).put("dimension", dimension);
    if (metric != null) {
      body.put("metric", metric);
    }
    if (partitions != null) {
      body.put("partitions", partitions);
    }
    return send(HttpMethod.POST, "/collections", body.toBuffer());
  }

  @Override
  public Future<Reply> deleteCollection(String name) {
    return send(HttpMethod.DELETE, "/collections/" + name, null);
  }

  @Override
  public Future<Reply> upsert(String collection, List<Point> points) {
    StringBuilder sb = new StringBuilder(points.size() * (points.isEmpty() ? 16 : points.get(0).values().length * 10 + 32));
    sb.append("{\"points\":[");
    for (int i = 0; i < points.size(); i++) {
      Point p = points.get(i);
      if (i > 0) {
        sb.append(',');
      }
      sb.append("{\"id\":").append(p.id()).append(",\"values\":");
      appendVector(sb, p.values());
      if (p.payload() != null) {
        sb.append(",\"payload\":").append(p.payload().encode());
      }
      sb.append('}');
    }
    sb.append("]}");
    return send(HttpMethod.POST, "/collections/" + collection + "/points", Buffer.buffer(sb.toString()));
  }

  @Override
  public Future<Reply> getPoint(String collection, long id) {
    return send(HttpMethod.GET, "/collections/" + collection + "/points/" + Long.toUnsignedString(id), null);
  }

  @Override
  public Future<Reply> search(String collection, float[] query, SearchOptions options) {
    StringBuilder sb = new StringBuilder(query.length * 10 + 128);
    sb.append("{\"query\":");
    appendVector(sb, query);
    appendOptions(sb, options);
    sb.append('}');
    return send(HttpMethod.POST, "/collections/" + collection + "/search/topk", Buffer.buffer(sb.toString()));
  }

  @Override
  public Future<Reply> searchBatch(String collection, List<float[]> queries, SearchOptions options) {
    StringBuilder sb = new StringBuilder(queries.size() * (queries.get(0).length * 10 + 4) + 128);
    sb.append("{\"queries\":[");
    for (int i = 0; i < queries.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      appendVector(sb, queries.get(i));
    }
    sb.append(']');
    appendOptions(sb, options);
    sb.append('}');
    return send(HttpMethod.POST, "/collections/" + collection + "/search/topk/batch", Buffer.buffer(sb.toString()));
  }

  @Override
  public Future<Reply> setReadOnly(boolean enabled, String reason) {
    JsonObject body = new JsonObject().put("enabled", enabled);
    if (reason != null) {
      body.put("reason", reason);
    }
    return send(HttpMethod.PUT, "/admin/read-only", body.toBuffer());
  }

  @Override
  public Future<Reply> ready() {
    return send(HttpMethod.GET, "/ready", null);
  }

  @Override
  public void close() {
    client.close();
  }

  private Future<Reply> send(HttpMethod method, String path, Buffer body) {
    HttpRequest<Buffer> request = client.requestAbs(method, base + path).timeout(timeoutMs);
    if (apiKey != null && !apiKey.isEmpty()) {
      request.putHeader("x-api-key", apiKey);
    }
    Future<HttpResponse<Buffer>> response;
    if (body != null) {
      request.putHeader("content-type", "application/json");
      response = request.sendBuffer(body);
    } else {
      response = request.send();
    }
    return response.map(RestTransport::toReply).otherwise(RestTransport::failureReply);
  }

  static Reply toReply(HttpResponse<Buffer> response) {
    int status = response.statusCode();
    JsonObject json = parse(response.body());
    if (status >= 200 && status < 300) {
      return Reply.success(status, json);
    }
    String code = json != null ? json.getString("code") : null;
    return Reply.failure(status, code != null ? code : "http_" + status, json);
  }

  private static Reply failureReply(Throwable t) {
    boolean timeout = t instanceof TimeoutException
        || t.getClass().getSimpleName().contains("Timeout")
        || String.valueOf(t.getMessage()).contains("timeout period");
    return Reply.clientError(timeout ? Reply.CLIENT_TIMEOUT : Reply.CONNECTION_ERROR);
  }

  private static JsonObject parse(Buffer body) {
    if (body == null || body.length() == 0) {
      return null;
    }
    try {
      Object value = io.vertx.core.json.Json.decodeValue(body);
      return value instanceof JsonObject o ? o : null;
    } catch (DecodeException e) {
      return null;
    }
  }

  private static void appendOptions(StringBuilder sb, SearchOptions options) {
    sb.append(",\"limit\":").append(options.limit());
    if (options.metric() != null) {
      sb.append(",\"metric\":\"").append(options.metric()).append('"');
    }
    if (options.mode() != null) {
      sb.append(",\"mode\":\"").append(options.mode()).append('"');
    }
    if (options.filter() != null) {
      sb.append(",\"filter\":").append(options.filter());
    }
    if (options.targetRecall() != null) {
      sb.append(",\"target_recall\":").append(options.targetRecall());
    }
  }

  static void appendVector(StringBuilder sb, float[] v) {
    sb.append('[');
    for (int i = 0; i < v.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      float f = v[i];
      if (f == (int) f) {
        sb.append((int) f);
      } else {
        sb.append(f);
      }
    }
    sb.append(']');
  }
}
