package io.quiver.common;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;

/** Micrometer helpers the gateway's and the shard's meters share. */
public final class Meters {
  private Meters() {}

  /** The Prometheus registry inside {@code r} (itself, or a child of a composite), or null when there is none. */
  public static PrometheusMeterRegistry prometheus(MeterRegistry r) {
    if (r instanceof PrometheusMeterRegistry p) {
      return p;
    }
    if (r instanceof CompositeMeterRegistry c) {
      for (MeterRegistry child : c.getRegistries()) {
        PrometheusMeterRegistry p = prometheus(child);
        if (p != null) {
          return p;
        }
      }
    }
    return null;
  }

  /** Histogram bucket bounds given in milliseconds (fractions allowed). */
  public static Duration[] millis(double... ms) {
    Duration[] out = new Duration[ms.length];
    for (int i = 0; i < ms.length; i++) {
      out[i] = Duration.ofNanos((long) (ms[i] * 1_000_000));
    }
    return out;
  }
}
