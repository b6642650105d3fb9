package io.quiver.shard;

import static org.assertj.core.api.Assertions.assertThat;

import io.quiver.cluster.LocalShards;
import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.quiver.proto.internal.GetRequest;
import io.quiver.proto.internal.GetResponse;
import io.quiver.proto.internal.ShardServiceGrpcClient;
import io.quiver.proto.internal.ShardServiceService;
import io.quiver.proto.internal.StatusRequest;
import io.quiver.proto.internal.StatusResponse;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.server.StatusException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The in-JVM endpoint of a shard answers as its gRPC server would: same statuses, its own context, the request id. */
class LocalEndpointTest {
  private Vertx vertx;
  private ContextInternal shardContext;
  private ShardMetrics metrics;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    shardContext = (ContextInternal) vertx.getOrCreateContext();
    metrics = new ShardMetrics(null, 0);
  }

  @AfterEach
  void stop() {
    metrics.close();
    vertx.close().await();
  }

  /** A service whose Get answers from {@code behaviour} and records where it ran. */
  private static final class Service extends ShardServiceService {
    final AtomicReference<Context> ranOn = new AtomicReference<>();
    final AtomicReference<String> requestId = new AtomicReference<>();
    private final java.util.function.Supplier<Future<GetResponse>> behaviour;

    Service(java.util.function.Supplier<Future<GetResponse>> behaviour) {
      this.behaviour = behaviour;
    }

    @Override
    public Future<GetResponse> get(GetRequest request) {
      ranOn.set(Vertx.currentContext());
      requestId.set(ShardCalls.current());
      return behaviour.get();
    }
  }

  private LocalEndpoint endpoint(Service service, String token) {
    return new LocalEndpoint(service, shardContext, token, new ShardCalls(metrics));
  }

  private static <T> Throwable failure(Future<T> f) {
    try {
      f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("the call succeeded");
  }

  @Test
  void servesEveryMethodOfTheInternalApi() throws Exception {
    Set<String> clientMethods = new HashSet<>();
    for (Field f : ShardServiceGrpcClient.class.getFields()) {
      if (Modifier.isStatic(f.getModifiers()) && ServiceMethod.class.isAssignableFrom(f.getType())) {
        clientMethods.add(((ServiceMethod<?, ?>) f.get(null)).methodName());
      }
    }
    assertThat(clientMethods).hasSizeGreaterThan(20);
    assertThat(LocalEndpoint.methodNames()).containsExactlyInAnyOrderElementsOf(clientMethods);
  }

  @Test
  void runsTheServiceOnADuplicateOfTheShardContextWithTheRequestId() throws Exception {
    GetResponse answer = GetResponse.newBuilder().setFound(true).build();
    Service service = new Service(() -> Future.succeededFuture(answer));
    GetResponse got = endpoint(service, "").call(ShardServiceGrpcClient.Get, GetRequest.getDefaultInstance(), "", "rid-1")
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(got).isSameAs(answer);
    ContextInternal ran = (ContextInternal) service.ranOn.get();
    assertThat(ran.isDuplicate()).isTrue();
    assertThat(ran.unwrap()).isSameAs(shardContext);
    assertThat(service.requestId.get()).isEqualTo("rid-1");
    assertThat(metrics.registry().find("quiver.shard.calls").tags("method", "Get", "outcome", "ok", "transport", "local")
        .timer().count()).isEqualTo(1);
  }

  @Test
  void aFailureBecomesTheStatusTheGrpcServerWouldSend() {
    QuiverException engine = new QuiverException(ErrorCode.NOT_FOUND, "collection 7 does not exist");
    Service service = new Service(() -> Future.failedFuture(ShardGrpcService.toStatus(engine)));
    Throwable err = failure(endpoint(service, "").call(ShardServiceGrpcClient.Get, GetRequest.getDefaultInstance(), "", null));
    assertThat(err).isInstanceOf(LocalShards.Status.class);
    LocalShards.Status s = (LocalShards.Status) err;
    assertThat(s.status()).isEqualTo(GrpcStatus.NOT_FOUND);
    assertThat(s.statusMessage()).isEqualTo(engine.toWireMessage());
    assertThat(metrics.registry().find("quiver.shard.calls").tags("method", "Get", "outcome", "grpc_5", "transport", "local")
        .timer().count()).isEqualTo(1);
  }

  @Test
  void anExceptionThrownByTheServiceIsMappedLikeAFailedFuture() {
    Service service = new Service(() -> {
      throw new IllegalStateException("bug");
    });
    LocalShards.Status s = (LocalShards.Status) failure(
        endpoint(service, "").call(ShardServiceGrpcClient.Get, GetRequest.getDefaultInstance(), "", null));
    assertThat(s.status()).isEqualTo(GrpcStatus.UNKNOWN);
    assertThat(s.statusMessage()).isNull();
  }

  @Test
  void anUnimplementedMethodIsUnimplemented() {
    Service service = new Service(() -> Future.succeededFuture(GetResponse.getDefaultInstance()));
    LocalShards.Status s = (LocalShards.Status) failure(endpoint(service, "")
        .call(ShardServiceGrpcClient.Status, StatusRequest.getDefaultInstance(), "", null));
    assertThat(s.status()).isEqualTo(GrpcStatus.UNIMPLEMENTED);
  }

  @Test
  void refusesAWrongClusterTokenAsTheGrpcPortDoes() {
    Service service = new Service(() -> Future.succeededFuture(GetResponse.getDefaultInstance()));
    LocalEndpoint secured = endpoint(service, "secret");
    LocalShards.Status s = (LocalShards.Status) failure(
        secured.call(ShardServiceGrpcClient.Get, GetRequest.getDefaultInstance(), "wrong", null));
    assertThat(s.status()).isEqualTo(GrpcStatus.UNAUTHENTICATED);
    assertThat(s.statusMessage()).isEqualTo(ShardVerticle.UNAUTHORIZED);
    assertThat(service.ranOn.get()).as("the service never ran").isNull();
    assertThat(LocalEndpoint.status(new StatusException(GrpcStatus.UNAUTHENTICATED, ShardVerticle.UNAUTHORIZED)).status())
        .isEqualTo(GrpcStatus.UNAUTHENTICATED);
  }

  @Test
  void aClosedEndpointFailsAsAnUnreachableShard() {
    Service service = new Service(() -> Future.succeededFuture(GetResponse.getDefaultInstance()));
    LocalEndpoint e = endpoint(service, "");
    e.close();
    Throwable err = failure(e.call(ShardServiceGrpcClient.Get, GetRequest.getDefaultInstance(), "", null));
    assertThat(err).isNotInstanceOf(LocalShards.Status.class);
    assertThat(service.ranOn.get()).isNull();
  }
}
