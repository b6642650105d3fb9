package io.quiver.shard.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.quiver.shard.index.Metric;
import io.quiver.shard.index.SearchMode;
import io.quiver.shard.index.StoredPoint;
import io.quiver.shard.storage.CheckpointCrashPoint;
import io.quiver.shard.storage.Durability;
import io.quiver.shard.storage.FaultInjectingOpener;
import io.quiver.shard.storage.StorageCorruptionException;
import io.quiver.shard.storage.StorageFiles;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The durable engine on real files: what was acknowledged comes back, corruption is refused, limits hold. */
class ShardEngineTest {
  private static final int DIM = 8;
  private static final int PARTITIONS = 4;
  private static final CollectionSpec SPEC = new CollectionSpec("t", "c", 77L, DIM, Metric.L2, true, PARTITIONS);
  private static final ExecutorService SEARCH = Executors.newFixedThreadPool(2);
  private static final Map<Integer, Long> EPOCHS = Map.of(0, 1L, 1, 1L, 2, 1L, 3, 1L);

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

  private EngineOptions options() {
    return new EngineOptions().shardId(0).dataDir(dir).memoryBudgetBytes(256L << 20).checkpointIntervalMs(3_600_000);
  }

  private ShardEngine open(EngineOptions o) throws IOException {
    ShardEngine e = new ShardEngine(o, SEARCH, null);
    open.add(e);
    e.open();
    return e;
  }

  private ShardEngine openWithCollection(EngineOptions o) throws IOException {
    ShardEngine e = open(o);
    e.createCollection(SPEC, EPOCHS);
    return e;
  }

  private static float[] vector(long id) {
    Random r = new Random(id);
    float[] v = new float[DIM];
    for (int i = 0; i < DIM; i++) {
      v[i] = r.nextFloat();
    }
    return v;
  }

  private static byte[] payload(long id) {
    return ("{\"n\":" + id + "}").getBytes(StandardCharsets.UTF_8);
  }

  private static ShardEngine.WriteResult upsert(ShardEngine e, long... ids) {
    float[][] v = new float[ids.length][];
    byte[][] p = new byte[ids.length][];
    for (int i = 0; i < ids.length; i++) {
      v[i] = vector(ids[i]);
      p[i] = payload(ids[i]);
    }
    return e.upsert(SPEC.uid(), ids, v, p, EPOCHS).join();
  }

  private static void assertHolds(ShardEngine e, long id) {
    StoredPoint p = e.get(SPEC.uid(), id);
    assertThat(p).as("point " + id).isNotNull();
    assertThat(p.vector()).containsExactly(vector(id));
    assertThat(p.payload().jsonString()).isEqualTo(new String(payload(id), StandardCharsets.UTF_8));
  }

  @Test
  void aBusyShardSearchesAllPartitionsInOneTaskAndAnswersTheSame() throws IOException {
    ShardEngine writer = openWithCollection(options());
    for (long id = 0; id < 300; id++) {
      upsert(writer, id);
    }
    writer.close();
    open.remove(writer);
    // A one-thread pool: with one search running it has no spare thread, so the search is one task.
    java.util.concurrent.atomic.AtomicInteger tasks = new java.util.concurrent.atomic.AtomicInteger();
    ExecutorService single = new java.util.concurrent.ThreadPoolExecutor(1, 1, 0, java.util.concurrent.TimeUnit.SECONDS,
        new java.util.concurrent.LinkedBlockingQueue<>()) {
      @Override
      protected void beforeExecute(Thread t, Runnable r) {
        tasks.incrementAndGet();
      }
    };
    ShardEngine busy = new ShardEngine(options(), single, null);
    open.add(busy);
    busy.open();
    ShardEngine parallel = open(options().dataDir(dir.resolve("copy")));
    parallel.createCollection(SPEC, EPOCHS);
    for (long id = 0; id < 300; id++) {
      upsert(parallel, id);
    }
    float[][] queries = {vector(7), vector(1234), vector(99)};
    for (SearchMode mode : new SearchMode[] {SearchMode.EXACT, SearchMode.AUTO}) {
      var a = busy.search(SPEC.uid(), queries, 10, Metric.L2, mode, 0.95f, null, false);
      var b = parallel.search(SPEC.uid(), queries, 10, Metric.L2, mode, 0.95f, null, false);
      assertThat(a).hasSize(3);
      for (int q = 0; q < queries.length; q++) {
        assertThat(a.get(q).hits()).hasSize(10).isEqualTo(b.get(q).hits());
      }
    }
    assertThat(tasks.get()).as("one task per search").isEqualTo(2);
    single.shutdownNow();
  }

