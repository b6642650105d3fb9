package io.quiver.loadtest;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.ListValue;
import com.google.protobuf.MessageLite;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.quiver.common.ErrorCode;
import io.quiver.common.InternalApi;
import io.quiver.proto.v1.CreateCollectionRequest;
import io.quiver.proto.v1.DeleteCollectionRequest;
import io.quiver.proto.v1.GetPointRequest;
import io.quiver.proto.v1.Hit;

import io.quiver.proto.v1.Query;
import io.quiver.proto.v1.QuiverGrpcClient;
import io.quiver.proto.v1.QuiverGrpcService;
import io.quiver.proto.v1.SearchBatchRequest;
import io.quiver.proto.v1.SearchBatchResult;
import io.quiver.proto.v1.SearchRequest;
import io.quiver.proto.v1.SetReadOnlyRequest;
import io.quiver.proto.v1.UpsertPointsRequest;
import io.quiver.proto.v1.UpsertPointsResponse;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The Quiver public gRPC API ({@code quiver.v1.Quiver}, API.md §3) behind the bench {@link Transport}:
 * vectors travel as packed f32, so neither side formats or parses numbers as text.
 *
 * <p>{@code UpsertPoints} requests are encoded by hand straight from the {@code float[]} rows into one
 * buffer (protobuf's builders would box every float); everything else uses the generated messages.
 * Replies are mapped to the same {@link Reply} shape as REST: status 200 on OK, else the HTTP status of
 * the Quiver error code carried as the first word of the gRPC status message, and bodies rebuilt as the
 * JSON objects the REST API answers with (only the fields the scenarios read). {@link #ready()} asks
 * the standard {@code grpc.health.v1.Health} service. Calls spread over up to {@code connections}
 * HTTP/2 connections, one call per connection at a time, like the REST pool.
 *
 * <p>Thread-safe: the gRPC client is, and this class holds no other mutable state.
 */
public final class GrpcTransport implements Transport {

  /** UpsertPoints with a pre-encoded request body. */
  private static final ServiceMethod<UpsertPointsResponse, Buffer> UPSERT_POINTS_RAW = ServiceMethod.client(
      QuiverGrpcService.SERVICE_NAME, "UpsertPoints", GrpcMessageEncoder.IDENTITY,
      GrpcMessageDecoder.decoder(UpsertPointsResponse.getDefaultInstance()));
  /** grpc.health.v1.Health/Check with an empty request (service ""); the answer is decoded by hand. */
  private static final ServiceMethod<Buffer, Buffer> HEALTH_CHECK = ServiceMethod.client(
      ServiceName.create("grpc.health.v1", "Health"), "Check", GrpcMessageEncoder.IDENTITY, GrpcMessageDecoder.IDENTITY);

  /** Reply code of a search with a filter: the bench passes filters as REST JSON, not as quiver.v1.Filter. */
  static final String FILTER_UNSUPPORTED = "filter_unsupported_over_grpc";

  private final GrpcClient client;
  private final SocketAddress address;
  private final String apiKey;
  private final long timeoutMs;

  public GrpcTransport(Vertx vertx, String url, String apiKey, long timeoutMs, int connections) {
    URI uri = URI.create(url);
    if (uri.getHost() == null || uri.getPort() < 0) {
      throw new IllegalArgumentException("--url must look like http://host:grpc-port with --transport grpc, got " + url);
    }
    if ("https".equals(uri.getScheme())) {
      throw new IllegalArgumentException("--transport grpc speaks plain text only, got " + url);
    }
    this.address = SocketAddress.inetSocketAddress(uri.getPort(), uri.getHost());
    this.apiKey = apiKey;
    this.timeoutMs = timeoutMs;
    HttpClientOptions http = new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false)
        .setTcpNoDelay(true).setHttp2MultiplexingLimit(1);
    InternalApi.withGrpcWindows(http);
    HttpClient httpClient = vertx.createHttpClient(http, new PoolOptions().setHttp2MaxSize(connections).setMaxWaitQueueSize(-1));
    this.client = GrpcClient.client(vertx, httpClient);
  }

  @Override
  public Future<Reply> createCollection(String name, int dimension, String metric, Integer partitions) {
    CreateCollectionRequest.Builder b = CreateCollectionRequest.newBuilder().setName(name).setDimension(dimension);
    if (metric != null) {
      b.setMetric(metric);
    }
    if (partitions != null) {
      b.setPartitions(partitions);
    }
    return call(QuiverGrpcClient.CreateCollection, b.build(), c -> new JsonObject().put("name", c.getName())
        .put("dimension", c.getDimension()));
  }

  @Override
  public Future<Reply> deleteCollection(String name) {
    return call(QuiverGrpcClient.DeleteCollection, DeleteCollectionRequest.newBuilder().setName(name).build(),
        d -> new JsonObject().put("name", d.getName()).put("deleted", d.getDeleted()));
  }

  @Override
  public Future<Reply> upsert(String collection, List<Point> points) {
    return call(UPSERT_POINTS_RAW, Buffer.buffer(encodeUpsertPoints(collection, points)),
        (UpsertPointsResponse r) -> new JsonObject().put("created", r.getCreated()).put("updated", r.getUpdated()));
  }

  @Override
  public Future<Reply> getPoint(String collection, long id) {
    return call(QuiverGrpcClient.GetPoint, GetPointRequest.newBuilder().setCollection(collection).setId(id).build(),
        (io.quiver.proto.v1.Point p) -> {
          JsonArray values = new JsonArray();
          for (int i = 0; i < p.getValuesCount(); i++) {
            values.add(p.getValues(i));
          }
          return new JsonObject().put("id", p.getId()).put("values", values);
        });
  }

  @Override
  public Future<Reply> search(String collection, float[] query, SearchOptions options) {
    SearchRequest.Builder b = SearchRequest.newBuilder().setCollection(collection).setLimit(options.limit());
    for (float f : query) {
      b.addQuery(f);
    }
    if (options.metric() != null) {
      b.setMetric(options.metric());
    }
    if (options.mode() != null) {
      b.setMode(options.mode());
    }
    if (options.targetRecall() != null) {
      b.setTargetRecall(options.targetRecall());
    }
    if (options.filter() != null) {
      return Future.succeededFuture(Reply.failure(0, FILTER_UNSUPPORTED, null));
    }
    return call(QuiverGrpcClient.SearchTopK, b.build(), r -> new JsonObject().put("hits", hits(r.getHitsList())));
  }

  @Override
  public Future<Reply> searchBatch(String collection, List<float[]> queries, SearchOptions options) {
    SearchBatchRequest.Builder b = SearchBatchRequest.newBuilder().setCollection(collection).setLimit(options.limit());
    for (float[] q : queries) {
      Query.Builder qb = Query.newBuilder();
      for (float f : q) {
        qb.addValues(f);
      }
      b.addQueries(qb);
    }
    if (options.metric() != null) {
      b.setMetric(options.metric());
    }
    if (options.mode() != null) {
      b.setMode(options.mode());
    }
    if (options.targetRecall() != null) {
      b.setTargetRecall(options.targetRecall());
    }
    if (options.filter() != null) {
      return Future.succeededFuture(Reply.failure(0, FILTER_UNSUPPORTED, null));
    }
    return call(QuiverGrpcClient.SearchBatch, b.build(), r -> {
      JsonArray results = new JsonArray();
      for (SearchBatchResult res : r.getResultsList()) {
        results.add(new JsonObject().put("hits", hits(res.getHitsList())));
      }
      return new JsonObject().put("results", results);
    });
  }

  @Override
  public Future<Reply> setReadOnly(boolean enabled, String reason) {
    SetReadOnlyRequest.Builder b = SetReadOnlyRequest.newBuilder().setEnabled(enabled);
    if (reason != null) {
      b.setReason(reason);
    }
    return call(QuiverGrpcClient.SetReadOnly, b.build(), s -> new JsonObject().put("enabled", s.getEnabled())
        .put("pending_shards", new JsonArray(s.getPendingShardsList().stream().map(x -> (Object) x).toList())));
  }

  /** 200 when the gateway's health service answers SERVING, else 503 {@code not_ready}. */
  @Override
  public Future<Reply> ready() {
    return call(HEALTH_CHECK, Buffer.buffer(), (Buffer b) -> b);
  }

  @Override
  public void close() {
    client.close();
  }

  private <Req, Resp> Future<Reply> call(ServiceMethod<Resp, Req> method, Req message, Function<Resp, Object> body) {
    return client.request(address, method).compose(req -> {
      if (apiKey != null && !apiKey.isEmpty()) {
        req.headers().set("x-api-key", apiKey);
      }
      req.timeout(timeoutMs, TimeUnit.MILLISECONDS);
      return req.send(message).compose(resp -> resp.last().transform(ar -> {
        if (resp.status() != null && resp.status() != GrpcStatus.OK) {
          return Future.succeededFuture(failure(resp.status(), resp.statusMessage()));
        }
        if (ar.failed()) {
          return Future.succeededFuture(failureReply(ar.cause()));
        }
        Object b = body.apply(ar.result());
        if (b instanceof Buffer health) {
          // HealthCheckResponse { ServingStatus status = 1; }: SERVING is 1, encoded as 0x08 0x01.
          boolean serving = health.length() == 2 && health.getByte(0) == 0x08 && health.getByte(1) == 0x01;
          return Future.succeededFuture(serving ? Reply.success(200, null) : Reply.failure(503, "not_ready", null));
        }
        return Future.succeededFuture(Reply.success(200, (JsonObject) b));
      }));
    }).recover(err -> Future.succeededFuture(failureReply(err)));
  }

  /** A non-OK status: the Quiver code is the first word of the message (API.md §3). */
  static Reply failure(GrpcStatus status, String message) {
    String first = message == null ? "" : message.split(" ", 2)[0];
    ErrorCode code = ErrorCode.fromCode(first);
    if (code == ErrorCode.INTERNAL && !"internal".equals(first)) {
      if (status == GrpcStatus.DEADLINE_EXCEEDED) {
        return Reply.clientError(Reply.CLIENT_TIMEOUT);
      }
      return Reply.failure(0, "grpc_" + status.name().toLowerCase(java.util.Locale.ROOT),
          new JsonObject().put("message", message));
    }
    return Reply.failure(code.httpStatus(), code.code(), new JsonObject().put("code", code.code()).put("message", message));
  }

  private static Reply failureReply(Throwable t) {
    boolean timeout = t.getClass().getSimpleName().contains("Timeout")
        || String.valueOf(t.getMessage()).contains("timeout")
        || String.valueOf(t.getMessage()).contains("deadline");
    return Reply.clientError(timeout ? Reply.CLIENT_TIMEOUT : Reply.CONNECTION_ERROR);
  }

  private static JsonArray hits(List<Hit> hits) {
    JsonArray out = new JsonArray();
    for (Hit h : hits) {
      out.add(new JsonObject().put("id", h.getId()).put("value", h.getValue()));
    }
    return out;
  }

  // ---------------------------------------------------------------- UpsertPointsRequest by hand

  // Field numbers of quiver.v1 UpsertPointsRequest {collection = 1; points = 2} and
  // Point {id = 1; values = 2 (packed f32); payload = 3 (Struct)}.
  private static final int REQ_COLLECTION = 1;
  private static final int REQ_POINTS = 2;
  private static final int POINT_ID = 1;
  private static final int POINT_VALUES = 2;
  private static final int POINT_PAYLOAD = 3;

  /** The wire bytes of {@code UpsertPointsRequest{collection, points}}, identical to what the builders produce. */
  static byte[] encodeUpsertPoints(String collection, List<Point> points) {
    int n = points.size();
    int[] pointSizes = new int[n];
    Struct[] payloads = new Struct[n];
    int size = CodedOutputStream.computeStringSize(REQ_COLLECTION, collection);
    for (int i = 0; i < n; i++) {
      Point p = points.get(i);
      payloads[i] = p.payload() == null ? null : struct(p.payload());
      pointSizes[i] = pointSize(p, payloads[i]);
      size += CodedOutputStream.computeTagSize(REQ_POINTS) + CodedOutputStream.computeUInt32SizeNoTag(pointSizes[i])
          + pointSizes[i];
    }
    byte[] out = new byte[size];
    CodedOutputStream cos = CodedOutputStream.newInstance(out);
    try {
      cos.writeString(REQ_COLLECTION, collection);
      for (int i = 0; i < n; i++) {
        Point p = points.get(i);
        cos.writeTag(REQ_POINTS, com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED);
        cos.writeUInt32NoTag(pointSizes[i]);
        if (p.id() != 0) {
          cos.writeUInt64(POINT_ID, p.id());
        }
        float[] v = p.values();
        if (v.length > 0) {
          cos.writeTag(POINT_VALUES, com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED);
          cos.writeUInt32NoTag(v.length * 4);
          for (float f : v) {
            cos.writeFloatNoTag(f);
          }
        }
        if (payloads[i] != null) {
          cos.writeMessage(POINT_PAYLOAD, payloads[i]);
        }
      }
      cos.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private static int pointSize(Point p, MessageLite payload) {
    int size = p.id() != 0 ? CodedOutputStream.computeUInt64Size(POINT_ID, p.id()) : 0;
    int bytes = p.values().length * 4;
    if (bytes > 0) {
      size += CodedOutputStream.computeTagSize(POINT_VALUES) + CodedOutputStream.computeUInt32SizeNoTag(bytes) + bytes;
    }
    if (payload != null) {
      size += CodedOutputStream.computeMessageSize(POINT_PAYLOAD, payload);
    }
    return size;
  }

  static Struct struct(JsonObject json) {
    Struct.Builder b = Struct.newBuilder();
    for (Map.Entry<String, Object> e : json) {
      b.putFields(e.getKey(), value(e.getValue()));
    }
    return b.build();
  }

  private static Value value(Object o) {
    if (o == null) {
      return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
    } else if (o instanceof Number n) {
      return Value.newBuilder().setNumberValue(n.doubleValue()).build();
    } else if (o instanceof Boolean b) {
      return Value.newBuilder().setBoolValue(b).build();
    } else if (o instanceof JsonObject j) {
      return Value.newBuilder().setStructValue(struct(j)).build();
    } else if (o instanceof JsonArray a) {
      ListValue.Builder l = ListValue.newBuilder();
      for (Object x : a) {
        l.addValues(value(x));
      }
      return Value.newBuilder().setListValue(l).build();
    }
    return Value.newBuilder().setStringValue(o.toString()).build();
  }
}
