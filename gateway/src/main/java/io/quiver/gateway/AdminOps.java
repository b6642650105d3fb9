package io.quiver.gateway;

import io.quiver.cluster.ClusterView;
import io.quiver.common.QuiverException;
import io.quiver.proto.internal.BackupFile;
import io.quiver.proto.internal.BackupRequest;
import io.quiver.proto.internal.BackupResponse;
import io.quiver.proto.internal.CheckpointRequest;
import io.quiver.proto.internal.CheckpointResponse;
import io.quiver.proto.internal.ShardServiceGrpcClient;
import io.quiver.proto.internal.StatusRequest;
import io.quiver.proto.internal.StatusResponse;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Function;

/**
 * Operator work that fans out to every shard: the {@code /metrics} JSON summary (Status of each live
 * shard), {@code POST /admin/checkpoint} and {@code POST /admin/backup}. Each answers 200 with one
 * entry per shard in {@code shards} and the shards that failed, with their error, in {@code failed};
 * the caller decides what a partial outcome means ({@code ctl} exits non-zero). Checkpoint and backup
 * run with their own long deadline ({@link #LONG_DEADLINE_MS}), not the request default, and carry
 * the request id to the shards. Never blocks; thread-safe.
 */
final class AdminOps {
  static final long LONG_DEADLINE_MS = 30 * 60 * 1000L;
  private static final long STATUS_DEADLINE_MS = 2000;

  private final ClusterView view;
  private final ShardClients shards;
  private final GatewayMetrics metrics;
  private final Admission admission;

  AdminOps(ClusterView view, ShardClients shards, GatewayMetrics metrics, Admission admission) {
    this.view = view;
    this.shards = shards;
    this.metrics = metrics;
    this.admission = admission;
  }

  /** The JSON summary of {@code GET /metrics}: this gateway's counters and the cluster's figures. */
  Future<JsonObject> summary() {
    Caller caller = new Caller(null, "metrics-" + UUID.randomUUID(), System.nanoTime() + STATUS_DEADLINE_MS * 1_000_000);
    List<Integer> ids = new ArrayList<>(new TreeSet<>(view.liveShards().keySet()));
    List<Future<StatusResponse>> legs = new ArrayList<>();
    for (int id : ids) {
      legs.add(shards.call(id, ShardServiceGrpcClient.Status, StatusRequest.getDefaultInstance(), caller));
    }
    return Future.join(legs).transform(ignored -> {
      long points = 0;
      long used = 0;
      long budget = 0;
      long wal = 0;
      JsonArray perShard = new JsonArray();
      JsonArray failed = new JsonArray();
      for (int i = 0; i < ids.size(); i++) {
        Future<StatusResponse> f = legs.get(i);
        if (f.failed()) {
          failed.add(failure(ids.get(i), f.cause()));
          continue;
        }
        StatusResponse s = f.result();
        points += s.getPoints();
        used += s.getMemoryUsedBytes();
        budget += s.getMemoryBudgetBytes();
        wal += s.getWalBytes();
        perShard.add(new JsonObject().put("shard_id", ids.get(i)).put("state", s.getState()).put("points", s.getPoints())
            .put("partitions", s.getPartitions()).put("memory_used_bytes", s.getMemoryUsedBytes())
            .put("memory_budget_bytes", s.getMemoryBudgetBytes()).put("wal_bytes", s.getWalBytes())
            .put("durability", s.getDurability())
            .put("last_checkpoint", s.getLastCheckpoint().isEmpty() ? null : s.getLastCheckpoint()));
      }
      return Future.succeededFuture(new JsonObject()
          .put("counters", metrics.counters())
          .put("in_flight", admission.inFlight().inFlight())
          .put("collections", view.allCollections().size())
          .put("points", points)
          .put("memory_used_bytes", used)
          .put("memory_budget_bytes", budget)
          .put("wal_bytes", wal)
          .put("read_only", metrics.readOnly())
          .put("partition_table_version", view.table().version())
          .put("shards", perShard)
          .put("failed", failed));
    });
  }

  /** {@code POST /admin/checkpoint}: every live shard checkpoints now. */
  void checkpoint(RoutingContext ctx) {
    Caller caller = longCaller(ctx);
    List<Integer> ids = targets(null);
    List<Future<CheckpointResponse>> legs = new ArrayList<>();
    for (int id : ids) {
      legs.add(shards.call(id, ShardServiceGrpcClient.Checkpoint, CheckpointRequest.getDefaultInstance(), caller));
    }
    answer(ctx, ids, legs, r -> new JsonObject().put("covered_sequence", r.getCoveredSequence()), new JsonObject());
  }

