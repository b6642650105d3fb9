package io.quiver.shard.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.shard.storage.StorageFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * One shard's backup: a copy of its durable files that recovery can start from, with a manifest of
 * SHA-256 checksums. Layout of a backup root (the top-level manifest is written by {@code ctl}):
 *
 * <pre>
 * &lt;root&gt;/
 *   quiver-backup.json                 cluster manifest: format, id, time, shards (written last, by ctl)
 *   shard-&lt;id&gt;/
 *     shard-backup.json                this shard's manifest: sequences, every file with size and sha256
 *     SHARD                            shard metadata (collections, owned partitions, epochs)
 *     checkpoints/MANIFEST, *.ckpt     the checkpoint taken for this backup
 *     wal/*.wal                        the WAL segments after it (the tail)
 * </pre>
 *
 * <p>Consistency, per shard: {@link ShardEngine#backup} takes a checkpoint and copies while holding
 * the engine's checkpoint lock, so no checkpoint replaces files or deletes segments during the copy;
 * writes go on. Every record acknowledged before the backup started (up to {@code wal_sequence}) is in
 * it; records appended during the copy may be in it too, the last one possibly torn, which recovery
 * cuts off like after a crash. Shards are backed up independently: a write spanning two shards may be
 * in one shard's backup and not the other's (turn read-only on for a cluster-wide cut).
 *
 * <p>{@link #verify} and {@link #restore} read a shard directory back: any missing, extra-sized or
 * altered file fails with a {@link CorruptBackupException} naming it. Stateless; thread-safe.
 */
public final class Backup {
  public static final int FORMAT = 1;
  public static final String ROOT_MANIFEST = "quiver-backup.json";
  public static final String SHARD_MANIFEST = "shard-backup.json";
  private static final String SHARD_DIR_PREFIX = "shard-";
  private static final String RESTORE_STAGING = ".restore-staging";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One copied file: path relative to the shard's backup directory ('/'-separated), size, sha256 hex. */
  public record FileEntry(String path, long size, String sha256) {}

  /** What one shard's backup holds. */
  public record Result(int shardId, Path directory, long checkpointSequence, long walSequence, List<FileEntry> files,
      long durationMillis, long points, int partitions) {
    public long bytes() {
      return files.stream().mapToLong(FileEntry::size).sum();
    }
  }

  /** A backup file is missing, truncated or altered, or a manifest does not parse. */
  public static final class CorruptBackupException extends IOException {
    public CorruptBackupException(String message) {
      super(message);
    }
  }

  private Backup() {}

  /** The directory of shard {@code shardId} under a backup root. */
  public static Path shardDirectory(Path root, int shardId) {
    return root.resolve(SHARD_DIR_PREFIX + shardId);
  }

  /**
   * Copies the shard's files into {@code target} (which must not exist or be empty) and writes its
   * manifest. Caller holds the engine's checkpoint lock and has just checkpointed.
   */
  static Result copy(StorageFiles files, Path target, int shardId, String backupId, long checkpointSequence,
      long walSequence, long points, int partitions, long startedNanos) throws IOException {
    if (Files.isDirectory(target)) {
      try (DirectoryStream<Path> s = Files.newDirectoryStream(target)) {
        if (s.iterator().hasNext()) {
          throw new IOException("backup directory " + target + " is not empty; choose a new one");
        }
      }
    }
    Files.createDirectories(target);
    List<Path> sources = new ArrayList<>();
    if (Files.exists(files.shardMetadata())) {
      sources.add(files.shardMetadata());
    }
    if (Files.exists(files.manifest())) {
      sources.add(files.manifest());
    }
    sources.addAll(files.listCheckpointFiles());
    for (long first : files.listSegments()) {
      sources.add(files.segment(first));
    }
    List<FileEntry> entries = new ArrayList<>();
    for (Path src : sources) {
      String rel = relative(files.dataDirectory(), src);
      Path dst = target.resolve(rel);
      Files.createDirectories(dst.getParent());
      try {
        Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
      } catch (NoSuchFileException gone) {
        continue; // a checkpoint of a collection dropped meanwhile
      }
      force(dst);
      entries.add(new FileEntry(rel, Files.size(dst), sha256(dst)));
    }
    long millis = (System.nanoTime() - startedNanos) / 1_000_000;
    Result result = new Result(shardId, target, checkpointSequence, walSequence, List.copyOf(entries), millis, points,
        partitions);
    writeJson(target.resolve(SHARD_MANIFEST), shardManifest(result, backupId));
    return result;
  }

  private static ObjectNode shardManifest(Result r, String backupId) {
    ObjectNode m = JSON.createObjectNode();
    m.put("format", FORMAT).put("backup_id", backupId).put("shard_id", r.shardId())
        .put("created_at", Instant.now().toString())
        .put("checkpoint_sequence", r.checkpointSequence()).put("wal_sequence", r.walSequence())
        .put("points", r.points()).put("partitions", r.partitions())
        .put("consistency", "per shard: a checkpoint plus the WAL after it; every write acknowledged before the "
            + "backup started is included");
    ArrayNode arr = m.putArray("files");
    for (FileEntry f : r.files()) {
      arr.addObject().put("path", f.path()).put("size", f.size()).put("sha256", f.sha256());
    }
    return m;
  }

