package io.quiver.gateway;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.quiver.cluster.ClusterView;
import io.quiver.common.ErrorCode;
import io.quiver.common.Meters;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.slf4j.event.Level;

/**
 * The gateway's request meters and its access log. Every REST request is timed by route template
 * (never the raw path), method, HTTP status and error code; searches also by the mode that ran; and
 * one access line is logged per request with {@code request_id}, {@code trace_id} (from a W3C
 * {@code traceparent}, else new), {@code tenant_id}, {@code status}, {@code duration_ms} and
 * {@code path}, never bodies. Prometheus names:
 *
 * <pre>
 * quiver_gateway_requests_seconds_*{endpoint,method,status,code}   REST requests (rate, errors, latency buckets)
 * quiver_gateway_search_seconds_*{endpoint,mode}                   searches by the mode that ran (exact, ann)
 * quiver_gateway_rejected_total{reason}                            rate_limited, overloaded (REST and gRPC)
 * quiver_gateway_in_flight                                         requests in flight (GatewayVerticle)
 * quiver_gateway_breaker_state{shard}                              0 closed, 1 open, 2 half-open
 * quiver_gateway_breaker_transitions_total{shard,to}               breaker state changes
 * quiver_gateway_breaker_rejected_total{shard}                     calls failed fast by an open breaker
 * quiver_gateway_ready                                             1 when /ready says ready
 * quiver_collections                                               collections in the catalog
 * quiver_read_only                                                 1 while the cluster is read-only
 * </pre>
 *
 * Thread-safe; meters are cached by the registry.
 */
public final class GatewayMetrics {
  /** RoutingContext keys the REST layer fills in for the meters and the access line. */
  static final String ROUTE = "quiver.route";
  static final String ERROR_CODE = "quiver.error_code";
  static final String SEARCH_MODE = "quiver.search_mode";
  static final String TENANT = "quiver.tenant";

  private static final Logger ACCESS = LoggerFactory.getLogger("io.quiver.gateway.access");
  private static final Pattern TRACEPARENT = Pattern.compile("[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}");
  private static final Set<String> QUIET = Set.of("/live", "/ready", "/healthz", "/metrics", "/metrics/prometheus");
  private static final Duration[] BUCKETS = Meters.millis(1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000);

  private final MeterRegistry registry;
  private volatile BooleanSupplier readOnly = () -> false;
  /** Meters by their tags, so a request does not build and sort a tag list to find its meter. */
  private final ConcurrentHashMap<RequestKey, Timer> requestTimers = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<SearchKey, Timer> searchTimers = new ConcurrentHashMap<>();

  private record RequestKey(String endpoint, String method, int status, String code) {}

  private record SearchKey(String endpoint, String mode) {}

