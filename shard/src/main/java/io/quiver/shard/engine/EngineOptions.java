package io.quiver.shard.engine;

import io.quiver.shard.storage.ChannelOpener;
import io.quiver.shard.storage.CheckpointCrashPoint;
import io.quiver.shard.storage.Durability;
import io.quiver.shard.storage.WalOptions;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Settings of one {@link ShardEngine}: where it keeps its files, how durable a write is before it is
 * acknowledged, when checkpoints run, and how much memory it may hold. Test hooks (channel opener,
 * checkpoint crash point) default to the real thing. Mutable until handed to the engine.
 */
public final class EngineOptions {
  public static final long DEFAULT_MEMORY_BUDGET_BYTES = 1024L * 1024 * 1024;
  public static final long DEFAULT_CHECKPOINT_INTERVAL_MS = 300_000;
  public static final long DEFAULT_WAL_MAX_BYTES = 64L * 1024 * 1024;

  private int shardId;
  private Path dataDir;
  private Durability durability = WalOptions.DEFAULT_DURABILITY;
  private long walSyncIntervalMs = WalOptions.DEFAULT_SYNC_INTERVAL_MS;
  private long walSegmentBytes = WalOptions.DEFAULT_SEGMENT_BYTES;
  private long memoryBudgetBytes = DEFAULT_MEMORY_BUDGET_BYTES;
  private long checkpointIntervalMs = DEFAULT_CHECKPOINT_INTERVAL_MS;
  private long walMaxBytes = DEFAULT_WAL_MAX_BYTES;
  private int graphMaxLagPoints = io.quiver.shard.index.GraphIndexer.DEFAULT_MAX_LAG_ROWS;
  private ChannelOpener channelOpener;
  private CheckpointCrashPoint crashPoint;
  private java.util.function.LongConsumer walForceLatencyListener;

  public int shardId() {
    return shardId;
  }

  public EngineOptions shardId(int v) {
    shardId = v;
    return this;
  }

  public Path dataDir() {
    return dataDir;
  }

  public EngineOptions dataDir(Path v) {
    dataDir = Objects.requireNonNull(v);
    return this;
  }

  public Durability durability() {
    return durability;
  }

  public EngineOptions durability(Durability v) {
    durability = Objects.requireNonNull(v);
    return this;
  }

  public long walSyncIntervalMs() {
    return walSyncIntervalMs;
  }

  public EngineOptions walSyncIntervalMs(long v) {
    walSyncIntervalMs = positive(v, "WAL sync interval");
    return this;
  }

  public long walSegmentBytes() {
    return walSegmentBytes;
  }

  public EngineOptions walSegmentBytes(long v) {
    walSegmentBytes = positive(v, "WAL segment size");
    return this;
  }

  public long memoryBudgetBytes() {
    return memoryBudgetBytes;
  }

  public EngineOptions memoryBudgetBytes(long v) {
    memoryBudgetBytes = positive(v, "memory budget");
    return this;
  }

  public long checkpointIntervalMs() {
    return checkpointIntervalMs;
  }

  public EngineOptions checkpointIntervalMs(long v) {
    checkpointIntervalMs = positive(v, "checkpoint interval");
    return this;
  }

  /** WAL size above which a checkpoint starts (so the WAL, and replay time, stay bounded). */
  public long walMaxBytes() {
    return walMaxBytes;
  }

  public EngineOptions walMaxBytes(long v) {
    walMaxBytes = positive(v, "WAL max size");
    return this;
  }

  /**
   * Points per partition the ANN graph may lag behind while writes keep arriving (graph insertion
   * yields the CPU to the write path until then; 0: insert as points arrive). See {@link io.quiver.shard.index.GraphIndexer}.
   */
  public int graphMaxLagPoints() {
    return graphMaxLagPoints;
  }

  public EngineOptions graphMaxLagPoints(int v) {
    if (v < 0) {
      throw new IllegalArgumentException("graph max lag must be >= 0, got " + v);
    }
    graphMaxLagPoints = v;
    return this;
  }

  public ChannelOpener channelOpener() {
    return channelOpener;
  }

  /** Test hook: how WAL files are opened (to inject write or force failures). */
  public EngineOptions channelOpener(ChannelOpener v) {
    channelOpener = v;
    return this;
  }

  public CheckpointCrashPoint crashPoint() {
    return crashPoint;
  }

  /** Test hook: called at each checkpoint step (to simulate a crash there). */
  public EngineOptions crashPoint(CheckpointCrashPoint v) {
    crashPoint = v;
    return this;
  }

  public java.util.function.LongConsumer walForceLatencyListener() {
    return walForceLatencyListener;
  }

  /** Called with the nanoseconds of every WAL force (metrics); quick and thread-safe. */
  public EngineOptions walForceLatencyListener(java.util.function.LongConsumer v) {
    walForceLatencyListener = v;
    return this;
  }

  WalOptions walOptions() {
    WalOptions w = new WalOptions().durability(durability).segmentBytes(walSegmentBytes).syncIntervalMs(walSyncIntervalMs);
    if (channelOpener != null) {
      w.channelOpener(channelOpener);
    }
    if (walForceLatencyListener != null) {
      w.forceLatencyListener(walForceLatencyListener);
    }
    return w;
  }

  private static long positive(long v, String what) {
    if (v <= 0) {
      throw new IllegalArgumentException(what + " must be positive, got " + v);
    }
    return v;
  }
}
