package io.quiver.shard.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quiver.cluster.ReadOnlyState;
import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.quiver.shard.index.Metric;
import io.quiver.shard.index.SearchMode;
import io.quiver.shard.index.payload.Payload;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operator read-only mode inside one shard engine: enforced before logging, persisted, newest wins. */
class ShardEngineReadOnlyTest {
  private static final int DIM = 4;
  private static final CollectionSpec SPEC = new CollectionSpec("t", "c", 77L, DIM, Metric.L2, true, 2);
  private static final Map<Integer, Long> EPOCHS = Map.of(0, 1L, 1, 1L);
  private static final ExecutorService SEARCH = Executors.newFixedThreadPool(2);
  private static final Clock T0 = Clock.fixed(Instant.parse("2026-11-20T10:00:00Z"), ZoneOffset.UTC);

  @TempDir Path dir;
  private final List<ShardEngine> open = new ArrayList<>();

  @AfterEach
  void closeEngines() throws IOException {
    for (ShardEngine e : open) {
      e.close();
    }
  }

  @AfterAll
  static void stopPool() {
    SEARCH.shutdownNow();
  }

  private ShardEngine open() throws IOException {
    ShardEngine e = new ShardEngine(new EngineOptions().shardId(3).dataDir(dir).memoryBudgetBytes(64L << 20)
        .checkpointIntervalMs(3_600_000), SEARCH, null);
    open.add(e);
    e.open();
    return e;
  }

  private static ShardEngine.WriteResult upsert(ShardEngine e, long id) {
    return e.upsert(SPEC.uid(), new long[] {id}, new float[][] {{id, 1, 2, 3}}, new byte[][] {
        ("{\"n\":" + id + "}").getBytes(StandardCharsets.UTF_8)}, EPOCHS).join();
  }

  private static void assertReadOnly(Runnable write) {
    assertThatThrownBy(write::run)
        .satisfies(t -> {
          Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
          assertThat(cause).isInstanceOf(QuiverException.class);
          assertThat(((QuiverException) cause).code()).isEqualTo(ErrorCode.READ_ONLY);
          assertThat(cause.getMessage()).contains("disk migration");
        });
  }

  @Test
  void refusesEveryWriteBeforeLoggingWhileOnServesReadsAndAcceptsWritesAgainWhenOff() throws IOException {
    ShardEngine e = open();
    e.createCollection(SPEC, EPOCHS);
    upsert(e, 1);
    upsert(e, 2);
    ReadOnlyState on = ReadOnlyState.OFF.next(true, "disk migration", "ops", T0);
    assertThat(e.applyReadOnly(on)).isEqualTo(on);
    long sequence = e.walSequence();

    assertReadOnly(() -> upsert(e, 3));
    assertReadOnly(() -> e.delete(SPEC.uid(), new long[] {1}, EPOCHS).join());
    assertReadOnly(() -> e.updatePayload(SPEC.uid(), new long[] {1}, Payload.fromJson("{\"x\":1}"), List.of(), EPOCHS).join());
    assertReadOnly(() -> {
      try {
        e.createCollection(new CollectionSpec("t", "d", 78L, DIM, Metric.L2, true, 2), EPOCHS);
      } catch (IOException err) {
        throw new AssertionError(err);
      }
    });
    assertReadOnly(() -> {
      try {
        e.dropCollectionUnlessReadOnly(SPEC.uid());
      } catch (IOException err) {
        throw new AssertionError(err);
      }
    });
    assertThat(e.walSequence()).as("nothing was logged").isEqualTo(sequence);
    assertThat(e.degraded()).as("not the storage failure mode").isFalse();
    assertThat(e.count(SPEC.uid(), null)).isEqualTo(2);
    assertThat(e.get(SPEC.uid(), 1)).isNotNull();
    assertThat(e.search(SPEC.uid(), new float[][] {{1, 1, 2, 3}}, 1, null, SearchMode.EXACT, 0.95f, null, false)
        .get(0).hits().get(0).id()).isEqualTo(1L);

    e.applyReadOnly(on.next(false, "", "ops", T0));
    upsert(e, 3);
    assertThat(e.count(SPEC.uid(), null)).isEqualTo(3);
  }

  @Test
  void theModeSurvivesARestartAndAnOlderStateNeverReplacesANewerOne() throws IOException {
    ShardEngine e = open();
    e.createCollection(SPEC, EPOCHS);
    ReadOnlyState v1 = ReadOnlyState.OFF.next(false, "", "ops", T0);
    ReadOnlyState v2 = v1.next(true, "disk migration", "ops", T0);
    e.applyReadOnly(v2);
    assertThat(e.applyReadOnly(v1)).as("older loses").isEqualTo(v2);
    e.close();

    ShardEngine back = open();
    assertThat(back.readOnly()).isEqualTo(v2);
    assertReadOnly(() -> upsert(back, 1));
    assertThat(back.collections()).hasSize(1);
  }

  @Test
  void aMetadataDocumentWrittenBeforeTheModeExistedReadsAsOff() throws IOException {
    byte[] old = ("{\"version\":1,\"collections\":[{\"tenant\":\"t\",\"name\":\"c\",\"uid\":77,\"dimension\":4,"
        + "\"metric\":\"l2\",\"strict_finite\":true,\"partitions\":2,\"owned\":{\"0\":1}}],\"dropped\":[5]}")
        .getBytes(StandardCharsets.UTF_8);
    ShardMetadata m = ShardMetadata.decode(old);
    assertThat(m.readOnly()).isEqualTo(ReadOnlyState.OFF);
    assertThat(m.dropped()).containsExactly(5L);
    ReadOnlyState on = ReadOnlyState.OFF.next(true, "r", "ops", T0);
    assertThat(ShardMetadata.decode(new ShardMetadata(m.collections(), m.dropped(), on).encode()).readOnly()).isEqualTo(on);
  }

  @Test
  void noWriteIsLoggedAfterTheToggleReturnedWhileWritersRace() throws Exception {
    ShardEngine e = open();
    e.createCollection(SPEC, EPOCHS);
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicLong nextId = new AtomicLong();
    AtomicLong refused = new AtomicLong();
    ExecutorService writers = Executors.newFixedThreadPool(4);
    List<Future<?>> done = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      done.add(writers.submit(() -> {
        while (running.get()) {
          try {
            upsert(e, nextId.incrementAndGet());
          } catch (CompletionException | QuiverException err) {
            refused.incrementAndGet();
          }
        }
      }));
    }
    try {
      while (e.walSequence() < 200) {
        Thread.onSpinWait();
      }
      e.applyReadOnly(ReadOnlyState.OFF.next(true, "disk migration", "ops", T0));
      long atToggle = e.walSequence();
      long waitUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
      while (refused.get() < 100 || System.nanoTime() < waitUntil) {
        Thread.onSpinWait();
      }
      assertThat(e.walSequence()).as("WAL sequence after the toggle returned").isEqualTo(atToggle);
    } finally {
      running.set(false);
      writers.shutdown();
      writers.awaitTermination(10, TimeUnit.SECONDS);
    }
    for (Future<?> f : done) {
      f.get();
    }
  }
}
