package io.quiver.cluster;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's copy of the operator read-only mode ({@link ReadOnlyState}): Hazelcast map
 * {@code quiver.read-only}, entry {@code state}, the state as JSON ({@link #toJson}), mirrored here
 * in a local snapshot that only ever moves to a newer state (the rule of {@link ReadOnlyState}).
 *
 * <p>Hazelcast keeps nothing on disk, so after a restart of the whole cluster the entry comes back
 * from the shards: each publishes the copy from its metadata file ({@link #publish}) and the newest
 * one stays. Gateways read {@link #current()} (no network) to refuse writes; shards subscribe
 * ({@link #addListener}) to apply changes they were not pushed. Writers run the Hazelcast calls on a
 * worker thread and compare-and-set, so concurrent setters and publishers converge on the newest.
 * Thread-safe.
 */
public final class ReadOnlyFlag {
  private static final Logger LOG = LoggerFactory.getLogger(ReadOnlyFlag.class);
  static final String MAP = "quiver.read-only";
  static final String KEY = "state";

  private final Vertx vertx;
  private final IMap<String, String> map;
  private final Clock clock;
  private final AtomicReference<ReadOnlyState> current = new AtomicReference<>(ReadOnlyState.OFF);
  private final List<Consumer<ReadOnlyState>> listeners = new CopyOnWriteArrayList<>();

  ReadOnlyFlag(Vertx vertx, HazelcastInstance hz, Clock clock) {
    this.vertx = vertx;
    this.map = hz.getMap(MAP);
    this.clock = clock;
    // Listen first, then load: a change between the two is seen by the event.
    map.addEntryListener(new Changes(), KEY, true);
    try {
      String json = map.get(KEY);
      if (json != null) {
        observe(fromJson(new JsonObject(json)));
      }
    } catch (RuntimeException e) {
      // A gateway that starts before any shard has no data member to ask; the entry event brings the state.
      LOG.info("read-only state not loaded yet ({}); waiting for the cluster to publish it", e.toString());
    }
  }

  /** The newest state this process has seen. */
  public ReadOnlyState current() {
    return current.get();
  }

  /**
   * Called (on a Hazelcast event thread, or the writer's thread) with each newer state seen. Calls
   * from different threads may arrive out of order: listeners keep the newest themselves.
   */
  public void addListener(Consumer<ReadOnlyState> listener) {
    listeners.add(listener);
  }

  public void removeListener(Consumer<ReadOnlyState> listener) {
    listeners.remove(listener);
  }

  /**
   * Switches the mode on or off in Hazelcast, as a new version on top of the newest copy there, and
   * returns that new state. Does not tell the shards: the gateway pushes it to them.
   */
  public Future<ReadOnlyState> set(boolean enabled, String reason, String setBy) {
    return vertx.executeBlocking(() -> {
      while (true) {
        String json = map.get(KEY);
        ReadOnlyState seen = ReadOnlyState.newest(json == null ? ReadOnlyState.OFF : fromJson(new JsonObject(json)), current.get());
        ReadOnlyState next = seen.next(enabled, reason, setBy, clock);
        String encoded = toJson(next).encode();
        if (json == null ? map.putIfAbsent(KEY, encoded) == null : map.replace(KEY, json, encoded)) {
          observe(next);
          LOG.info("read-only mode {} by {} (version {}){}", enabled ? "ON" : "OFF", setBy, next.version(),
              reason.isEmpty() ? "" : ": " + reason);
          return next;
        }
      }
    });
  }

  /**
   * Offers {@code local} (a shard's persisted copy) to the cluster: it replaces the entry when it is
   * newer. Returns the newest state, which the caller must adopt when it is newer than its own.
   */
  public Future<ReadOnlyState> publish(ReadOnlyState local) {
    return vertx.executeBlocking(() -> {
      while (true) {
        String json = map.get(KEY);
        ReadOnlyState there = json == null ? ReadOnlyState.OFF : fromJson(new JsonObject(json));
        if (!local.isNewerThan(there)) {
          observe(there);
          return ReadOnlyState.newest(there, current.get());
        }
        String encoded = toJson(local).encode();
        if (json == null ? map.putIfAbsent(KEY, encoded) == null : map.replace(KEY, json, encoded)) {
          observe(local);
          return ReadOnlyState.newest(local, current.get());
        }
      }
    });
  }

  /** Moves the snapshot to {@code s} when it is newer, and tells the listeners. */
  private void observe(ReadOnlyState s) {
    ReadOnlyState before = current.getAndAccumulate(s, ReadOnlyState::newest);
    if (s.isNewerThan(before)) {
      listeners.forEach(l -> l.accept(s));
    }
  }

  public static JsonObject toJson(ReadOnlyState s) {
    return new JsonObject()
        .put("enabled", s.enabled())
        .put("reason", s.reason())
        .put("since", s.since())
        .put("set_by", s.setBy())
        .put("version", s.version());
  }

  public static ReadOnlyState fromJson(JsonObject j) {
    return new ReadOnlyState(j.getBoolean("enabled", false), j.getString("reason", ""), j.getString("since", ""),
        j.getString("set_by", ""), j.getLong("version", 0L));
  }

  private final class Changes implements EntryAddedListener<String, String>, EntryUpdatedListener<String, String> {
    @Override
    public void entryAdded(EntryEvent<String, String> e) {
      changed(e);
    }

    @Override
    public void entryUpdated(EntryEvent<String, String> e) {
      changed(e);
    }

    private void changed(EntryEvent<String, String> e) {
      try {
        observe(fromJson(new JsonObject(e.getValue())));
      } catch (RuntimeException err) {
        LOG.error("unreadable read-only state in the cluster: {}", e.getValue(), err);
      }
    }
  }
}
