package io.quiver.gateway;

import io.quiver.cluster.ClusterView;
import io.quiver.cluster.ShardChannel;
import io.quiver.common.QuiverException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.ServiceMethod;

/**
 * The gateway's calls to shards: the request's {@link Caller} deadline and id over a
 * {@link ShardChannel}, each call through the shard's circuit breaker ({@link ShardBreakers}), so a
 * shard that keeps failing is failed fast. Failures are {@link QuiverException}s carrying the
 * shard's error code. Thread-safe; one instance per gateway verticle.
 */
public final class ShardClients {

  private final ShardChannel channel;
  private final ShardBreakers breakers;

  public ShardClients(Vertx vertx, ClusterView view, String clusterToken, ShardBreakers breakers) {
    this.channel = new ShardChannel(vertx, view, clusterToken);
    this.breakers = breakers;
  }

  /** One unary call to {@code shardId}, through its circuit breaker. */
  public <Req, Resp> Future<Resp> call(int shardId, ServiceMethod<Resp, Req> method, Req message, Caller caller) {
    long remaining;
    try {
      remaining = caller.remainingMillisOrFail();
    } catch (QuiverException e) {
      return Future.failedFuture(e);
    }
    return breakers.guard(shardId, remaining,
        () -> channel.call(shardId, method, message, caller.requestId(), caller.deadlineNanos()));
  }

  public ShardBreakers breakers() {
    return breakers;
  }

  public Future<Void> close() {
    return channel.close();
  }
}
