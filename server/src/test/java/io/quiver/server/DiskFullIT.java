package io.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A shard whose data directory is a small tmpfs runs out of space under writes: it must refuse the
 * write it cannot make durable (never acknowledge it), switch to degraded read-only
 * ({@code storage_unavailable}), keep serving reads, and say so on {@code /ready}. After a restart
 * with space (the tmpfs remounted larger, as an operator grows a volume) everything acknowledged is
 * there and writes work again. Needs permission to mount a tmpfs (root, as CI runs); skipped with a
 * message where the kernel forbids it.
 */
class DiskFullIT {
  private static final int DIM = 64;

  @TempDir Path dir;
  private Path mount;
  private boolean mounted;
  private QuiverProcess quiver;

  @AfterEach
  void cleanUp() throws Exception {
    if (quiver != null) {
      quiver.close();
    }
    if (mounted) {
      run("umount", mount.toString());
    }
  }

  @Test
  void diskFullTurnsTheShardReadOnlyAndLosesNothing() throws Exception {
    mount = Files.createDirectory(dir.resolve("tmpfs"));
    mounted = run("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mount.toString()) == 0;
    assumeTrue(mounted, "cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN); disk-full behaviour not tested");

    int port = TestHttp.freePort();
    int shardHttp = TestHttp.freePort();
    quiver = start(port, shardHttp);
    TestHttp http = new TestHttp(port);
    assertThat(http.post("/collections", new JsonObject().put("name", "full").put("dimension", DIM).put("partitions", 2))
        .status()).isEqualTo(200);

    List<Long> acknowledged = new ArrayList<>();
    TestHttp.Response refused = null;
    for (int batch = 0; batch < 2000 && refused == null; batch++) {
      JsonArray points = new JsonArray();
      for (long id = batch * 50L; id < batch * 50L + 50; id++) {
        points.add(new JsonObject().put("id", id).put("values", vector(id)));
      }
      TestHttp.Response r = http.post("/collections/full/points", new JsonObject().put("points", points));
      if (r.status() == 200) {
        for (long id = batch * 50L; id < batch * 50L + 50; id++) {
          acknowledged.add(id);
        }
      } else {
        refused = r;
      }
    }
    assertThat(refused).as("the disk filled up").isNotNull();
    assertThat(refused.status()).as(refused.body()).isEqualTo(503);
    assertThat(refused.obj().getString("code")).isEqualTo("storage_unavailable");
    assertThat(acknowledged).isNotEmpty();

    // Degraded read-only: further writes refused, reads served, /ready says why.
    TestHttp.Response again = http.put("/collections/full/points/999999999", new JsonObject().put("values", vector(1)));
    assertThat(again.obj().getString("code")).isEqualTo("storage_unavailable");
    assertThat(http.get("/collections/full/points/" + acknowledged.get(0)).status()).isEqualTo(200);
    assertThat(http.post("/collections/full/search/topk", new JsonObject().put("query", vector(7)).put("limit", 1)
        .put("metric", "l2").put("mode", "exact")).obj().getJsonArray("hits").getJsonObject(0).getLong("id")).isEqualTo(7L);
    TestHttp.Response ready = new TestHttp(shardHttp).get("/ready");
    assertThat(ready.obj().getString("state")).isEqualTo("degraded");
    assertThat(ready.obj().getJsonObject("checks").getString("storage")).startsWith("degraded");

    // Restart with space: everything acknowledged is there, writes work again.
    quiver.kill();
    assertThat(run("mount", "-o", "remount,size=64m", mount.toString())).isZero();
    port = TestHttp.freePort();
    quiver = start(port, TestHttp.freePort());
    http = new TestHttp(port);
    assertThat(http.get("/collections/full").obj().getLong("point_count")).isGreaterThanOrEqualTo(acknowledged.size());
    Random sample = new Random(1);
    for (int i = 0; i < 100; i++) {
      long id = acknowledged.get(sample.nextInt(acknowledged.size()));
      TestHttp.Response got = http.get("/collections/full/points/" + id);
      assertThat(got.status()).isEqualTo(200);
      assertThat(got.obj().getJsonArray("values").getFloat(5)).isEqualTo(vector(id).getFloat(5));
    }
    assertThat(http.put("/collections/full/points/999999999", new JsonObject().put("values", vector(1))).status()).isEqualTo(200);
  }

  private QuiverProcess start(int port, int shardHttp) throws IOException {
    return QuiverProcess.start(List.of("standalone", "--shards", "1", "--http-port", Integer.toString(port),
            "--grpc-port", Integer.toString(TestHttp.freePort()), "--shard-port", "0",
            "--shard-http-port", Integer.toString(shardHttp),
            "--cluster-port", Integer.toString(TestHttp.freePort()), "--cluster-name", "diskfull-" + UUID.randomUUID(),
            "--memory-budget-mb", "64", "--data", mount.toString()),
        Map.of("QUIVER_HEAP", "512m"), dir.resolve("stderr.log"), "Quiver standalone ready", 180);
  }

  private static JsonArray vector(long id) {
    Random r = new Random(id);
    JsonArray v = new JsonArray();
    for (int i = 0; i < DIM; i++) {
      v.add((double) r.nextFloat());
    }
    return v;
  }

  private static int run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
  }
}