  @ParameterizedTest
  @EnumSource(Durability.class)
  void acknowledgedWritesSurviveARestart(Durability durability) throws IOException {
    ShardEngine e = openWithCollection(options().durability(durability));
    upsert(e, 1, 2, 3, 4, 5, 6);
    assertThat(e.delete(SPEC.uid(), new long[] {2}, EPOCHS).join().flags()).containsExactly(true);
    e.updatePayload(SPEC.uid(), new long[] {3}, io.quiver.shard.index.payload.Payload.fromJson("{\"tag\":\"x\"}"), List.of(), EPOCHS).join();
    e.close();

    ShardEngine back = open(options().durability(durability));
    assertThat(back.count(SPEC.uid(), null)).isEqualTo(5);
    assertHolds(back, 1);
    assertThat(back.get(SPEC.uid(), 2)).isNull();
    assertThat(back.get(SPEC.uid(), 3).payload().jsonString()).contains("\"tag\":\"x\"").contains("\"n\":3");
    assertThat(back.recovery().recordsReplayed()).isPositive();
  }

  @Test
  void checkpointCoversTheWalAndRestartLoadsItThenReplaysTheTail() throws IOException {
    ShardEngine e = openWithCollection(options().walSegmentBytes(4096));
    for (long id = 0; id < 200; id++) {
      upsert(e, id);
    }
    ShardEngine.CheckpointStats stats = e.checkpoint();
    assertThat(stats.partitions()).isEqualTo(PARTITIONS);
    assertThat(stats.segmentsDeleted()).isPositive();
    upsert(e, 500, 501);
    e.close();

    ShardEngine back = open(options().walSegmentBytes(4096));
    assertThat(back.recovery().checkpointsLoaded()).isEqualTo(PARTITIONS);
    assertThat(back.recovery().recordsReplayed()).isEqualTo(2);
    assertThat(back.count(SPEC.uid(), null)).isEqualTo(202);
    for (long id : new long[] {0, 99, 199, 500, 501}) {
      assertHolds(back, id);
    }
    var hits = back.search(SPEC.uid(), new float[][] {vector(42)}, 1, Metric.L2, SearchMode.EXACT, 0.95f, null, false);
    assertThat(hits.get(0).hits().get(0).id()).isEqualTo(42L);
  }

  @ParameterizedTest
  @EnumSource(CheckpointCrashPoint.Step.class)
  void crashAtAnyCheckpointStepLosesNothing(CheckpointCrashPoint.Step step) throws IOException {
    EngineOptions crashing = options().walSegmentBytes(2048).crashPoint(s -> {
      if (s == step) {
        throw new SimulatedCrash(s);
      }
    });
    ShardEngine e = openWithCollection(crashing);
    for (long id = 0; id < 60; id++) {
      upsert(e, id);
    }
    assertThatThrownBy(e::checkpoint).isInstanceOf(SimulatedCrash.class);
    e.close();

    ShardEngine back = open(options().walSegmentBytes(2048));
    assertThat(back.count(SPEC.uid(), null)).isEqualTo(60);
    for (long id = 0; id < 60; id++) {
      assertHolds(back, id);
    }
    // The next checkpoint works and a further restart still has everything.
    back.checkpoint();
    back.close();
    assertThat(open(options()).count(SPEC.uid(), null)).isEqualTo(60);
  }

