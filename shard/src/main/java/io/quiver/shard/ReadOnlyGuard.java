package io.quiver.shard;

import io.quiver.cluster.ReadOnlyFlag;
import io.quiver.cluster.ReadOnlyState;
import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.quiver.proto.internal.ReadOnlyMode;
import io.quiver.shard.engine.ShardEngine;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this shard's copy of the operator read-only mode (in its {@link ShardEngine}, persisted in
 * the metadata file) in step with the cluster's ({@link ReadOnlyFlag}), under the rule of
 * {@link ReadOnlyState}: the higher version wins.
 *
 * <p>Three ways a newer state arrives: the gateway's push (the {@code SetReadOnly} RPC, which answers
 * only once the state is persisted and applied), the cluster's change events (for a push this shard
 * missed), and {@link #reconcile()} when the shard (re)joins: it publishes its persisted copy, so a
 * cluster restarted from nothing gets the mode back, and adopts the cluster's when that is newer. The
 * verticle reconciles before it serves and again right after it registered (a toggle may have run
 * in between and missed it); writes wait for {@link #whenJoined()} so none is served before that
 * second reconcile. Thread-safe.
 */
final class ReadOnlyGuard {
  private static final Logger LOG = LoggerFactory.getLogger(ReadOnlyGuard.class);

  private final ShardEngine engine;
  private final ReadOnlyFlag cluster;
  private final WorkerExecutor worker;
  private final Promise<Void> joined = Promise.promise();
  private final Consumer<ReadOnlyState> onChange = this::changed;

  ReadOnlyGuard(ShardEngine engine, ReadOnlyFlag cluster, WorkerExecutor worker) {
    this.engine = engine;
    this.cluster = cluster;
    this.worker = worker;
  }

  /** Starts following the cluster's changes; call once the engine is open. */
  void listen() {
    cluster.addListener(onChange);
  }

  /** Stops following the cluster; call before the engine closes. */
  void stop() {
    cluster.removeListener(onChange);
    joined.tryFail(new QuiverException(ErrorCode.SHARD_UNAVAILABLE, "shard " + engine.shardId() + " is stopping"));
  }

  /** Publishes the persisted copy and adopts the cluster's when it is newer; completes with the state in force. */
  Future<ReadOnlyState> reconcile() {
    return cluster.publish(engine.readOnly()).compose(this::apply);
  }

  /** Opens writes: call after the reconcile that followed registration. */
  void joined() {
    joined.tryComplete();
  }

  /** Completes when writes may be served (see the class comment). */
  Future<Void> whenJoined() {
    return joined.future();
  }

  /** Persists and applies {@code state} if newer (on the worker pool); completes with the state in force. */
  Future<ReadOnlyState> apply(ReadOnlyState state) {
    if (!state.isNewerThan(engine.readOnly())) {
      return Future.succeededFuture(engine.readOnly());
    }
    return worker.executeBlocking(() -> engine.applyReadOnly(state), false);
  }

  ReadOnlyState current() {
    return engine.readOnly();
  }

  private void changed(ReadOnlyState state) {
    apply(state).onFailure(err -> LOG.error("shard {} could not apply read-only version {}; it stays at version {}",
        engine.shardId(), state.version(), engine.readOnly().version(), err));
  }

  static ReadOnlyMode toProto(ReadOnlyState s) {
    return ReadOnlyMode.newBuilder().setEnabled(s.enabled()).setReason(s.reason()).setSince(s.since())
        .setSetBy(s.setBy()).setVersion(s.version()).build();
  }

  static ReadOnlyState fromProto(ReadOnlyMode m) {
    return new ReadOnlyState(m.getEnabled(), m.getReason(), m.getSince(), m.getSetBy(), m.getVersion());
  }
}
