package io.quiver.server;

import io.quiver.shard.engine.Backup;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ctl backup --out DIR}: asks the gateway to back up each shard in turn
 * ({@code POST /admin/backup}; the shard checkpoints and writes {@code DIR/shard-<id>/} itself),
 * checks what arrived against the shards' checksums, and writes {@code DIR/quiver-backup.json} last:
 * a directory without it is an incomplete backup. DIR must be a path that the shards and this
 * command both see (the same filesystem in standalone, a shared volume otherwise; docs/OPERATIONS.md).
 */
@Command(name = "backup", mixinStandardHelpOptions = true,
    description = "Back up every shard into DIR (a path shared by the shards and this command).")
final class BackupCommand implements Callable<Integer> {
  @ParentCommand CtlCommand ctl;

  @Option(names = "--out", required = true, description = "New or empty backup directory.")
  Path out;

  @Override
  public Integer call() {
    return CtlException.run(() -> {
      Path dir = out.toAbsolutePath().normalize();
      if (Files.exists(dir) && !isEmptyDir(dir)) {
        throw new CtlException(CtlCommand.FAILED, dir + " is not an empty directory; back up into a new one");
      }
      CtlClient client = ctl.client();
      JsonObject cluster = client.get("/admin/cluster");
      TreeSet<Integer> ids = new TreeSet<>();
      for (Object o : cluster.getJsonArray("shards", new JsonArray())) {
        ids.add(((JsonObject) o).getInteger("id"));
      }
      if (ids.isEmpty()) {
        throw new CtlException(CtlCommand.FAILED, "the cluster has no shards to back up");
      }
      Files.createDirectories(dir);
      String backupId = "backup-" + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC)
          .format(Instant.now());
      System.out.printf("backup %s of %d shards into %s%n", backupId, ids.size(), dir);
      long started = System.nanoTime();
      JsonArray shards = new JsonArray();
      List<String> failures = new ArrayList<>();
      long points = 0;
      long bytes = 0;
      for (int id : ids) {
        System.out.printf("shard %d: checkpoint and copy...%n", id);
        JsonObject r = client.post("/admin/backup", new JsonObject().put("path", dir.toString()).put("backup_id", backupId)
            .put("shards", new JsonArray().add(id)));
        JsonArray failed = r.getJsonArray("failed", new JsonArray());
        if (!failed.isEmpty()) {
          JsonObject f = failed.getJsonObject(0);
          failures.add("shard " + id + ": " + f.getString("code") + ": " + f.getString("message"));
          System.out.printf("shard %d: FAILED %s%n", id, f.getString("message"));
          continue;
        }
        JsonObject s = r.getJsonArray("shards").getJsonObject(0);
        Path shardDir = Backup.shardDirectory(dir, id);
        if (!Files.isDirectory(shardDir)) {
          throw new CtlException(CtlCommand.FAILED, "shard " + id + " wrote its backup to " + s.getString("directory")
              + " but " + shardDir + " is not visible here: --out must be a path the shards and ctl share");
        }
        Backup.verify(shardDir);
        points += s.getLong("points");
        bytes += s.getLong("bytes");
        shards.add(new JsonObject().put("shard_id", id).put("directory", shardDir.getFileName().toString())
            .put("points", s.getLong("points")).put("partitions", s.getInteger("partitions"))
            .put("checkpoint_sequence", s.getLong("checkpoint_sequence")).put("wal_sequence", s.getLong("wal_sequence"))
            .put("files", s.getJsonArray("files").size()).put("bytes", s.getLong("bytes")));
        System.out.printf("shard %d: %d files, %s, %d points, WAL up to %d, %d ms, checksums verified%n", id,
            s.getJsonArray("files").size(), ClusterCommand.mib(s.getLong("bytes")), s.getLong("points"),
            s.getLong("wal_sequence"), s.getLong("duration_ms"));
      }
      if (!failures.isEmpty()) {
        throw new CtlException(CtlCommand.FAILED, "backup incomplete (no " + Backup.ROOT_MANIFEST + " written): "
            + String.join("; ", failures));
      }
      JsonObject manifest = new JsonObject().put("format", Backup.FORMAT).put("backup_id", backupId)
          .put("created_at", Instant.now().toString()).put("gateway", ctl.url)
          .put("partition_table_version", cluster.getLong("partition_table_version"))
          .put("consistency", "per shard (each shard's checkpoint plus its WAL tail); not a cluster-wide cut unless "
              + "read-only mode was on during the backup")
          .put("points", points).put("bytes", bytes).put("shards", shards);
      Path tmp = dir.resolve(Backup.ROOT_MANIFEST + ".tmp");
      Files.writeString(tmp, manifest.encodePrettily());
      Files.move(tmp, dir.resolve(Backup.ROOT_MANIFEST), StandardCopyOption.ATOMIC_MOVE);
      System.out.printf("backup %s complete: %d shards, %d points, %s in %d ms%n", backupId, ids.size(), points,
          ClusterCommand.mib(bytes), (System.nanoTime() - started) / 1_000_000);
      return CtlCommand.OK;
    });
  }

  private static boolean isEmptyDir(Path dir) throws java.io.IOException {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      return !s.iterator().hasNext();
    }
  }
}
