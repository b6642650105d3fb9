package io.quiver.server;

import io.quiver.cluster.ClusterNode;
import io.quiver.gateway.GatewayOptions;
import io.quiver.gateway.GatewayVerticle;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code quiver gateway}: one stateless gateway process (a Hazelcast lite member). */
@Command(name = "gateway", mixinStandardHelpOptions = true, description = "Run one gateway process.")
final class GatewayCommand implements Callable<Integer> {
  @Option(names = "--http-host", defaultValue = "${env:QUIVER_HTTP_HOST:-0.0.0.0}", description = "REST listen address (env QUIVER_HTTP_HOST).")
  String httpHost;

  @Option(names = "--http-port", defaultValue = "${env:QUIVER_HTTP_PORT:-8080}", description = "REST port (env QUIVER_HTTP_PORT).")
  int httpPort;

  @Option(names = "--grpc-port", defaultValue = "${env:QUIVER_GRPC_PORT:-9090}", description = "Public gRPC port (env QUIVER_GRPC_PORT).")
  int grpcPort;

  @Mixin ClusterMixin cluster;
  @Mixin GatewayMixin protection;

  @Override
  public Integer call() throws Exception {
    GatewayOptions options = new GatewayOptions().httpHost(httpHost).httpPort(httpPort).grpcPort(grpcPort)
        .clusterToken(cluster.clusterToken);
    protection.apply(options);
    Observability observability = new Observability();
    ClusterNode node = Roles.join(cluster.toOptions(true), observability);
    try {
      GatewayVerticle.deploy(node.vertx(), GatewayVerticle.instances(node.view(), options, observability.registry())).await();
    } catch (RuntimeException e) {
      node.close();
      throw e;
    }
    System.out.println("Quiver gateway ready: REST http://" + httpHost + ":" + httpPort + " gRPC " + httpHost + ":" + grpcPort);
    System.out.flush();
    Roles.runUntilSignalled(node);
    return 0;
  }
}
