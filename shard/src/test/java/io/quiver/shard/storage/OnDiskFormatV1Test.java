package io.quiver.shard.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Version 1 files, byte for byte, as the first build wrote them. If a change makes these fail, the on-disk
 * format changed: bump CURRENT_VERSION and keep reading version 1, do not edit these bytes.
 */
class OnDiskFormatV1Test {

    private static final HexFormat HEX = HexFormat.of();
    private static final PartitionKey KEY = new PartitionKey(7, 3);

    /** Records (type 1, uid 7, partition 3, "hello") and (type 2, uid 7, partition 4, empty body). */
    private static final String SEGMENT_1 = ""
            + "5157414c" + "00000001" + "0000000000000001" + "6d832257"        // magic, version, first seq, header crc
            + "0000001a" + "6295d688" + "01" + "0000000000000001"              // length 26, crc, type, seq 1
            + "0000000000000007" + "00000003" + "68656c6c6f"                   // uid, partition, "hello"
            + "00000015" + "da0672da" + "02" + "0000000000000002"              // length 21, crc, type, seq 2
            + "0000000000000007" + "00000004";                                 // uid, partition, no body

    /** Partition 7/3 covering sequence 1; its state is int 1, long 42. */
    private static final String CHECKPOINT = ""
            + "51434b50" + "00000001" + "0000000000000007" + "00000003" + "0000000000000001"
            + "00000001" + "000000000000002a"
            + "34ca8554";

    private static final String CHECKPOINT_NAME = "00000000000000000007-0000000003-00000000000000000001.ckpt";

    private static final String MANIFEST = ""
            + "514d414e" + "00000001" + "0000000000000001" + "00000001"        // magic, version, floor 1, 1 entry
            + "0000000000000007" + "00000003" + "0000000000000001" + "0039"    // uid, partition, covered, name length
            + HEX.formatHex(CHECKPOINT_NAME.getBytes(StandardCharsets.US_ASCII))
            + "10f3264e";

    @TempDir
    Path dir;

    @Test
    void readsVersion1FilesWrittenByTheFirstBuild() throws Exception {
        StorageFiles files = new StorageFiles(dir);
        files.createDirectories();
        Files.write(files.segment(1), HEX.parseHex(SEGMENT_1));
        Files.write(files.checkpointDirectory().resolve(CHECKPOINT_NAME), HEX.parseHex(CHECKPOINT));
        Files.write(files.manifest(), HEX.parseHex(MANIFEST));

        PartitionModel checkpoints = new PartitionModel();
        List<WalRecord> applied = new ArrayList<>();
        try (WriteAheadLog wal = WriteAheadLog.open(files, new WalOptions())) {
            RecoveryResult result = new Recovery(files, wal, CheckpointStore.open(files))
                    .run(checkpoints::load, applied::add);
            assertThat(result.lastSequence()).isEqualTo(2);
            assertThat(result.recordsSkipped()).isEqualTo(1);
        }
        assertThat(checkpoints.of(KEY)).containsExactly(42L);
        assertThat(applied).singleElement().satisfies(r -> {
            assertThat(r.sequence()).isEqualTo(2);
            assertThat(r.type()).isEqualTo((byte) 2);
            assertThat(r.collectionUid()).isEqualTo(7);
            assertThat(r.partition()).isEqualTo(4);
            assertThat(r.body().remaining()).isZero();
        });
    }

    @Test
    void writesVersion1BytesExactly() throws Exception {
        ByteBuffer segment = ByteBuffer.allocate(HEX.parseHex(SEGMENT_1).length);
        WalSegment.encodeHeader(segment, 1);
        WalSegment.encodeRecord(segment, (byte) 1, 1, 7, 3, ByteBuffer.wrap("hello".getBytes(StandardCharsets.UTF_8)));
        WalSegment.encodeRecord(segment, (byte) 2, 2, 7, 4, ByteBuffer.allocate(0));
        assertThat(HEX.formatHex(segment.array())).isEqualTo(SEGMENT_1);

        Manifest manifest = Manifest.empty().withEntries(List.of(new Manifest.Entry(KEY, CHECKPOINT_NAME, 1)));
        assertThat(HEX.formatHex(manifest.encode())).isEqualTo(MANIFEST);

        StorageFiles files = new StorageFiles(dir);
        files.createDirectories();
        CheckpointStore store = CheckpointStore.open(files);
        store.loadManifest();
        CheckpointFile written = store.writeFile(7, 3, 1, out -> {
            out.writeInt(1);
            out.writeLong(42);
        });
        assertThat(written.fileName()).isEqualTo(CHECKPOINT_NAME);
        assertThat(HEX.formatHex(Files.readAllBytes(written.path()))).isEqualTo(CHECKPOINT);
    }
}
