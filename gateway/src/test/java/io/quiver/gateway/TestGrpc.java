package io.quiver.gateway;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A blocking gRPC client for one gateway's public port that returns the status instead of
 * throwing, with fixed metadata on every call. Call from the test thread, never an event loop.
 */
final class TestGrpc implements AutoCloseable {
  /**
   * A call's outcome: status, status message, the response (null unless OK), and the response
   * metadata (headers and trailers together: a trailers-only error response carries its
   * trailers as headers).
   */
  record Reply<T>(GrpcStatus status, String message, T body, MultiMap metadata) {
    /** The Quiver error code: the first word of the status message. */
    String code() {
      return message == null ? null : message.split(" ", 2)[0];
    }
  }

  private final GrpcClient client;
  private final SocketAddress address;
  private final Map<String, String> metadata;
  private final boolean owner;

  TestGrpc(Vertx vertx, int port) {
    this(GrpcClient.client(vertx, new GrpcClientOptions(), new HttpClientOptions().setHttp2MultiplexingLimit(100)),
        SocketAddress.inetSocketAddress(port, "127.0.0.1"), Map.of(), true);
  }

  TestGrpc(Vertx vertx, int port, HttpClientOptions http) {
    this(GrpcClient.client(vertx, new GrpcClientOptions(), http), SocketAddress.inetSocketAddress(port, "127.0.0.1"), Map.of(), true);
  }

  private TestGrpc(GrpcClient client, SocketAddress address, Map<String, String> metadata, boolean owner) {
    this.client = client;
    this.address = address;
    this.metadata = Map.copyOf(metadata);
    this.owner = owner;
  }

  TestGrpc with(String key, String value) {
    Map<String, String> md = new LinkedHashMap<>(metadata);
    md.put(key, value);
    return new TestGrpc(client, address, md, false);
  }

  <Req, Resp> Reply<Resp> call(ServiceMethod<Resp, Req> method, Req message) {
    return call(method, message, 0);
  }

  /** One unary call; {@code timeoutMs} > 0 sets the gRPC deadline. */
  <Req, Resp> Reply<Resp> call(ServiceMethod<Resp, Req> method, Req message, long timeoutMs) {
    return client.request(address, method).compose(req -> {
      metadata.forEach((k, v) -> req.headers().set(k, v));
      if (timeoutMs > 0) {
        req.timeout(timeoutMs, TimeUnit.MILLISECONDS);
      }
      return req.send(message).compose(resp -> resp.last().transform(ar -> Future.succeededFuture(
          new Reply<>(resp.status(), resp.statusMessage(), ar.succeeded() && resp.status() == GrpcStatus.OK ? ar.result() : null,
              MultiMap.caseInsensitiveMultiMap().addAll(resp.headers()).addAll(resp.trailers())))));
    }).recover(err -> Future.succeededFuture(new Reply<>(
        err.getClass().getSimpleName().contains("Timeout") || String.valueOf(err.getMessage()).contains("deadline")
            ? GrpcStatus.DEADLINE_EXCEEDED : GrpcStatus.UNAVAILABLE,
        String.valueOf(err), null, MultiMap.caseInsensitiveMultiMap()))).await();
  }

  @Override
  public void close() {
    if (owner) {
      client.close().await();
    }
  }
}
