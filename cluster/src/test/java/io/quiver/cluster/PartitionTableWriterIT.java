package io.quiver.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.vertx.core.VertxOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three Hazelcast members in the test JVM: the oldest data member (the coordinator), a younger data
 * member (a shard that is not the coordinator) and a lite member (a gateway). A stand-in for the
 * coordinator verticle reconciles on the oldest member on every change; a listener on the table
 * entry records which member made each change, and every test ends by checking that it was always
 * the coordinator.
 */
class PartitionTableWriterIT {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static ClusterNode oldest;
  private static ClusterNode younger;
  private static ClusterNode lite;
  private static final Set<String> tableWriters = ConcurrentHashMap.newKeySet();
  private static final AtomicBoolean coordinatorOn = new AtomicBoolean(true);
  private static final ExecutorService coordinatorThread = Executors.newSingleThreadExecutor();

  @BeforeAll
  static void startCluster() {
    String name = "writer-it-" + UUID.randomUUID();
    int[] ports = {freePort(), freePort(), freePort()};
    List<String> members = List.of("127.0.0.1:" + ports[0], "127.0.0.1:" + ports[1], "127.0.0.1:" + ports[2]);
    oldest = ClusterNode.start(options(name, ports[0], members, false), new VertxOptions());
    younger = ClusterNode.start(options(name, ports[1], members, false), new VertxOptions());
    lite = ClusterNode.start(options(name, ports[2], members, true), new VertxOptions());
    oldest.hazelcast().<String, String>getMap(ClusterView.META).addEntryListener(new TableWrites(), ClusterView.TABLE_KEY, false);
    PartitionTableWriter writer = new PartitionTableWriter(oldest.view());
    oldest.view().addChangeListener(() -> coordinatorThread.execute(() -> {
      if (coordinatorOn.get()) {
        writer.reconcile();
      }
    }));
    for (int shard = 0; shard < 2; shard++) {
      ClusterNode host = shard == 0 ? oldest : younger;
      host.view().registerShard(new ShardInfo(shard, "127.0.0.1", 1, 1, host.memberId(), ShardInfo.STATE_READY)).await();
    }
  }

  @AfterAll
  static void stopCluster() {
    coordinatorOn.set(false);
    for (ClusterNode n : new ClusterNode[] {lite, younger, oldest}) {
      if (n != null) {
        n.close();
      }
    }
    coordinatorThread.shutdownNow();
  }

  @AfterEach
  void onlyTheCoordinatorWroteTheTable() {
    assertThat(tableWriters).isSubsetOf(oldest.memberId());
    coordinatorOn.set(true);
  }

  @Test
  void aMemberThatIsNotTheCoordinatorCannotWriteTheTable() {
    assertThat(oldest.view().isCoordinator()).isTrue();
    assertThat(younger.view().isCoordinator()).isFalse();
    assertThat(lite.view().isCoordinator()).isFalse();
    PartitionMove move = new PartitionMove(1L, 0, 0, 1, 2, PartitionMove.COPYING);
    for (ClusterNode n : new ClusterNode[] {younger, lite}) {
      assertThatThrownBy(() -> new PartitionTableWriter(n.view()).flip(move))
          .isInstanceOf(PartitionTableWriter.NotCoordinatorException.class);
    }
  }

  @Test
  void createFromAGatewayCompletesOnceTheCoordinatorGaveThePartitionsOwners() {
    CollectionInfo info = lite.view().createCollection("t", "created", 4, "l2", true, 8, WAIT).await();

    PartitionTable.Assignment a = lite.view().table().assignment(info.uid());
    assertThat(a).isNotNull();
    assertThat(a.shards()).containsExactly(0, 1);
    assertThat(a.partitionsOf(0)).hasSize(4);
    assertThat(a.epochs()).containsOnly(1L);
    assertThat(lite.view().collection("t", "created")).isEqualTo(info);
    assertThat(tableWriters).containsExactly(oldest.memberId());

    assertThat(younger.view().dropCollection(info, WAIT).await()).isTrue();
    assertThat(younger.view().table().assignment(info.uid())).isNull();
    assertThat(younger.view().collection("t", "created")).isNull();
  }

  @Test
  void createFailsWithShardUnavailableAndLeavesNothingWhenNoCoordinatorAnswers() throws Exception {
    coordinatorOn.set(false);
    // A reconcile the previous test's changes started may still be running: let it finish first, or it
    // could assign the new collection's partitions after all.
    coordinatorThread.submit(() -> { }).get();

    assertThatThrownBy(() -> lite.view().createCollection("t", "orphan", 4, "l2", true, 8, Duration.ofMillis(300)).await())
        .isInstanceOfSatisfying(QuiverException.class, e -> {
          assertThat(e.code()).isEqualTo(ErrorCode.SHARD_UNAVAILABLE);
          assertThat(e.getMessage()).contains("no coordinator");
        });
    assertThat(lite.view().collection("t", "orphan")).isNull();

    coordinatorOn.set(true);
    assertThat(lite.view().createCollection("t", "orphan", 4, "l2", true, 8, WAIT).await().name()).isEqualTo("orphan");
  }

  @Test
  void aClaimIsMergedByTheCoordinatorAndRestoresTheCatalog() {
    // As after a restart of the whole cluster: the catalog does not know the collection, shard 1 holds two partitions.
    CollectionInfo held = new CollectionInfo("t", "restored", 4242L, 4, "l2", true, 4, 0L);
    CollectionInfo gone = new CollectionInfo("t", "dropped", 4343L, 4, "l2", true, 4, 0L);

    List<Long> stale = younger.view().claim(1, List.of(held, gone), Map.of(4242L, Map.of(0, 3L, 2, 5L)), List.of(4343L), WAIT)
        .await();

    assertThat(stale).containsExactly(4343L);
    PartitionTable.Assignment a = younger.view().table().assignment(4242L);
    assertThat(a.owners()).containsExactly(1, PartitionTable.Assignment.UNKNOWN_OWNER, 1, PartitionTable.Assignment.UNKNOWN_OWNER);
    assertThat(a.epochOf(2)).isEqualTo(5L);
    assertThat(younger.view().collection("t", "restored")).isNotNull();
    assertThat(younger.view().table().assignment(4343L)).isNull();
  }

  private static ClusterOptions options(String name, int port, List<String> members, boolean lite) {
    return new ClusterOptions().clusterName(name).host("127.0.0.1").port(port).portAutoIncrement(false)
        .members(members).liteMember(lite);
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Records the member that caused each change of the table entry. */
  private static final class TableWrites implements EntryAddedListener<String, String>, EntryUpdatedListener<String, String> {
    @Override
    public void entryAdded(EntryEvent<String, String> e) {
      tableWriters.add(e.getMember().getUuid().toString());
    }

    @Override
    public void entryUpdated(EntryEvent<String, String> e) {
      tableWriters.add(e.getMember().getUuid().toString());
    }
  }
}
