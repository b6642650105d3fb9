package io.quiver.server;

import io.quiver.gateway.GatewayOptions;
import io.quiver.shard.ShardOptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code quiver standalone}: one JVM with an embedded Hazelcast member, {@code --shards} shard
 * verticles and one gateway, all on 127.0.0.1. Prints one line when ready.
 */
@Command(name = "standalone", mixinStandardHelpOptions = true,
    description = "Run a whole cluster in one process on 127.0.0.1 (gateway + shards + embedded Hazelcast).")
final class StandaloneCommand implements Callable<Integer> {
  @Option(names = "--shards", defaultValue = "${env:QUIVER_SHARDS:-2}", description = "Number of shard verticles (env QUIVER_SHARDS).")
  int shards;

  @Option(names = "--data", defaultValue = "${env:QUIVER_DATA_DIR:-./data}", description = "Data directory; shard i uses DIR/shard-i (env QUIVER_DATA_DIR).")
  Path data;

  @Option(names = "--http-host", defaultValue = "${env:QUIVER_HTTP_HOST:-127.0.0.1}", description = "REST listen address (env QUIVER_HTTP_HOST).")
  String httpHost;

  @Option(names = "--http-port", defaultValue = "${env:QUIVER_HTTP_PORT:-8080}", description = "REST port (env QUIVER_HTTP_PORT).")
  int httpPort;

  @Option(names = "--grpc-port", defaultValue = "${env:QUIVER_GRPC_PORT:-9090}", description = "Public gRPC port (env QUIVER_GRPC_PORT).")
  int grpcPort;

  @Option(names = "--shard-port", defaultValue = "${env:QUIVER_SHARD_PORT:-9100}", description = "Internal gRPC port of shard 0; shard i uses +i (env QUIVER_SHARD_PORT).")
  int shardPort;

  @Option(names = "--shard-http-port", defaultValue = "${env:QUIVER_SHARD_HTTP_PORT:-9200}", description = "HTTP port of shard 0; shard i uses +i (env QUIVER_SHARD_HTTP_PORT).")
  int shardHttpPort;

  @Mixin ClusterMixin cluster;
  @Mixin GatewayMixin protection;
  @Mixin ShardMixin storage;

  @Override
  public Integer call() throws Exception {
    if (shards < 1 || shards > 64) {
      throw new IllegalArgumentException("--shards must be between 1 and 64, got " + shards);
    }
    Roles.checkHeap(storage.memoryBudgetMb * shards);
    GatewayOptions gatewayOptions = new GatewayOptions().httpHost(httpHost).httpPort(httpPort).grpcPort(grpcPort)
        .clusterToken(cluster.clusterToken);
    protection.apply(gatewayOptions);
    ShardOptions[] shardOptions = new ShardOptions[shards];
    for (int i = 0; i < shards; i++) {
      shardOptions[i] = storage.apply(new ShardOptions(), data.resolve("shard-" + i))
          .shardId(i).host("127.0.0.1").grpcPort(shardPort == 0 ? 0 : shardPort + i)
          .httpPort(shardHttpPort == 0 ? 0 : shardHttpPort + i).clusterToken(cluster.clusterToken);
    }
    Standalone standalone = Standalone.start(cluster.toOptions(false).host("127.0.0.1"), gatewayOptions,
        java.util.Arrays.asList(shardOptions));
    System.out.println("Quiver standalone ready: REST http://" + httpHost + ":" + standalone.httpPort()
        + " gRPC " + httpHost + ":" + standalone.grpcPort() + ", " + shards + " shards, data " + data);
    System.out.flush();
    Roles.runUntilSignalled(standalone.node());
    return 0;
  }
}
