package io.quiver.gateway;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.vertx.core.Future;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One resilience4j {@link CircuitBreaker} per shard ({@code shard-<id>}), driven without blocking:
 * {@link #guard} asks for a permission before a call and reports its outcome with the elapsed time
 * when the call's Future completes.
 *
 * <p>What counts: {@code shard_unavailable} and {@code timeout} are failures of the shard; any other
 * answer, {@code not_found} or {@code invalid_argument} included, proves the shard is up and counts
 * as a success. A timeout of a call that had less than {@link #MIN_COUNTED_BUDGET_MS} to run says
 * more about the client's deadline than the shard, so it counts as neither (its permission is
 * released): a client sending tiny deadlines must not open the breaker for everyone.
 *
 * <p>When a breaker is open, calls fail at once with {@code shard_unavailable}; after the open time
 * the next calls are let through as probes (half-open) and close it when they succeed. Time comes
 * from the config's clock, so tests can drive it. Thread-safe.
 */
public final class ShardBreakers {
  static final long MIN_COUNTED_BUDGET_MS = 50;

  private final CircuitBreakerRegistry registry;

  public ShardBreakers(CircuitBreakerConfig config, MeterRegistry meters) {
    this.registry = CircuitBreakerRegistry.of(config);
    if (meters != null) {
      TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(registry).bindTo(meters);
    }
  }

  /** The breaker config the options describe, with time from {@code clock}. */
  public static CircuitBreakerConfig config(GatewayOptions o, Clock clock) {
    return CircuitBreakerConfig.custom()
        .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
        .slidingWindowSize(o.breakerWindow())
        .minimumNumberOfCalls(o.breakerMinCalls())
        .failureRateThreshold(o.breakerFailureRate())
        .waitDurationInOpenState(Duration.ofMillis(o.breakerOpenMs()))
        .permittedNumberOfCallsInHalfOpenState(o.breakerHalfOpenCalls())
        .recordException(ShardBreakers::isShardFailure)
        .clock(clock)
        .build();
  }

  /** The breakers by name ({@code shard-<id>}), for metrics. */
  CircuitBreakerRegistry registry() {
    return registry;
  }

  public CircuitBreaker of(int shardId) {
    return registry.circuitBreaker("shard-" + shardId);
  }

  public CircuitBreaker.State state(int shardId) {
    return of(shardId).getState();
  }

  /**
   * Runs {@code call} if shard {@code shardId}'s breaker permits it and records the outcome;
   * {@code budgetMillis} is the time the call was given.
   */
  public <T> Future<T> guard(int shardId, long budgetMillis, Supplier<Future<T>> call) {
    CircuitBreaker cb = of(shardId);
    if (!cb.tryAcquirePermission()) {
      return Future.failedFuture(new QuiverException(ErrorCode.SHARD_UNAVAILABLE,
          "shard " + shardId + " is unavailable: its circuit breaker is " + cb.getState().name().toLowerCase()
              + " after repeated failures", CallNotPermittedException.createCallNotPermittedException(cb)));
    }
    long start = cb.getCurrentTimestamp();
    Future<T> f;
    try {
      f = call.get();
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    return f.andThen(ar -> {
      long elapsed = cb.getCurrentTimestamp() - start;
      TimeUnit unit = cb.getTimestampUnit();
      if (ar.succeeded()) {
        cb.onSuccess(elapsed, unit);
      } else if (ar.cause() instanceof QuiverException q && q.code() == ErrorCode.TIMEOUT && budgetMillis < MIN_COUNTED_BUDGET_MS) {
        cb.releasePermission();
      } else {
        // Not a shard failure (a 4xx answer): recordException makes onError count it as a success.
        cb.onError(elapsed, unit, ar.cause());
      }
    });
  }

  static boolean isShardFailure(Throwable t) {
    return t instanceof QuiverException q && (q.code() == ErrorCode.SHARD_UNAVAILABLE || q.code() == ErrorCode.TIMEOUT)
        || !(t instanceof QuiverException);
  }
}
