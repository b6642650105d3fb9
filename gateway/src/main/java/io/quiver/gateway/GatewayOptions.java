package io.quiver.gateway;

/**
 * Gateway settings: listen addresses, TLS, authentication, rate and concurrency limits, circuit
 * breakers, request limits (checked before anything is allocated) and the default request deadline.
 * Every field has a {@code DEFAULT_*}; setters validate their own field, {@link #validate()} checks
 * the combinations (the verticle calls it before listening). Mutable; configure before deploying
 * the verticle, not thread-safe.
 *
 * <p>Launcher settings (flag and environment variable):
 * <ul>
 *   <li>{@code QUIVER_AUTH_MODE}: {@code none} (every caller is tenant {@code default} with every
 *       scope), {@code api_key} or {@code jwt}.
 *   <li>{@code QUIVER_API_KEYS}: comma-separated {@code key:tenant:scopes}, scopes {@code read},
 *       {@code write}, {@code admin} joined by {@code +} (default {@code read+write} when the third
 *       part is left out), e.g. {@code k1:acme:read+write,k2:acme:read,ops1:ops:admin+read}. Keys
 *       arrive as {@code x-api-key: KEY} or {@code Authorization: Bearer KEY}.
 *   <li>{@code QUIVER_JWT_SECRET} (HS256) and/or {@code QUIVER_JWT_PUBLIC_KEY} (RS256; PEM text or
 *       the path of a PEM file): tokens arrive as {@code Authorization: Bearer JWT}; {@code exp} is
 *       checked, claim {@code tenant} names the tenant, {@code scope} (space-separated) or
 *       {@code scopes} (array or string) the scopes.
 *   <li>{@code QUIVER_RATE_LIMIT_RPS}: requests per second per tenant (0: off);
 *       {@code QUIVER_GATEWAY_RATE_LIMIT_RPS}: requests per second for the whole gateway (0: off).
 *   <li>{@code QUIVER_GATEWAY_EVENT_LOOPS}: gateway verticle instances sharing the ports (default:
 *       one per core).
 *   <li>{@code QUIVER_MAX_IN_FLIGHT}: concurrent requests per gateway before it sheds with
 *       {@code overloaded} (0: unlimited; default 64, see {@link #DEFAULT_MAX_IN_FLIGHT}).
 *   <li>{@code QUIVER_BREAKER_FAILURE_RATE}, {@code QUIVER_BREAKER_WINDOW},
 *       {@code QUIVER_BREAKER_MIN_CALLS}, {@code QUIVER_BREAKER_OPEN_MS},
 *       {@code QUIVER_BREAKER_HALF_OPEN_CALLS}: the per-shard circuit breaker.
 *   <li>{@code QUIVER_TLS_CERT}, {@code QUIVER_TLS_KEY}: PEM certificate chain and private key;
 *       when both are set the REST and gRPC ports speak TLS only.
 *   <li>{@code QUIVER_REQUEST_TIMEOUT_MS}: the default deadline of a request.
 * </ul>
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
  public static final String AUTH_NONE = "none";
  public static final String AUTH_API_KEY = "api_key";
  public static final String AUTH_JWT = "jwt";
  public static final String DEFAULT_AUTH_MODE = AUTH_NONE;
  public static final int DEFAULT_TENANT_RATE_LIMIT_RPS = 0;
  public static final int DEFAULT_GATEWAY_RATE_LIMIT_RPS = 0;
  /**
   * 64 requests in flight per gateway. By Little's law, in-flight = throughput x latency: 64 slots
   * carry 64,000 point reads/s at 1 ms or 6,400 searches/s at 10 ms, more than the shards behind one
   * gateway serve on the machines Quiver targets, so requests past 64 would not be served sooner,
   * only wait in the shards' worker queues (at 1024, overload queued until clients timed out after
   * 5 s). Refusing them at the door keeps the admitted requests' latency at about 64 / throughput
   * and the queue in front of the shards bounded. Raise it for slow requests (large batches) on
   * big shards; 0 turns shedding off.
   */
  public static final int DEFAULT_MAX_IN_FLIGHT = 64;
  /** One gateway verticle instance (event loop) per core: a single loop caps REST at one core. */
  public static final int DEFAULT_EVENT_LOOPS = Math.max(1, Runtime.getRuntime().availableProcessors());
  public static final int MAX_EVENT_LOOPS = 64;
  public static final int DEFAULT_BREAKER_FAILURE_RATE = 50;
  public static final int DEFAULT_BREAKER_WINDOW = 20;
  public static final int DEFAULT_BREAKER_MIN_CALLS = 10;
  public static final long DEFAULT_BREAKER_OPEN_MS = 5_000;
  public static final int DEFAULT_BREAKER_HALF_OPEN_CALLS = 3;

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
  private String authMode = DEFAULT_AUTH_MODE;
  private String apiKeys = "";
  private String jwtSecret = "";
  private String jwtPublicKey = "";
  private int tenantRateLimitRps = DEFAULT_TENANT_RATE_LIMIT_RPS;
  private int gatewayRateLimitRps = DEFAULT_GATEWAY_RATE_LIMIT_RPS;
  private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
  private int eventLoops = DEFAULT_EVENT_LOOPS;
  private int breakerFailureRate = DEFAULT_BREAKER_FAILURE_RATE;
  private int breakerWindow = DEFAULT_BREAKER_WINDOW;
  private int breakerMinCalls = DEFAULT_BREAKER_MIN_CALLS;
  private long breakerOpenMs = DEFAULT_BREAKER_OPEN_MS;
  private int breakerHalfOpenCalls = DEFAULT_BREAKER_HALF_OPEN_CALLS;
  private String tlsCertPath = "";
  private String tlsKeyPath = "";

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

  /** {@code none}, {@code api_key} or {@code jwt} (QUIVER_AUTH_MODE). */
  public String authMode() {
    return authMode;
  }

  public GatewayOptions authMode(String v) {
    if (!AUTH_NONE.equals(v) && !AUTH_API_KEY.equals(v) && !AUTH_JWT.equals(v)) {
      throw new IllegalArgumentException("auth mode must be none, api_key or jwt, got " + v);
    }
    authMode = v;
    return this;
  }

  /** {@code key:tenant:scopes,...} (QUIVER_API_KEYS); parsed and checked here. */
  public String apiKeys() {
    return apiKeys;
  }

  public GatewayOptions apiKeys(String v) {
    String spec = v == null ? "" : v;
    ApiKeyAuthenticator.parse(spec);
    apiKeys = spec;
    return this;
  }

  /** The HS256 secret (QUIVER_JWT_SECRET); empty: HS256 tokens are refused. */
  public String jwtSecret() {
    return jwtSecret;
  }

  public GatewayOptions jwtSecret(String v) {
    String secret = v == null ? "" : v;
    if (!secret.isEmpty() && secret.length() < 32) {
      throw new IllegalArgumentException("the JWT secret must be at least 32 characters long (256 bits for HS256)");
    }
    jwtSecret = secret;
    return this;
  }

  /** The RS256 public key (QUIVER_JWT_PUBLIC_KEY): PEM text, or the path of a PEM file. */
  public String jwtPublicKey() {
    return jwtPublicKey;
  }

  public GatewayOptions jwtPublicKey(String v) {
    jwtPublicKey = v == null ? "" : v;
    return this;
  }

  /** Requests per second per tenant (QUIVER_RATE_LIMIT_RPS); 0 turns the limit off. */
  public int tenantRateLimitRps() {
    return tenantRateLimitRps;
  }

  public GatewayOptions tenantRateLimitRps(int v) {
    tenantRateLimitRps = (int) notNegative(v, "tenant rate limit");
    return this;
  }

  /** Requests per second for this gateway (QUIVER_GATEWAY_RATE_LIMIT_RPS); 0 turns the limit off. */
  public int gatewayRateLimitRps() {
    return gatewayRateLimitRps;
  }

  public GatewayOptions gatewayRateLimitRps(int v) {
    gatewayRateLimitRps = (int) notNegative(v, "gateway rate limit");
    return this;
  }

  /** Requests in flight before new ones are shed with {@code overloaded} (QUIVER_MAX_IN_FLIGHT); 0: unlimited. */
  public int maxInFlight() {
    return maxInFlight;
  }

  public GatewayOptions maxInFlight(int v) {
    maxInFlight = (int) notNegative(v, "max in-flight requests");
    return this;
  }

  /**
   * Gateway verticle instances, each on its own event loop, sharing the REST and gRPC ports
   * (QUIVER_GATEWAY_EVENT_LOOPS; default: one per core). They share one concurrency limit, one
   * rate limiter and one set of shard breakers.
   */
  public int eventLoops() {
    return eventLoops;
  }

  public GatewayOptions eventLoops(int v) {
    if (v < 1 || v > MAX_EVENT_LOOPS) {
      throw new IllegalArgumentException("gateway event loops must be between 1 and " + MAX_EVENT_LOOPS + ", got " + v);
    }
    eventLoops = v;
    return this;
  }

  /** Failure percentage of the recent calls to a shard that opens its breaker (QUIVER_BREAKER_FAILURE_RATE). */
  public int breakerFailureRate() {
    return breakerFailureRate;
  }

  public GatewayOptions breakerFailureRate(int v) {
    if (v < 1 || v > 100) {
      throw new IllegalArgumentException("breaker failure rate must be 1..100 percent, got " + v);
    }
    breakerFailureRate = v;
    return this;
  }

  /** How many recent calls per shard the breaker looks at (QUIVER_BREAKER_WINDOW). */
  public int breakerWindow() {
    return breakerWindow;
  }

  public GatewayOptions breakerWindow(int v) {
    breakerWindow = (int) positive(v, "breaker window");
    return this;
  }

  /** Calls a breaker needs to see before it may open (QUIVER_BREAKER_MIN_CALLS). */
  public int breakerMinCalls() {
    return breakerMinCalls;
  }

  public GatewayOptions breakerMinCalls(int v) {
    breakerMinCalls = (int) positive(v, "breaker minimum calls");
    return this;
  }

  /** How long an open breaker fails fast before letting probes through (QUIVER_BREAKER_OPEN_MS). */
  public long breakerOpenMs() {
    return breakerOpenMs;
  }

  public GatewayOptions breakerOpenMs(long v) {
    breakerOpenMs = positive(v, "breaker open time");
    return this;
  }

  /** Probe calls a half-open breaker lets through; all must succeed to close it (QUIVER_BREAKER_HALF_OPEN_CALLS). */
  public int breakerHalfOpenCalls() {
    return breakerHalfOpenCalls;
  }

  public GatewayOptions breakerHalfOpenCalls(int v) {
    breakerHalfOpenCalls = (int) positive(v, "breaker half-open calls");
    return this;
  }

  /** PEM certificate chain for the public ports (QUIVER_TLS_CERT); empty: plain text. */
  public String tlsCertPath() {
    return tlsCertPath;
  }

  public GatewayOptions tlsCertPath(String v) {
    tlsCertPath = v == null ? "" : v;
    return this;
  }

  /** PEM private key (PKCS#8 or PKCS#1) for the public ports (QUIVER_TLS_KEY). */
  public String tlsKeyPath() {
    return tlsKeyPath;
  }

  public GatewayOptions tlsKeyPath(String v) {
    tlsKeyPath = v == null ? "" : v;
    return this;
  }

  public boolean tlsEnabled() {
    return !tlsCertPath.isEmpty();
  }

  /** Checks that the settings fit together; throws {@link IllegalArgumentException} naming the setting. */
  public GatewayOptions validate() {
    if (AUTH_API_KEY.equals(authMode) && ApiKeyAuthenticator.parse(apiKeys).isEmpty()) {
      throw new IllegalArgumentException("QUIVER_AUTH_MODE=api_key needs at least one key in QUIVER_API_KEYS");
    }
    if (AUTH_JWT.equals(authMode) && jwtSecret.isEmpty() && jwtPublicKey.isEmpty()) {
      throw new IllegalArgumentException("QUIVER_AUTH_MODE=jwt needs QUIVER_JWT_SECRET or QUIVER_JWT_PUBLIC_KEY");
    }
    if (tlsCertPath.isEmpty() != tlsKeyPath.isEmpty()) {
      throw new IllegalArgumentException("TLS needs both QUIVER_TLS_CERT and QUIVER_TLS_KEY");
    }
    if (breakerMinCalls > breakerWindow) {
      throw new IllegalArgumentException("breaker minimum calls (" + breakerMinCalls + ") must not exceed the breaker window ("
          + breakerWindow + ")");
    }
    return this;
  }

  private static long notNegative(long v, String what) {
    if (v < 0) {
      throw new IllegalArgumentException(what + " must not be negative, got " + v);
    }
    return v;
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