  /** Thrown by the crash hook: an Error, so nothing on the way catches it as an ordinary failure. */
  static final class SimulatedCrash extends Error {
    SimulatedCrash(CheckpointCrashPoint.Step step) {
      super("simulated crash at " + step);
    }
  }

  @Test
  void recoveryKeepsExactlyTheRecordsWrittenWholeAtEveryTruncation() throws IOException {
    ShardEngine e = openWithCollection(options());
    Path segment;
    List<Long> endOffsets = new ArrayList<>();
    upsert(e, 1000);
    try (Stream<Path> s = Files.list(new StorageFiles(dir).walDirectory())) {
      segment = s.filter(p -> p.toString().endsWith(".wal")).findFirst().orElseThrow();
    }
    endOffsets.add(Files.size(segment));
    for (long id = 1; id <= 3; id++) {
      upsert(e, id);
      endOffsets.add(Files.size(segment));
    }
    e.close();
    byte[] whole = Files.readAllBytes(segment);
    Path copies = Files.createTempDirectory(dir.getParent(), "cuts");
    long firstCut = endOffsets.get(0);
    for (long cut = firstCut; cut <= whole.length; cut++) {
      Path d = copies.resolve("cut-" + cut);
      copyTree(dir, d);
      Path seg = d.resolve(dir.relativize(segment));
      try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
        f.setLength(cut);
      }
      ShardEngine back = new ShardEngine(options().dataDir(d), SEARCH, null);
      back.open();
      long whole_ = 0;
      for (long end : endOffsets.subList(1, endOffsets.size())) {
        whole_ += end <= cut ? 1 : 0;
      }
      assertThat(back.count(SPEC.uid(), null)).as("cut at " + cut).isEqualTo(1 + whole_);
      for (long id = 1; id <= whole_; id++) {
        assertHolds(back, id);
      }
      // The log accepts writes after the cut.
      upsert(back, 5000);
      back.close();
    }
  }

  @Test
  void aFlippedBitInAnEarlierRecordRefusesToOpenNamingFileAndOffset() throws IOException {
    ShardEngine e = openWithCollection(options());
    upsert(e, 1);
    upsert(e, 2);
    e.close();
    Path segment;
    try (Stream<Path> s = Files.list(new StorageFiles(dir).walDirectory())) {
      segment = s.filter(p -> p.toString().endsWith(".wal")).findFirst().orElseThrow();
    }
    flipByte(segment, 40); // inside the first record's body
    assertThatThrownBy(() -> open(options()))
        .isInstanceOf(StorageCorruptionException.class)
        .hasMessageContaining(segment.getFileName().toString())
        .hasMessageContaining("offset");
  }

  @Test
  void aFlippedBitInACheckpointRefusesToOpen() throws IOException {
    ShardEngine e = openWithCollection(options());
    for (long id = 0; id < 20; id++) {
      upsert(e, id);
    }
    e.checkpoint();
    e.close();
    Path ckpt;
    try (Stream<Path> s = Files.list(new StorageFiles(dir).checkpointDirectory())) {
      ckpt = s.filter(p -> p.toString().endsWith(".ckpt")).findFirst().orElseThrow();
    }
    flipByte(ckpt, Files.size(ckpt) / 2);
    assertThatThrownBy(() -> open(options()))
        .isInstanceOf(StorageCorruptionException.class)
        .hasMessageContaining(ckpt.getFileName().toString());
  }

  @Test
  void aDamagedMetadataFileRefusesToOpen() throws IOException {
    openWithCollection(options()).close();
    Path meta = new StorageFiles(dir).shardMetadata();
    flipByte(meta, 20);
    assertThatThrownBy(() -> open(options()))
        .isInstanceOf(StorageCorruptionException.class)
        .hasMessageContaining(meta.toString());
  }

  @Test
  void writesBeyondTheMemoryBudgetAreRefusedWhileDeletesAndReadsGoOn() throws IOException {
    ShardEngine e = openWithCollection(options().memoryBudgetBytes(200_000));
    long id = 0;
    QuiverException refused = null;
    // Twice the budget's worth of points: the second half must be refused, never an OutOfMemoryError.
    for (; id < 2 * 200_000 / (DIM * 4 + ShardEngine.POINT_OVERHEAD_BYTES); id++) {
      try {
        upsert(e, id);
      } catch (QuiverException q) {
        refused = q;
        break;
      }
    }
    assertThat(refused).isNotNull();
    assertThat(refused.code()).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
    assertThat(refused.getMessage()).contains("memory budget is full");
    // Arrays and maps grow by steps, so the last accepted write may carry usage past the budget by
    // at most one such step (documented in the README); nothing after it is accepted.
    assertThat(e.ramBytesUsed()).isLessThanOrEqualTo(200_000 + 200_000 / 50);
    long held = e.count(SPEC.uid(), null);
    assertThat(held).isPositive();
    assertHolds(e, 0);
    assertThat(e.delete(SPEC.uid(), new long[] {0}, EPOCHS).join().flags()).containsExactly(true);
    assertThat(e.count(SPEC.uid(), null)).isEqualTo(held - 1);
  }

  @Test
  void aFailedForceIsNeverAcknowledgedAndTurnsTheShardReadOnly() throws IOException {
    FaultInjectingOpener faults = new FaultInjectingOpener();
    ShardEngine e = openWithCollection(options().channelOpener(faults));
    upsert(e, 1);
    boolean[] degraded = {false};
    e.onDegraded(() -> degraded[0] = true);
    faults.failForces(new IOException("No space left on device"));
    CompletableFuture<ShardEngine.WriteResult> w =
        e.upsert(SPEC.uid(), new long[] {2}, new float[][] {vector(2)}, new byte[][] {payload(2)}, EPOCHS);
    assertThatThrownBy(w::join).isInstanceOf(CompletionException.class)
        .cause().isInstanceOfSatisfying(QuiverException.class, q -> assertThat(q.code()).isEqualTo(ErrorCode.STORAGE_UNAVAILABLE));
    assertThat(e.degraded()).isTrue();
    assertThat(degraded[0]).isTrue();
    assertThatThrownBy(() -> upsert(e, 3)).isInstanceOfSatisfying(QuiverException.class,
        q -> assertThat(q.code()).isEqualTo(ErrorCode.STORAGE_UNAVAILABLE));
    assertThatThrownBy(() -> e.delete(SPEC.uid(), new long[] {1}, EPOCHS)).isInstanceOf(QuiverException.class);
    assertHolds(e, 1); // reads go on
    e.close();

    ShardEngine back = open(options());
    assertHolds(back, 1);
    assertThat(back.degraded()).isFalse();
  }

  @Test
  void aFailedWriteIsNeverAcknowledged() throws IOException {
    FaultInjectingOpener faults = new FaultInjectingOpener();
    ShardEngine e = openWithCollection(options().channelOpener(faults));
    upsert(e, 1);
    faults.failWrites(new IOException("Input/output error"));
    assertThatThrownBy(() -> upsert(e, 2)).satisfies(t -> {
      Throwable c = t instanceof CompletionException ? t.getCause() : t;
      assertThat(c).isInstanceOfSatisfying(QuiverException.class, q -> assertThat(q.code()).isEqualTo(ErrorCode.STORAGE_UNAVAILABLE));
    });
    assertThat(e.degraded()).isTrue();
    e.close();
    ShardEngine back = open(options());
    assertHolds(back, 1);
  }

  @Test
  void refusesAWriteCarryingAStaleEpoch() throws IOException {
    ShardEngine e = openWithCollection(options());
    Map<Integer, Long> stale = new HashMap<>(EPOCHS);
    stale.replaceAll((p, epoch) -> 0L);
    assertThatThrownBy(() -> e.upsert(SPEC.uid(), new long[] {1}, new float[][] {vector(1)}, new byte[][] {null}, stale))
        .isInstanceOfSatisfying(QuiverException.class, q -> assertThat(q.code()).isEqualTo(ErrorCode.STALE_EPOCH));
    assertThat(e.walSequence()).isZero();
  }

  @Test
  void aDroppedCollectionStaysDroppedAfterRestart() throws IOException {
    ShardEngine e = openWithCollection(options());
    upsert(e, 1, 2);
    e.checkpoint();
    upsert(e, 3);
    assertThat(e.dropCollection(SPEC.uid())).isTrue();
    e.close();
    ShardEngine back = open(options());
    assertThat(back.collections()).isEmpty();
    assertThatThrownBy(() -> back.count(SPEC.uid(), null)).isInstanceOfSatisfying(QuiverException.class,
        q -> assertThat(q.code()).isEqualTo(ErrorCode.NOT_FOUND));
  }

  @Test
  void aPartitionReleasedByAMoveWhileASearchWaitsForThePoolDoesNotFailTheSearch() throws IOException {
    ShardEngine writer = openWithCollection(options());
    for (long id = 0; id < 300; id++) {
      upsert(writer, id);
    }
    writer.close();
    open.remove(writer);
    int moved = io.quiver.cluster.Partitioning.partitionOf(7, PARTITIONS);
    java.util.concurrent.atomic.AtomicReference<ShardEngine> engine = new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
    // A one-thread pool (the search is one task) that lets a move finish between dispatch and run.
    ExecutorService single = new java.util.concurrent.ThreadPoolExecutor(1, 1, 0, java.util.concurrent.TimeUnit.SECONDS,
        new java.util.concurrent.LinkedBlockingQueue<>()) {
      @Override
      protected void beforeExecute(Thread t, Runnable r) {
        if (released.compareAndSet(false, true)) {
          try {
            engine.get().releasePartition(SPEC.uid(), moved);
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
      }
    };
    try {
      ShardEngine e = new ShardEngine(options(), single, null);
      open.add(e);
      e.open();
      engine.set(e);
      // The search answers from the partitions owned when it was called (the released one included), not NPE.
      var during = e.search(SPEC.uid(), new float[][] {vector(7)}, 300, Metric.L2, SearchMode.EXACT, 0.95f, null, false);
      assertThat(released).isTrue();
      assertThat(during.get(0).hits()).hasSize(300);
      // Later searches leave the released partition to its new owner.
      for (SearchMode mode : new SearchMode[] {SearchMode.EXACT, SearchMode.AUTO}) {
        var hits = e.search(SPEC.uid(), new float[][] {vector(7)}, 300, Metric.L2, mode, 0.95f, null, false).get(0).hits();
        assertThat(hits).isNotEmpty()
            .allSatisfy(h -> assertThat(io.quiver.cluster.Partitioning.partitionOf(h.id(), PARTITIONS)).isNotEqualTo(moved));
      }
      long[] listed = e.idsAfter(SPEC.uid(), 0, false, 1000);
      assertThat(listed.length).isBetween(1, 299);
      assertThat(e.count(SPEC.uid(), null)).isEqualTo(listed.length);
      assertThat(java.util.Arrays.stream(listed).mapToInt(id -> io.quiver.cluster.Partitioning.partitionOf(id, PARTITIONS)))
          .doesNotContain(moved);
    } finally {
      single.shutdownNow();
    }
  }

  @Test
  void aPartitionMovesWithWritesDuringTheCopyAndTheNewOwnerListsAndServesEverything() throws IOException {
    ShardEngine from = openWithCollection(options());
    for (long id = 0; id < 200; id++) {
      upsert(from, id);
    }
    int p = io.quiver.cluster.Partitioning.partitionOf(5, PARTITIONS);
    long[] sizeAndEpoch = from.exportPartition(SPEC.uid(), p);
    // Writes after the snapshot land in the tail.
    List<Long> late = new ArrayList<>();
    for (long id = 1000; late.size() < 20; id++) {
      if (io.quiver.cluster.Partitioning.partitionOf(id, PARTITIONS) == p) {
        upsert(from, id);
        late.add(id);
      }
    }
    from.delete(SPEC.uid(), new long[] {5}, EPOCHS).join();
    int total = from.sealPartition(SPEC.uid(), p);
    assertThat(total).isEqualTo(21);
    assertThatThrownBy(() -> upsert(from, late.get(0))).isInstanceOfSatisfying(QuiverException.class,
        q -> assertThat(q.code()).isEqualTo(ErrorCode.STALE_EPOCH));
    byte[] snapshot = new byte[(int) sizeAndEpoch[0]];
    for (int off = 0; off < snapshot.length; ) {
      byte[] chunk = from.snapshotChunk(SPEC.uid(), p, off, 1000);
      System.arraycopy(chunk, 0, snapshot, off, chunk.length);
      off += chunk.length;
    }
    List<ShardEngine.TailRecord> tail = from.tail(SPEC.uid(), p, 0, 1000).records();

    Path otherDir = dir.resolve("other");
    ShardEngine to = open(options().dataDir(otherDir).shardId(1));
    to.createCollection(SPEC, Map.of());
    to.installIncoming(SPEC, p, sizeAndEpoch[1] + 1, snapshot, tail);
    assertThatThrownBy(() -> to.checkHolds(SPEC.uid(), new int[] {p})).isInstanceOf(QuiverException.class);
    to.commitIncoming(SPEC.uid(), p);
    to.checkHolds(SPEC.uid(), new int[] {p});
    from.releasePartition(SPEC.uid(), p);

    long[] listed = to.idsAfter(SPEC.uid(), 0, false, 10_000);
    List<Long> expected = new ArrayList<>(late);
    for (long id = 0; id < 200; id++) {
      if (io.quiver.cluster.Partitioning.partitionOf(id, PARTITIONS) == p && id != 5) {
        expected.add(id);
      }
    }
    assertThat(java.util.Arrays.stream(listed).boxed().toList()).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(to.count(SPEC.uid(), null)).isEqualTo(expected.size());
    late.forEach(id -> assertHolds(to, id));
    assertThat(to.get(SPEC.uid(), 5)).isNull();
    // A write with the new epoch is taken; the old owner no longer has the partition.
    Map<Integer, Long> newEpochs = new HashMap<>();
    newEpochs.put(p, sizeAndEpoch[1] + 1);
    to.upsert(SPEC.uid(), new long[] {late.get(0)}, new float[][] {vector(1)}, new byte[][] {null}, newEpochs).join();
    assertThatThrownBy(() -> from.get(SPEC.uid(), late.get(0))).isInstanceOf(QuiverException.class);

    // The moved partition survives a restart of its new owner.
    to.close();
    ShardEngine back = open(options().dataDir(otherDir).shardId(1));
    assertThat(back.count(SPEC.uid(), null)).isEqualTo(expected.size());
  }

  @Test
  void heapMustHoldTheBudgets() {
    long budget = 1024L << 20;
    assertThatThrownBy(() -> MemoryBudget.reserve(budget, MemoryBudget.heapNeeded(budget) - 1))
        .isInstanceOfSatisfying(QuiverException.class, q -> assertThat(q.getMessage()).contains("QUIVER_HEAP"));
    MemoryBudget.reserve(budget, MemoryBudget.heapNeeded(budget));
    MemoryBudget.release(budget);
  }

  private static void flipByte(Path file, long offset) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(offset);
      int b = f.read();
      f.seek(offset);
      f.write(b ^ 0x5A);
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }
}
