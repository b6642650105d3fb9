package io.quiver.server;

import io.micrometer.core.instrument.MeterRegistry;
import io.quiver.cluster.ClusterNode;
import io.quiver.cluster.ClusterOptions;
import io.quiver.gateway.GatewayOptions;
import io.quiver.gateway.GatewayVerticle;
import io.quiver.shard.ShardOptions;
import io.quiver.shard.Coordinator;
import io.quiver.shard.ShardVerticle;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;

/**
 * A whole cluster in one JVM: one Hazelcast member, the given shard verticles, then one gateway.
 * Used by {@code quiver standalone} and by tests that need the real topology in-process.
 * {@link #close()} undeploys everything and leaves the cluster. Thread-safe after start.
 */
public final class Standalone implements AutoCloseable {
  private final ClusterNode node;
  private final GatewayVerticle gateway;
  private final List<ShardVerticle> shards;
  private final MeterRegistry meters;

  private Standalone(ClusterNode node, GatewayVerticle gateway, List<ShardVerticle> shards, MeterRegistry meters) {
    this.node = node;
    this.gateway = gateway;
    this.shards = shards;
    this.meters = meters;
  }

  /** Starts the cluster; blocks until every verticle serves. */
  public static Standalone start(ClusterOptions cluster, GatewayOptions gatewayOptions, List<ShardOptions> shardOptions) {
    Observability observability = new Observability();
    ClusterNode node = ClusterNode.start(cluster, observability.vertxOptions());
    MeterRegistry meters = observability.registry();
    List<ShardVerticle> shards = new ArrayList<>();
    List<GatewayVerticle> gateways = GatewayVerticle.instances(node.view(), gatewayOptions, meters);
    GatewayVerticle gateway = gateways.get(0);
    try {
      // The coordinator first: a shard that starts with data waits until it has merged its claim.
      String token = shardOptions.isEmpty() ? "" : shardOptions.get(0).clusterToken();
      Future<String> deployed = node.vertx().deployVerticle(new Coordinator(node.view(), token, Coordinator.DEFAULT_TICK_MILLIS));
      for (ShardOptions o : shardOptions) {
        ShardVerticle shard = new ShardVerticle(o, node.view(), node.memberId(), meters);
        shards.add(shard);
        deployed = deployed.compose(x -> node.vertx().deployVerticle(shard));
      }
      deployed.compose(x -> GatewayVerticle.deploy(node.vertx(), gateways)).await();
    } catch (RuntimeException e) {
      node.close();
      throw e;
    }
    return new Standalone(node, gateway, shards, meters);
  }

  public ClusterNode node() {
    return node;
  }

  public int httpPort() {
    return gateway.httpPort();
  }

  public int grpcPort() {
    return gateway.grpcPort();
  }

  /** The process registry: gateway and shard meters (tagged {@code shard}), Vert.x and JVM meters. */
  public MeterRegistry meters() {
    return meters;
  }

  public GatewayVerticle gateway() {
    return gateway;
  }

  public List<ShardVerticle> shards() {
    return shards;
  }

  @Override
  public void close() {
    node.close();
  }
}
