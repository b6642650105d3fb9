package io.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A standalone process under concurrent write load is killed with SIGKILL again and again; after
 * each restart every write acknowledged before the kill must be there with its exact vector, in
 * both durability profiles. Cycles per profile: {@code -Dquiver.crash.cycles} (default 10, so the
 * suite kills 20 times; raise it for a longer run).
 */
class CrashRecoveryIT {
  private static final int CYCLES = Integer.getInteger("quiver.crash.cycles", 10);
  private static final int DIM = 16;
  private static final int WRITERS = 4;
  private static final int BATCH = 8;

  @TempDir Path dir;
  private QuiverProcess quiver;
  private final ExecutorService writers = Executors.newFixedThreadPool(WRITERS);

  @AfterEach
  void cleanUp() throws InterruptedException {
    writers.shutdownNow();
    writers.awaitTermination(30, TimeUnit.SECONDS);
    if (quiver != null) {
      quiver.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sync", "async"})
  void everyAcknowledgedWriteSurvivesSigkill(String durability) throws Exception {
    Path data = dir.resolve("data");
    Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
    AtomicInteger nextBlock = new AtomicInteger();
    for (int cycle = 0; cycle < CYCLES; cycle++) {
      int port = TestHttp.freePort();
      quiver = start(durability, data, port);
      TestHttp http = new TestHttp(port);
      if (cycle == 0) {
        assertThat(http.post("/collections", new JsonObject().put("name", "crash").put("dimension", DIM).put("partitions", 8))
            .status()).isEqualTo(200);
      } else {
        verify(http, acknowledged, cycle);
      }

      // Writers run until the kill; each batch is recorded only once it was acknowledged.
      AtomicBoolean running = new AtomicBoolean(true);
      AtomicInteger ackedBatches = new AtomicInteger();
      for (int w = 0; w < WRITERS; w++) {
        writers.submit(() -> {
          while (running.get()) {
            long base = (long) nextBlock.getAndIncrement() * BATCH;
            JsonArray points = new JsonArray();
            for (long id = base; id < base + BATCH; id++) {
              points.add(new JsonObject().put("id", id).put("values", vector(id)));
            }
            try {
              if (http.post("/collections/crash/points", new JsonObject().put("points", points)).status() == 200) {
                for (long id = base; id < base + BATCH; id++) {
                  acknowledged.add(id);
                }
                ackedBatches.incrementAndGet();
              }
            } catch (RuntimeException e) {
              return null; // connection refused or reset: the process was killed
            }
          }
          return null;
        });
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (ackedBatches.get() < 25 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertThat(ackedBatches.get()).as("writes were acknowledged before the kill").isGreaterThanOrEqualTo(25);
      quiver.kill(); // SIGKILL with writes in flight
      running.set(false);
    }
    int port = TestHttp.freePort();
    quiver = start(durability, data, port);
    verify(new TestHttp(port), acknowledged, CYCLES);
    quiver.stop(60);
  }

  private QuiverProcess start(String durability, Path data, int port) throws Exception {
    return QuiverProcess.start(List.of("standalone", "--http-port", Integer.toString(port),
            "--grpc-port", Integer.toString(TestHttp.freePort()), "--shard-port", "0", "--shard-http-port", "0",
            "--cluster-port", Integer.toString(TestHttp.freePort()), "--cluster-name", "crash-" + UUID.randomUUID(),
            "--durability", durability, "--memory-budget-mb", "64", "--data", data.toString()),
        Map.of("QUIVER_HEAP", "512m"), dir.resolve("stderr.log"), "Quiver standalone ready", 180);
  }

  /** Every acknowledged id is listed, and (for a sample) holds exactly the vector written. */
  private static void verify(TestHttp http, Set<Long> acknowledged, int cycle) {
    Set<Long> present = ConcurrentHashMap.newKeySet();
    String after = "";
    while (true) {
      TestHttp.Response page = http.get("/collections/crash/points?limit=5000" + after);
      assertThat(page.status()).as("list after restart " + cycle + ": " + page.body()).isEqualTo(200);
      page.obj().getJsonArray("points").forEach(p -> present.add(((JsonObject) p).getLong("id")));
      Object next = page.obj().getValue("next_after_id");
      if (next == null) {
        break;
      }
      after = "&after_id=" + next;
    }
    List<Long> missing = new ArrayList<>();
    for (long id : acknowledged) {
      if (!present.contains(id)) {
        missing.add(id);
      }
    }
    assertThat(missing).as("acknowledged ids missing after restart " + cycle).isEmpty();
    Random sample = new Random(cycle);
    List<Long> ids = new ArrayList<>(acknowledged);
    for (int i = 0; i < Math.min(50, ids.size()); i++) {
      long id = ids.get(sample.nextInt(ids.size()));
      TestHttp.Response got = http.get("/collections/crash/points/" + id);
      assertThat(got.status()).isEqualTo(200);
      JsonArray values = got.obj().getJsonArray("values");
      JsonArray written = vector(id);
      for (int d = 0; d < DIM; d++) {
        assertThat(values.getFloat(d)).as("id " + id + " dimension " + d).isEqualTo(written.getFloat(d));
      }
    }
  }

  private static JsonArray vector(long id) {
    Random r = new Random(id);
    JsonArray v = new JsonArray();
    for (int i = 0; i < DIM; i++) {
      v.add((double) r.nextFloat());
    }
    return v;
  }
}
