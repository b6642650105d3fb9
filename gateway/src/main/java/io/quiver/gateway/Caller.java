package io.quiver.gateway;

import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;

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
}
