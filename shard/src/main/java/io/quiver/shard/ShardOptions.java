package io.quiver.shard;

import java.nio.file.Path;

/**
 * One shard's settings: identity, ports, data directory, durability and memory budget. Every field
 * has a {@code DEFAULT_*}; setters validate. Mutable; configure before deploying the verticle.
 */
public final class ShardOptions {
  public static final String DEFAULT_HOST = "0.0.0.0";
  public static final int DEFAULT_GRPC_PORT = 9100;
  public static final int DEFAULT_HTTP_PORT = 9200;
  public static final String DEFAULT_DATA_DIR = "./data";
  public static final String DEFAULT_DURABILITY = "sync";
  public static final long DEFAULT_MEMORY_BUDGET_MB = 1024;
  public static final long DEFAULT_WAL_SYNC_INTERVAL_MS = 1000;
  public static final long DEFAULT_CHECKPOINT_INTERVAL_S = 300;
  public static final long DEFAULT_WAL_MAX_MB = 64;
  public static final int DEFAULT_GRAPH_MAX_LAG_POINTS = io.quiver.shard.index.GraphIndexer.DEFAULT_MAX_LAG_ROWS;
  public static final boolean DEFAULT_LOCAL_CALLS = true;

  private int shardId = -1;
  private String host = DEFAULT_HOST;
  private String advertisedHost;
  private int grpcPort = DEFAULT_GRPC_PORT;
  private int httpPort = DEFAULT_HTTP_PORT;
  private Path dataDir = Path.of(DEFAULT_DATA_DIR);
  private String durability = DEFAULT_DURABILITY;
  private long memoryBudgetMb = DEFAULT_MEMORY_BUDGET_MB;
  private long walSyncIntervalMs = DEFAULT_WAL_SYNC_INTERVAL_MS;
  private long checkpointIntervalS = DEFAULT_CHECKPOINT_INTERVAL_S;
  private long walMaxMb = DEFAULT_WAL_MAX_MB;
  private int graphMaxLagPoints = DEFAULT_GRAPH_MAX_LAG_POINTS;
  private int workerThreads = Math.max(16, Runtime.getRuntime().availableProcessors() * 4);
  private int searchThreads = Runtime.getRuntime().availableProcessors();
  private String clusterToken = "";
  private boolean localCalls = DEFAULT_LOCAL_CALLS;

  public int shardId() {
    return shardId;
  }

  public ShardOptions shardId(int v) {
    if (v < 0) {
      throw new IllegalArgumentException("shard id must be a non-negative integer, got " + v);
    }
    shardId = v;
    return this;
  }

  /** The interface the shard's ports bind to. */
  public String host() {
    return host;
  }

  public ShardOptions host(String v) {
    host = v;
    return this;
  }

  /** The address gateways use to reach this shard; defaults to {@link #host()} (or 127.0.0.1 for 0.0.0.0). */
  public String advertisedHost() {
    if (advertisedHost != null) {
      return advertisedHost;
    }
    return host.equals("0.0.0.0") ? "127.0.0.1" : host;
  }

  public ShardOptions advertisedHost(String v) {
    advertisedHost = v;
    return this;
  }

  public int grpcPort() {
    return grpcPort;
  }

  public ShardOptions grpcPort(int v) {
    grpcPort = port(v, "shard port");
    return this;
  }

  public int httpPort() {
    return httpPort;
  }

  public ShardOptions httpPort(int v) {
    httpPort = port(v, "shard HTTP port");
    return this;
  }

  public Path dataDir() {
    return dataDir;
  }

  public ShardOptions dataDir(Path v) {
    dataDir = v;
    return this;
  }

  /** {@code sync} (force before acknowledging) or {@code async} (force every sync interval). */
  public String durability() {
    return durability;
  }

  public ShardOptions durability(String v) {
    if (!v.equals("sync") && !v.equals("async")) {
      throw new IllegalArgumentException("durability must be sync or async, got '" + v + "'");
    }
    durability = v;
    return this;
  }

  public long memoryBudgetMb() {
    return memoryBudgetMb;
  }

  public ShardOptions memoryBudgetMb(long v) {
    memoryBudgetMb = positive(v, "memory budget");
    return this;
  }

  public long walSyncIntervalMs() {
    return walSyncIntervalMs;
  }

  public ShardOptions walSyncIntervalMs(long v) {
    walSyncIntervalMs = positive(v, "WAL sync interval");
    return this;
  }

  public long checkpointIntervalS() {
    return checkpointIntervalS;
  }

  public ShardOptions checkpointIntervalS(long v) {
    checkpointIntervalS = positive(v, "checkpoint interval");
    return this;
  }

  public long walMaxMb() {
    return walMaxMb;
  }

  public ShardOptions walMaxMb(long v) {
    walMaxMb = positive(v, "WAL max size");
    return this;
  }

  public int workerThreads() {
    return workerThreads;
  }

  public ShardOptions workerThreads(int v) {
    workerThreads = (int) positive(v, "worker threads");
    return this;
  }

  public int searchThreads() {
    return searchThreads;
  }

  public ShardOptions searchThreads(int v) {
    searchThreads = (int) positive(v, "search threads");
    return this;
  }

  /** The shared secret callers must present on the internal port (empty = not checked). */
  public String clusterToken() {
    return clusterToken;
  }

  public ShardOptions clusterToken(String v) {
    clusterToken = v == null ? "" : v;
    return this;
  }

  /** Points per partition the ANN graph may lag behind while writes keep arriving (0: no lag). */
  public int graphMaxLagPoints() {
    return graphMaxLagPoints;
  }

  public ShardOptions graphMaxLagPoints(int v) {
    if (v < 0) {
      throw new IllegalArgumentException("graph max lag must be >= 0 points, got " + v);
    }
    graphMaxLagPoints = v;
    return this;
  }

  /**
   * Whether callers in this JVM (standalone's gateway, other shards) call this shard directly instead
   * of over gRPC (QUIVER_LOCAL_SHARD_CALLS); callers in other processes always use gRPC.
   */
  public boolean localCalls() {
    return localCalls;
  }

  public ShardOptions localCalls(boolean v) {
    localCalls = v;
    return this;
  }

  /** The storage engine's settings derived from these. */
  public io.quiver.shard.engine.EngineOptions engineOptions() {
    return new io.quiver.shard.engine.EngineOptions()
        .shardId(shardId)
        .dataDir(dataDir)
        .durability(durability.equals("async") ? io.quiver.shard.storage.Durability.ASYNC : io.quiver.shard.storage.Durability.SYNC)
        .walSyncIntervalMs(walSyncIntervalMs)
        .memoryBudgetBytes(memoryBudgetMb * 1024 * 1024)
        .checkpointIntervalMs(checkpointIntervalS * 1000)
        .walMaxBytes(walMaxMb * 1024 * 1024)
        .graphMaxLagPoints(graphMaxLagPoints);
  }

  private static int port(int v, String what) {
    if (v < 0 || v > 65535) {
      throw new IllegalArgumentException(what + " must be 0..65535, got " + v);
    }
    return v;
  }

  private static long positive(long v, String what) {
    if (v <= 0) {
      throw new IllegalArgumentException(what + " must be positive, got " + v);
    }
    return v;
  }
}