  /**
   * {@code POST /admin/backup {"path": "/abs/dir", "backup_id"?, "shards"?: [ids]}}: each chosen shard
   * (default: every shard that is live or owns a partition) checkpoints and writes
   * {@code <path>/shard-<id>/}. The path must be one the shards can write (see docs/OPERATIONS.md).
   */
  void backup(RoutingContext ctx) {
    JsonObject body;
    List<Integer> chosen = null;
    String dir;
    String backupId;
    try {
      var buf = ctx.body().buffer();
      body = buf == null || buf.length() == 0 ? new JsonObject() : new JsonObject(buf);
      dir = body.getString("path");
      if (dir == null || !Path.of(dir).isAbsolute()) {
        throw QuiverException.invalid("path must be an absolute directory that every shard can write");
      }
      backupId = body.getString("backup_id", UUID.randomUUID().toString());
      if (body.getValue("shards") instanceof JsonArray arr) {
        chosen = new ArrayList<>();
        for (Object o : arr) {
          if (!(o instanceof Integer i)) {
            throw QuiverException.invalid("shards must be an array of shard ids");
          }
          chosen.add(i);
        }
      }
    } catch (QuiverException e) {
      RestApi.fail(ctx, e);
      return;
    } catch (RuntimeException e) {
      RestApi.fail(ctx, QuiverException.invalid("malformed JSON body: " + e.getMessage()));
      return;
    }
    Caller caller = longCaller(ctx);
    List<Integer> ids = targets(chosen);
    BackupRequest req = BackupRequest.newBuilder().setDirectory(dir).setBackupId(backupId).build();
    List<Future<BackupResponse>> legs = new ArrayList<>();
    for (int id : ids) {
      legs.add(shards.call(id, ShardServiceGrpcClient.Backup, req, caller));
    }
    answer(ctx, ids, legs, AdminOps::backupJson, new JsonObject().put("backup_id", backupId).put("path", dir)
        .put("partition_table_version", view.table().version()).put("collections", view.allCollections().size()));
  }

  static JsonObject backupJson(BackupResponse r) {
    JsonArray files = new JsonArray();
    long bytes = 0;
    for (BackupFile f : r.getFilesList()) {
      files.add(new JsonObject().put("path", f.getPath()).put("size", f.getSize()).put("sha256", f.getSha256()));
      bytes += f.getSize();
    }
    return new JsonObject().put("directory", r.getDirectory()).put("checkpoint_sequence", r.getCheckpointSequence())
        .put("wal_sequence", r.getWalSequence()).put("points", r.getPoints()).put("partitions", r.getPartitions())
        .put("bytes", bytes).put("duration_ms", r.getDurationMs()).put("files", files);
  }

  /** The shards to act on: {@code chosen}, or every shard that is live or owns a partition. */
  private List<Integer> targets(List<Integer> chosen) {
    if (chosen != null) {
      return chosen;
    }
    TreeSet<Integer> ids = new TreeSet<>(view.liveShards().keySet());
    for (var a : view.table().assignments().values()) {
      for (int p = 0; p < a.owners().length; p++) {
        if (a.ownerOf(p) >= 0) {
          ids.add(a.ownerOf(p));
        }
      }
    }
    return new ArrayList<>(ids);
  }

  private static Caller longCaller(RoutingContext ctx) {
    Caller c = ctx.get(RestApi.CALLER);
    return new Caller(c.tenant(), c.requestId(), System.nanoTime() + LONG_DEADLINE_MS * 1_000_000);
  }

  private static <T> void answer(RoutingContext ctx, List<Integer> ids, List<Future<T>> legs, Function<T, JsonObject> render,
      JsonObject head) {
    Future.join(legs).onComplete(ignored -> {
      JsonArray done = new JsonArray();
      JsonArray failed = new JsonArray();
      for (int i = 0; i < ids.size(); i++) {
        Future<T> f = legs.get(i);
        if (f.succeeded()) {
          done.add(render.apply(f.result()).put("shard_id", ids.get(i)));
        } else {
          failed.add(failure(ids.get(i), f.cause()));
        }
      }
      if (!ctx.response().ended()) {
        ctx.json(head.put("shards", done).put("failed", failed));
      }
    });
  }

  private static JsonObject failure(int shard, Throwable t) {
    String code = t instanceof QuiverException q ? q.code().code() : "internal";
    return new JsonObject().put("shard_id", shard).put("code", code).put("message", String.valueOf(t.getMessage()));
  }
}
