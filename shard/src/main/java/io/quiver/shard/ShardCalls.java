package io.quiver.shard;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.ContextInternal;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Follows each internal call the shard serves, over gRPC or in-JVM ({@link LocalEndpoint}): keeps
 * the caller's request id ({@code x-request-id} metadata) in the call's Vert.x context so that worker threads running the
 * engine call log with it in the MDC ({@code request_id}), and on completion records
 * {@code quiver_shard_calls_seconds} and a DEBUG line. Stateless apart from the metrics; thread-safe.
 */
final class ShardCalls {
  static final String REQUEST_ID_HEADER = "x-request-id";
  static final String MDC_REQUEST_ID = "request_id";
  static final String TRANSPORT_GRPC = "grpc";
  static final String TRANSPORT_LOCAL = "local";
  private static final String LOCAL_KEY = "quiver.request_id";
  private static final Logger LOG = LoggerFactory.getLogger("io.quiver.shard.calls");

  private final ShardMetrics metrics;

  ShardCalls(ShardMetrics metrics) {
    this.metrics = metrics;
  }

  /** Called on the request's own (duplicated) context, before the gRPC server sees it. */
  void begin(HttpServerRequest req) {
    long started = System.nanoTime();
    String rid = req.getHeader(REQUEST_ID_HEADER);
    begin(rid);
    String path = req.path();
    String method = path == null ? "unknown" : path.substring(path.lastIndexOf('/') + 1);
    req.response().endHandler(v -> {
      String status = req.response().trailers().get("grpc-status");
      if (status == null) {
        status = req.response().headers().get("grpc-status");
      }
      end(method, status, TRANSPORT_GRPC, rid, started);
    });
  }

  /** Called on the call's own (duplicated) context before the service method runs: keeps {@code rid}. */
  void begin(String rid) {
    Context ctx = Vertx.currentContext();
    if (rid != null && ctx instanceof ContextInternal ci) {
      ci.putLocal(LOCAL_KEY, rid);
    }
  }

  /**
   * Records the call to {@code method} (gRPC method name) that began at {@code started} and ended
   * with {@code grpcStatus} (its numeric code as sent in {@code grpc-status}; null means OK), served
   * over {@code transport} ({@link #TRANSPORT_GRPC} or {@link #TRANSPORT_LOCAL}).
   */
  void end(String method, String grpcStatus, String transport, String rid, long started) {
    long nanos = System.nanoTime() - started;
    String outcome = grpcStatus == null || grpcStatus.equals("0") ? "ok" : "grpc_" + grpcStatus;
    metrics.recordCall(method, outcome, transport, nanos);
    if (LOG.isDebugEnabled()) {
      withRequestId(rid, () -> LOG.debug("shard call {} {} {} in {} ms", method, transport, outcome, nanos / 1_000_000));
    }
  }

  /** The request id of the call running on the current context, or null. */
  static String current() {
    Context ctx = Vertx.currentContext();
    return ctx instanceof ContextInternal ci ? ci.getLocal(LOCAL_KEY) : null;
  }

  /** {@code call} with {@code request_id} in the MDC of whichever thread runs it. */
  static <T> Callable<T> withMdc(String rid, Callable<T> call) {
    if (rid == null) {
      return call;
    }
    return () -> {
      MDC.put(MDC_REQUEST_ID, rid);
      try {
        return call.call();
      } finally {
        MDC.remove(MDC_REQUEST_ID);
      }
    };
  }

  private static void withRequestId(String rid, Runnable r) {
    if (rid != null) {
      MDC.put(MDC_REQUEST_ID, rid);
    }
    try {
      r.run();
    } finally {
      MDC.remove(MDC_REQUEST_ID);
    }
  }
}
