package io.quiver.server;

import io.quiver.cluster.ClusterNode;
import io.quiver.cluster.ClusterOptions;
import io.quiver.shard.engine.MemoryBudget;
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

  /**
   * Refuses to start, before joining anything, when this JVM's heap cannot hold the memory budgets
   * of its shards (see {@link MemoryBudget}).
   */
  static void checkHeap(long totalBudgetMb) {
    long needed = MemoryBudget.heapNeeded(totalBudgetMb * 1024 * 1024);
    long max = Runtime.getRuntime().maxMemory();
    if (needed > max) {
      throw new IllegalArgumentException(String.format("the JVM heap (%d MiB) cannot hold a memory budget of %d MiB: it needs "
          + "at least %d MiB (1.25 x budget + 256 MiB); raise QUIVER_HEAP or lower QUIVER_MEMORY_BUDGET_MB",
          max >> 20, totalBudgetMb, (needed >> 20) + 1));
    }
  }

  /** Joins the cluster with a Vert.x whose metrics go to {@code observability}'s registry. */
  static ClusterNode join(ClusterOptions cluster, Observability observability) {
    return ClusterNode.start(cluster, observability.vertxOptions());
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