  /** {@code registry} null: a private Prometheus registry, so the endpoints still work (tests). */
  public GatewayMetrics(MeterRegistry registry) {
    this.registry = registry != null ? registry : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Where {@code quiver_read_only} and {@code /metrics} read the cluster's read-only flag (wired by read-only mode). */
  public void readOnly(BooleanSupplier supplier) {
    readOnly = supplier;
  }

  boolean readOnly() {
    return readOnly.getAsBoolean();
  }

  /** Gauges over the cluster view and readiness. */
  void bind(ClusterView view, Health health) {
    Gauge.builder("quiver.gateway.ready", health, h -> h.readiness().ready() ? 1 : 0)
        .description("1 when this gateway's /ready says ready").strongReference(true).register(registry);
    Gauge.builder("quiver.collections", view, v -> v.allCollections().size())
        .description("collections in the catalog").strongReference(true).register(registry);
    Gauge.builder("quiver.read_only", this, m -> m.readOnly() ? 1 : 0)
        .description("1 while the operator read-only mode is on").strongReference(true).register(registry);
    // Present at zero from the start, so rates and alerts see a series before the first refusal.
    rejected(ErrorCode.RATE_LIMITED, 0);
    rejected(ErrorCode.OVERLOADED, 0);
  }

  /** Breaker state gauges, transition and fail-fast counters for every shard breaker, as they are created. */
  void bindBreakers(CircuitBreakerRegistry breakers) {
    breakers.getAllCircuitBreakers().forEach(this::bindBreaker);
    breakers.getEventPublisher().onEntryAdded(e -> bindBreaker(e.getAddedEntry()));
  }

  private void bindBreaker(CircuitBreaker cb) {
    String shard = cb.getName().startsWith("shard-") ? cb.getName().substring(6) : cb.getName();
    Gauge.builder("quiver.gateway.breaker.state", cb, c -> switch (c.getState()) {
      case CLOSED, DISABLED, METRICS_ONLY -> 0;
      case OPEN, FORCED_OPEN -> 1;
      case HALF_OPEN -> 2;
    }).description("shard circuit breaker: 0 closed, 1 open, 2 half-open").tag("shard", shard).strongReference(true)
        .register(registry);
    Counter.builder("quiver.gateway.breaker.rejected").description("calls failed fast by an open breaker")
        .tag("shard", shard).register(registry);
    cb.getEventPublisher()
        .onStateTransition(e -> Counter.builder("quiver.gateway.breaker.transitions").description("breaker state changes")
            .tag("shard", shard).tag("to", e.getStateTransition().getToState().name().toLowerCase(Locale.ROOT))
            .register(registry).increment())
        .onCallNotPermitted(e -> Counter.builder("quiver.gateway.breaker.rejected").tag("shard", shard)
            .register(registry).increment());
  }

  /** Counts a request shed by admission (rate limit or concurrency limit). */
  void rejected(ErrorCode code) {
    rejected(code, 1);
  }

  private void rejected(ErrorCode code, int n) {
    if (code == ErrorCode.RATE_LIMITED || code == ErrorCode.OVERLOADED) {
      Counter.builder("quiver.gateway.rejected").description("requests refused by a rate or concurrency limit")
          .tag("reason", code.code()).register(registry).increment(n);
    }
  }

  /** The first handler of every REST request: times it and logs its access line when it ends. */
  void observe(RoutingContext ctx) {
    long started = System.nanoTime();
    String traceId = traceId(ctx.request().getHeader("traceparent"));
    ctx.addEndHandler(ar -> {
      long nanos = System.nanoTime() - started;
      int status = ctx.response().getStatusCode();
      String endpoint = endpoint(ctx);
      String code = ctx.get(ERROR_CODE);
      if (code == null) {
        code = status < 400 ? "ok" : "http_" + status;
      }
      String method = ctx.request().method().name();
      requestTimers.computeIfAbsent(new RequestKey(endpoint, method, status, code), k -> Timer.builder("quiver.gateway.requests")
          .description("REST requests by route template")
          .tag("endpoint", k.endpoint()).tag("method", k.method()).tag("status", Integer.toString(k.status()))
          .tag("code", k.code()).serviceLevelObjectives(BUCKETS).register(registry)).record(nanos, TimeUnit.NANOSECONDS);
      String mode = ctx.get(SEARCH_MODE);
      if (mode != null && status < 400) {
        searchTimers.computeIfAbsent(new SearchKey(endpoint, mode), k -> Timer.builder("quiver.gateway.search")
            .description("searches by the mode that ran").tag("endpoint", k.endpoint()).tag("mode", k.mode())
            .serviceLevelObjectives(BUCKETS).register(registry)).record(nanos, TimeUnit.NANOSECONDS);
      }
      accessLine(ctx, endpoint, method, status, code, nanos, traceId);
    });
    ctx.next();
  }

  private static void accessLine(RoutingContext ctx, String endpoint, String method, int status, String code, long nanos,
      String traceId) {
    Level level = QUIET.contains(endpoint) ? Level.DEBUG : Level.INFO;
    if (!ACCESS.isEnabledForLevel(level)) {
      return;
    }
    String rid = ctx.response().headers().get(RestApi.REQUEST_ID);
    String tenant = ctx.get(TENANT);
    long ms = nanos / 1_000_000;
    putMdc("request_id", rid);
    putMdc("trace_id", traceId);
    putMdc("tenant_id", tenant);
    try {
      var line = ACCESS.atLevel(level)
          .addKeyValue("status", status)
          .addKeyValue("duration_ms", ms)
          .addKeyValue("path", endpoint)
          .addKeyValue("method", method);
      if (!"ok".equals(code)) {
        line = line.addKeyValue("code", code);
      }
      line.log("{} {} {} {} ms", method, endpoint, status, ms);
    } finally {
      MDC.remove("request_id");
      MDC.remove("trace_id");
      MDC.remove("tenant_id");
    }
  }

  private static void putMdc(String key, String value) {
    if (value != null) {
      MDC.put(key, value);
    }
  }

  /** The route template that served the request; "unmatched" for unknown paths (no raw paths: cardinality). */
  private static String endpoint(RoutingContext ctx) {
    String t = ctx.get(ROUTE);
    if (t != null) {
      return t;
    }
    Route r = ctx.currentRoute();
    return r != null && r.getPath() != null ? r.getPath() : "unmatched";
  }

  /** The trace id of a W3C traceparent header, or a new random one. */
  static String traceId(String traceparent) {
    if (traceparent != null) {
      Matcher m = TRACEPARENT.matcher(traceparent.trim());
      if (m.matches() && !m.group(1).equals("0".repeat(32))) {
        return m.group(1);
      }
    }
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return hex16(r.nextLong()) + hex16(r.nextLong());
  }

  /** {@code v} as 16 lower-case hex digits (String.format costs more than the rest of a request's metrics). */
  private static String hex16(long v) {
    String h = Long.toHexString(v);
    return h.length() == 16 ? h : "0".repeat(16 - h.length()) + h;
  }

  /** {@code GET /metrics/prometheus} (the process registry in Prometheus text) and {@code GET /metrics} (JSON). */
  void mount(Router router, AdminOps ops) {
    PrometheusMeterRegistry prometheus = Meters.prometheus(registry);
    router.get("/metrics/prometheus").handler(prometheus != null ? PrometheusScrapingHandler.create(prometheus)
        : ctx -> ctx.response().setStatusCode(404).end("no Prometheus registry in this process\n"));
    router.get("/metrics").handler(ctx -> ops.summary().onComplete(ar -> {
      if (ar.failed()) {
        RestApi.fail(ctx, ar.cause());
      } else {
        ctx.json(ar.result());
      }
    }));
  }

  /** Request counters of this gateway for the JSON summary. */
  JsonObject counters() {
    double total = 0;
    double serverErrors = 0;
    double clientErrors = 0;
    for (Timer t : registry.find("quiver.gateway.requests").timers()) {
      String s = t.getId().getTag("status");
      total += t.count();
      if (s != null && s.startsWith("5")) {
        serverErrors += t.count();
      } else if (s != null && s.startsWith("4")) {
        clientErrors += t.count();
      }
    }
    JsonObject rejected = new JsonObject();
    for (Counter c : registry.find("quiver.gateway.rejected").counters()) {
      rejected.put(c.getId().getTag("reason"), (long) c.count());
    }
    double searches = registry.find("quiver.gateway.search").timers().stream().mapToDouble(Timer::count).sum();
    return new JsonObject().put("requests", (long) total).put("server_errors", (long) serverErrors)
        .put("client_errors", (long) clientErrors).put("searches", (long) searches).put("rejected", rejected);
  }
}
