package io.quiver.server;

import io.quiver.cluster.ClusterNode;
import io.quiver.shard.ShardOptions;
import io.quiver.shard.Coordinator;
import io.quiver.shard.EarlyRecovery;
import io.quiver.shard.ShardVerticle;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/** {@code quiver shard}: one shard process (a Kubernetes pod or a Compose service). */
@Command(name = "shard", mixinStandardHelpOptions = true, description = "Run one shard process.")
final class ShardCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(ShardCommand.class);
  private static final Pattern ORDINAL = Pattern.compile(".*-(\\d+)$");

  @Option(names = "--shard-id", defaultValue = "${env:QUIVER_SHARD_ID}",
      description = "Stable shard id; defaults to the StatefulSet ordinal at the end of the hostname (env QUIVER_SHARD_ID).")
  Integer shardId;

  @Option(names = "--host", defaultValue = "${env:QUIVER_SHARD_HOST:-0.0.0.0}", description = "Listen address of the shard ports (env QUIVER_SHARD_HOST).")
  String host;

  @Option(names = "--advertised-host", defaultValue = "${env:QUIVER_SHARD_ADVERTISED_HOST}",
      description = "Address gateways use to reach this shard (env QUIVER_SHARD_ADVERTISED_HOST).")
  String advertisedHost;

  @Option(names = "--shard-port", defaultValue = "${env:QUIVER_SHARD_PORT:-9100}", description = "Internal gRPC port (env QUIVER_SHARD_PORT).")
  int shardPort;

  @Option(names = "--shard-http-port", defaultValue = "${env:QUIVER_SHARD_HTTP_PORT:-9200}", description = "HTTP port for /live, /ready, /metrics (env QUIVER_SHARD_HTTP_PORT).")
  int shardHttpPort;

  @Option(names = "--data", defaultValue = "${env:QUIVER_DATA_DIR:-./data}", description = "Data directory (env QUIVER_DATA_DIR).")
  Path data;

  @Mixin ClusterMixin cluster;
  @Mixin ShardMixin storage;

  @Override
  public Integer call() throws Exception {
    Roles.checkHeap(storage.memoryBudgetMb);
    int id = shardId != null ? shardId : ordinalFromHostname();
    ShardOptions options = storage.apply(new ShardOptions(), data).shardId(id).host(host).advertisedHost(advertisedHost)
        .grpcPort(shardPort).httpPort(shardHttpPort).clusterToken(cluster.clusterToken);
    Observability observability = new Observability();
    // Recovery needs nothing from the cluster: it runs while this process joins.
    EarlyRecovery early = EarlyRecovery.start(options);
    LOG.info("shard {} start-up: recovery started, joining the cluster ({} ms since JVM start)", id, sinceJvmStart());
    ClusterNode node;
    try {
      node = Roles.join(cluster.toOptions(false), observability);
    } catch (RuntimeException e) {
      early.abandon();
      throw e;
    }
    LOG.info("shard {} start-up: joined the cluster ({} ms since JVM start)", id, sinceJvmStart());
    try {
      // The coordinator first: a shard that starts with data waits until the coordinator merged its claim,
      // and after a restart of the whole cluster the first shard is that coordinator.
      node.vertx().deployVerticle(new Coordinator(node.view(), options.clusterToken(), Coordinator.DEFAULT_TICK_MILLIS))
          .compose(x -> node.vertx().deployVerticle(new ShardVerticle(options, node.view(), node.memberId(),
              observability.registry(), early)))
          .await();
    } catch (RuntimeException e) {
      node.close();
      throw e;
    }
    LOG.info("shard {} start-up: serving and registered ({} ms since JVM start)", id, sinceJvmStart());
    System.out.println("Quiver shard " + id + " ready: gRPC " + options.advertisedHost() + ":" + shardPort
        + " HTTP " + shardHttpPort + ", data " + data);
    System.out.flush();
    Roles.runUntilSignalled(node);
    return 0;
  }

  private static long sinceJvmStart() {
    return ManagementFactory.getRuntimeMXBean().getUptime();
  }

  private static int ordinalFromHostname() throws Exception {
    String host = System.getenv().getOrDefault("HOSTNAME", InetAddress.getLocalHost().getHostName());
    Matcher m = ORDINAL.matcher(host);
    if (!m.matches()) {
      throw new IllegalArgumentException("no shard id: set QUIVER_SHARD_ID (or --shard-id); hostname '" + host
          + "' has no StatefulSet ordinal suffix");
    }
    return Integer.parseInt(m.group(1));
  }
}
