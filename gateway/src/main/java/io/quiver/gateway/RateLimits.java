package io.quiver.gateway;

import io.github.resilience4j.micrometer.tagged.TaggedRateLimiterMetrics;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.RateLimiterRegistry;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quiver.common.ErrorCode;
import java.time.Duration;

/**
 * The gateway's rate limits, resilience4j {@link RateLimiter}s that never wait (timeout zero, so
 * the event loop is never parked): one for the whole gateway ({@code gateway}) and one per tenant
 * ({@code tenant:<name>}), each allowing {@code limit} requests per {@code period}. A refused
 * request fails with {@code rate_limited} and the seconds until the next permit. A limit of 0 is
 * off. Thread-safe.
 */
public final class RateLimits {
  static final String GATEWAY = "gateway";
  static final String TENANT_PREFIX = "tenant:";

  private final int tenantLimit;
  private final int gatewayLimit;
  private final RateLimiterRegistry tenants;
  private final RateLimiter gateway;

  /** Per-second limits from the options; {@code registry} (nullable) receives the limiters' metrics. */
  public RateLimits(GatewayOptions options, MeterRegistry registry) {
    this(options.tenantRateLimitRps(), options.gatewayRateLimitRps(), Duration.ofSeconds(1), registry);
  }

  /** {@code tenantLimit} and {@code gatewayLimit} requests per {@code period}; 0 turns one off. */
  RateLimits(int tenantLimit, int gatewayLimit, Duration period, MeterRegistry registry) {
    this.tenantLimit = tenantLimit;
    this.gatewayLimit = gatewayLimit;
    this.tenants = RateLimiterRegistry.of(config(Math.max(1, tenantLimit), period));
    this.gateway = gatewayLimit > 0 ? tenants.rateLimiter(GATEWAY, config(gatewayLimit, period)) : null;
    if (registry != null) {
      TaggedRateLimiterMetrics.ofRateLimiterRegistry(tenants).bindTo(registry);
    }
  }

  private static RateLimiterConfig config(int limit, Duration period) {
    return RateLimiterConfig.custom().limitForPeriod(limit).limitRefreshPeriod(period).timeoutDuration(Duration.ZERO).build();
  }

  /** Takes a permit of the gateway's limit or throws {@code rate_limited}. */
  public void acquireGateway() {
    if (gateway != null && !gateway.acquirePermission()) {
      throw refused(gateway, "this gateway is over its rate of " + gatewayLimit + " requests per period");
    }
  }

  /** Takes a permit of the tenant's limit or throws {@code rate_limited}. */
  public void acquireTenant(String tenant) {
    if (tenantLimit == 0) {
      return;
    }
    RateLimiter limiter = tenants.rateLimiter(TENANT_PREFIX + tenant);
    if (!limiter.acquirePermission()) {
      throw refused(limiter, "tenant is over its rate of " + tenantLimit + " requests per period");
    }
  }

  private static RejectedException refused(RateLimiter limiter, String message) {
    long nanos = limiter instanceof AtomicRateLimiter a ? a.getDetailedMetrics().getNanosToWait() : 1_000_000_000L;
    long seconds = Math.max(1, (nanos + 999_999_999L) / 1_000_000_000L);
    return new RejectedException(ErrorCode.RATE_LIMITED, message + "; retry in " + seconds + " s", seconds);
  }
}
