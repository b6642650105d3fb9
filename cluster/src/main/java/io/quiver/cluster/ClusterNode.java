package io.quiver.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This process's membership of the Quiver cluster: one Hazelcast member (data member for shards,
 * lite member for gateways) and the clustered Vert.x instance built on it, plus the
 * {@link ClusterView} over the shared state. Create with {@link #start}; {@link #close} leaves the
 * cluster. Thread-safe.
 */
public final class ClusterNode implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  private final HazelcastInstance hazelcast;
  private final Vertx vertx;
  private final ClusterView view;

  private ClusterNode(HazelcastInstance hazelcast, Vertx vertx) {
    this.hazelcast = hazelcast;
    this.vertx = vertx;
    this.view = new ClusterView(vertx, hazelcast);
  }

  /**
   * Joins (or forms) the cluster and builds a clustered Vert.x on it. Blocks the calling thread
   * until joined: call it from {@code main} or a worker, never from an event loop.
   */
  public static ClusterNode start(ClusterOptions options, VertxOptions vertxOptions) {
    HazelcastInstance hz = Hazelcast.newHazelcastInstance(hazelcastConfig(options));
    try {
      HazelcastClusterManager manager = new HazelcastClusterManager(hz);
      vertxOptions.setEventBusOptions(
          new EventBusOptions().setHost(options.host()).setClusterPublicHost(options.publicHost()).setPort(0));
      Vertx vertx = Vertx.builder().with(vertxOptions).withClusterManager(manager).buildClustered().await();
      LOG.info("joined cluster '{}' as {} member {}", options.clusterName(),
          options.liteMember() ? "lite" : "data", hz.getCluster().getLocalMember().getAddress());
      return new ClusterNode(hz, vertx);
    } catch (RuntimeException e) {
      hz.shutdown();
      throw e;
    }
  }

  /** The Hazelcast configuration for these options: loopback-safe, no multicast, no phone-home. */
  static Config hazelcastConfig(ClusterOptions options) {
    Config cfg = ConfigUtil.loadConfig();
    cfg.setClusterName(options.clusterName());
    cfg.setLiteMember(options.liteMember());
    // Vert.x finds its node id in this member attribute when it is handed an existing instance.
    cfg.getMemberAttributeConfig().setAttribute("__vertx.nodeId", java.util.UUID.randomUUID().toString());
    cfg.setProperty("hazelcast.phone.home.enabled", "false");
    cfg.setProperty("hazelcast.shutdownhook.enabled", "false");
    cfg.setProperty("hazelcast.logging.type", "slf4j");
    cfg.setProperty("hazelcast.tcp.join.port.try.count", "16");
    // A leaving member hands its Hazelcast partition replicas over first, but never for longer than this
    // (Hazelcast's default is 600 s): when every member stops at once there is no one to hand them to,
    // and the cluster state is rebuilt from the shards' claims at the next start anyway.
    cfg.setProperty("hazelcast.graceful.shutdown.max.wait", "20");
    // The master admits a joining member at once instead of waiting for more join requests to batch
    // (Hazelcast's default is 5 s, up to 20 s): that wait sat inside every shard restart-to-ready.
    // Members are listed explicitly (TCP-IP or Kubernetes DNS); members starting together still
    // agree on one master by Hazelcast's mastership claim, which this wait does not take part in.
    cfg.setProperty("hazelcast.wait.seconds.before.join", "0");
    cfg.setProperty("hazelcast.max.wait.seconds.before.join", "0");
    NetworkConfig net = cfg.getNetworkConfig();
    net.setPort(options.port()).setPortAutoIncrement(options.portAutoIncrement()).setPortCount(32);
    if (IPV4.matcher(options.host()).matches() && !options.host().equals("0.0.0.0")) {
      net.getInterfaces().setEnabled(true).addInterface(options.host());
      cfg.setProperty("hazelcast.socket.bind.any", "false");
    }
    if (!options.publicHost().equals(options.host())) {
      net.setPublicAddress(options.publicHost());
    }
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    if (options.kubernetesService() != null && !options.kubernetesService().isBlank()) {
      join.getTcpIpConfig().setEnabled(false);
      join.getKubernetesConfig().setEnabled(true).setProperty("service-dns", options.kubernetesService());
    } else {
      join.getTcpIpConfig().setEnabled(true).setMembers(options.members());
    }
    return cfg;
  }

  public Vertx vertx() {
    return vertx;
  }

  public ClusterView view() {
    return view;
  }

  /** The Hazelcast member (tests observe the shared maps through it). */
  HazelcastInstance hazelcast() {
    return hazelcast;
  }

  /** This member's Hazelcast uuid. */
  public String memberId() {
    return hazelcast.getCluster().getLocalMember().getUuid().toString();
  }

  /** Closes Vert.x (undeploying every verticle) and leaves the cluster. */
  public Future<Void> closeAsync() {
    return vertx.close().andThen(ar -> {
      if (hazelcast.getLifecycleService().isRunning()) {
        hazelcast.shutdown();
      }
    });
  }

  @Override
  public void close() {
    closeAsync().await();
  }
}
