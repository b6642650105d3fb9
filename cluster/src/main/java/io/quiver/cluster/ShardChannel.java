package io.quiver.cluster;

import io.quiver.common.ErrorCode;
import io.quiver.common.InternalApi;
import io.quiver.common.QuiverException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import java.util.concurrent.TimeUnit;

/**
 * The one way to call a shard's internal gRPC API, for gateways and for shards calling each other
 * (partition moves): resolves a shard id to its live address, sets the deadline as the gRPC
 * deadline, attaches the cluster token and request id as metadata, and turns a failed call into a
 * {@link QuiverException} with the shard's own error code ({@code shard_unavailable} when the shard
 * cannot be reached, {@code timeout} when the deadline passed).
 *
 * <p>A shard served by this JVM ({@link LocalShards}, standalone) is called directly with the
 * request message, no encoding and no socket; the call fails the same way and with the same
 * {@link QuiverException} as over gRPC, and its answer arrives on the caller's context. Thread-safe.
 */
public final class ShardChannel {
  private final Vertx vertx;
  private final ClusterView view;
  private final GrpcClient grpc;
  private final String clusterToken;

  public ShardChannel(Vertx vertx, ClusterView view, String clusterToken) {
    this.vertx = vertx;
    this.view = view;
    this.clusterToken = clusterToken;
    this.grpc = GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(InternalApi.MAX_MESSAGE_BYTES),
        InternalApi.withGrpcWindows(new HttpClientOptions().setHttp2MultiplexingLimit(1000).setConnectTimeout(1000)));
  }

  /** One unary call to live shard {@code shardId}, due by {@code deadlineNanos} (System.nanoTime()). */
  public <Req, Resp> Future<Resp> call(int shardId, ServiceMethod<Resp, Req> method, Req message, String requestId,
      long deadlineNanos) {
    long remaining = (deadlineNanos - System.nanoTime()) / 1_000_000;
    if (remaining <= 0) {
      return Future.failedFuture(new QuiverException(ErrorCode.TIMEOUT, "request deadline passed"));
    }
    ShardInfo shard = view.liveShards().get(shardId);
    if (shard == null) {
      return Future.failedFuture(new QuiverException(ErrorCode.SHARD_UNAVAILABLE, "shard " + shardId + " is not reachable"));
    }
    LocalShards.Endpoint local = LocalShards.find(shard.host(), shard.grpcPort());
    if (local != null) {
      return callLocal(shardId, local, method, message, requestId, deadlineNanos, remaining);
    }
    SocketAddress address = SocketAddress.inetSocketAddress(shard.grpcPort(), shard.host());
    return grpc.request(address, method)
        .compose(req -> {
          req.headers().set(InternalApi.TOKEN_HEADER, clusterToken).set(InternalApi.REQUEST_ID_HEADER, requestId);
          req.timeout(remaining, TimeUnit.MILLISECONDS);
          return req.send(message).compose(resp -> resp.last().transform(ar -> {
            if (resp.status() != null && resp.status() != GrpcStatus.OK) {
              return Future.failedFuture(fromStatus(shardId, resp.status(), resp.statusMessage()));
            }
            return ar.succeeded() ? Future.succeededFuture(ar.result()) : Future.failedFuture(ar.cause());
          }));
        })
        .recover(err -> Future.failedFuture(classify(shardId, err, deadlineNanos)));
  }

  /**
   * The call to a shard of this JVM: a timer fails it with {@code timeout} at the deadline, as the
   * gRPC deadline does; its outcome is delivered on the caller's context.
   */
  private <Req, Resp> Future<Resp> callLocal(int shardId, LocalShards.Endpoint local, ServiceMethod<Resp, Req> method,
      Req message, String requestId, long deadlineNanos, long remainingMillis) {
    Promise<Resp> answer = ((ContextInternal) vertx.getOrCreateContext()).promise();
    long timer = vertx.setTimer(remainingMillis, t -> answer.tryFail(timeout(shardId)));
    Future<Resp> call;
    try {
      call = local.call(method, message, clusterToken, requestId);
    } catch (RuntimeException e) {
      call = Future.failedFuture(e);
    }
    call.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        answer.tryComplete(ar.result());
      } else if (ar.cause() instanceof LocalShards.Status s) {
        answer.tryFail(fromStatus(shardId, s.status(), s.statusMessage()));
      } else {
        answer.tryFail(classify(shardId, ar.cause(), deadlineNanos));
      }
    });
    return answer.future();
  }

  private static QuiverException timeout(int shardId) {
    return new QuiverException(ErrorCode.TIMEOUT, "shard " + shardId + " did not answer before the deadline");
  }

  private static QuiverException fromStatus(int shardId, GrpcStatus status, String message) {
    return switch (status) {
      case DEADLINE_EXCEEDED -> timeout(shardId);
      case UNAVAILABLE, UNKNOWN, CANCELLED, UNAUTHENTICATED -> QuiverException.fromWireMessage(message, ErrorCode.SHARD_UNAVAILABLE);
      default -> QuiverException.fromWireMessage(message, ErrorCode.INTERNAL);
    };
  }

  private static QuiverException classify(int shardId, Throwable err, long deadlineNanos) {
    if (err instanceof QuiverException q) {
      return q;
    }
    if (System.nanoTime() >= deadlineNanos) {
      return timeout(shardId);
    }
    return new QuiverException(ErrorCode.SHARD_UNAVAILABLE,
        "shard " + shardId + " is not reachable: " + err.getClass().getSimpleName()
            + (err.getMessage() == null ? "" : " " + err.getMessage()));
  }

  public Future<Void> close() {
    return grpc.close();
  }
}
