package io.quiver.gateway;

import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * Who is calling and by when they need the answer: the tenant whose collections they see, the
 * request id that follows the call to every shard, and the absolute deadline (System.nanoTime()).
 * Immutable.
 */
public record Caller(String tenant, String requestId, long deadlineNanos) {

  /** Milliseconds left before the deadline; fails with {@code timeout} when none are left. */
  public long remainingMillisOrFail() {
    long left = (deadlineNanos - System.nanoTime()) / 1_000_000;
    if (left <= 0) {
      throw new QuiverException(ErrorCode.TIMEOUT, "request deadline passed");
    }
    return left;
  }

  /**
   * {@code work}, or {@code timeout} if it has not completed by the deadline. The work itself is
   * not stopped: its shard calls carry the same deadline and end by themselves.
   */
  public <T> Future<T> within(Vertx vertx, Future<T> work) {
    if (work.isComplete()) {
      return work;
    }
    long left = (deadlineNanos - System.nanoTime()) / 1_000_000;
    if (left <= 0) {
      return Future.failedFuture(deadlinePassed());
    }
    Promise<T> answer = Promise.promise();
    long timer = vertx.setTimer(left, id -> answer.tryFail(deadlinePassed()));
    work.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        answer.tryComplete(ar.result());
      } else {
        answer.tryFail(ar.cause());
      }
    });
    return answer.future();
  }

  private static QuiverException deadlinePassed() {
    return new QuiverException(ErrorCode.TIMEOUT, "request deadline passed");
  }
}
