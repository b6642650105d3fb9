package io.quiver.cluster;

import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The shards this JVM serves that {@link ShardChannel} may call directly, without gRPC: a shard
 * registers its {@link Endpoint} once its gRPC port listens and removes it when it stops. Keyed by
 * the address other members see ({@link ShardInfo#host()} and {@link ShardInfo#grpcPort()}), so
 * several clusters in one JVM (tests) never reach each other's shards, and a caller finds a shard
 * here exactly when it would otherwise have connected to a port of this JVM. Looked up per call.
 * Thread-safe.
 */
public final class LocalShards {
  private static final ConcurrentMap<Address, Endpoint> ENDPOINTS = new ConcurrentHashMap<>();

  private LocalShards() {}

  /** One shard's service, callable in this JVM with the request message itself (no encoding). */
  public interface Endpoint {
    /**
     * Runs {@code method} with {@code message} on the shard as its gRPC server would (cluster token
     * check, request id, metrics, the shard's own threads). Completes on any thread; fails with a
     * {@link Status} where the gRPC server would have answered with a non-OK status, with any other
     * exception where a remote caller could not have reached the shard.
     */
    <Req, Resp> Future<Resp> call(ServiceMethod<Resp, Req> method, Req message, String clusterToken, String requestId);
  }

  /** The gRPC status and message a local call ended with: what the shard's gRPC server would have sent. */
  public static final class Status extends RuntimeException {
    private final GrpcStatus status;
    private final String statusMessage;

    public Status(GrpcStatus status, String statusMessage) {
      super(status + (statusMessage == null ? "" : " " + statusMessage), null, false, false);
      this.status = status;
      this.statusMessage = statusMessage;
    }

    public GrpcStatus status() {
      return status;
    }

    /** The grpc-message, or null when the server would have sent none. */
    public String statusMessage() {
      return statusMessage;
    }
  }

  private record Address(String host, int port) {}

  /** Makes {@code endpoint} the shard serving {@code host:port} in this JVM. */
  public static void register(String host, int port, Endpoint endpoint) {
    ENDPOINTS.put(new Address(host, port), endpoint);
  }

  /** Removes {@code endpoint} from {@code host:port} (not a newer endpoint registered there since). */
  public static void unregister(String host, int port, Endpoint endpoint) {
    ENDPOINTS.remove(new Address(host, port), endpoint);
  }

  /** The endpoint serving {@code host:port} in this JVM, or null. */
  public static Endpoint find(String host, int port) {
    return ENDPOINTS.get(new Address(host, port));
  }
}
