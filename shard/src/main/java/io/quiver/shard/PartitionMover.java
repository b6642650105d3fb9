package io.quiver.shard;

import com.google.protobuf.ByteString;
import io.quiver.cluster.ShardChannel;
import io.quiver.proto.internal.ExportPartitionResponse;
import io.quiver.proto.internal.FetchChunkRequest;
import io.quiver.proto.internal.FetchChunkResponse;
import io.quiver.proto.internal.FetchTailRequest;
import io.quiver.proto.internal.FetchTailResponse;
import io.quiver.proto.internal.MoveAck;
import io.quiver.proto.internal.PartitionRequest;
import io.quiver.proto.internal.ReceivePartitionRequest;
import io.quiver.proto.internal.SealPartitionResponse;
import io.quiver.proto.internal.ShardServiceGrpcClient;
import io.quiver.proto.internal.TailRecord;
import io.quiver.shard.engine.ShardEngine;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The new owner's half of a partition move: pulls the partition from its old owner and installs it
 * here as incoming, without ever stopping writes for longer than the last catch-up.
 *
 * <ol>
 *   <li>ExportPartition on the old owner: it snapshots the partition and starts keeping every record
 *       applied to it from then on (the tail).</li>
 *   <li>FetchPartitionChunk until the snapshot is here.</li>
 *   <li>FetchTail while the tail grows (writes go on at the old owner meanwhile).</li>
 *   <li>SealPartition: the old owner refuses further writes to it (gateways retry them once the
 *       table names the new owner) and its tail becomes final; FetchTail up to that end.</li>
 *   <li>Install the snapshot plus tail here as incoming: durable, not yet owned.</li>
 * </ol>
 * The coordinator then flips the partition table (owner here, epoch + 1), commits here and releases
 * the old copy; or, on failure, aborts there and discards here. Thread-safe.
 */
final class PartitionMover {
  private static final Logger LOG = LoggerFactory.getLogger(PartitionMover.class);
  private static final int CHUNK_BYTES = 8 * 1024 * 1024;
  private static final int TAIL_BATCH = 4096;
  private static final long STEP_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(60);

  private final ShardEngine engine;
  private final WorkerExecutor worker;
  private final ShardChannel peers;
  private final ShardMetrics metrics;

  PartitionMover(ShardEngine engine, WorkerExecutor worker, ShardChannel peers, ShardMetrics metrics) {
    this.engine = engine;
    this.worker = worker;
    this.peers = peers;
    this.metrics = metrics;
  }

  Future<MoveAck> receive(ReceivePartitionRequest req) {
    int source = (int) req.getSourceShard();
    PartitionRequest partition = PartitionRequest.newBuilder().setCollection(req.getSpec().getRef())
        .setPartition(req.getPartition()).build();
    String moveId = "move-" + UUID.randomUUID();
    long started = System.nanoTime();
    return call(source, ShardServiceGrpcClient.ExportPartition, partition, moveId)
        .compose(export -> fetchSnapshot(source, req, export, moveId, new ByteArrayOutputStream(), 0))
        .compose(snapshot -> catchUp(source, req, moveId, new ArrayList<>(), 0)
            .compose(tail -> call(source, ShardServiceGrpcClient.SealPartition, partition, moveId)
                .compose((SealPartitionResponse sealed) -> fetchTail(source, req, moveId, tail, sealed.getTotal()))
                .compose(finalTail -> worker.executeBlocking(() -> {
                  engine.installIncoming(ShardGrpcService.spec(req.getSpec()), req.getPartition(), req.getEpoch(),
                      snapshot, finalTail);
                  return finalTail.size();
                }, false))))
        .map(tailRecords -> {
          metrics.partitionReceived();
          LOG.info("{}: received partition {} of collection {} from shard {} ({} tail records) in {} ms", moveId,
              req.getPartition(), req.getSpec().getRef().getName(), source, tailRecords,
              (System.nanoTime() - started) / 1_000_000);
          return MoveAck.newBuilder().setDone(true).build();
        });
  }

  private Future<byte[]> fetchSnapshot(int source, ReceivePartitionRequest req, ExportPartitionResponse export,
      String moveId, ByteArrayOutputStream into, long offset) {
    if (offset >= export.getSnapshotBytes()) {
      return Future.succeededFuture(into.toByteArray());
    }
    FetchChunkRequest chunk = FetchChunkRequest.newBuilder().setCollection(req.getSpec().getRef())
        .setPartition(req.getPartition()).setOffset(offset).setMaxBytes(CHUNK_BYTES).build();
    return call(source, ShardServiceGrpcClient.FetchPartitionChunk, chunk, moveId).compose((FetchChunkResponse r) -> {
      ByteString data = r.getData();
      if (data.isEmpty()) {
        return Future.failedFuture(new IllegalStateException("snapshot ended at " + offset + " of "
            + export.getSnapshotBytes() + " bytes"));
      }
      into.writeBytes(data.toByteArray());
      metrics.movedBytes(data.size());
      return fetchSnapshot(source, req, export, moveId, into, offset + data.size());
    });
  }

  /** Fetches the growing tail a few times, until a round brings little, before the seal. */
  private Future<List<ShardEngine.TailRecord>> catchUp(int source, ReceivePartitionRequest req, String moveId,
      List<ShardEngine.TailRecord> tail, int round) {
    int before = tail.size();
    return fetchTail(source, req, moveId, tail, -1).compose(t -> t.size() - before < 64 || round >= 8
        ? Future.succeededFuture(t) : catchUp(source, req, moveId, t, round + 1));
  }

  /** Fetches tail records into {@code tail}: until {@code until} records when given, else what is there now. */
  private Future<List<ShardEngine.TailRecord>> fetchTail(int source, ReceivePartitionRequest req, String moveId,
      List<ShardEngine.TailRecord> tail, int until) {
    FetchTailRequest fetch = FetchTailRequest.newBuilder().setCollection(req.getSpec().getRef())
        .setPartition(req.getPartition()).setFromIndex(tail.size()).setMaxRecords(TAIL_BATCH).build();
    return call(source, ShardServiceGrpcClient.FetchTail, fetch, moveId).compose((FetchTailResponse r) -> {
      long bytes = 0;
      for (TailRecord rec : r.getRecordsList()) {
        tail.add(new ShardEngine.TailRecord((byte) rec.getType(), rec.getBody().toByteArray()));
        bytes += rec.getBody().size() + 1;
      }
      metrics.movedBytes(bytes);
      boolean more = until >= 0 ? tail.size() < until : tail.size() < r.getTotal() && !r.getRecordsList().isEmpty();
      return more ? fetchTail(source, req, moveId, tail, until) : Future.succeededFuture(tail);
    });
  }

  private <Req, Resp> Future<Resp> call(int shard, io.vertx.grpc.common.ServiceMethod<Resp, Req> method, Req msg,
      String moveId) {
    return peers.call(shard, method, msg, moveId, System.nanoTime() + STEP_TIMEOUT_NANOS);
  }
}
