package io.quiver.common;

/**
 * Constants of the internal gRPC API ({@code quiver.internal.v1.ShardService}) that both ends must
 * agree on: metadata header names and the largest message either side accepts.
 */
public final class InternalApi {
  /** Metadata header carrying the cluster token; shards refuse calls without the right one. */
  public static final String TOKEN_HEADER = "x-quiver-cluster-token";
  /** Metadata header carrying the request id, so one grep finds a request on every process. */
  public static final String REQUEST_ID_HEADER = "x-request-id";
  /**
   * Largest internal message: a batch of upserts of the largest allowed body, or a chunk of a
   * partition being moved. gRPC's default of 256 KiB would refuse one batch of 256 Fashion-MNIST vectors.
   */
  public static final long MAX_MESSAGE_BYTES = 256L * 1024 * 1024;
  /**
   * HTTP/2 flow-control windows of every gRPC server (shard port, gateway's public port): per stream
   * and per connection. With HTTP/2's default of 64 KiB a 256-point batch of 784-d vectors (800 KB)
   * waited for a dozen WINDOW_UPDATE round trips, each an event-loop turn on both ends: seconds per
   * batch on a busy machine. A window only lets the peer send ahead; memory is used as data arrives.
   */
  public static final int HTTP2_STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
  public static final int HTTP2_CONNECTION_WINDOW_BYTES = 32 * 1024 * 1024;

  private InternalApi() {}

  /** {@code options} with the flow-control windows above (for gRPC servers and clients). */
  public static io.vertx.core.http.HttpServerOptions withGrpcWindows(io.vertx.core.http.HttpServerOptions options) {
    return options.setInitialSettings(options.getInitialSettings().setInitialWindowSize(HTTP2_STREAM_WINDOW_BYTES))
        .setHttp2ConnectionWindowSize(HTTP2_CONNECTION_WINDOW_BYTES);
  }

  /** {@code options} with the flow-control windows above, for what a gRPC client receives. */
  public static io.vertx.core.http.HttpClientOptions withGrpcWindows(io.vertx.core.http.HttpClientOptions options) {
    return options.setInitialSettings(options.getInitialSettings().setInitialWindowSize(HTTP2_STREAM_WINDOW_BYTES))
        .setHttp2ConnectionWindowSize(HTTP2_CONNECTION_WINDOW_BYTES);
  }
}
