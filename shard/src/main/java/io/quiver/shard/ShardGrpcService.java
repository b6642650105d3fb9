package io.quiver.shard;

import com.google.protobuf.ByteString;
import io.quiver.common.ErrorCode;
import io.quiver.common.PackedFloats;
import io.quiver.common.QuiverException;
import io.quiver.proto.internal.*;
import io.quiver.proto.internal.CheckpointRequest;
import io.quiver.proto.internal.CheckpointResponse;
import io.quiver.proto.internal.CollectionSpec;
import io.quiver.proto.internal.CountRequest;
import io.quiver.proto.internal.CountResponse;
import io.quiver.proto.internal.CreateCollectionRequest;
import io.quiver.proto.internal.CreateCollectionResponse;
import io.quiver.proto.internal.DeleteRequest;
import io.quiver.proto.internal.DeleteResponse;
import io.quiver.proto.internal.DropCollectionRequest;
import io.quiver.proto.internal.DropCollectionResponse;
import io.quiver.proto.internal.GetReadOnlyModeRequest;
import io.quiver.proto.internal.GetRequest;
import io.quiver.proto.internal.GetResponse;
import io.quiver.proto.internal.ListIdsRequest;
import io.quiver.proto.internal.ListIdsResponse;
import io.quiver.proto.internal.QueryHits;
import io.quiver.proto.internal.ReadOnlyMode;
import io.quiver.proto.internal.SearchRequest;
import io.quiver.proto.internal.SearchResponse;
import io.quiver.proto.internal.SetReadOnlyModeRequest;
import io.quiver.proto.internal.ShardServiceService;
import io.quiver.proto.internal.StatusRequest;
import io.quiver.proto.internal.StatusResponse;
import io.quiver.proto.internal.UpdatePayloadRequest;
import io.quiver.proto.internal.UpdatePayloadResponse;
import io.quiver.proto.internal.UpsertRequest;
import io.quiver.proto.internal.UpsertResponse;
import io.quiver.shard.engine.Backup;
import io.quiver.shard.engine.ShardEngine;
import io.quiver.shard.index.Metric;
import io.quiver.shard.index.SearchHit;
import io.quiver.shard.index.SearchMode;
import io.quiver.shard.index.SearchResult;
import io.quiver.shard.index.StoredPoint;
import io.quiver.shard.index.payload.Payload;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.StatusException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code quiver.internal.v1.ShardService} over a {@link ShardEngine}: decodes messages, runs the
 * engine call on the shard's worker pool (never the event loop), encodes the answer. Engine
 * failures become a gRPC status whose message is {@code "<code> <message>"} (the one place the
 * shard maps exceptions to gRPC). Writes wait until the shard has joined ({@link ReadOnlyGuard#whenJoined}).
 * Thread-safe.
 */
final class ShardGrpcService extends ShardServiceService {
  private static final Logger LOG = LoggerFactory.getLogger(ShardGrpcService.class);

  private final ShardEngine engine;
  private final WorkerExecutor worker;
  private final ShardStatus status;
  private final ReadOnlyGuard readOnly;

  private final PartitionMover mover;

  ShardGrpcService(ShardEngine engine, WorkerExecutor worker, ShardStatus status, PartitionMover mover,
      ReadOnlyGuard readOnly) {
    this.engine = engine;
    this.worker = worker;
    this.status = status;
    this.mover = mover;
    this.readOnly = readOnly;
  }

  @Override
  public Future<CreateCollectionResponse> createCollection(CreateCollectionRequest req) {
    return runWrite(() -> {
      io.quiver.shard.engine.CollectionSpec spec = spec(req.getSpec());
      boolean created = engine.createCollection(spec, ProtoConversions.epochs(req.getOwnedList()));
      return CreateCollectionResponse.newBuilder().setCreated(created).build();
    });
  }

  @Override
  public Future<DropCollectionResponse> dropCollection(DropCollectionRequest req) {
    return runWrite(() -> DropCollectionResponse.newBuilder()
        .setDropped(engine.dropCollectionUnlessReadOnly(req.getCollection().getUid())).build());
  }

  @Override
  public Future<UpsertResponse> upsert(UpsertRequest req) {
    return runAsync(() -> {
      int n = req.getIdsCount();
      long[] ids = new long[n];
      byte[][] payloads = new byte[n][];
      for (int i = 0; i < n; i++) {
        ids[i] = req.getIds(i);
        ByteString p = i < req.getPayloadsCount() ? req.getPayloads(i) : ByteString.EMPTY;
        payloads[i] = p.isEmpty() ? null : payload(p).json();
      }
      if (n == 0 || req.getVectors().size() % (n * Float.BYTES) != 0) {
        throw QuiverException.invalid("upsert carries " + n + " ids but " + req.getVectors().size() + " vector bytes");
      }
      float[][] vectors = PackedFloats.unpackRows(req.getVectors(), req.getVectors().size() / (n * Float.BYTES));
      return engine.upsert(req.getCollection().getUid(), ids, vectors, payloads,
          ProtoConversions.epochs(req.getEpochsList())).thenApply(r -> {
            UpsertResponse.Builder out = UpsertResponse.newBuilder().setSequence(r.sequence());
            for (boolean c : r.flags()) {
              out.addCreated(c);
            }
            return out.build();
          });
    });
  }

  @Override
  public Future<GetResponse> get(GetRequest req) {
    return run(() -> {
      StoredPoint p = engine.get(req.getCollection().getUid(), req.getId());
      if (p == null) {
        return GetResponse.newBuilder().setFound(false).build();
      }
      GetResponse.Builder out = GetResponse.newBuilder().setFound(true).setVector(PackedFloats.pack(p.vector()));
      if (p.payload() != null && !p.payload().isEmpty()) {
        out.setPayload(ByteString.copyFrom(p.payload().json()));
      }
      return out.build();
    });
  }

  @Override
  public Future<DeleteResponse> delete(DeleteRequest req) {
    return runAsync(() -> {
      long[] ids = req.getIdsList().stream().mapToLong(Long::longValue).toArray();
      return engine.delete(req.getCollection().getUid(), ids, ProtoConversions.epochs(req.getEpochsList())).thenApply(r -> {
        DeleteResponse.Builder out = DeleteResponse.newBuilder().setSequence(r.sequence());
        for (boolean d : r.flags()) {
          out.addDeleted(d);
        }
        return out.build();
      });
    });
  }

  @Override
  public Future<UpdatePayloadResponse> updatePayload(UpdatePayloadRequest req) {
    return runAsync(() -> {
      long[] ids = req.getIdsList().stream().mapToLong(Long::longValue).toArray();
      Payload set = req.getSet().isEmpty() ? null : payload(req.getSet());
      return engine.updatePayload(req.getCollection().getUid(), ids, set, req.getDeleteKeysList(),
          ProtoConversions.epochs(req.getEpochsList()))
          .thenApply(r -> UpdatePayloadResponse.newBuilder().setUpdated(r.count()).setSequence(r.sequence()).build());
    });
  }

  @Override
  public Future<ListIdsResponse> listIds(ListIdsRequest req) {
    return run(() -> {
      long uid = req.getCollection().getUid();
      engine.checkHolds(uid, toInts(req.getPartitionsList()));
      long[] ids = engine.idsAfter(uid, req.getAfterId(), req.hasAfterId(), req.getLimit());
      ListIdsResponse.Builder out = ListIdsResponse.newBuilder().setTotal(engine.count(uid, null));
      for (long id : ids) {
        out.addIds(id);
      }
      return out.build();
    });
  }

  @Override
  public Future<CountResponse> count(CountRequest req) {
    return run(() -> {
      engine.checkHolds(req.getCollection().getUid(), toInts(req.getPartitionsList()));
      return CountResponse.newBuilder()
          .setCount(engine.count(req.getCollection().getUid(), ProtoConversions.filter(req.getFilter()))).build();
    });
  }

  @Override
  public Future<SearchResponse> search(SearchRequest req) {
    return run(() -> {
      if (req.getQueryCount() <= 0 || req.getQueries().size() % (req.getQueryCount() * Float.BYTES) != 0) {
        throw QuiverException.invalid("search carries " + req.getQueryCount() + " queries but "
            + req.getQueries().size() + " query bytes");
      }
      engine.checkHolds(req.getCollection().getUid(), toInts(req.getPartitionsList()));
      int dimension = req.getQueries().size() / (req.getQueryCount() * Float.BYTES);
      float[][] queries = PackedFloats.unpackRows(req.getQueries(), dimension);
      SearchMode mode;
      try {
        mode = SearchMode.parse(req.getMode().isEmpty() ? "auto" : req.getMode());
      } catch (IllegalArgumentException e) {
        throw QuiverException.invalid(e.getMessage());
      }
      List<SearchResult> results = engine.search(req.getCollection().getUid(), queries, (int) req.getLimit(),
          req.getMetric().isEmpty() ? null : metric(req.getMetric()), mode, req.getTargetRecall(),
          ProtoConversions.filter(req.getFilter()), req.getIncludePayload());
      SearchResponse.Builder out = SearchResponse.newBuilder();
      for (SearchResult r : results) {
        QueryHits.Builder h = QueryHits.newBuilder().setMode(r.mode().wireName());
        for (SearchHit hit : r.hits()) {
          h.addIds(hit.id()).addValues(hit.score());
          if (req.getIncludePayload()) {
            h.addPayloads(hit.payload() == null || hit.payload().isEmpty()
                ? ByteString.EMPTY : ByteString.copyFrom(hit.payload().json()));
          }
        }
        out.addResults(h);
      }
      return out.build();
    });
  }

  @Override
  public Future<StatusResponse> status(StatusRequest req) {
    return run(status::snapshot);
  }

  @Override
  public Future<CheckpointResponse> checkpoint(CheckpointRequest req) {
    return run(() -> CheckpointResponse.newBuilder().setCoveredSequence(engine.checkpoint().coveredSequence()).build());
  }

  @Override
  public Future<BackupResponse> backup(BackupRequest req) {
    return run(() -> {
      java.nio.file.Path root = java.nio.file.Path.of(req.getDirectory());
      if (req.getDirectory().isEmpty() || !root.isAbsolute()) {
        throw QuiverException.invalid("backup directory must be an absolute path, got '" + req.getDirectory() + "'");
      }
      Backup.Result r = engine.backup(Backup.shardDirectory(root, engine.shardId()), req.getBackupId());
      LOG.info("shard {} backup {}: {} files, {} bytes, WAL up to {} in {} ms into {}", r.shardId(), req.getBackupId(),
          r.files().size(), r.bytes(), r.walSequence(), r.durationMillis(), r.directory());
      BackupResponse.Builder out = BackupResponse.newBuilder().setShardId(r.shardId()).setDirectory(r.directory().toString())
          .setCheckpointSequence(r.checkpointSequence()).setWalSequence(r.walSequence()).setDurationMs(r.durationMillis())
          .setPoints(r.points()).setPartitions(r.partitions());
      for (Backup.FileEntry f : r.files()) {
        out.addFiles(BackupFile.newBuilder().setPath(f.path()).setSize(f.size()).setSha256(f.sha256()));
      }
      return out.build();
    });
  }

  // ---------------------------------------------------------------- partition moves

  @Override
  public Future<ExportPartitionResponse> exportPartition(PartitionRequest req) {
    return run(() -> {
      long[] sizeAndEpoch = engine.exportPartition(req.getCollection().getUid(), req.getPartition());
      return ExportPartitionResponse.newBuilder().setSnapshotBytes(sizeAndEpoch[0]).setEpoch(sizeAndEpoch[1]).build();
    });
  }

  @Override
  public Future<FetchChunkResponse> fetchPartitionChunk(FetchChunkRequest req) {
    return run(() -> FetchChunkResponse.newBuilder().setData(ByteString.copyFrom(
        engine.snapshotChunk(req.getCollection().getUid(), req.getPartition(), req.getOffset(), (int) req.getMaxBytes()))).build());
  }

  @Override
  public Future<FetchTailResponse> fetchTail(FetchTailRequest req) {
    return run(() -> {
      ShardEngine.Tail tail = engine.tail(req.getCollection().getUid(), req.getPartition(), (int) req.getFromIndex(),
          (int) req.getMaxRecords());
      FetchTailResponse.Builder out = FetchTailResponse.newBuilder().setTotal(tail.total()).setSealed(tail.sealed());
      for (ShardEngine.TailRecord r : tail.records()) {
        out.addRecords(TailRecord.newBuilder().setType(r.type()).setBody(ByteString.copyFrom(r.body())));
      }
      return out.build();
    });
  }

  @Override
  public Future<SealPartitionResponse> sealPartition(PartitionRequest req) {
    return run(() -> SealPartitionResponse.newBuilder()
        .setTotal(engine.sealPartition(req.getCollection().getUid(), req.getPartition())).build());
  }

  @Override
  public Future<MoveAck> abortExport(PartitionRequest req) {
    return run(() -> {
      engine.abortExport(req.getCollection().getUid(), req.getPartition());
      return MoveAck.newBuilder().setDone(true).build();
    });
  }

  @Override
  public Future<MoveAck> releasePartition(PartitionRequest req) {
    return run(() -> {
      engine.releasePartition(req.getCollection().getUid(), req.getPartition());
      return MoveAck.newBuilder().setDone(true).build();
    });
  }

  @Override
  public Future<MoveAck> receivePartition(ReceivePartitionRequest req) {
    return mover.receive(req).recover(err -> Future.failedFuture(toStatus(err)));
  }

  @Override
  public Future<MoveAck> commitPartition(PartitionRequest req) {
    return run(() -> {
      engine.commitIncoming(req.getCollection().getUid(), req.getPartition());
      return MoveAck.newBuilder().setDone(true).build();
    });
  }

  @Override
  public Future<MoveAck> discardPartition(PartitionRequest req) {
    return run(() -> {
      engine.discardIncoming(req.getCollection().getUid(), req.getPartition());
      return MoveAck.newBuilder().setDone(true).build();
    });
  }

  private static int[] toInts(List<Integer> list) {
    return list.stream().mapToInt(Integer::intValue).toArray();
  }

  static io.quiver.shard.engine.CollectionSpec spec(CollectionSpec s) {
    return new io.quiver.shard.engine.CollectionSpec(s.getRef().getTenant(), s.getRef().getName(), s.getRef().getUid(),
        s.getDimension(), metric(s.getMetric()), s.getStrictFinite(), s.getPartitions());
  }

  @Override
  public Future<ReadOnlyMode> setReadOnly(SetReadOnlyModeRequest req) {
    return readOnly.apply(ReadOnlyGuard.fromProto(req.getState())).map(ReadOnlyGuard::toProto)
        .recover(err -> Future.failedFuture(toStatus(err)));
  }

  @Override
  public Future<ReadOnlyMode> getReadOnly(GetReadOnlyModeRequest req) {
    return Future.succeededFuture(ReadOnlyGuard.toProto(readOnly.current()));
  }

  private static Metric metric(String name) {
    try {
      return Metric.parse(name);
    } catch (IllegalArgumentException e) {
      throw QuiverException.invalid(e.getMessage());
    }
  }

  private static Payload payload(ByteString json) {
    try {
      return Payload.fromJson(json.toByteArray());
    } catch (RuntimeException e) {
      throw QuiverException.invalid("payload is not a JSON object: " + e.getMessage());
    }
  }

  /** Runs {@code call} on the worker pool; maps failures to a gRPC status. */
  private <T> Future<T> run(Callable<T> call) {
    return worker.executeBlocking(ShardCalls.withMdc(ShardCalls.current(), call), false).recover(err -> Future.failedFuture(toStatus(err)));
  }

  /** {@link #run} for a write: once the shard has joined. */
  private <T> Future<T> runWrite(Callable<T> call) {
    String request = ShardCalls.current();
    return readOnly.whenJoined().compose(v -> worker.executeBlocking(ShardCalls.withMdc(request, call), false))
        .recover(err -> Future.failedFuture(toStatus(err)));
  }

  /**
   * Runs the write {@code call} on the worker pool once the shard has joined, and waits, without
   * holding a thread, for the future it returns (a write's durability); maps failures to a gRPC status.
   */
  private <T> Future<T> runAsync(Callable<CompletableFuture<T>> call) {
    String request = ShardCalls.current();
    return readOnly.whenJoined().compose(v -> worker.executeBlocking(ShardCalls.withMdc(request, call), false))
        .compose(Future::fromCompletionStage)
        .recover(err -> Future.failedFuture(toStatus(err)));
  }

  static StatusException toStatus(Throwable err) {
    if (err instanceof CompletionException && err.getCause() != null) {
      err = err.getCause();
    }
    QuiverException q;
    if (err instanceof QuiverException e) {
      q = e;
    } else if (err instanceof java.io.IOException e) {
      LOG.error("storage error in shard call", e);
      q = new QuiverException(ErrorCode.STORAGE_UNAVAILABLE, "shard storage error: " + e.getMessage());
    } else {
      LOG.error("internal error in shard call", err);
      q = new QuiverException(ErrorCode.INTERNAL, "internal error: " + err);
    }
    return new StatusException(GrpcStatus.valueOf(q.code().grpcStatus()), q.toWireMessage());
  }
}