  /**
   * Checks every file of one shard's backup against its manifest; returns the manifest's files.
   * Throws {@link CorruptBackupException} with a one-line reason naming the first bad file.
   */
  public static List<FileEntry> verify(Path shardDir) throws IOException {
    Path manifest = shardDir.resolve(SHARD_MANIFEST);
    JsonNode m;
    try {
      m = JSON.readTree(manifest.toFile());
    } catch (IOException e) {
      throw new CorruptBackupException(manifest + " is missing or does not parse: " + oneLine(e));
    }
    if (m == null || m.path("format").asInt() != FORMAT || !m.path("files").isArray()) {
      throw new CorruptBackupException(manifest + " is not a format-" + FORMAT + " shard backup manifest");
    }
    List<FileEntry> out = new ArrayList<>();
    for (JsonNode f : m.path("files")) {
      FileEntry e = new FileEntry(f.path("path").asText(), f.path("size").asLong(-1), f.path("sha256").asText());
      Path p = shardDir.resolve(e.path()).normalize();
      if (!p.startsWith(shardDir.normalize()) || e.path().isEmpty()) {
        throw new CorruptBackupException(manifest + " names a file outside the backup: '" + e.path() + "'");
      }
      if (!Files.isRegularFile(p)) {
        throw new CorruptBackupException(p + " is missing from the backup");
      }
      long size = Files.size(p);
      if (size != e.size()) {
        throw new CorruptBackupException(p + " has " + size + " bytes, the manifest says " + e.size());
      }
      String sum = sha256(p);
      if (!sum.equals(e.sha256())) {
        throw new CorruptBackupException(p + " fails its SHA-256 check (manifest " + abbreviate(e.sha256()) + ", file "
            + abbreviate(sum) + ")");
      }
      out.add(e);
    }
    return out;
  }

  /** The shard id a shard backup directory's manifest names. */
  public static int shardIdOf(Path shardDir) throws IOException {
    try {
      return JSON.readTree(shardDir.resolve(SHARD_MANIFEST).toFile()).path("shard_id").asInt();
    } catch (IOException e) {
      throw new CorruptBackupException(shardDir.resolve(SHARD_MANIFEST) + " is missing or does not parse: " + oneLine(e));
    }
  }

  /**
   * Verifies one shard's backup, then lays its files into {@code dataDir}, which must hold no shard
   * data yet (the shard must be stopped). Files are copied to a staging directory inside
   * {@code dataDir} first and then renamed into place, so a failed copy leaves no half-restored shard.
   */
  public static List<FileEntry> restore(Path shardDir, Path dataDir) throws IOException {
    List<FileEntry> entries = verify(shardDir);
    StorageFiles target = new StorageFiles(dataDir);
    for (Path p : List.of(target.shardMetadata(), target.walDirectory(), target.checkpointDirectory())) {
      if (Files.exists(p) && !(Files.isDirectory(p) && isEmpty(p))) {
        throw new IOException(dataDir + " already holds shard data (" + p.getFileName()
            + "); restore needs an empty data directory of a stopped shard");
      }
    }
    Files.createDirectories(dataDir);
    Path staging = dataDir.resolve(RESTORE_STAGING);
    deleteTree(staging);
    for (FileEntry e : entries) {
      Path dst = staging.resolve(e.path());
      Files.createDirectories(dst.getParent());
      Files.copy(shardDir.resolve(e.path()), dst);
      force(dst);
    }
    // Checkpoints and WAL first, the metadata file that makes them a shard last.
    for (Path dir : List.of(target.walDirectory(), target.checkpointDirectory())) {
      Path staged = staging.resolve(dataDir.relativize(dir));
      if (Files.isDirectory(staged)) {
        Files.deleteIfExists(dir);
        Files.move(staged, dir, StandardCopyOption.ATOMIC_MOVE);
      }
    }
    Path meta = staging.resolve(dataDir.relativize(target.shardMetadata()));
    if (Files.exists(meta)) {
      Files.move(meta, target.shardMetadata(), StandardCopyOption.ATOMIC_MOVE);
    }
    deleteTree(staging);
    forceDirectory(dataDir);
    return entries;
  }

  // ---------------------------------------------------------------- helpers

  private static String relative(Path base, Path file) {
    return base.relativize(file).toString().replace('\\', '/');
  }

  static String sha256(Path file) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static void writeJson(Path file, JsonNode node) throws IOException {
    Path tmp = StorageFiles.temporaryFor(file);
    try (OutputStream out = Files.newOutputStream(tmp)) {
      JSON.writerWithDefaultPrettyPrinter().writeValue(out, node);
    }
    force(tmp);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    forceDirectory(file.getParent());
  }

  private static void force(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
  }

  private static void forceDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException ignored) {
      // not supported on every filesystem; the files themselves are forced
    }
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      return !s.iterator().hasNext();
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static String abbreviate(String hex) {
    return hex.length() > 12 ? hex.substring(0, 12) + "..." : hex;
  }

  private static String oneLine(Exception e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
