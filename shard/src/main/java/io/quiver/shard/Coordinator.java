package io.quiver.shard;

import io.quiver.cluster.ClusterView;
import io.quiver.cluster.CollectionInfo;
import io.quiver.cluster.PartitionMove;
import io.quiver.cluster.PartitionTableWriter;
import io.quiver.cluster.RebalancePlanner;
import io.quiver.cluster.ShardChannel;
import io.quiver.cluster.ShardInfo;
import io.quiver.proto.internal.CollectionRef;
import io.quiver.proto.internal.CollectionSpec;
import io.quiver.proto.internal.MoveAck;
import io.quiver.proto.internal.PartitionRequest;
import io.quiver.proto.internal.ReceivePartitionRequest;
import io.quiver.proto.internal.ShardServiceGrpcClient;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.grpc.common.ServiceMethod;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator: keeper of the partition table and rebalancer. Deployed once in every process that
 * holds shards, before its shards (a shard that starts with data waits for its claim to be merged);
 * only the one in the coordinator (the oldest data member, {@link ClusterView#isCoordinator()}) acts,
 * and only through its {@link PartitionTableWriter}, the one writer of the table.
 *
 * <p>On every cluster change (and every tick) it reconciles the table with the catalog and the
 * shards' claims ({@link PartitionTableWriter#reconcile}: new collections get owners, deleted ones go,
 * claims are merged); this never waits behind a move. Every {@link #tickMillis} it plans moves with
 * {@link RebalancePlanner} (an even share per live shard, nothing on draining shards) and carries out a
 * few at a time:
 *
 * <ol>
 *   <li>record the move ({@code copying}) in Hazelcast;</li>
 *   <li>ReceivePartition on the new owner, which copies the partition and seals the old copy
 *       ({@link PartitionMover});</li>
 *   <li>flip the partition table: new owner, epoch + 1; record {@code flipped};</li>
 *   <li>CommitPartition on the new owner, ReleasePartition on the old one; forget the move.</li>
 * </ol>
 * A failure before the flip rolls back (AbortExport there, DiscardPartition here). A coordinator
 * that takes over finishes every recorded {@code flipped} move and rolls back the others, so a
 * coordinator killed during a move loses nothing. Runs on its event loop; never blocks.
 */
public final class Coordinator extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(Coordinator.class);
  static final int CONCURRENT_MOVES = 2;
  /** How often the coordinator looks for work. */
  public static final long DEFAULT_TICK_MILLIS = 1000;
  private static final long MOVE_TIMEOUT_NANOS = TimeUnit.MINUTES.toNanos(10);
  private static final long STEP_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);
  /** A reconcile that reads Hazelcast even when the local snapshots show nothing to do, every this many ticks. */
  private static final long FULL_RECONCILE_TICKS = 30;

  private final ClusterView view;
  private final String clusterToken;
  private final long tickMillis;
  private final PartitionTableWriter writer;
  private ShardChannel shards;
  private boolean running;
  private boolean reconciling;
  private boolean reconcileAgain;
  private boolean stopped;
  private long ticks = 1;
  /** Cluster changes arrive on Hazelcast threads; the reconcile runs on this verticle's context. */
  private final Runnable onChange = () -> context.runOnContext(v -> reconcile());
  private boolean tookOver;
  private long timer;

  public Coordinator(ClusterView view, String clusterToken, long tickMillis) {
    this.view = view;
    this.clusterToken = clusterToken;
    this.tickMillis = tickMillis;
    this.writer = new PartitionTableWriter(view);
  }

  @Override
  public Future<?> start() {
    shards = new ShardChannel(vertx, view, clusterToken);
    timer = vertx.setPeriodic(tickMillis, id -> tick());
    view.addChangeListener(onChange);
    reconcile();
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    view.removeChangeListener(onChange);
    vertx.cancelTimer(timer);
    return shards.close();
  }

  /**
   * Brings the table in line with catalog and claims; runs again when asked while running. Calls
   * Hazelcast only when the local snapshots show work (every {@link #FULL_RECONCILE_TICKS} ticks
   * regardless), so membership churn, a shutdown in particular, costs no cluster round trips.
   */
  private void reconcile() {
    if (stopped || !view.isCoordinator()) {
      return;
    }
    if (reconciling) {
      reconcileAgain = true;
      return;
    }
    if (!writer.hasWork() && ticks % FULL_RECONCILE_TICKS != 0) {
      return;
    }
    reconciling = true;
    reconcileAgain = false;
    vertx.executeBlocking(writer::reconcile, false).onComplete(ar -> {
      reconciling = false;
      if (ar.failed()) {
        LOG.warn("reconciling the partition table failed: {}", ar.cause().getMessage());
      } else if (ar.result().changed()) {
        LOG.info("partition table reconciled: {} claims merged, {} collections assigned, {} removed",
            ar.result().claimsMerged(), ar.result().assigned(), ar.result().removed());
      }
      if (reconcileAgain && !stopped) {
        reconcile();
      }
    });
  }

  private void tick() {
    ticks++;
    reconcile();
    if (running) {
      return;
    }
    if (!view.isCoordinator()) {
      tookOver = false;
      return;
    }
    running = true;
    Future<Void> round = tookOver ? Future.succeededFuture() : resolveLeftovers().onSuccess(v -> tookOver = true);
    round.compose(v -> rebalance())
        .onComplete(ar -> {
          running = false;
          if (ar.failed()) {
            LOG.warn("rebalancing round failed: {}", ar.cause().getMessage());
          }
        });
  }

  /** A new coordinator finishes flipped moves and rolls back the rest. */
  private Future<Void> resolveLeftovers() {
    return view.moves().compose(moves -> {
      List<Future<?>> done = new ArrayList<>();
      for (PartitionMove m : moves) {
        LOG.info("coordinator takes over move of partition {} of collection {} from shard {} to {} ({})",
            m.partition(), m.collectionUid(), m.from(), m.to(), m.state());
        done.add(m.state().equals(PartitionMove.FLIPPED) ? finish(m) : rollBack(m));
      }
      return Future.join(done).mapEmpty();
    });
  }

  private Future<Void> rebalance() {
    Set<Integer> live = view.liveShards().values().stream()
        .filter(s -> s.state().equals(ShardInfo.STATE_READY)).map(ShardInfo::id).collect(Collectors.toSet());
    return view.moves().compose(inFlight -> {
      Set<String> moving = inFlight.stream().map(PartitionMove::key).collect(Collectors.toSet());
      List<PartitionMove> plan = RebalancePlanner.plan(view.table(), live, view.drainingShards(), moving, CONCURRENT_MOVES);
      List<Future<?>> moves = new ArrayList<>();
      for (PartitionMove m : plan) {
        moves.add(move(m));
      }
      return Future.join(moves).mapEmpty();
    });
  }

  private Future<Void> move(PartitionMove m) {
    CollectionInfo info = view.allCollections().stream().filter(c -> c.uid() == m.collectionUid()).findFirst().orElse(null);
    if (info == null) {
      return Future.succeededFuture();
    }
    long started = System.nanoTime();
    LOG.info("moving partition {} of collection {} from shard {} to shard {} (epoch {})", m.partition(), info.key(),
        m.from(), m.to(), m.epoch());
    ReceivePartitionRequest receive = ReceivePartitionRequest.newBuilder().setSpec(spec(info)).setPartition(m.partition())
        .setSourceShard(m.from()).setEpoch(m.epoch()).build();
    return view.recordMove(m)
        .compose(v -> shards.call(m.to(), ShardServiceGrpcClient.ReceivePartition, receive, "rebalance", System.nanoTime() + MOVE_TIMEOUT_NANOS))
        .compose(ack -> vertx.executeBlocking(() -> writer.flip(m), false))
        .compose(flipped -> {
          if (!flipped) {
            return Future.failedFuture(new IllegalStateException("the partition table changed during the move"));
          }
          return view.recordMove(m.withState(PartitionMove.FLIPPED));
        })
        .compose(v -> finish(m.withState(PartitionMove.FLIPPED)))
        .onSuccess(v -> LOG.info("moved partition {} of collection {} to shard {} in {} ms", m.partition(), info.key(),
            m.to(), (System.nanoTime() - started) / 1_000_000))
        .recover(err -> {
          LOG.warn("move of partition {} of collection {} to shard {} failed, rolling back: {}", m.partition(), info.key(),
              m.to(), err.getMessage());
          return view.moves().compose(current -> current.stream().anyMatch(c -> c.key().equals(m.key())
                  && c.state().equals(PartitionMove.FLIPPED)) ? finish(m) : rollBack(m));
        });
  }

  /** After the flip: the new owner commits, the old one lets go. */
  private Future<Void> finish(PartitionMove m) {
    PartitionRequest p = request(m);
    return call(m.to(), ShardServiceGrpcClient.CommitPartition, p)
        .compose(v -> call(m.from(), ShardServiceGrpcClient.ReleasePartition, p))
        .compose(v -> view.forgetMove(m));
  }

  /** Before the flip: the old owner takes writes again, the new one forgets its copy. */
  private Future<Void> rollBack(PartitionMove m) {
    PartitionRequest p = request(m);
    return Future.join(call(m.from(), ShardServiceGrpcClient.AbortExport, p), call(m.to(), ShardServiceGrpcClient.DiscardPartition, p))
        .transform(ar -> ar.succeeded() ? view.forgetMove(m) : Future.failedFuture(ar.cause()));
  }

  private <Req> Future<MoveAck> call(int shard, ServiceMethod<MoveAck, Req> method, Req msg) {
    return shards.call(shard, method, msg, "rebalance", System.nanoTime() + STEP_TIMEOUT_NANOS);
  }

  private PartitionRequest request(PartitionMove m) {
    CollectionInfo info = view.allCollections().stream().filter(c -> c.uid() == m.collectionUid()).findFirst().orElse(null);
    CollectionRef.Builder ref = CollectionRef.newBuilder().setUid(m.collectionUid());
    if (info != null) {
      ref.setTenant(info.tenant()).setName(info.name());
    }
    return PartitionRequest.newBuilder().setCollection(ref).setPartition(m.partition()).build();
  }

  private static CollectionSpec spec(CollectionInfo info) {
    return CollectionSpec.newBuilder()
        .setRef(CollectionRef.newBuilder().setTenant(info.tenant()).setName(info.name()).setUid(info.uid()))
        .setDimension(info.dimension()).setStrictFinite(info.strictFinite()).setMetric(info.metric())
        .setPartitions(info.partitions()).build();
  }
}
