package io.quiver.shard;

import io.quiver.cluster.LocalShards;
import io.quiver.proto.internal.ShardService;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.server.StatusException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.Map;

/**
 * One shard's {@link LocalShards.Endpoint}: serves {@code ShardService} calls from this JVM as the
 * shard's gRPC port does, minus encoding and sockets. Per call: the cluster token is checked (a
 * mismatch is the UNAUTHENTICATED status the port answers), the service method runs on a duplicate
 * of the shard verticle's context with the caller's request id in it ({@link ShardCalls}), the call
 * is recorded in {@code quiver_shard_calls_seconds}, and a failure becomes the status the gRPC server
 * would have sent (as its response's {@code fail} does: a {@link StatusException}'s status and
 * message, UNIMPLEMENTED for {@link UnsupportedOperationException}, UNKNOWN for anything else),
 * including an exception the service method throws instead of returning a failed future. After
 * {@link #close()} every call fails as an unreachable shard does. Thread-safe.
 */
final class LocalEndpoint implements LocalShards.Endpoint {
  /** gRPC method name ({@code Get}) -> the {@link ShardService} method serving it ({@code get}). */
  private static final Map<String, Method> METHODS = methods();

  private final ShardService service;
  private final ContextInternal context;
  private final String clusterToken;
  private final ShardCalls calls;
  private volatile boolean closed;

  LocalEndpoint(ShardService service, ContextInternal context, String clusterToken, ShardCalls calls) {
    this.service = service;
    this.context = context;
    this.clusterToken = clusterToken;
    this.calls = calls;
  }

  @Override
  public <Req, Resp> Future<Resp> call(ServiceMethod<Resp, Req> method, Req message, String token, String requestId) {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("shard stopped"));
    }
    long started = System.nanoTime();
    String name = method.methodName();
    ContextInternal call = context.duplicate();
    Promise<Resp> result = call.promise();
    call.runOnContext(v -> {
      calls.begin(requestId);
      Future<Resp> served = ShardVerticle.tokenMatches(clusterToken, token)
          ? invoke(name, message)
          : Future.failedFuture(new StatusException(GrpcStatus.UNAUTHENTICATED, ShardVerticle.UNAUTHORIZED));
      served.onComplete(ar -> {
        if (ar.succeeded()) {
          calls.end(name, null, ShardCalls.TRANSPORT_LOCAL, requestId, started);
          result.complete(ar.result());
        } else {
          LocalShards.Status status = status(ar.cause());
          calls.end(name, Integer.toString(status.status().code), ShardCalls.TRANSPORT_LOCAL, requestId, started);
          result.fail(status);
        }
      });
    });
    return result.future();
  }

  /** Fails every later call as an unreachable shard; calls already running finish. */
  void close() {
    closed = true;
  }

  @SuppressWarnings("unchecked")
  private <Req, Resp> Future<Resp> invoke(String name, Req message) {
    Method m = METHODS.get(name);
    if (m == null) {
      return Future.failedFuture(new StatusException(GrpcStatus.UNIMPLEMENTED));
    }
    try {
      return (Future<Resp>) m.invoke(service, message);
    } catch (InvocationTargetException e) {
      return Future.failedFuture(e.getCause());
    } catch (IllegalAccessException | IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
  }

  /** What the gRPC server's response would carry for {@code failure}. */
  static LocalShards.Status status(Throwable failure) {
    if (failure instanceof StatusException s) {
      return new LocalShards.Status(s.status(), s.message());
    }
    return new LocalShards.Status(failure instanceof UnsupportedOperationException ? GrpcStatus.UNIMPLEMENTED
        : GrpcStatus.UNKNOWN, null);
  }

  private static Map<String, Method> methods() {
    Map<String, Method> out = new HashMap<>();
    for (Method m : ShardService.class.getMethods()) {
      if (m.getParameterCount() == 1 && m.getReturnType() == Future.class) {
        out.put(Character.toUpperCase(m.getName().charAt(0)) + m.getName().substring(1), m);
      }
    }
    return Map.copyOf(out);
  }

  /** The gRPC method names this endpoint serves (for tests). */
  static java.util.Set<String> methodNames() {
    return METHODS.keySet();
  }
}
