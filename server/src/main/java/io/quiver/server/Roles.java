package io.quiver.server;

import io.quiver.cluster.ClusterNode;
import io.quiver.cluster.ClusterOptions;
import io.vertx.core.VertxOptions;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every role does around its verticles: join the cluster, wait for a signal, leave cleanly.
 * Stateless helpers.
 */
final class Roles {
  private static final Logger LOG = LoggerFactory.getLogger(Roles.class);

  private Roles() {}

  static ClusterNode join(ClusterOptions cluster) {
    return ClusterNode.start(cluster, new VertxOptions());
  }

  /** Blocks until SIGTERM/SIGINT, then closes the node (verticles stop, the cluster is left). */
  static void runUntilSignalled(ClusterNode node) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("stopping");
      try {
        node.close();
      } catch (RuntimeException e) {
        LOG.warn("error while stopping", e);
      }
      stopped.countDown();
    }, "quiver-shutdown"));
    stopped.await();
  }
}
