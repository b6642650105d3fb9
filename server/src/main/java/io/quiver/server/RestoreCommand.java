package io.quiver.server;

import io.quiver.shard.engine.Backup;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ctl restore --from DIR --data DATA}: offline restore into the data directories of a stopped
 * (or new) cluster, after verifying the whole backup. Without {@code --shard-id} it lays out every
 * shard the standalone way ({@code DATA/shard-<id>}); with it, only that shard's backup goes into
 * {@code DATA} (one shard per host or pod). Start the cluster afterwards: shards rebuild the catalog
 * and partition table from the restored files. Refuses a data directory that already holds shard data.
 */
@Command(name = "restore", mixinStandardHelpOptions = true,
    description = "Restore a backup into the data directories of a stopped or new cluster (offline).")
final class RestoreCommand implements Callable<Integer> {
  @Option(names = "--from", required = true, description = "Backup directory (made by ctl backup).")
  Path from;

  @Option(names = "--data", required = true,
      description = "Target data directory: DATA/shard-<id> per shard (standalone layout), or the shard's own with --shard-id.")
  Path data;

  @Option(names = "--shard-id", description = "Restore only this shard's backup, directly into --data.")
  Integer shardId;

  @Option(names = "--shards", description = "Shards the target cluster will run; refused if fewer than the backup has.")
  Integer shards;

  @Override
  public Integer call() {
    return CtlException.run(() -> {
      Path dir = from.toAbsolutePath().normalize();
      System.out.printf("verifying %s...%n", dir);
      List<Integer> ids = VerifyBackupCommand.verify(dir, true);
      if (shards != null && shards < ids.size()) {
        throw new CtlException(CtlCommand.FAILED, "the backup holds " + ids.size() + " shards but the target has "
            + shards + ": restore needs at least as many shards (partitions move to new shards after start)");
      }
      if (shardId != null) {
        if (!ids.contains(shardId)) {
          throw new CtlException(CtlCommand.FAILED, "the backup has no shard " + shardId + " (it has " + ids + ")");
        }
        restore(dir, shardId, data);
      } else {
        for (int id : ids) {
          restore(dir, id, data.resolve("shard-" + id));
        }
      }
      System.out.printf("restored %d shard(s) into %s; start the cluster on it%n", shardId != null ? 1 : ids.size(), data);
      return CtlCommand.OK;
    });
  }

  private static void restore(Path dir, int id, Path target) throws java.io.IOException {
    long started = System.nanoTime();
    List<Backup.FileEntry> files = Backup.restore(Backup.shardDirectory(dir, id), target);
    System.out.printf("shard %d: %d files into %s in %d ms%n", id, files.size(), target,
        (System.nanoTime() - started) / 1_000_000);
  }
}
