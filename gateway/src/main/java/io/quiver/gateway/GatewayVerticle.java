package io.quiver.gateway;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quiver.cluster.ClusterView;
import io.quiver.common.InternalApi;
import io.quiver.proto.v1.QuiverGrpcService;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.grpc.health.HealthService;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One gateway: the REST API on {@link GatewayOptions#httpPort()} and the public gRPC API
 * ({@code quiver.v1.Quiver} and {@code grpc.health.v1.Health}) on {@link GatewayOptions#grpcPort()},
 * both over TLS when a certificate is configured, both behind one {@link Admission} (auth, rate
 * limits, concurrency limit) and one set of shard circuit breakers. Stateless apart from its
 * connections and limiter state; run as many as you like. Its start completes when both ports
 * listen, and fails with the reason when a setting does not fit.
 *
 * <p>A gateway process runs {@link GatewayOptions#eventLoops()} instances ({@link #instances}), each
 * on its own event loop with its own shard connections, listening on the same ports (Vert.x spreads
 * connections over them): one event loop caps the gateway at one core. The instances share one
 * {@link Admission} (so the concurrency limit and the gateway's rate are per process, not per
 * instance), the shard breakers and the meters; deploy them one after the other, the first one
 * first. A port of 0 becomes a negative port unique to this gateway: Vert.x gives servers that
 * listen on the same negative port one shared random port (with 0 each would get its own).
 */
public final class GatewayVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(GatewayVerticle.class);
  private static final java.util.concurrent.atomic.AtomicInteger SHARED_RANDOM_PORTS = new java.util.concurrent.atomic.AtomicInteger();

  private final ClusterView view;
  private final GatewayOptions options;
  private final Shared shared;
  private ShardClients shards;
  private HttpServer http;
  private HttpServer grpcHttp;

  /**
   * What the instances of one gateway share, created by the first instance that starts. Thread-safe.
   */
  private static final class Shared {
    final MeterRegistry meters;
    final GatewayMetrics metrics;
    final Clock clock;
    Admission admission;
    ShardBreakers breakers;
    /** Vert.x's key for "one random port shared by these servers" (see the class comment). */
    final int randomHttpPort = -(1 + SHARED_RANDOM_PORTS.getAndIncrement() % 30_000);
    final int randomGrpcPort = randomHttpPort - 30_000;

    Shared(MeterRegistry meters, Clock clock) {
      this.meters = meters;
      this.metrics = new GatewayMetrics(meters);
      this.clock = clock;
    }

    synchronized void init(io.vertx.core.Vertx vertx, ClusterView view, GatewayOptions options) {
      if (admission != null) {
        return;
      }
      options.validate();
      InFlightLimit inFlight = new InFlightLimit(options.maxInFlight());
      Admission a = new Admission(Authenticator.create(vertx, options), new RateLimits(options, meters), inFlight,
          view.readOnly()::current);
      if (meters != null) {
        Gauge.builder("quiver.gateway.in_flight", inFlight, InFlightLimit::inFlight)
            .description("requests in flight on this gateway").register(meters);
      }
      breakers = new ShardBreakers(ShardBreakers.config(options, clock), meters);
      a.onRejected(metrics::rejected);
      metrics.bind(view, new Health(view));
      metrics.readOnly(() -> view.readOnly().current().enabled());
      metrics.bindBreakers(breakers.registry());
      admission = a;
    }
  }

  public GatewayVerticle(ClusterView view, GatewayOptions options) {
    this(view, options, (MeterRegistry) null);
  }

  /** {@code meters} (nullable) receives breaker, rate-limiter and in-flight metrics. */
  public GatewayVerticle(ClusterView view, GatewayOptions options, MeterRegistry meters) {
    this(view, options, meters, Clock.systemUTC());
  }

  /** {@code clock} drives the circuit breakers (tests). */
  GatewayVerticle(ClusterView view, GatewayOptions options, MeterRegistry meters, Clock clock) {
    this(view, options, new Shared(meters, clock));
  }

  private GatewayVerticle(ClusterView view, GatewayOptions options, Shared shared) {
    this.view = view;
    this.options = options;
    this.shared = shared;
  }

  /** The {@link GatewayOptions#eventLoops()} instances of one gateway; deploy them in order. */
  public static java.util.List<GatewayVerticle> instances(ClusterView view, GatewayOptions options, MeterRegistry meters) {
    Shared shared = new Shared(meters, Clock.systemUTC());
    java.util.List<GatewayVerticle> out = new java.util.ArrayList<>();
    for (int i = 0; i < options.eventLoops(); i++) {
      out.add(new GatewayVerticle(view, options, shared));
    }
    return out;
  }

  /** Deploys {@code instances} one after the other; completes with the first one. */
  public static Future<GatewayVerticle> deploy(io.vertx.core.Vertx vertx, java.util.List<GatewayVerticle> instances) {
    Future<String> deployed = Future.succeededFuture("");
    for (GatewayVerticle g : instances) {
      deployed = deployed.compose(x -> vertx.deployVerticle(g));
    }
    return deployed.map(x -> instances.get(0));
  }

  @Override
  public Future<?> start() {
    try {
      shared.init(vertx, view, options);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    Admission admission = shared.admission;
    GatewayMetrics metrics = shared.metrics;
    shards = new ShardClients(vertx, view, options.clusterToken(), shared.breakers);
    GatewayService service = new GatewayService(vertx, view, shards, options);
    Health health = new Health(view);
    RestApi rest = new RestApi(service, health, admission, metrics, new AdminOps(view, shards, metrics, admission));

    GrpcServer grpc = GrpcServer.server(vertx, new GrpcServerOptions()
        .setMaxMessageSize(options.maxBodyBytes())
        .setScheduleDeadlineAutomatically(false)
        .setDeadlinePropagation(false));
    grpc.addService(new GrpcApi(vertx, service, admission));
    grpc.addService(HealthService.create(vertx)
        .register(QuiverGrpcService.SERVICE_NAME, () -> Future.succeededFuture(health.readiness().ready()))
        .register("", () -> Future.succeededFuture(health.readiness().ready())));

    // REST is HTTP/1.1 (and HTTP/2 over TLS via ALPN); no cleartext h2c upgrade: clients that offered
    // it (java.net.http does by default) intermittently got a response they could not frame.
    int restPort = options.httpPort() == 0 ? shared.randomHttpPort : options.httpPort();
    int grpcPort = options.grpcPort() == 0 ? shared.randomGrpcPort : options.grpcPort();
    http = vertx.createHttpServer(serverOptions(options.httpHost(), restPort).setCompressionSupported(false)
        .setHttp2ClearTextEnabled(false));
    grpcHttp = vertx.createHttpServer(InternalApi.withGrpcWindows(serverOptions(options.httpHost(), grpcPort)));
    String scheme = options.tlsEnabled() ? "TLS" : "plain text";
    return http.requestHandler(rest.router(vertx)).listen()
        .compose(s -> grpcHttp.requestHandler(grpc).listen())
        .onSuccess(s -> {
          LOG.info("gateway listening on {}: REST {}:{}, gRPC {}:{}, auth {}", scheme, options.httpHost(),
              http.actualPort(), options.httpHost(), grpcHttp.actualPort(), options.authMode());
        });
  }

  private HttpServerOptions serverOptions(String host, int port) {
    HttpServerOptions o = new HttpServerOptions().setHost(host).setPort(port);
    if (options.tlsEnabled()) {
      o.setSsl(true).setUseAlpn(true)
          .setKeyCertOptions(new PemKeyCertOptions().setCertPath(options.tlsCertPath()).setKeyPath(options.tlsKeyPath()));
    }
    return o;
  }

  /** The port the REST API listens on (useful when configured as 0). */
  public int httpPort() {
    return http.actualPort();
  }

  /** The port the public gRPC API listens on (useful when configured as 0). */
  public int grpcPort() {
    return grpcHttp.actualPort();
  }

  /** The gate of this gateway (tests hold in-flight permits through it). */
  Admission admission() {
    return shared.admission;
  }

  /** This gateway's request meters (read-only mode wires its flag into them). */
  public GatewayMetrics metrics() {
    return shared.metrics;
  }

  ShardBreakers breakers() {
    return shared.breakers;
  }

  @Override
  public Future<?> stop() {
    return shards == null ? Future.succeededFuture() : shards.close();
  }
}
