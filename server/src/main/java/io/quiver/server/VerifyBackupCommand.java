package io.quiver.server;

import io.quiver.shard.engine.Backup;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code ctl verify-backup DIR}: checks a backup offline: the cluster manifest, then every shard's
 * files against its SHA-256 manifest. Exits 1 with the first problem on one line.
 */
@Command(name = "verify-backup", mixinStandardHelpOptions = true, description = "Check a backup's files and checksums.")
final class VerifyBackupCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "DIR", description = "Backup directory.")
  Path dir;

  @Override
  public Integer call() {
    return CtlException.run(() -> {
      List<Integer> shards = verify(dir.toAbsolutePath().normalize(), true);
      System.out.printf("backup %s is intact: %d shards%n", dir, shards.size());
      return CtlCommand.OK;
    });
  }

  /** Verifies a whole backup; returns its shard ids. Throws a {@link CtlException} naming the first problem. */
  static List<Integer> verify(Path dir, boolean progress) throws IOException {
    Path root = dir.resolve(Backup.ROOT_MANIFEST);
    if (!Files.isRegularFile(root)) {
      throw new CtlException(CtlCommand.FAILED, dir + " has no " + Backup.ROOT_MANIFEST
          + ": not a backup, or an incomplete one");
    }
    JsonObject manifest;
    try {
      manifest = new JsonObject(Files.readString(root));
    } catch (RuntimeException e) {
      throw new CtlException(CtlCommand.FAILED, "backup is corrupt: " + root + " does not parse");
    }
    if (manifest.getInteger("format", 0) != Backup.FORMAT || manifest.getJsonArray("shards") == null) {
      throw new CtlException(CtlCommand.FAILED, "backup is corrupt: " + root + " is not a format-" + Backup.FORMAT
          + " Quiver backup manifest");
    }
    List<Integer> ids = new ArrayList<>();
    for (Object o : manifest.getJsonArray("shards")) {
      JsonObject s = (JsonObject) o;
      int id = s.getInteger("shard_id");
      Path shardDir = Backup.shardDirectory(dir, id);
      List<Backup.FileEntry> files;
      try {
        files = Backup.verify(shardDir);
        if (Backup.shardIdOf(shardDir) != id) {
          throw new Backup.CorruptBackupException(shardDir + " holds the backup of shard " + Backup.shardIdOf(shardDir));
        }
      } catch (Backup.CorruptBackupException e) {
        throw new CtlException(CtlCommand.FAILED, "backup is corrupt: " + e.getMessage());
      }
      if (files.size() != s.getInteger("files", files.size())) {
        throw new CtlException(CtlCommand.FAILED, "backup is corrupt: " + shardDir + " lists " + files.size()
            + " files, the cluster manifest says " + s.getInteger("files"));
      }
      if (progress) {
        System.out.printf("shard %d: %d files, checksums OK%n", id, files.size());
      }
      ids.add(id);
    }
    return ids;
  }
}
