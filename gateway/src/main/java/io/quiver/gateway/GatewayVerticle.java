package io.quiver.gateway;

import io.quiver.cluster.ClusterView;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One gateway: the REST API on {@link GatewayOptions#httpPort()}. Stateless apart from its
 * connections; run as many as you like. Its start completes when the port listens.
 */
public final class GatewayVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(GatewayVerticle.class);

  private final ClusterView view;
  private final GatewayOptions options;
  private ShardClients shards;
  private HttpServer http;

  public GatewayVerticle(ClusterView view, GatewayOptions options) {
    this.view = view;
    this.options = options;
  }

  @Override
  public Future<?> start() {
    shards = new ShardClients(vertx, view, options.clusterToken());
    GatewayService service = new GatewayService(view, shards, options);
    RestApi rest = new RestApi(service, new Health(view));
    http = vertx.createHttpServer(new HttpServerOptions().setHost(options.httpHost()).setPort(options.httpPort())
        .setCompressionSupported(false));
    return http.requestHandler(rest.router(vertx)).listen()
        .onSuccess(s -> LOG.info("gateway REST listening on {}:{}", options.httpHost(), s.actualPort()));
  }

  /** The port the REST API listens on (useful when configured as 0). */
  public int httpPort() {
    return http.actualPort();
  }

  @Override
  public Future<?> stop() {
    return shards.close();
  }
}
