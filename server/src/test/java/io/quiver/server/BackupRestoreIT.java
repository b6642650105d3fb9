package io.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ctl backup} of a loaded standalone cluster, {@code ctl verify-backup}, and {@code ctl restore}
 * into a fresh data directory started as a new cluster: the same points with the same vectors and
 * payloads (count and a SHA-256 over every point), none of the writes made after the backup; then a
 * corrupted backup file is refused by verify-backup and restore with a one-line error.
 */
class BackupRestoreIT {
  private static final int DIM = 8;
  private static final String C = "/collections/bk";

  @TempDir Path dir;

  /** Output and exit code of one in-process {@code quiver ctl ...} run. */
  record Ctl(int exit, String out, String err) {}

  @Test
  void backupRestoredIntoAFreshDataDirectoryHoldsTheSamePoints() throws Exception {
    Path backup = dir.resolve("backup");
    String fingerprint;
    long count;
    try (Standalone a = start(dir.resolve("data-a"))) {
      TestHttp http = new TestHttp(a.httpPort());
      assertThat(http.post("/collections", new JsonObject().put("name", "bk").put("dimension", DIM).put("partitions", 8))
          .status()).isEqualTo(200);
      load(http, 1, 400, new Random(3));
      assertThat(http.delete(C + "/points/7").status()).isEqualTo(200);
      assertThat(http.post(C + "/points/payload/set", new JsonObject().put("points", new JsonArray().add(8).add(9))
          .put("payload", new JsonObject().put("tag", "updated"))).status()).isEqualTo(200);
      count = http.get(C).obj().getLong("point_count");
      fingerprint = fingerprint(http);

      Ctl status = ctl("--url", "http://127.0.0.1:" + a.httpPort(), "cluster", "status");
      assertThat(status.exit()).as(status.err()).isZero();
      assertThat(status.out()).contains("SHARD", "LAST CHECKPOINT", "points " + count, "read-only off");
      Ctl checkpoint = ctl("checkpoint", "--url", "http://127.0.0.1:" + a.httpPort());
      assertThat(checkpoint.exit()).as(checkpoint.err()).isZero();
      assertThat(checkpoint.out()).contains("shard 0: checkpoint covers WAL sequence", "checkpointed 2 shards");
      Ctl unreachable = ctl("--url", "http://127.0.0.1:" + TestHttp.freePort(), "cluster", "status");
      assertThat(unreachable.exit()).isEqualTo(3);
      assertThat(unreachable.err()).contains("quiver ctl: cannot reach the gateway at");

      Ctl b = ctl("--url", "http://127.0.0.1:" + a.httpPort(), "backup", "--out", backup.toString());
      assertThat(b.exit()).as(b.err()).isZero();
      assertThat(b.out()).contains("shard 0: ", "shard 1: ", "complete: 2 shards, " + count + " points");
      assertThat(backup.resolve("quiver-backup.json")).exists();

      load(http, 1000, 50, new Random(4)); // after the backup: must not come back
      Ctl second = ctl("--url", "http://127.0.0.1:" + a.httpPort(), "backup", "--out", backup.toString());
      assertThat(second.exit()).isEqualTo(1);
      assertThat(second.err()).contains("not an empty directory").doesNotContain("\n" + "\t");
    }

    Ctl verify = ctl("verify-backup", backup.toString());
    assertThat(verify.exit()).as(verify.err()).isZero();
    assertThat(verify.out()).contains("checksums OK", "is intact: 2 shards");

    Path fresh = dir.resolve("data-b");
    Ctl tooFew = ctl("restore", "--from", backup.toString(), "--data", fresh.toString(), "--shards", "1");
    assertThat(tooFew.exit()).isEqualTo(1);
    assertThat(tooFew.err()).contains("at least as many shards");
    Ctl restore = ctl("restore", "--from", backup.toString(), "--data", fresh.toString());
    assertThat(restore.exit()).as(restore.err()).isZero();
    Ctl again = ctl("restore", "--from", backup.toString(), "--data", fresh.toString());
    assertThat(again.exit()).isEqualTo(1);
    assertThat(again.err()).contains("already holds shard data");

    try (Standalone b = start(fresh)) {
      TestHttp http = new TestHttp(b.httpPort());
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (http.get(C).status() != 200 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertThat(http.get(C).obj().getLong("point_count")).isEqualTo(count);
      assertThat(fingerprint(http)).isEqualTo(fingerprint);
      assertThat(http.get(C + "/points/1000").status()).isEqualTo(404);
      assertThat(http.get(C + "/points/7").status()).isEqualTo(404);
      assertThat(http.get(C + "/points/8").obj().getJsonObject("payload").getString("tag")).isEqualTo("updated");
    }
  }

  @Test
  void corruptedBackupIsRefusedByVerifyAndRestore() throws Exception {
    Path backup = dir.resolve("backup");
    try (Standalone a = start(dir.resolve("data"))) {
      TestHttp http = new TestHttp(a.httpPort());
      assertThat(http.post("/collections", new JsonObject().put("name", "bk").put("dimension", DIM)).status()).isEqualTo(200);
      load(http, 1, 100, new Random(5));
      assertThat(ctl("--url", "http://127.0.0.1:" + a.httpPort(), "backup", "--out", backup.toString()).exit()).isZero();
    }
    Path victim;
    try (Stream<Path> files = Files.walk(backup.resolve("shard-0").resolve("checkpoints"))) {
      victim = files.filter(p -> p.toString().endsWith(".ckpt")).sorted().reduce((x, y) -> y).orElseThrow();
    }
    byte[] bytes = Files.readAllBytes(victim);
    bytes[bytes.length / 2] ^= 0x5a;
    Files.write(victim, bytes);

    Ctl verify = ctl("verify-backup", backup.toString());
    assertThat(verify.exit()).isEqualTo(1);
    assertThat(verify.err().strip()).doesNotContain("\n")
        .startsWith("quiver ctl: backup is corrupt: ").contains(victim.getFileName().toString(), "SHA-256");

    Path target = dir.resolve("restored");
    Ctl restore = ctl("restore", "--from", backup.toString(), "--data", target.toString());
    assertThat(restore.exit()).isEqualTo(1);
    assertThat(restore.err().strip()).doesNotContain("\n").contains("backup is corrupt", victim.getFileName().toString());
    assertThat(target).doesNotExist();

    Files.delete(backup.resolve("quiver-backup.json"));
    Ctl incomplete = ctl("verify-backup", backup.toString());
    assertThat(incomplete.exit()).isEqualTo(1);
    assertThat(incomplete.err()).contains("not a backup, or an incomplete one");
  }

  private Standalone start(Path data) {
    return InProcessCluster.start(data, "bk", 2);
  }

  private static void load(TestHttp http, long first, int n, Random rnd) {
    for (int start = 0; start < n; start += 100) {
      JsonArray points = new JsonArray();
      for (int i = start; i < Math.min(n, start + 100); i++) {
        long id = first + i;
        JsonArray v = new JsonArray();
        for (int d = 0; d < DIM; d++) {
          v.add(rnd.nextFloat() * 2 - 1);
        }
        points.add(new JsonObject().put("id", id).put("values", v)
            .put("payload", new JsonObject().put("n", id).put("name", "p" + id).put("tags", new JsonArray().add("a").add(id % 3))));
      }
      assertThat(http.post(C + "/points", new JsonObject().put("points", points)).status()).isEqualTo(200);
    }
  }

  /** SHA-256 over every point (ascending id): id, vector values and payload as the API returns them. */
  private static String fingerprint(TestHttp http) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    String after = "";
    while (true) {
      JsonObject page = http.get(C + "/points?limit=500" + after).obj();
      for (Object o : page.getJsonArray("points")) {
        long id = ((JsonObject) o).getLong("id");
        JsonObject p = http.get(C + "/points/" + id).obj();
        md.update((id + "|" + p.getJsonArray("values").encode() + "|" + p.getJsonObject("payload").encode() + "\n")
            .getBytes(StandardCharsets.UTF_8));
      }
      if (page.getValue("next_after_id") == null) {
        break;
      }
      after = "&after_id=" + page.getValue("next_after_id");
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** Runs {@code quiver ctl args...} in this JVM, capturing its output. */
  static synchronized Ctl ctl(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    List<String> full = new ArrayList<>(List.of("ctl"));
    full.addAll(List.of(args));
    int code;
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      code = Main.commandLine().execute(full.toArray(String[]::new));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
    return new Ctl(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
  }
}
