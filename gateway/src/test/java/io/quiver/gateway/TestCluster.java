package io.quiver.gateway;

import io.quiver.cluster.ClusterNode;
import io.quiver.cluster.ClusterOptions;
import io.quiver.cluster.ClusterView;
import io.quiver.shard.Coordinator;
import io.quiver.shard.ShardOptions;
import io.quiver.shard.ShardVerticle;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * The standalone topology inside the test JVM: one Hazelcast member (its own cluster name), shard
 * verticles that can be stopped and started again, and any number of gateways with their own
 * options. Start it in {@code @BeforeAll}, close it in {@code @AfterAll}. Not thread-safe.
 */
final class TestCluster implements AutoCloseable {
  private final ClusterNode node;
  private final Path data;
  private final Map<Integer, String> shardDeployments = new ConcurrentHashMap<>();

  private TestCluster(ClusterNode node, Path data) {
    this.node = node;
    this.data = data;
  }

  static TestCluster start(int shards) {
    Path data;
    try {
      data = Files.createTempDirectory("quiver-gateway-it");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ClusterNode node = ClusterNode.start(new ClusterOptions().clusterName("gateway-it-" + UUID.randomUUID())
        .host("127.0.0.1").port(freePort()), new VertxOptions());
    TestCluster c = new TestCluster(node, data);
    // The coordinator is the one writer of the partition table (collection create waits for it).
    node.vertx().deployVerticle(new Coordinator(node.view(), "", Coordinator.DEFAULT_TICK_MILLIS)).await();
    for (int i = 0; i < shards; i++) {
      c.startShard(i);
    }
    return c;
  }

  Vertx vertx() {
    return node.vertx();
  }

  ClusterView view() {
    return node.view();
  }

  /** The Hazelcast member id of this JVM (a shard registered under it counts as live). */
  String memberId() {
    return node.memberId();
  }

  /** Deploys shard {@code id} (new ports, same data directory) and waits until the view sees it live. */
  void startShard(int id) {
    // A small budget: every shard of the test JVM reserves its budget against the 1 GiB test heap.
    ShardOptions o = new ShardOptions().shardId(id).host("127.0.0.1").grpcPort(0).httpPort(0).memoryBudgetMb(64)
        .dataDir(data.resolve("shard-" + id));
    shardDeployments.put(id, node.vertx().deployVerticle(new ShardVerticle(o, node.view(), node.memberId())).await());
    await("shard " + id + " live", () -> view().liveShards().containsKey(id), Duration.ofSeconds(10));
  }

  /** Undeploys shard {@code id} (its ports close) and waits until the view no longer sees it. */
  void stopShard(int id) {
    node.vertx().undeploy(shardDeployments.remove(id)).await();
    await("shard " + id + " gone", () -> !view().liveShards().containsKey(id), Duration.ofSeconds(10));
  }

  GatewayVerticle gateway(GatewayOptions options) {
    return gateway(options, Clock.systemUTC());
  }

  GatewayVerticle gateway(GatewayOptions options, Clock breakerClock) {
    GatewayVerticle g = new GatewayVerticle(view(), options.httpHost("127.0.0.1").httpPort(0).grpcPort(0), null, breakerClock);
    node.vertx().deployVerticle(g).await();
    return g;
  }

  /** Polls {@code condition} every 10 ms until it holds; fails naming {@code what} after {@code timeout}. */
  static void await(String what, BooleanSupplier condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
      }
      LockSupport.parkNanos(10_000_000);
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    node.close();
    try (Stream<Path> files = Files.walk(data)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a leftover temp directory is harmless
    }
  }
}
