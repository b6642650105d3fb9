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

  private InternalApi() {}
}
