package io.quiver.gateway;

/**
 * Gateway settings: listen addresses, request limits (checked before anything is allocated) and
 * the default request deadline. Every field has a {@code DEFAULT_*}; setters validate.
 * Mutable; configure before deploying the verticle.
 */
public final class GatewayOptions {
  public static final String DEFAULT_HTTP_HOST = "0.0.0.0";
  public static final int DEFAULT_HTTP_PORT = 8080;
  public static final int DEFAULT_GRPC_PORT = 9090;
  public static final long DEFAULT_MAX_BODY_BYTES = 64L * 1024 * 1024;
  public static final int DEFAULT_MAX_DIMENSION = 8192;
  public static final int DEFAULT_MAX_BATCH_POINTS = 10_000;
  public static final int DEFAULT_MAX_TOP_K = 1_000;
  public static final int DEFAULT_MAX_PAGE_SIZE = 10_000;
  public static final long DEFAULT_MAX_OFFSET = 1_000_000;
  public static final int DEFAULT_MAX_BATCH_QUERIES = 1_000;
  public static final int DEFAULT_MAX_FILTER_CLAUSES = 64;
  public static final long DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
  public static final String DEFAULT_TENANT = "default";

  private String httpHost = DEFAULT_HTTP_HOST;
  private int httpPort = DEFAULT_HTTP_PORT;
  private int grpcPort = DEFAULT_GRPC_PORT;
  private long maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
  private int maxDimension = DEFAULT_MAX_DIMENSION;
  private int maxBatchPoints = DEFAULT_MAX_BATCH_POINTS;
  private int maxTopK = DEFAULT_MAX_TOP_K;
  private int maxPageSize = DEFAULT_MAX_PAGE_SIZE;
  private long maxOffset = DEFAULT_MAX_OFFSET;
  private int maxBatchQueries = DEFAULT_MAX_BATCH_QUERIES;
  private int maxFilterClauses = DEFAULT_MAX_FILTER_CLAUSES;
  private long requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS;
  private String clusterToken = "";

  public String httpHost() {
    return httpHost;
  }

  public GatewayOptions httpHost(String v) {
    httpHost = v;
    return this;
  }

  public int httpPort() {
    return httpPort;
  }

  public GatewayOptions httpPort(int v) {
    httpPort = port(v, "HTTP port");
    return this;
  }

  public int grpcPort() {
    return grpcPort;
  }

  public GatewayOptions grpcPort(int v) {
    grpcPort = port(v, "gRPC port");
    return this;
  }

  public long maxBodyBytes() {
    return maxBodyBytes;
  }

  public GatewayOptions maxBodyBytes(long v) {
    maxBodyBytes = positive(v, "max body bytes");
    return this;
  }

  public int maxDimension() {
    return maxDimension;
  }

  public GatewayOptions maxDimension(int v) {
    maxDimension = (int) positive(v, "max dimension");
    return this;
  }

  public int maxBatchPoints() {
    return maxBatchPoints;
  }

  public GatewayOptions maxBatchPoints(int v) {
    maxBatchPoints = (int) positive(v, "max batch points");
    return this;
  }

  public int maxTopK() {
    return maxTopK;
  }

  public GatewayOptions maxTopK(int v) {
    maxTopK = (int) positive(v, "max top-k");
    return this;
  }

  public int maxPageSize() {
    return maxPageSize;
  }

  public GatewayOptions maxPageSize(int v) {
    maxPageSize = (int) positive(v, "max page size");
    return this;
  }

  public long maxOffset() {
    return maxOffset;
  }

  public GatewayOptions maxOffset(long v) {
    maxOffset = positive(v, "max offset");
    return this;
  }

  public int maxBatchQueries() {
    return maxBatchQueries;
  }

  public GatewayOptions maxBatchQueries(int v) {
    maxBatchQueries = (int) positive(v, "max batch queries");
    return this;
  }

  public int maxFilterClauses() {
    return maxFilterClauses;
  }

  public GatewayOptions maxFilterClauses(int v) {
    maxFilterClauses = (int) positive(v, "max filter clauses");
    return this;
  }

  public long requestTimeoutMs() {
    return requestTimeoutMs;
  }

  public GatewayOptions requestTimeoutMs(long v) {
    requestTimeoutMs = positive(v, "request timeout");
    return this;
  }

  /** The shared secret shards require on their internal port. */
  public String clusterToken() {
    return clusterToken;
  }

  public GatewayOptions clusterToken(String v) {
    clusterToken = v == null ? "" : v;
    return this;
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
