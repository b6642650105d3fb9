package io.quiver.server;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import java.util.EnumSet;
import java.util.UUID;

/**
 * One process's metrics registry: a Micrometer Prometheus registry created by Vert.x itself (so its
 * pool, HTTP server and client meters land in it), with JVM meters (memory, GC, threads, processor,
 * class loading). The gateway and every shard verticle of the process add their {@code quiver_*}
 * meters to it; each HTTP port serves it at {@code /metrics/prometheus}. Vert.x 5 takes no registry
 * instance in its options, so the registry is named uniquely and looked up after Vert.x started.
 * Thread-safe.
 */
final class Observability {
  private final String registryName = "quiver-" + UUID.randomUUID();

  /** Vert.x options with Micrometer metrics on, for {@code ClusterNode.start}. */
  VertxOptions vertxOptions() {
    return new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions()
        .setEnabled(true)
        .setRegistryName(registryName)
        .setJvmMetricsEnabled(true)
        .setLabels(EnumSet.of(Label.HTTP_METHOD, Label.HTTP_CODE, Label.HTTP_ROUTE, Label.POOL_TYPE, Label.POOL_NAME))
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
  }

  /** The registry; call after the Vert.x instance built from {@link #vertxOptions()} exists. */
  MeterRegistry registry() {
    MeterRegistry r = BackendRegistries.getNow(registryName);
    if (r == null) {
      throw new IllegalStateException("no metrics registry '" + registryName + "': Vert.x was not started with these options");
    }
    return r;
  }
}
