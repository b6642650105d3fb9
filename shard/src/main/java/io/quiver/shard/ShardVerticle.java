package io.quiver.shard;

import io.quiver.cluster.ClusterView;
import io.quiver.cluster.CollectionInfo;
import io.quiver.cluster.LocalShards;
import io.quiver.cluster.ShardChannel;
import io.quiver.shard.engine.CollectionSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import io.quiver.cluster.ShardInfo;
import io.quiver.proto.internal.ShardServiceGrpcService;
import io.quiver.shard.engine.MemoryBudget;
import io.quiver.shard.engine.ShardEngine;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import io.quiver.common.InternalApi;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One shard: serves {@code quiver.internal.v1.ShardService} on its gRPC port and {@code /live},
 * {@code /ready} on its HTTP port, runs every engine call on its own worker pool, and registers
 * itself (id, address, state) in the cluster once it serves. Several may run in one JVM
 * (standalone), one per pod otherwise.
 */
public final class ShardVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ShardVerticle.class);
  /** How long a starting shard waits for the coordinator to merge what it holds into the partition table. */
  static final java.time.Duration CLAIM_TIMEOUT = java.time.Duration.ofSeconds(60);

  private final ShardOptions options;
  private final ClusterView view;
  private final String memberId;
  private final ShardMetrics metrics;
  private final EarlyRecovery early;
  private ExecutorService searchPool;
  private ExecutorService indexerPool;
  /** Holds graph indexing back until this shard serves (see {@link EarlyRecovery#indexerPool}). */
  private CountDownLatch indexingGate;
  private WorkerExecutor worker;
  private ShardEngine engine;
  private ShardStatus status;
  private ReadOnlyGuard readOnly;
  private HttpServer grpcHttp;
  private HttpServer http;
  private volatile ShardInfo registered;
  private long budgetReserved;
  private ShardChannel peers;
  private LocalEndpoint local;
  private int localPort;
  /** The grpc-message of a call refused for its cluster token (gRPC and in-JVM alike). */
  static final String UNAUTHORIZED = "unauthorized missing or wrong cluster token";

  public ShardVerticle(ShardOptions options, ClusterView view, String memberId) {
    this(options, view, memberId, null);
  }

  /** {@code meters} (nullable: a private registry) receives this shard's metrics, tagged with its id. */
  public ShardVerticle(ShardOptions options, ClusterView view, String memberId, io.micrometer.core.instrument.MeterRegistry meters) {
    if (options.shardId() < 0) {
      throw new IllegalArgumentException("a shard needs an id (QUIVER_SHARD_ID)");
    }
    this.options = options;
    this.view = view;
    this.memberId = memberId;
    this.metrics = new ShardMetrics(meters, options.shardId());
    this.early = null;
  }

  /** A shard whose engine already started recovering ({@link EarlyRecovery}, built from the same options). */
  public ShardVerticle(ShardOptions options, ClusterView view, String memberId, io.micrometer.core.instrument.MeterRegistry meters,
      EarlyRecovery early) {
    this.options = options;
    this.view = view;
    this.memberId = memberId;
    this.metrics = new ShardMetrics(meters, options.shardId());
    this.early = early;
    early.attach(metrics.fsyncListener());
  }

  @Override
  public Future<?> start() {
    int id = options.shardId();
    if (early != null) {
      budgetReserved = early.budgetReserved;
      searchPool = early.searchPool;
      indexerPool = early.indexerPool;
      indexingGate = early.indexingGate;
      engine = early.engine;
    } else {
      long budget = options.memoryBudgetMb() * 1024 * 1024;
      MemoryBudget.reserve(budget, Runtime.getRuntime().maxMemory());
      budgetReserved = budget;
      searchPool = EarlyRecovery.searchPool(options);
      indexingGate = new CountDownLatch(1);
      indexerPool = EarlyRecovery.indexerPool(id, indexingGate);
      engine = new ShardEngine(options.engineOptions().walForceLatencyListener(metrics.fsyncListener()), searchPool, indexerPool);
    }
    worker = vertx.createSharedWorkerExecutor("quiver-shard-" + id, options.workerThreads());
    status = new ShardStatus(options, engine);
    metrics.bind(engine, status);
    metrics.readOnly(() -> engine.readOnly().enabled());
    ShardCalls calls = new ShardCalls(metrics);
    readOnly = new ReadOnlyGuard(engine, view.readOnly(), worker);
    engine.onDegraded(() -> {
      status.state(ShardInfo.STATE_DEGRADED);
      if (registered != null) {
        registered = registered.withState(ShardInfo.STATE_DEGRADED);
        view.updateShardState(registered);
      }
    });

    GrpcServer grpc = GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(InternalApi.MAX_MESSAGE_BYTES));
    peers = new ShardChannel(vertx, view, options.clusterToken());
    ShardGrpcService service = new ShardGrpcService(engine, worker, status, new PartitionMover(engine, worker, peers, metrics), readOnly);
    grpc.addService(ShardServiceGrpcService.of(service));
    grpcHttp = vertx.createHttpServer(InternalApi.withGrpcWindows(
        new HttpServerOptions().setHost(options.host()).setPort(options.grpcPort())));
    http = vertx.createHttpServer(new HttpServerOptions().setHost(options.host()).setPort(options.httpPort())
        .setHttp2ClearTextEnabled(false));

    // Health first (not ready while recovering), then recovery on a worker (or the early recovery
    // started before the cluster join, see EarlyRecovery), then the read-only mode
    // (published, newer adopted) before the shard port, then a second read-only reconcile after
    // registering (a toggle may have missed this shard in between) before writes are served.
    return http.requestHandler(healthRouter()).listen()
        .compose(s -> early != null ? Future.fromCompletionStage(early.recovered, context)
            : worker.executeBlocking(engine::open, false))
        .compose(recovered -> {
          readOnly.listen();
          return readOnly.reconcile().map(recovered);
        })
        .compose(recovered -> {
          LOG.info("shard {} recovered {} checkpoints and {} WAL records in {} ms", id, recovered.checkpointsLoaded(),
              recovered.recordsReplayed(), recovered.duration().toMillis());
          return grpcHttp.requestHandler(req -> {
            calls.begin(req);
            if (authorized(req)) {
              grpc.handle(req);
            }
          }).listen();
        })
        .onSuccess(s -> {
          if (options.localCalls()) {
            local = new LocalEndpoint(service, (io.vertx.core.internal.ContextInternal) context, options.clusterToken(), calls);
            localPort = s.actualPort();
            LocalShards.register(options.advertisedHost(), localPort, local);
          }
        })
        .compose(s -> claim())
        .compose(s -> {
          status.state(engine.degraded() ? ShardInfo.STATE_DEGRADED : ShardInfo.STATE_READY);
          registered = new ShardInfo(id, options.advertisedHost(), grpcHttp.actualPort(), http.actualPort(), memberId,
              status.state());
          return view.registerShard(registered);
        })
        .compose(v -> readOnly.reconcile())
        .onSuccess(v -> readOnly.joined())
        .onFailure(err -> withdrawLocal())
        .onSuccess(v -> indexingGate.countDown())
        .onSuccess(v -> LOG.info("shard {} serving gRPC on {}:{} and HTTP on {}:{}", id, options.host(),
            grpcHttp.actualPort(), options.host(), http.actualPort()));
  }

  /**
   * Tells the coordinator what this shard holds and waits until it is merged into the partition table
   * (which also rebuilds catalog and table after a restart of the whole cluster), then deletes the
   * collections the cluster says were dropped meanwhile.
   */
  private Future<Void> claim() {
    List<CollectionInfo> local = new ArrayList<>();
    Map<Long, Map<Integer, Long>> owned = new HashMap<>();
    for (CollectionSpec c : engine.collections()) {
      local.add(new CollectionInfo(c.tenant(), c.name(), c.uid(), c.dimension(), c.metric().wireName(), c.strictFinite(),
          c.partitions(), 0L));
      owned.put(c.uid(), engine.ownedEpochs(c.uid()));
    }
    return view.claim(options.shardId(), local, owned, engine.droppedUids(), CLAIM_TIMEOUT)
        .compose(stale -> view.moves().compose(moves -> worker.executeBlocking(() -> {
          for (long uid : stale) {
            LOG.info("shard {} deletes collection {}: it was dropped or replaced while this shard was away",
                options.shardId(), uid);
            engine.dropCollection(uid);
          }
          settleMoves(moves);
          return null;
        }, false)));
  }

  /**
   * Partitions this shard left half-moved when it stopped: when no coordinator is carrying the move
   * on (no recorded move), settle them against the partition table. A sealed partition still owned
   * here takes writes again; one the table gives to another shard at a newer epoch is released. An
   * incoming partition the table gives to this shard at its epoch is committed; otherwise discarded.
   */
  private void settleMoves(List<io.quiver.cluster.PartitionMove> moves) throws java.io.IOException {
    int me = options.shardId();
    java.util.Set<String> recorded = new java.util.HashSet<>();
    moves.forEach(m -> recorded.add(m.key()));
    for (CollectionSpec c : engine.collections()) {
      io.quiver.cluster.PartitionTable.Assignment a = view.table().assignment(c.uid());
      for (int p : engine.sealedPartitions(c.uid())) {
        if (recorded.contains(c.uid() + "/" + p) || a == null) {
          continue;
        }
        if (a.ownerOf(p) == me) {
          engine.abortExport(c.uid(), p);
        } else if (a.epochOf(p) > engine.ownedEpochs(c.uid()).getOrDefault(p, 0L)) {
          engine.releasePartition(c.uid(), p);
        }
      }
      for (var in : engine.incomingPartitions(c.uid()).entrySet()) {
        int p = in.getKey();
        if (recorded.contains(c.uid() + "/" + p)) {
          continue;
        }
        if (a != null && a.ownerOf(p) == me && a.epochOf(p) == in.getValue()) {
          engine.commitIncoming(c.uid(), p);
        } else {
          engine.discardIncoming(c.uid(), p);
        }
      }
    }
  }

  /** Refuses calls without the cluster token (trailers-only UNAUTHENTICATED response). */
  private boolean authorized(HttpServerRequest req) {
    if (tokenMatches(options.clusterToken(), req.getHeader(InternalApi.TOKEN_HEADER))) {
      return true;
    }
    req.response().setStatusCode(200)
        .putHeader("content-type", "application/grpc")
        .putHeader("grpc-status", "16")
        .putHeader("grpc-message", UNAUTHORIZED)
        .end();
    return false;
  }

  /** Stops in-JVM calls to this shard: later ones go over gRPC (or fail as unreachable). */
  private void withdrawLocal() {
    if (local != null) {
      LocalShards.unregister(options.advertisedHost(), localPort, local);
      local.close();
    }
  }

  /** Whether a call carrying {@code given} may be served by a shard expecting {@code expected} (empty: any). */
  static boolean tokenMatches(String expected, String given) {
    return expected.isEmpty() || given != null
        && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
  }

  private Router healthRouter() {
    Router r = Router.router(vertx);
    r.get("/live").handler(ctx -> ctx.json(new JsonObject().put("status", "live").put("uptime_ms", status.uptimeMillis())));
    r.get("/ready").handler(ctx -> {
      boolean ready = !status.state().equals(ShardInfo.STATE_RECOVERING);
      // Degraded storage stays ready (reads are served); checks.storage says so and quiver_shard_degraded alerts.
      ctx.response().setStatusCode(ready ? 200 : 503);
      ctx.json(new JsonObject().put("status", ready ? "ready" : "not_ready").put("uptime_ms", status.uptimeMillis())
          .put("shard_id", options.shardId()).put("state", status.state()).put("checks", status.checks()));
    });
    metrics.mount(r, status);
    return r;
  }

  /** This shard's meters (read-only mode wires its state into them). */
  public ShardMetrics metrics() {
    return metrics;
  }

  public int grpcPort() {
    return grpcHttp.actualPort();
  }

  public int httpPort() {
    return http.actualPort();
  }

  ShardEngine engine() {
    return engine;
  }

  @Override
  public Future<?> stop() {
    withdrawLocal();
    if (readOnly != null) {
      readOnly.stop();
    }
    Future<Void> unregister = registered == null ? Future.succeededFuture() : view.unregisterShard(registered);
    return unregister.recover(err -> Future.succeededFuture())
        .compose(v -> worker.executeBlocking(() -> {
          engine.close();
          return null;
        }, false))
        .andThen(ar -> {
          searchPool.shutdownNow();
          indexingGate.countDown();
          indexerPool.shutdownNow();
          peers.close();
          worker.close();
          metrics.close();
          MemoryBudget.release(budgetReserved);
        });
  }
}
