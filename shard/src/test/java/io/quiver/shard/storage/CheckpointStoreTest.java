package io.quiver.shard.storage;

import static io.quiver.shard.storage.PartitionModel.body;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class CheckpointStoreTest {

    private static final PartitionKey A = new PartitionKey(21, 0);
    private static final PartitionKey B = new PartitionKey(21, 1);

    @TempDir
    Path tmp;

    private static PartitionModel stateOf(PartitionKey key, long... values) {
        PartitionModel m = new PartitionModel();
        for (long v : values) {
            m.add(key, v);
        }
        return m;
    }

    @Test
    void publishedCheckpointsRoundTripThroughTheManifest() throws Exception {
        Path data = tmp.resolve("data");
        try (RecoveredStorage s = RecoveredStorage.recover(data)) {
            CheckpointFile a = s.checkpoints.writeFile(A.collectionUid(), A.partition(), 0, stateOf(A, 1, 2, 3).writerFor(A));
            CheckpointFile b = s.checkpoints.writeFile(B.collectionUid(), B.partition(), 0, stateOf(B, 9).writerFor(B));
            Manifest m = s.checkpoints.publish(List.of(a, b));
            assertThat(m.entries()).extracting(Manifest.Entry::partition).containsExactly(A, B);
            assertThat(m.entry(A)).get().extracting(Manifest.Entry::fileName).isEqualTo(a.fileName());
        }
        try (RecoveredStorage s = RecoveredStorage.recover(data)) {
            assertThat(s.model.of(A)).containsExactly(1L, 2L, 3L);
            assertThat(s.model.of(B)).containsExactly(9L);
            assertThat(s.checkpoints.manifest().size()).isEqualTo(2);
        }
    }

    @Test
    void aWrittenButUnpublishedCheckpointIsIgnoredAndRemovedByRecovery() throws Exception {
        Path data = tmp.resolve("data");
        StorageFiles files = new StorageFiles(data);
        try (RecoveredStorage s = RecoveredStorage.recover(data)) {
            s.checkpoints.writeFile(A.collectionUid(), A.partition(), 0, stateOf(A, 1).writerFor(A));
            assertThat(files.listCheckpointFiles()).hasSize(1);
        }
        try (RecoveredStorage s = RecoveredStorage.recover(data)) {
            assertThat(s.model.values).isEmpty();
            assertThat(s.result.unpublishedCheckpointsDeleted()).isEqualTo(1);
        }
        assertThat(files.listCheckpointFiles()).isEmpty();
    }

    @Test
    void everyByteOverwriteInACheckpointIsCorruptionNamingFileAndOffset() throws Exception {
        Path source = tmp.resolve("source");
        try (RecoveredStorage s = RecoveredStorage.recover(source)) {
            s.checkpoints.write(A.collectionUid(), A.partition(), 0, stateOf(A, 1, 2, 3).writerFor(A));
        }
        StorageFiles sourceFiles = new StorageFiles(source);
        Path checkpoint = sourceFiles.checkpoint(A, 0);
        long size = Files.size(checkpoint);
        for (long at = 0; at < size; at++) {
            Path copy = tmp.resolve("flip-" + at);
            StorageFiles files = new StorageFiles(copy);
            files.createDirectories();
            Files.copy(sourceFiles.manifest(), files.manifest());
            Files.copy(checkpoint, files.checkpoint(A, 0));
            overwriteByte(files.checkpoint(A, 0), at);
            assertThatThrownBy(() -> RecoveredStorage.recover(copy).close())
                    .as("overwrite at offset %d", at)
                    .isInstanceOfSatisfying(CheckpointCorruptionException.class, e -> {
                        assertThat(e.file()).isEqualTo(files.checkpoint(A, 0));
                        assertThat(e.offset()).isEqualTo(size - 4); // where the CRC that no longer matches is stored
                    })
                    .hasMessageContaining(files.checkpoint(A, 0).toString())
                    .hasMessageContaining("offset " + (size - 4));
        }
    }

    @Test
    void truncatedOrMissingCheckpointIsCorruption() throws Exception {
        Path data = tmp.resolve("data");
        try (RecoveredStorage s = RecoveredStorage.recover(data)) {
            s.checkpoints.write(A.collectionUid(), A.partition(), 0, stateOf(A, 1, 2).writerFor(A));
        }
        Path checkpoint = new StorageFiles(data).checkpoint(A, 0);
        try (RandomAccessFile f = new RandomAccessFile(checkpoint.toFile(), "rw")) {
            f.setLength(f.length() - 1);
        }
        assertThatThrownBy(() -> RecoveredStorage.recover(data).close())
                .isInstanceOf(CheckpointCorruptionException.class)
                .hasMessageContaining(checkpoint.toString());
        Files.delete(checkpoint);
        assertThatThrownBy(() -> RecoveredStorage.recover(data).close())
                .isInstanceOf(CheckpointCorruptionException.class)
                .hasMessageContaining(checkpoint.toString())
                .hasMessageContaining("missing");
    }

    @Test
    void everyByteOverwriteInTheManifestIsCorruptionNamingFileAndOffset() throws Exception {
        Path source = tmp.resolve("source");
        try (RecoveredStorage s = RecoveredStorage.recover(source)) {
            s.checkpoints.write(A.collectionUid(), A.partition(), 0, stateOf(A, 1).writerFor(A));
            s.checkpoints.write(B.collectionUid(), B.partition(), 0, stateOf(B, 2).writerFor(B));
        }
        StorageFiles sourceFiles = new StorageFiles(source);
        long size = Files.size(sourceFiles.manifest());
        for (long at = 0; at < size; at++) {
            Path copy = tmp.resolve("flip-" + at);
            StorageFiles files = new StorageFiles(copy);
            files.createDirectories();
            Files.copy(sourceFiles.manifest(), files.manifest());
            overwriteByte(files.manifest(), at);
            assertThatThrownBy(() -> RecoveredStorage.recover(copy).close())
                    .as("overwrite at offset %d", at)
                    .isInstanceOfSatisfying(ManifestCorruptionException.class,
                            e -> assertThat(e.offset()).isEqualTo(size - 4))
                    .hasMessageContaining(files.manifest().toString())
                    .hasMessageContaining("offset " + (size - 4));
        }
        Path copy = tmp.resolve("short");
        StorageFiles files = new StorageFiles(copy);
        files.createDirectories();
        Files.write(files.manifest(), new byte[] {1, 2, 3});
        assertThatThrownBy(() -> RecoveredStorage.recover(copy).close())
                .isInstanceOf(ManifestCorruptionException.class)
                .hasMessageContaining(files.manifest().toString())
                .hasMessageContaining("offset 3");
    }

    @Test
    void droppedPartitionLeavesTheManifestAndItsFileIsRetired() throws Exception {
        Path data = tmp.resolve("data");
        StorageFiles files = new StorageFiles(data);
        try (RecoveredStorage s = RecoveredStorage.recover(data)) {
            s.checkpoints.write(A.collectionUid(), A.partition(), 0, stateOf(A, 1).writerFor(A));
            s.checkpoints.write(B.collectionUid(), B.partition(), 0, stateOf(B, 2).writerFor(B));
            Manifest m = s.checkpoints.drop(List.of(B));
            assertThat(m.entries()).extracting(Manifest.Entry::partition).containsExactly(A);
            assertThat(files.listCheckpointFiles()).hasSize(2);
            RetireResult retired = s.checkpoints.retireObsolete(s.wal, Set.of(A));
            assertThat(retired.checkpointFilesDeleted()).isEqualTo(1);
            assertThat(files.listCheckpointFiles()).containsExactly(files.checkpoint(A, 0));
        }
        try (RecoveredStorage s = RecoveredStorage.recover(data)) {
            assertThat(s.model.values).containsOnlyKeys(A);
        }
    }

    @Test
    void aNewerCheckpointSupersedesTheOlderFileAndAnOlderOneIsRefused() throws Exception {
        Path data = tmp.resolve("data");
        StorageFiles files = new StorageFiles(data);
        try (RecoveredStorage s = RecoveredStorage.recover(data)) {
            for (int i = 1; i <= 4; i++) {
                s.wal.append((byte) 0, A.collectionUid(), A.partition(), body(i, 0)).get(10, TimeUnit.SECONDS);
            }
            s.checkpoints.write(A.collectionUid(), A.partition(), 2, stateOf(A, 1, 2).writerFor(A));
            s.checkpoints.write(A.collectionUid(), A.partition(), 4, stateOf(A, 1, 2, 3, 4).writerFor(A));
            assertThatThrownBy(() -> s.checkpoints.write(A.collectionUid(), A.partition(), 3,
                    stateOf(A, 1, 2, 3).writerFor(A)))
                    .isInstanceOf(IllegalArgumentException.class);
            s.checkpoints.retireObsolete(s.wal, Set.of(A));
            assertThat(files.listCheckpointFiles()).containsExactly(files.checkpoint(A, 4));
        }
        try (RecoveredStorage s = RecoveredStorage.recover(data)) {
            assertThat(s.model.of(A)).containsExactly(1L, 2L, 3L, 4L);
            assertThat(s.result.recordsSkipped()).isEqualTo(4);
        }
    }

    @Test
    void retireKeepsTheWalALivePartitionWithoutACheckpointStillNeeds() throws Exception {
        Path data = tmp.resolve("data");
        WalOptions small = new WalOptions().segmentBytes(128);
        try (RecoveredStorage s = RecoveredStorage.recover(data, small)) {
            for (int i = 1; i <= 12; i++) {
                PartitionKey key = i % 2 == 0 ? A : B;
                s.wal.append((byte) 0, key.collectionUid(), key.partition(), body(i, 16)).get(10, TimeUnit.SECONDS);
            }
            int segments = s.wal.segmentFirstSequences().size();
            assertThat(segments).isGreaterThan(2);
            s.checkpoints.write(A.collectionUid(), A.partition(), 12, stateOf(A, 2, 4, 6, 8, 10, 12).writerFor(A));

            RetireResult blocked = s.checkpoints.retireObsolete(s.wal, Set.of(A, B));
            assertThat(blocked.walSafeSequence()).isZero();
            assertThat(blocked.segmentsDeleted()).isZero();

            RetireResult onlyA = s.checkpoints.retireObsolete(s.wal, Set.of(A));
            assertThat(onlyA.walSafeSequence()).isEqualTo(12);
            assertThat(onlyA.segmentsDeleted()).isEqualTo(segments - 1);
        }
    }

    private static void overwriteByte(Path file, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ 0x5A);
        }
    }
}
