package io.quiver.gateway;

import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;

/**
 * A request the gateway sheds before doing any work ({@code rate_limited}, {@code overloaded}),
 * with the number of seconds after which a retry may pass; REST sends it as {@code Retry-After},
 * gRPC as the {@code retry-after} trailer. Immutable.
 */
public final class RejectedException extends QuiverException {
  private final long retryAfterSeconds;

  public RejectedException(ErrorCode code, String message, long retryAfterSeconds) {
    super(code, message);
    this.retryAfterSeconds = Math.max(1, retryAfterSeconds);
  }

  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }

  /** The Retry-After seconds for any failure whose code asks for one. */
  static long retryAfterSeconds(QuiverException e) {
    return e instanceof RejectedException r ? r.retryAfterSeconds() : 1;
  }
}
