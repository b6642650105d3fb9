package io.quiver.shard.storage;

import static io.quiver.shard.storage.PartitionModel.body;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class RecoveryTest {

    private static final List<PartitionKey> PARTITIONS = List.of(
            new PartitionKey(11, 0), new PartitionKey(11, 1), new PartitionKey(12, 0), new PartitionKey(-5, 7));

    @TempDir
    Path tmp;

    private static long await(CompletableFuture<Long> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    /** Record i (1-based) has an 8-byte value i and (i * 5) % 13 filler bytes, so sizes vary. */
    private static int filler(int i) {
        return (i * 5) % 13;
    }

    @Test
    void recoveryTruncatesTornTailRecord() throws Exception {
        int n = 12;
        Path source = tmp.resolve("source");
        long[] ends = new long[n + 1];
        ends[0] = WalSegment.HEADER_SIZE;
        try (RecoveredStorage s = RecoveredStorage.recover(source)) {
            for (int i = 1; i <= n; i++) {
                assertThat(await(s.wal.append((byte) i, 11, 0, body(i, filler(i))))).isEqualTo(i);
                ends[i] = ends[i - 1] + WalSegment.recordSize(8 + filler(i));
            }
        }
        StorageFiles sourceFiles = new StorageFiles(source);
        assertThat(sourceFiles.listSegments()).containsExactly(1L);
        assertThat(Files.size(sourceFiles.segment(1))).isEqualTo(ends[n]);

        PartitionKey key = new PartitionKey(11, 0);
        // Every cut from the start of record n-2 to the end of the file (a cut at a record boundary is no tear).
        for (long cut = ends[n - 3]; cut <= ends[n]; cut++) {
            Path copy = tmp.resolve("cut-" + cut);
            StorageFiles files = new StorageFiles(copy);
            files.createDirectories();
            Files.copy(sourceFiles.segment(1), files.segment(1));
            try (RandomAccessFile f = new RandomAccessFile(files.segment(1).toFile(), "rw")) {
                f.setLength(cut);
            }
            int complete = 0;
            while (complete < n && ends[complete + 1] <= cut) {
                complete++;
            }
            List<Long> expected = new ArrayList<>();
            for (long v = 1; v <= complete; v++) {
                expected.add(v);
            }

            try (RecoveredStorage s = RecoveredStorage.recover(copy)) {
                assertThat(s.model.of(key)).as("records back after a cut at %d", cut).isEqualTo(expected);
                assertThat(s.result.lastSequence()).isEqualTo(complete);
                assertThat(s.result.tornBytesDropped()).isEqualTo(cut - ends[complete]);
                assertThat(Files.size(files.segment(1))).isEqualTo(ends[complete]);
                assertThat(await(s.wal.append((byte) 0, 11, 0, body(1000, 3)))).isEqualTo(complete + 1);
            }
            expected.add(1000L);
            try (RecoveredStorage s = RecoveredStorage.recover(copy)) {
                assertThat(s.model.of(key)).as("records after appending past a cut at %d", cut).isEqualTo(expected);
                assertThat(s.result.tornBytesDropped()).isZero();
            }
        }
    }

    @Test
    void everyByteOverwriteInAnEarlierRecordIsCorruptionNamingFileAndOffset() throws Exception {
        // Two segments of three records each (plus a third segment), so the damaged record is in turn: the last
        // record of a non-last segment (which would pass for a torn tail if it were the log's end), and a record
        // in the last segment that valid records follow.
        Path source = tmp.resolve("source");
        WalOptions options = new WalOptions().segmentBytes(20 + 3 * WalSegment.recordSize(16));
        try (RecoveredStorage s = RecoveredStorage.recover(source, options)) {
            for (int i = 1; i <= 8; i++) {
                await(s.wal.append((byte) 0, 11, 0, body(i, 8)));
            }
        }
        StorageFiles sourceFiles = new StorageFiles(source);
        assertThat(sourceFiles.listSegments()).containsExactly(1L, 4L, 7L);
        int recordSize = WalSegment.recordSize(16);

        record Target(long segment, long recordOffset) { }
        List<Target> targets = List.of(
                new Target(4, 20 + 2L * recordSize),  // sequence 6: last record of the middle segment
                new Target(7, 20));                   // sequence 7: followed by sequence 8 in the last segment
        int run = 0;
        for (Target target : targets) {
            for (long at = target.recordOffset(); at < target.recordOffset() + recordSize; at++) {
                Path copy = tmp.resolve("flip-" + run++);
                copyTree(source, copy);
                Path damaged = new StorageFiles(copy).segment(target.segment());
                overwriteByte(damaged, at);
                assertThatThrownBy(() -> RecoveredStorage.recover(copy, options).close())
                        .as("overwrite at offset %d of %s", at, damaged.getFileName())
                        .isInstanceOfSatisfying(WalCorruptionException.class, e -> {
                            assertThat(e.file()).isEqualTo(damaged);
                            assertThat(e.offset()).isEqualTo(target.recordOffset());
                        })
                        .hasMessageContaining(damaged.toString())
                        .hasMessageContaining("offset " + target.recordOffset());
            }
        }
    }

    @Test
    void aDamagedSegmentHeaderBeforeTheLastSegmentIsCorruption() throws Exception {
        Path source = tmp.resolve("source");
        WalOptions options = new WalOptions().segmentBytes(20 + 3 * WalSegment.recordSize(16));
        try (RecoveredStorage s = RecoveredStorage.recover(source, options)) {
            for (int i = 1; i <= 5; i++) {
                await(s.wal.append((byte) 0, 11, 0, body(i, 8)));
            }
        }
        Path first = new StorageFiles(source).segment(1);
        overwriteByte(first, 9);
        assertThatThrownBy(() -> RecoveredStorage.recover(source, options).close())
                .isInstanceOf(WalCorruptionException.class)
                .hasMessageContaining(first.toString())
                .hasMessageContaining("offset 0");
    }

    @Test
    void recordsCoveredByACheckpointAreSkippedAndOthersReplayed() throws Exception {
        Path data = tmp.resolve("data");
        PartitionKey checkpointed = PARTITIONS.get(0);
        PartitionKey never = PARTITIONS.get(1);
        PartitionModel written = new PartitionModel();
        try (RecoveredStorage s = RecoveredStorage.recover(data)) {
            for (int i = 1; i <= 10; i++) {
                PartitionKey key = i % 2 == 0 ? checkpointed : never;
                await(s.wal.append((byte) 0, key.collectionUid(), key.partition(), body(i, 0)));
                written.add(key, i);
                if (i == 6) {
                    s.checkpoints.write(checkpointed.collectionUid(), checkpointed.partition(), 6,
                            written.writerFor(checkpointed));
                }
            }
        }
        try (RecoveredStorage s = RecoveredStorage.recover(data)) {
            assertThat(s.model.values).isEqualTo(written.values);
            assertThat(s.result.checkpointsLoaded()).isEqualTo(1);
            assertThat(s.result.recordsSkipped()).isEqualTo(3);  // 2, 4, 6
            assertThat(s.result.recordsReplayed()).isEqualTo(7); // 1, 3, 5, 7, 8, 9, 10
            assertThat(s.result.lastSequence()).isEqualTo(10);
            assertThat(s.result.duration()).isPositive();
        }
    }

    @Test
    void crashAtEveryCheckpointStepLeavesEveryRecordExactlyOnce() throws Exception {
        // Count how many crash points one full run passes, then crash at each of them in turn.
        int arrivals = runCheckpointScenario(tmp.resolve("count"), Integer.MAX_VALUE).arrivals;
        // Per cycle: three file steps per partition, two manifest steps, two retire steps.
        assertThat(arrivals).isEqualTo(2 * (PARTITIONS.size() * 3 + 4));
        Set<CheckpointCrashPoint.Step> crashedAt = new java.util.TreeSet<>();
        for (int k = 1; k <= arrivals; k++) {
            Path data = tmp.resolve("crash-" + k);
            Scenario run = runCheckpointScenario(data, k);
            assertThat(run.crashedAt).as("run %d", k).isNotNull();
            crashedAt.add(run.crashedAt);

            try (RecoveredStorage s = RecoveredStorage.recover(data, smallSegments())) {
                assertThat(s.model.values).as("state after a crash at %s (arrival %d)", run.crashedAt, k)
                        .isEqualTo(run.written.values);
                assertThat(s.result.lastSequence()).isEqualTo(run.lastSequence);
                assertThat(await(s.wal.append((byte) 0, 1, 0, body(0, 0)))).isEqualTo(run.lastSequence + 1);
                assertThat(new StorageFiles(data).listTemporaryFiles()).isEmpty();
            }
        }
        assertThat(crashedAt).containsExactlyInAnyOrder(CheckpointCrashPoint.Step.values());
    }

    private static WalOptions smallSegments() {
        return new WalOptions().segmentBytes(256);
    }

    private static final class Scenario {
        final PartitionModel written = new PartitionModel();
        int arrivals;
        CheckpointCrashPoint.Step crashedAt;
        long lastSequence;
    }

    /**
     * 40 records over four partitions, a full checkpoint cycle, 40 more records, another cycle; the crash point
     * throws at its {@code crashAt}-th arrival, and the "process" then stops as it is.
     */
    private Scenario runCheckpointScenario(Path data, int crashAt) throws Exception {
        Scenario run = new Scenario();
        AtomicInteger arrivals = new AtomicInteger();
        CheckpointCrashPoint crash = step -> {
            if (arrivals.incrementAndGet() == crashAt) {
                run.crashedAt = step;
                throw new SimulatedCrash("crash at " + step);
            }
        };
        try (RecoveredStorage s = RecoveredStorage.recover(data, smallSegments(), crash)) {
            try {
                int value = 0;
                for (int cycle = 0; cycle < 2; cycle++) {
                    List<CompletableFuture<Long>> acks = new ArrayList<>();
                    for (int i = 0; i < 40; i++) {
                        value++;
                        PartitionKey key = PARTITIONS.get(value % PARTITIONS.size());
                        acks.add(s.wal.append((byte) 0, key.collectionUid(), key.partition(), body(value, value % 9)));
                        run.written.add(key, value);
                    }
                    for (CompletableFuture<Long> ack : acks) {
                        run.lastSequence = Math.max(run.lastSequence, await(ack));
                    }
                    long covered = s.wal.lastSequence();
                    List<CheckpointFile> files = new ArrayList<>();
                    for (PartitionKey key : PARTITIONS) {
                        files.add(s.checkpoints.writeFile(key.collectionUid(), key.partition(), covered,
                                run.written.writerFor(key)));
                    }
                    s.checkpoints.publish(files);
                    RetireResult retired = s.checkpoints.retireObsolete(s.wal, Set.copyOf(PARTITIONS));
                    assertThat(retired.walSafeSequence()).isEqualTo(covered);
                    assertThat(retired.segmentsDeleted()).isPositive();
                }
            } catch (SimulatedCrash expected) {
                // the process died here; whatever is on disk is what recovery gets
            }
        }
        run.arrivals = arrivals.get();
        return run;
    }

    @Test
    void leftoverTemporaryFilesAreDeleted() throws Exception {
        Path data = tmp.resolve("data");
        StorageFiles files = new StorageFiles(data);
        files.createDirectories();
        Path checkpointTmp = StorageFiles.temporaryFor(files.checkpoint(PARTITIONS.get(0), 5));
        Files.write(checkpointTmp, new byte[] {1, 2, 3});
        Files.write(files.manifestTemporary(), new byte[] {4});
        try (RecoveredStorage s = RecoveredStorage.recover(data)) {
            assertThat(s.result.temporaryFilesDeleted()).isEqualTo(2);
        }
        assertThat(files.listTemporaryFiles()).isEmpty();
    }

    @Test
    void sequencesStayAboveWhatACheckpointCoveredWhenTheWalTailIsGone() throws Exception {
        // ASYNC plus a power loss can leave a checkpoint covering records the WAL lost; a dropped partition can
        // take the highest covered sequence out of the manifest. Neither may make a sequence be reused.
        Path data = tmp.resolve("data");
        PartitionKey key = PARTITIONS.get(0);
        PartitionModel written = new PartitionModel();
        try (RecoveredStorage s = RecoveredStorage.recover(data)) {
            for (int i = 1; i <= 5; i++) {
                await(s.wal.append((byte) 0, key.collectionUid(), key.partition(), body(i, 0)));
                written.add(key, i);
            }
            s.checkpoints.write(key.collectionUid(), key.partition(), 5, written.writerFor(key));
            s.checkpoints.drop(List.of(key));
        }
        StorageFiles files = new StorageFiles(data);
        for (long first : files.listSegments()) {
            Files.delete(files.segment(first));
        }
        try (RecoveredStorage s = RecoveredStorage.recover(data)) {
            assertThat(s.model.values).isEmpty();
            assertThat(s.result.lastSequence()).isEqualTo(5);
            assertThat(await(s.wal.append((byte) 0, 1, 0, body(6, 0)))).isEqualTo(6);
        }
    }

    @Test
    void checkpointCorruptionStopsRecoveryNamingFileAndOffset() throws Exception {
        Path data = tmp.resolve("data");
        PartitionKey key = PARTITIONS.get(0);
        try (RecoveredStorage s = RecoveredStorage.recover(data)) {
            PartitionModel written = new PartitionModel();
            for (int i = 1; i <= 3; i++) {
                written.add(key, i);
            }
            s.checkpoints.write(key.collectionUid(), key.partition(), 0, written.writerFor(key));
        }
        Path checkpoint = new StorageFiles(data).checkpoint(key, 0);
        long size = Files.size(checkpoint);
        overwriteByte(checkpoint, 30);
        assertThatThrownBy(() -> RecoveredStorage.recover(data).close())
                .isInstanceOf(CheckpointCorruptionException.class)
                .hasMessageContaining(checkpoint.toString())
                .hasMessageContaining("offset " + (size - 4));
    }

    private static void overwriteByte(Path file, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ 0x5A);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
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
