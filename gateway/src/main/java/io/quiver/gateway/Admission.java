package io.quiver.gateway;

import io.quiver.cluster.ReadOnlyState;
import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.vertx.core.Future;
import java.util.function.Supplier;

/**
 * The gate every public request passes, the same for REST and gRPC, in this order:
 * <ol>
 *   <li>{@link #enter()}, on arrival and before the body is read: a slot of the concurrency limit
 *       ({@code overloaded} otherwise), then a permit of the gateway's rate ({@code rate_limited});
 *   <li>{@link #authorize}: the credentials name a principal ({@code unauthorized}), it holds the
 *       scope the operation needs ({@code forbidden}) and its tenant is within its rate
 *       ({@code rate_limited});
 *   <li>a write ({@link Scope#WRITE}) while the operator read-only mode is on: {@code read_only}
 *       with the reason (DESIGN.md: auth, rate limit, then the read-only check).
 * </ol>
 * Never blocks; thread-safe.
 */
public final class Admission {
  private final Authenticator authenticator;
  private final RateLimits rates;
  private final InFlightLimit inFlight;
  private volatile java.util.function.Consumer<ErrorCode> rejections = code -> {};
  private final Supplier<ReadOnlyState> readOnly;

  public Admission(Authenticator authenticator, RateLimits rates, InFlightLimit inFlight) {
    this(authenticator, rates, inFlight, () -> ReadOnlyState.OFF);
  }

  /** {@code readOnly} gives the cluster's read-only mode as this gateway last saw it (no network). */
  public Admission(Authenticator authenticator, RateLimits rates, InFlightLimit inFlight, Supplier<ReadOnlyState> readOnly) {
    this.authenticator = authenticator;
    this.rates = rates;
    this.inFlight = inFlight;
    this.readOnly = readOnly;
  }

  /** Takes an in-flight slot, which the caller must release when the response has ended. */
  public InFlightLimit.Permit enter() {
    InFlightLimit.Permit permit = inFlight.tryEnter();
    if (permit == null) {
      rejections.accept(ErrorCode.OVERLOADED);
      throw new RejectedException(ErrorCode.OVERLOADED,
          "the gateway has " + inFlight.max() + " requests in flight; retry shortly", 1);
    }
    try {
      rates.acquireGateway();
    } catch (RuntimeException e) {
      permit.release();
      rejected(e);
      throw e;
    }
    return permit;
  }

  public Future<Principal> authorize(Authenticator.Credentials credentials, Scope needed) {
    return authenticator.authenticate(credentials).compose(p -> {
      if (!p.has(needed)) {
        return Future.failedFuture(new QuiverException(ErrorCode.FORBIDDEN,
            "this operation needs the '" + needed.wireName() + "' scope"));
      }
      try {
        rates.acquireTenant(p.tenant());
      } catch (RuntimeException e) {
        rejected(e);
        return Future.failedFuture(e);
      }
      ReadOnlyState ro = readOnly.get();
      if (needed == Scope.WRITE && ro.enabled()) {
        return Future.failedFuture(new QuiverException(ErrorCode.READ_ONLY, ro.refusal()));
      }
      return Future.succeededFuture(p);
    });
  }

  /** Told the code of every request this gate sheds ({@code overloaded}, {@code rate_limited}): metrics. */
  public void onRejected(java.util.function.Consumer<ErrorCode> listener) {
    rejections = listener;
  }

  private void rejected(RuntimeException e) {
    if (e instanceof QuiverException q) {
      rejections.accept(q.code());
    }
  }

  public InFlightLimit inFlight() {
    return inFlight;
  }
}
