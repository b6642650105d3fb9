package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quiver.common.ErrorCode;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A one-hour window keeps these deterministic: no permit comes back during a test. */
class RateLimitsTest {
  private static final Duration HOUR = Duration.ofHours(1);

  @Test
  void refusesATenantOverItsRateWithRetryAfterAndLeavesOtherTenantsAlone() {
    RateLimits limits = new RateLimits(2, 0, HOUR, null);
    limits.acquireTenant("acme");
    limits.acquireTenant("acme");
    assertThatThrownBy(() -> limits.acquireTenant("acme"))
        .isInstanceOfSatisfying(RejectedException.class, e -> {
          assertThat(e.code()).isEqualTo(ErrorCode.RATE_LIMITED);
          assertThat(e.retryAfterSeconds()).isBetween(3500L, 3600L);
        });
    assertThatCode(() -> limits.acquireTenant("beta")).doesNotThrowAnyException();
  }

  @Test
  void refusesTheGatewayOverItsRateWhateverTheTenant() {
    RateLimits limits = new RateLimits(0, 1, HOUR, null);
    limits.acquireGateway();
    assertThatThrownBy(limits::acquireGateway).isInstanceOf(RejectedException.class);
  }

  @Test
  void zeroTurnsALimitOff() {
    RateLimits limits = new RateLimits(0, 0, HOUR, null);
    for (int i = 0; i < 10_000; i++) {
      limits.acquireGateway();
      limits.acquireTenant("acme");
    }
  }

  @Test
  void exportsLimiterMetricsWhenARegistryIsGiven() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RateLimits limits = new RateLimits(5, 5, HOUR, registry);
    limits.acquireTenant("acme");
    assertThat(registry.getMeters()).anySatisfy(m -> {
      assertThat(m.getId().getName()).startsWith("resilience4j.ratelimiter");
      assertThat(m.getId().getTag("name")).isEqualTo("tenant:acme");
    });
  }
}
