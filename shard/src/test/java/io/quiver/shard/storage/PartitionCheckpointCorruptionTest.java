package io.quiver.shard.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quiver.shard.index.Metric;
import io.quiver.shard.index.PartitionIndex;
import io.quiver.shard.index.payload.Payload;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A partition checkpoint whose graph section is damaged is refused with the file and the offset: a flipped
 * byte fails the CRC; bytes that pass it (a writer or reader bug) fail the graph section's own checks, and
 * the error names the file and where reading stopped.
 */
class PartitionCheckpointCorruptionTest {

    private static final PartitionKey KEY = new PartitionKey(5, 2);
    private static final int DIM = 8;

    @TempDir
    Path dir;

    private static PartitionIndex partition() {
        Random random = new Random(9);
        PartitionIndex index = new PartitionIndex(DIM, Metric.L2, Runnable::run);
        for (int i = 0; i < 120; i++) {
            float[] v = new float[DIM];
            for (int d = 0; d < DIM; d++) {
                v[d] = random.nextFloat();
            }
            index.upsert(i, v, Payload.fromJson("{\"i\":" + i + "}"));
        }
        return index;
    }

    /** The offset in the state of the first score of the first node of level 0 (see PartitionIndex's layout). */
    private static int firstScoreInState(PartitionIndex index) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        index.writeTo(new DataOutputStream(bytes));
        ByteBuffer b = ByteBuffer.wrap(bytes.toByteArray());
        int p = 17;
        for (int r = 0; r < b.getInt(13); r++) {
            p += 9 + 4 * DIM + 4;
            p += b.getInt(p - 4);
        }
        int graph = p + 9; // flag, indexedCount, byteLength
        int levels = b.getInt(graph + 8);
        return graph + 12 + 4 * levels + 4 + 12 + 4; // level 0: node count, node, neighbour count, first neighbour
    }

    private CheckpointFile write(PartitionIndex index) throws IOException {
        StorageFiles files = new StorageFiles(dir);
        files.createDirectories();
        return CheckpointFile.write(files, KEY, 40, index::writeTo, CheckpointCrashPoint.NONE);
    }

    private static void read(CheckpointFile file) throws IOException {
        CheckpointFile.read(file.path(), KEY, 40, in -> PartitionIndex.readFrom(in, task -> { }));
    }

    @Test
    void aGraphSectionThatPassesTheCrcButNotItsChecksNamesFileAndOffset() throws IOException {
        PartitionIndex index = partition();
        CheckpointFile file = write(index);
        read(file); // intact: loads
        long scoreAt = CheckpointFile.HEADER_SIZE + firstScoreInState(index);
        byte[] bytes = Files.readAllBytes(file.path());
        ByteBuffer.wrap(bytes).putFloat((int) scoreAt, Float.NaN);
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, bytes.length - CheckpointFile.TRAILER_SIZE);
        ByteBuffer.wrap(bytes).putInt(bytes.length - CheckpointFile.TRAILER_SIZE, (int) crc.getValue());
        Files.write(file.path(), bytes);

        assertThatThrownBy(() -> read(file))
                .isInstanceOfSatisfying(CheckpointCorruptionException.class, e -> {
                    assertThat(e.file()).isEqualTo(file.path());
                    assertThat(e.offset()).as("reading stopped right after the bad score").isEqualTo(scoreAt + 4);
                })
                .hasMessageContaining(file.path().toString())
                .hasMessageContaining("corrupt graph section at byte")
                .hasMessageContaining("NaN");
    }

    @Test
    void aFlippedByteInTheGraphSectionFailsTheCrcNamingFileAndOffset() throws IOException {
        PartitionIndex index = partition();
        CheckpointFile file = write(index);
        long scoreAt = CheckpointFile.HEADER_SIZE + firstScoreInState(index);
        byte[] bytes = Files.readAllBytes(file.path());
        bytes[(int) scoreAt] ^= 0x40;
        Files.write(file.path(), bytes);

        assertThatThrownBy(() -> read(file))
                .isInstanceOfSatisfying(CheckpointCorruptionException.class, e -> {
                    assertThat(e.file()).isEqualTo(file.path());
                    assertThat(e.offset()).isEqualTo(bytes.length - CheckpointFile.TRAILER_SIZE);
                })
                .hasMessageContaining("CRC32C");
    }
}
