package io.quiver.gateway;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gateway's concurrency limit: counts requests in flight and refuses a new one once
 * {@code max} are (0: no limit, only counting). A request takes a {@link Permit} on arrival, before
 * its body is read, and releases it when its response has ended or its connection closed. A
 * refusal costs one atomic read, so shedding stays fast however loaded the gateway is. The default
 * limit and why: {@link GatewayOptions#DEFAULT_MAX_IN_FLIGHT}. Lock-free, thread-safe.
 */
public final class InFlightLimit {
  private final int max;
  private final AtomicInteger inFlight = new AtomicInteger();

  public InFlightLimit(int max) {
    if (max < 0) {
      throw new IllegalArgumentException("max in flight must not be negative, got " + max);
    }
    this.max = max;
  }

  /** A permit, or null when {@code max} requests are already in flight. */
  public Permit tryEnter() {
    while (true) {
      int n = inFlight.get();
      if (max > 0 && n >= max) {
        return null;
      }
      if (inFlight.compareAndSet(n, n + 1)) {
        return new Permit();
      }
    }
  }

  public int inFlight() {
    return inFlight.get();
  }

  public int max() {
    return max;
  }

  /** One request's slot; releasing twice is harmless. */
  public final class Permit {
    private final AtomicBoolean released = new AtomicBoolean();

    public void release() {
      if (released.compareAndSet(false, true)) {
        inFlight.decrementAndGet();
      }
    }
  }
}
