package io.quiver.gateway;

import io.quiver.cluster.ClusterView;
import io.quiver.cluster.ReadOnlyState;
import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.quiver.proto.internal.ReadOnlyMode;
import io.quiver.proto.internal.SetReadOnlyModeRequest;
import io.quiver.proto.internal.ShardServiceGrpcClient;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Switches the operator read-only mode for the whole cluster: a new version in Hazelcast
 * ({@link io.quiver.cluster.ReadOnlyFlag#set}), then a push to every live shard over the internal
 * {@code SetReadOnly} RPC, where each shard persists and applies it before answering. The answer
 * lists the shards that did not confirm within the timeout. Shards that turn live during the push
 * are pushed too, until no new one appears; a shard that is down catches up when it rejoins (see the
 * shard's {@code ReadOnlyGuard}). Gateways refuse writes from their own snapshot ({@link Admission});
 * the shards' refusal is what makes the toggle's answer a guarantee. Never blocks; thread-safe.
 */
public final class ReadOnlyToggle {
  /** How long a toggle waits for the shards' confirmations unless told otherwise. */
  public static final long DEFAULT_CONFIRM_TIMEOUT_MS = 5_000;
  /** The longest confirmation wait a caller may ask for. */
  public static final long MAX_CONFIRM_TIMEOUT_MS = 60_000;
  /** The {@code x-quiver-client} value {@code bin/quiver ctl} sends; the change is then set by "ctl". */
  public static final String CTL_CLIENT = "ctl";

  /** The state now in force and the shards (ids, ascending) that did not confirm it. */
  public record Outcome(ReadOnlyState state, List<Integer> pendingShards) {}

  private final ClusterView view;
  private final ShardClients shards;

  public ReadOnlyToggle(ClusterView view, ShardClients shards) {
    this.view = view;
    this.shards = shards;
  }

  /** The newest state this gateway has seen. */
  public ReadOnlyState current() {
    return view.readOnly().current();
  }

  /**
   * Sets the mode and waits until every live shard has confirmed it, or {@code timeoutMs} passed.
   * Fails only when the cluster could not store the new state.
   */
  public Future<Outcome> set(Caller caller, boolean enabled, String reason, String setBy, long timeoutMs) {
    Caller push = new Caller(caller.tenant(), caller.requestId(), System.nanoTime() + timeoutMs * 1_000_000);
    return view.readOnly().set(enabled, reason, setBy)
        .recover(err -> Future.failedFuture(err instanceof QuiverException ? err : new QuiverException(
            ErrorCode.SHARD_UNAVAILABLE, "the cluster could not store the read-only mode: " + err.getMessage())))
        .compose(state -> push(state, push, new TreeSet<>(), ConcurrentHashMap.newKeySet())
            .map(pending -> new Outcome(state, pending)));
  }

  /** Pushes to every live shard not yet asked, then again for shards that turned live meanwhile. */
  private Future<List<Integer>> push(ReadOnlyState state, Caller caller, Set<Integer> asked, Set<Integer> confirmed) {
    List<Integer> fresh = view.liveShards().keySet().stream().filter(id -> !asked.contains(id)).toList();
    if (fresh.isEmpty()) {
      List<Integer> pending = new ArrayList<>(asked);
      pending.removeAll(confirmed);
      return Future.succeededFuture(pending);
    }
    asked.addAll(fresh);
    SetReadOnlyModeRequest req = SetReadOnlyModeRequest.newBuilder().setState(toProto(state)).build();
    List<Future<ReadOnlyMode>> legs = new ArrayList<>();
    for (int id : fresh) {
      legs.add(shards.call(id, ShardServiceGrpcClient.SetReadOnly, req, caller).onSuccess(m -> {
        // The shard holds this state or a newer one (a concurrent toggle): either way it will not
        // serve a write this state forbids.
        if (m.getVersion() >= state.version()) {
          confirmed.add(id);
        }
      }));
    }
    return Future.join(legs).transform(ignored -> push(state, caller, asked, confirmed));
  }

  /** Who a change is recorded as set by: the caller's tenant, or "ctl" for the operator CLI. */
  public static String setBy(String tenant, String client) {
    if (CTL_CLIENT.equals(client)) {
      return tenant == null || tenant.equals(GatewayOptions.DEFAULT_TENANT) ? CTL_CLIENT : CTL_CLIENT + ":" + tenant;
    }
    return tenant == null ? "" : tenant;
  }

  static ReadOnlyMode toProto(ReadOnlyState s) {
    return ReadOnlyMode.newBuilder().setEnabled(s.enabled()).setReason(s.reason()).setSince(s.since())
        .setSetBy(s.setBy()).setVersion(s.version()).build();
  }
}
