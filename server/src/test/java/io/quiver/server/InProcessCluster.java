package io.quiver.server;

import io.quiver.cluster.ClusterOptions;
import io.quiver.gateway.GatewayOptions;
import io.quiver.shard.ShardOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** The standalone topology the in-JVM ITs share: a fresh loopback Hazelcast cluster, one gateway, shards on free ports. */
final class InProcessCluster {
  private InProcessCluster() {}

  /**
   * Starts a standalone with {@code shards} shard verticles (64 MiB budget each, data in
   * {@code data/shard-N}) under a unique cluster name starting with {@code name}. Close it when done.
   */
  static Standalone start(Path data, String name, int shards) {
    List<ShardOptions> options = new ArrayList<>();
    for (int i = 0; i < shards; i++) {
      options.add(new ShardOptions().shardId(i).host("127.0.0.1").grpcPort(0).httpPort(0).memoryBudgetMb(64)
          .dataDir(data.resolve("shard-" + i)));
    }
    return Standalone.start(
        new ClusterOptions().clusterName(name + "-" + UUID.randomUUID()).host("127.0.0.1").port(TestHttp.freePort()),
        new GatewayOptions().httpHost("127.0.0.1").httpPort(0).grpcPort(0), options);
  }
}
