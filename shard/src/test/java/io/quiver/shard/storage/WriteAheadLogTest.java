package io.quiver.shard.storage;

import static io.quiver.shard.storage.PartitionModel.body;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class WriteAheadLogTest {

    private static final PartitionKey P = new PartitionKey(7, 3);
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private WriteAheadLog openFresh(WalOptions options) throws IOException {
        WriteAheadLog wal = WriteAheadLog.open(new StorageFiles(dir), options);
        wal.replay(0, r -> { });
        return wal;
    }

    private static long await(CompletableFuture<Long> f) throws Exception {
        return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private static List<WalRecord> replayAll(Path dataDir) throws IOException {
        List<WalRecord> out = new ArrayList<>();
        try (WriteAheadLog wal = WriteAheadLog.open(new StorageFiles(dataDir), new WalOptions())) {
            wal.replay(0, r -> {
                ByteBuffer copy = ByteBuffer.allocate(r.body().remaining()).put(r.body().duplicate()).flip();
                out.add(new WalRecord(r.type(), r.sequence(), r.collectionUid(), r.partition(), copy));
            });
        }
        return out;
    }

    @Test
    void appendedRecordsComeBackInOrderWithTheirFields() throws Exception {
        try (WriteAheadLog wal = openFresh(new WalOptions())) {
            assertThat(await(wal.append((byte) 1, 7, 3, body(100, 0)))).isEqualTo(1);
            assertThat(await(wal.append((byte) 2, -1L, 0, ByteBuffer.allocate(0)))).isEqualTo(2);
            long last = await(wal.appendAll(List.of(
                    new WalEntry((byte) 3, 8, 1, body(101, 5)),
                    new WalEntry((byte) 4, 8, 2, body(102, 7)))));
            assertThat(last).isEqualTo(4);
            assertThat(wal.lastSequence()).isEqualTo(4);
        }
        List<WalRecord> records = replayAll(dir);
        assertThat(records).extracting(WalRecord::sequence).containsExactly(1L, 2L, 3L, 4L);
        assertThat(records).extracting(WalRecord::type).containsExactly((byte) 1, (byte) 2, (byte) 3, (byte) 4);
        assertThat(records).extracting(WalRecord::collectionUid).containsExactly(7L, -1L, 8L, 8L);
        assertThat(records).extracting(WalRecord::partition).containsExactly(3, 0, 1, 2);
        assertThat(records.get(0).body()).isEqualTo(body(100, 0));
        assertThat(records.get(1).body().remaining()).isZero();
        assertThat(records.get(3).body()).isEqualTo(body(102, 7));
    }

    @Test
    void replayHandsOnlyRecordsAfterTheGivenSequence() throws Exception {
        try (WriteAheadLog wal = openFresh(new WalOptions())) {
            for (int i = 1; i <= 5; i++) {
                await(wal.append((byte) 0, 1, 0, body(i, 0)));
            }
        }
        List<Long> seen = new ArrayList<>();
        try (WriteAheadLog wal = WriteAheadLog.open(new StorageFiles(dir), new WalOptions())) {
            ReplayResult result = wal.replay(3, r -> seen.add(r.sequence()));
            assertThat(result.lastSequence()).isEqualTo(5);
            assertThat(result.recordsRead()).isEqualTo(5);
            assertThat(result.recordsHandled()).isEqualTo(2);
        }
        assertThat(seen).containsExactly(4L, 5L);
    }

    @Test
    void appendingBeforeReplayIsRejected() throws Exception {
        try (WriteAheadLog wal = WriteAheadLog.open(new StorageFiles(dir), new WalOptions())) {
            assertThatThrownBy(() -> wal.append((byte) 0, 1, 0, body(1, 0)))
                    .isInstanceOf(IllegalStateException.class);
            wal.replay(0, r -> { });
            await(wal.append((byte) 0, 1, 0, body(1, 0)));
            assertThatThrownBy(() -> wal.replay(0, r -> { })).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void segmentsRollAtTheConfiguredSizeAndCoveredOnesAreDeleted() throws Exception {
        // 40-byte bodies make 69-byte records: a 256-byte segment holds its 20-byte header and 3 records.
        StorageFiles files = new StorageFiles(dir);
        try (WriteAheadLog wal = openFresh(new WalOptions().segmentBytes(256))) {
            for (int i = 1; i <= 30; i++) {
                await(wal.append((byte) 0, 1, 0, body(i, 32)));
            }
            List<Long> firsts = LongStream.iterate(1, s -> s + 3).limit(10).boxed().toList();
            assertThat(wal.segmentFirstSequences()).isEqualTo(firsts);
            assertThat(files.listSegments()).isEqualTo(firsts);
            for (long first : firsts) {
                assertThat(Files.size(files.segment(first))).isEqualTo(20 + 3 * 69);
            }
            assertThat(wal.sizeBytes()).isEqualTo(10 * (20 + 3 * 69));

            // Segment 7 holds 7..9: not covered by 8. The active segment is never deleted.
            assertThat(wal.deleteSegmentsCoveredBy(8)).isEqualTo(2);
            assertThat(files.listSegments()).startsWith(7L);
            assertThat(wal.deleteSegmentsCoveredBy(Long.MAX_VALUE)).isEqualTo(7);
            assertThat(files.listSegments()).containsExactly(28L);
            assertThat(wal.sizeBytes()).isEqualTo(20 + 3 * 69);

            // A record larger than a segment gets a segment of its own; the next record starts another.
            assertThat(await(wal.append((byte) 0, 1, 0, body(31, 400)))).isEqualTo(31);
            assertThat(await(wal.append((byte) 0, 1, 0, body(32, 0)))).isEqualTo(32);
            assertThat(files.listSegments()).containsExactly(28L, 31L, 32L);
        }
        assertThat(replayAll(dir)).extracting(WalRecord::sequence).containsExactly(28L, 29L, 30L, 31L, 32L);
    }

    @Test
    void aRolledSegmentIsForcedBeforeTheNextOneGetsARecord() throws Exception {
        // ASYNC with a long interval: no background force will run, so any force seen comes from the roll.
        FaultInjectingOpener opener = new FaultInjectingOpener();
        StorageFiles files = new StorageFiles(dir);
        try (WriteAheadLog wal = openFresh(new WalOptions().durability(Durability.ASYNC).syncIntervalMs(3_600_000)
                .segmentBytes(256).channelOpener(opener))) {
            for (int i = 1; i <= 3; i++) {
                wal.append((byte) 0, 1, 0, body(i, 32));
            }
            assertThat(opener.durableBytes(files.segment(1))).isZero();
            wal.append((byte) 0, 1, 0, body(4, 32));
            assertThat(files.listSegments()).containsExactly(1L, 4L);
            assertThat(opener.durableBytes(files.segment(1))).isEqualTo(Files.size(files.segment(1)));
            assertThat(opener.durableBytes(files.segment(4))).isZero();
        }
    }

    @Test
    void oneBatchCostsOneForce() throws Exception {
        try (WriteAheadLog wal = openFresh(new WalOptions())) {
            await(wal.append((byte) 0, 1, 0, body(0, 0)));
            long before = wal.forceCount();
            List<WalEntry> batch = new ArrayList<>();
            for (int i = 1; i <= 500; i++) {
                batch.add(new WalEntry((byte) 0, 1, i % 4, body(i, 100)));
            }
            assertThat(await(wal.appendAll(batch))).isEqualTo(501);
            assertThat(wal.forceCount() - before).isEqualTo(1);
        }
        assertThat(replayAll(dir)).hasSize(501);
    }

    @Test
    void groupCommitSharesForcesAcrossConcurrentAppenders() throws Exception {
        // Every force waits at a gate until all appends are written. So no future may complete before the gate
        // opens, and after it opens at most two forces (the one held at the gate, then one for everything else)
        // must cover all 1600 records.
        FaultInjectingOpener opener = new FaultInjectingOpener();
        CountDownLatch gate = new CountDownLatch(1);
        opener.holdForces(gate);
        Path segment = new StorageFiles(dir).segment(1);
        int threads = 8;
        int perThread = 200;
        int recordSize = WalSegment.recordSize(16);
        ConcurrentLinkedQueue<CompletableFuture<Long>> all = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        AtomicLong listenerCalls = new AtomicLong();

        try (WriteAheadLog wal = openFresh(new WalOptions().channelOpener(opener)
                .forceLatencyListener(nanos -> listenerCalls.incrementAndGet()))) {
            List<Thread> appenders = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                appenders.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < perThread; i++) {
                        CompletableFuture<Long> f = wal.append((byte) 0, thread, i, body(thread * 1000L + i, 8));
                        f.whenComplete((seq, error) -> {
                            long end = WalSegment.HEADER_SIZE + seq * recordSize;
                            if (error != null) {
                                violations.add("append failed: " + error);
                            } else if (opener.durableBytes(segment) < end) {
                                violations.add("seq " + seq + " acknowledged before a force covered byte " + end);
                            }
                        });
                        all.add(f);
                    }
                }));
            }
            for (Thread t : appenders) {
                t.join();
            }
            assertThat(all).hasSize(threads * perThread).noneMatch(CompletableFuture::isDone);

            gate.countDown();
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(WAIT.toSeconds(), TimeUnit.SECONDS);

            assertThat(violations).isEmpty();
            Set<Long> sequences = new TreeSet<>();
            for (CompletableFuture<Long> f : all) {
                sequences.add(f.join());
            }
            assertThat(sequences).hasSize(threads * perThread).first().isEqualTo(1L);
            assertThat(wal.forceCount()).isBetween(1L, 2L);
            assertThat(listenerCalls.get()).isEqualTo(wal.forceCount());
            assertThat(wal.durableSequence()).isEqualTo(threads * perThread);
        }
    }

    @Test
    void asyncAcknowledgesOnWriteAndForcesInTheBackground() throws Exception {
        FaultInjectingOpener opener = new FaultInjectingOpener();
        CountDownLatch gate = new CountDownLatch(1);
        opener.holdForces(gate);
        Path segment = new StorageFiles(dir).segment(1);
        try (WriteAheadLog wal = openFresh(new WalOptions().durability(Durability.ASYNC).syncIntervalMs(5)
                .channelOpener(opener))) {
            for (int i = 1; i <= 20; i++) {
                CompletableFuture<Long> f = wal.append((byte) 0, 1, 0, body(i, 8));
                // Complete when append returns, although no force can have finished: they all wait at the gate.
                assertThat(f).isCompletedWithValue((long) i);
            }
            assertThat(opener.completedForces()).isZero();
            assertThat(wal.forceCount()).isZero();

            gate.countDown();
            Await.until("a background force", WAIT, () -> wal.durableSequence() == 20);
            assertThat(wal.forceCount()).isPositive();
            assertThat(opener.durableBytes(segment)).isEqualTo(Files.size(segment));
        }
    }

    @Test
    void asyncForcesAsSoonAsEnoughBytesWereWrittenWithoutWaitingForTheInterval() throws Exception {
        try (WriteAheadLog wal = openFresh(new WalOptions().durability(Durability.ASYNC).syncIntervalMs(3_600_000)
                .asyncForceBytes(4096))) {
            for (int i = 1; i <= 3; i++) {
                assertThat(wal.append((byte) 0, 1, 0, body(i, 100))).isCompletedWithValue((long) i);
            }
            assertThat(wal.forceCount()).isZero();
            for (int i = 4; i <= 60; i++) {
                assertThat(wal.append((byte) 0, 1, 0, body(i, 100))).isCompletedWithValue((long) i);
            }
            Await.until("a force triggered by the bytes written", WAIT, () -> wal.durableSequence() >= 30);
            assertThat(wal.forceCount()).isPositive();
        }
    }

    @Test
    void asyncLogWithNothingToForceDoesNotForce() throws Exception {
        try (WriteAheadLog wal = openFresh(new WalOptions().durability(Durability.ASYNC).syncIntervalMs(3_600_000))) {
            for (int i = 1; i <= 50; i++) {
                assertThat(wal.append((byte) 0, 1, 0, body(i, 8))).isCompletedWithValue((long) i);
            }
            assertThat(wal.forceCount()).isZero();
        }
    }

    @Test
    void writeFailureFailsTheAppendAndEveryLaterOne() throws Exception {
        FaultInjectingOpener opener = new FaultInjectingOpener();
        IOException diskFull = new IOException("No space left on device");
        try (WriteAheadLog wal = openFresh(new WalOptions().channelOpener(opener))) {
            for (int i = 1; i <= 5; i++) {
                await(wal.append((byte) 0, 1, 0, body(i, 8)));
            }
            opener.failWrites(diskFull);
            CompletableFuture<Long> failed = wal.append((byte) 0, 1, 0, body(6, 64));
            assertFailsWithStorageUnavailable(failed, diskFull);
            assertThat(wal.isFailed()).isTrue();

            opener.failWrites(null); // the disk has room again: the log must still refuse
            assertFailsWithStorageUnavailable(wal.append((byte) 0, 1, 0, body(7, 8)), diskFull);
            assertFailsWithStorageUnavailable(wal.appendAll(List.of(new WalEntry((byte) 0, 1, 0, body(8, 8)))), diskFull);
        }
        // The failed write left half a record behind: a torn tail that recovery cuts off.
        try (RecoveredStorage again = RecoveredStorage.recover(dir)) {
            assertThat(again.model.of(new PartitionKey(1, 0))).containsExactly(1L, 2L, 3L, 4L, 5L);
            assertThat(again.result.tornBytesDropped()).isPositive();
            assertThat(await(again.wal.append((byte) 0, 1, 0, body(6, 8)))).isEqualTo(6);
        }
    }

    @Test
    void forceFailureFailsEveryWaitingAppendAndEveryLaterOne() throws Exception {
        FaultInjectingOpener opener = new FaultInjectingOpener();
        IOException eio = new IOException("Input/output error");
        try (WriteAheadLog wal = openFresh(new WalOptions().channelOpener(opener))) {
            await(wal.append((byte) 0, 1, 0, body(1, 8)));
            long forcesBefore = wal.forceCount();

            CountDownLatch gate = new CountDownLatch(1);
            opener.holdForces(gate);
            opener.failForces(eio);
            List<CompletableFuture<Long>> waiting = new ArrayList<>();
            for (int i = 2; i <= 11; i++) {
                waiting.add(wal.append((byte) 0, 1, 0, body(i, 8)));
            }
            gate.countDown();
            for (CompletableFuture<Long> f : waiting) {
                assertFailsWithStorageUnavailable(f, eio);
            }
            assertThat(wal.isFailed()).isTrue();
            assertThat(wal.forceCount()).isEqualTo(forcesBefore);

            opener.failForces(null);
            assertFailsWithStorageUnavailable(wal.append((byte) 0, 1, 0, body(12, 8)), eio);
            assertThat(wal.durableSequence()).isEqualTo(1);
        }
    }

    @Test
    void asyncBackgroundForceFailureFailsLaterAppends() throws Exception {
        FaultInjectingOpener opener = new FaultInjectingOpener();
        IOException eio = new IOException("Input/output error");
        opener.failForces(eio);
        try (WriteAheadLog wal = openFresh(new WalOptions().durability(Durability.ASYNC).syncIntervalMs(5)
                .channelOpener(opener))) {
            assertThat(wal.append((byte) 0, 1, 0, body(1, 8))).isCompletedWithValue(1L);
            Await.until("the background force to fail", WAIT, wal::isFailed);
            assertFailsWithStorageUnavailable(wal.append((byte) 0, 1, 0, body(2, 8)), eio);
        }
    }

    @Test
    void appendsAfterCloseAreRefused() throws Exception {
        WriteAheadLog wal = openFresh(new WalOptions());
        await(wal.append((byte) 0, 1, 0, body(1, 8)));
        wal.close();
        assertThatThrownBy(() -> await(wal.append((byte) 0, 1, 0, body(2, 8))))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(StorageUnavailableException.class);
    }

    @Test
    void zeroFilledTailIsCutOffAsTorn() throws Exception {
        try (WriteAheadLog wal = openFresh(new WalOptions())) {
            for (int i = 1; i <= 5; i++) {
                await(wal.append((byte) 0, 1, 0, body(i, 8)));
            }
        }
        Path segment = new StorageFiles(dir).segment(1);
        long valid = Files.size(segment);
        try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
            f.setLength(valid + 4096); // what a file system may show after a crash during an extending write
        }
        try (WriteAheadLog wal = WriteAheadLog.open(new StorageFiles(dir), new WalOptions())) {
            ReplayResult result = wal.replay(0, r -> { });
            assertThat(result.lastSequence()).isEqualTo(5);
            assertThat(result.tornBytesDropped()).isEqualTo(4096);
        }
        assertThat(Files.size(segment)).isEqualTo(valid);
    }

    @Test
    void lastSegmentWithATornHeaderIsDroppedAndTheLogContinues() throws Exception {
        StorageFiles files = new StorageFiles(dir);
        try (WriteAheadLog wal = openFresh(new WalOptions().segmentBytes(256))) {
            for (int i = 1; i <= 4; i++) {
                await(wal.append((byte) 0, 1, 0, body(i, 32)));
            }
        }
        assertThat(files.listSegments()).containsExactly(1L, 4L);
        try (RandomAccessFile f = new RandomAccessFile(files.segment(4).toFile(), "rw")) {
            f.setLength(11); // a crash while the new segment's header was being written
        }
        try (RecoveredStorage again = RecoveredStorage.recover(dir, new WalOptions().segmentBytes(256))) {
            assertThat(again.model.of(new PartitionKey(1, 0))).containsExactly(1L, 2L, 3L);
            assertThat(again.result.lastSequence()).isEqualTo(3);
            assertThat(await(again.wal.append((byte) 0, 1, 0, body(4, 32)))).isEqualTo(4);
        }
        assertThat(files.listSegments()).containsExactly(1L, 4L);
        assertThat(replayAll(dir)).extracting(WalRecord::sequence).containsExactly(1L, 2L, 3L, 4L);
    }

    static void assertFailsWithStorageUnavailable(CompletableFuture<Long> future, IOException rootCause) {
        assertThatThrownBy(() -> future.get(WAIT.toSeconds(), TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(StorageUnavailableException.class)
                .hasCause(rootCause);
    }
}
