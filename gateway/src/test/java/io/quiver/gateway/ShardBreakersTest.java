package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.vertx.core.Future;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The breaker per shard, driven by a fake clock: no waiting. */
class ShardBreakersTest {
  /** A clock the test moves by hand. */
  static final class FakeClock extends Clock {
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private final FakeClock clock = new FakeClock();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final ShardBreakers breakers = new ShardBreakers(ShardBreakers.config(new GatewayOptions()
      .breakerWindow(10).breakerMinCalls(4).breakerFailureRate(50).breakerOpenMs(1_000).breakerHalfOpenCalls(2), clock), meters);
  private final AtomicInteger calls = new AtomicInteger();

  @Test
  void opensAfterRepeatedShardFailuresAndThenFailsFastWithoutCallingTheShard() {
    for (int i = 0; i < 4; i++) {
      call(0, ErrorCode.SHARD_UNAVAILABLE);
    }
    assertThat(breakers.state(0)).isEqualTo(CircuitBreaker.State.OPEN);
    int before = calls.get();
    Future<String> f = breakers.guard(0, 5_000, this::ok);
    assertThat(((QuiverException) f.cause()).code()).isEqualTo(ErrorCode.SHARD_UNAVAILABLE);
    assertThat(calls.get()).isEqualTo(before);
    assertThat(breakers.state(1)).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void timeoutsCountAsFailures() {
    for (int i = 0; i < 4; i++) {
      call(0, ErrorCode.TIMEOUT);
    }
    assertThat(breakers.state(0)).isEqualTo(CircuitBreaker.State.OPEN);
  }

  @Test
  void clientErrorsProveTheShardIsUpAndNeverOpenIt() {
    for (int i = 0; i < 20; i++) {
      call(0, i % 2 == 0 ? ErrorCode.NOT_FOUND : ErrorCode.INVALID_ARGUMENT);
    }
    assertThat(breakers.state(0)).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void aTimeoutUnderATinyClientDeadlineDoesNotCount() {
    for (int i = 0; i < 20; i++) {
      breakers.guard(0, 1, () -> Future.failedFuture(new QuiverException(ErrorCode.TIMEOUT, "t")));
    }
    assertThat(breakers.state(0)).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(breakers.of(0).getMetrics().getNumberOfBufferedCalls()).isZero();
  }

  @Test
  void halfOpenProbesCloseTheBreakerOnceTheShardAnswersAgain() {
    for (int i = 0; i < 4; i++) {
      call(0, ErrorCode.SHARD_UNAVAILABLE);
    }
    clock.advance(Duration.ofMillis(999));
    assertThat(breakers.guard(0, 5_000, this::ok).failed()).isTrue();
    clock.advance(Duration.ofMillis(2));
    // The probes still fail: back to open.
    call(0, ErrorCode.SHARD_UNAVAILABLE);
    assertThat(breakers.state(0)).isEqualTo(CircuitBreaker.State.HALF_OPEN);
    call(0, ErrorCode.SHARD_UNAVAILABLE);
    assertThat(breakers.state(0)).isEqualTo(CircuitBreaker.State.OPEN);
    clock.advance(Duration.ofMillis(1_001));
    assertThat(breakers.guard(0, 5_000, this::ok).succeeded()).isTrue();
    assertThat(breakers.state(0)).isEqualTo(CircuitBreaker.State.HALF_OPEN);
    assertThat(breakers.guard(0, 5_000, this::ok).succeeded()).isTrue();
    assertThat(breakers.state(0)).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void exportsBreakerStateToTheMeterRegistry() {
    call(3, ErrorCode.SHARD_UNAVAILABLE);
    assertThat(meters.find("resilience4j.circuitbreaker.state").tag("name", "shard-3").gauges()).isNotEmpty();
  }

  private Future<String> ok() {
    calls.incrementAndGet();
    return Future.succeededFuture("ok");
  }

  private void call(int shard, ErrorCode outcome) {
    breakers.guard(shard, 5_000, () -> {
      calls.incrementAndGet();
      return Future.failedFuture(new QuiverException(outcome, "x"));
    });
  }
}
