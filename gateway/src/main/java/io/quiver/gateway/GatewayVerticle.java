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
 */
public final class GatewayVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(GatewayVerticle.class);

  private final ClusterView view;
  private final GatewayOptions options;
  private final MeterRegistry meters;
  private final GatewayMetrics metrics;
  private final Clock clock;
  private ShardClients shards;
  private Admission admission;
  private HttpServer http;
  private HttpServer grpcHttp;

  public GatewayVerticle(ClusterView view, GatewayOptions options) {
    this(view, options, null);
  }

  /** {@code meters} (nullable) receives breaker, rate-limiter and in-flight metrics. */
  public GatewayVerticle(ClusterView view, GatewayOptions options, MeterRegistry meters) {
    this(view, options, meters, Clock.systemUTC());
  }

  /** {@code clock} drives the circuit breakers (tests). */
  GatewayVerticle(ClusterView view, GatewayOptions options, MeterRegistry meters, Clock clock) {
    this.view = view;
    this.options = options;
    this.meters = meters;
    this.metrics = new GatewayMetrics(meters);
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    try {
      options.validate();
      InFlightLimit inFlight = new InFlightLimit(options.maxInFlight());
      admission = new Admission(Authenticator.create(vertx, options), new RateLimits(options, meters), inFlight,
          view.readOnly()::current);
      if (meters != null) {
        Gauge.builder("quiver.gateway.in_flight", inFlight, InFlightLimit::inFlight)
            .description("requests in flight on this gateway").register(meters);
      }
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    shards = new ShardClients(vertx, view, options.clusterToken(),
        new ShardBreakers(ShardBreakers.config(options, clock), meters));
    GatewayService service = new GatewayService(vertx, view, shards, options);
    Health health = new Health(view);
    admission.onRejected(metrics::rejected);
    metrics.bind(view, health);
    metrics.readOnly(() -> view.readOnly().current().enabled());
    metrics.bindBreakers(shards.breakers().registry());
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
    http = vertx.createHttpServer(serverOptions(options.httpHost(), options.httpPort()).setCompressionSupported(false)
        .setHttp2ClearTextEnabled(false));
    grpcHttp = vertx.createHttpServer(InternalApi.withGrpcWindows(serverOptions(options.httpHost(), options.grpcPort())));
    String scheme = options.tlsEnabled() ? "TLS" : "plain text";
    return http.requestHandler(rest.router(vertx)).listen()
        .compose(s -> grpcHttp.requestHandler(grpc).listen())
        .onSuccess(s -> LOG.info("gateway listening on {}: REST {}:{}, gRPC {}:{}, auth {}", scheme, options.httpHost(),
            http.actualPort(), options.httpHost(), grpcHttp.actualPort(), options.authMode()));
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
    return admission;
  }

  /** This gateway's request meters (read-only mode wires its flag into them). */
  public GatewayMetrics metrics() {
    return metrics;
  }

  ShardBreakers breakers() {
    return shards.breakers();
  }

  @Override
  public Future<?> stop() {
    return shards == null ? Future.succeededFuture() : shards.close();
  }
}
