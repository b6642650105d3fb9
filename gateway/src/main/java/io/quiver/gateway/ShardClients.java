package io.quiver.gateway;

import io.quiver.cluster.ClusterView;
import io.quiver.cluster.ShardInfo;
import io.quiver.common.ErrorCode;
import io.quiver.common.InternalApi;
import io.quiver.common.QuiverException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import java.util.concurrent.TimeUnit;

/**
 * Calls shards over {@code quiver.internal.v1.ShardService}: resolves a shard id to its live address,
 * sets the request deadline as the gRPC deadline, attaches the cluster token and request id as
 * metadata, and turns a failed call into a {@link QuiverException} with the shard's error code
 * ({@code shard_unavailable} when the shard cannot be reached, {@code timeout} when the deadline
 * passed). Every call goes through the shard's circuit breaker ({@link ShardBreakers}), so a shard
 * that keeps failing is failed fast. Thread-safe; one instance per gateway verticle.
 */
public final class ShardClients {

  private final ClusterView view;
  private final GrpcClient grpc;
  private final String clusterToken;
  private final ShardBreakers breakers;

  public ShardClients(Vertx vertx, ClusterView view, String clusterToken, ShardBreakers breakers) {
    this.view = view;
    this.clusterToken = clusterToken;
    this.breakers = breakers;
    this.grpc = GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(InternalApi.MAX_MESSAGE_BYTES),
        new HttpClientOptions().setHttp2MultiplexingLimit(1000).setConnectTimeout(1000));
  }

  /** One unary call to {@code shardId}, through its circuit breaker. */
  public <Req, Resp> Future<Resp> call(int shardId, ServiceMethod<Resp, Req> method, Req message, Caller caller) {
    long remaining;
    try {
      remaining = caller.remainingMillisOrFail();
    } catch (QuiverException e) {
      return Future.failedFuture(e);
    }
    return breakers.guard(shardId, remaining, () -> send(shardId, method, message, caller, remaining));
  }

  public ShardBreakers breakers() {
    return breakers;
  }

  private <Req, Resp> Future<Resp> send(int shardId, ServiceMethod<Resp, Req> method, Req message, Caller caller, long remaining) {
    ShardInfo shard = view.liveShards().get(shardId);
    if (shard == null) {
      return Future.failedFuture(new QuiverException(ErrorCode.SHARD_UNAVAILABLE, "shard " + shardId + " is not reachable"));
    }
    SocketAddress address = SocketAddress.inetSocketAddress(shard.grpcPort(), shard.host());
    return grpc.request(address, method)
        .compose(req -> {
          req.headers().set(InternalApi.TOKEN_HEADER, clusterToken).set(InternalApi.REQUEST_ID_HEADER, caller.requestId());
          req.timeout(remaining, TimeUnit.MILLISECONDS);
          return req.send(message).compose(resp -> resp.last().transform(ar -> {
            if (resp.status() != null && resp.status() != GrpcStatus.OK) {
              return Future.failedFuture(fromStatus(shardId, resp.status(), resp.statusMessage()));
            }
            return ar.succeeded() ? Future.succeededFuture(ar.result()) : Future.failedFuture(ar.cause());
          }));
        })
        .recover(err -> Future.failedFuture(classify(shardId, err, caller)));
  }

  private static QuiverException fromStatus(int shardId, GrpcStatus status, String message) {
    return switch (status) {
      case DEADLINE_EXCEEDED -> new QuiverException(ErrorCode.TIMEOUT, "shard " + shardId + " did not answer before the deadline");
      case UNAVAILABLE, UNKNOWN, CANCELLED, UNAUTHENTICATED -> QuiverException.fromWireMessage(message, ErrorCode.SHARD_UNAVAILABLE);
      default -> QuiverException.fromWireMessage(message, ErrorCode.INTERNAL);
    };
  }

  private static QuiverException classify(int shardId, Throwable err, Caller caller) {
    if (err instanceof QuiverException q) {
      return q;
    }
    if (System.nanoTime() >= caller.deadlineNanos()) {
      return new QuiverException(ErrorCode.TIMEOUT, "shard " + shardId + " did not answer before the deadline");
    }
    return new QuiverException(ErrorCode.SHARD_UNAVAILABLE,
        "shard " + shardId + " is not reachable: " + err.getClass().getSimpleName()
            + (err.getMessage() == null ? "" : " " + err.getMessage()));
  }

  public Future<Void> close() {
    return grpc.close();
  }
}
