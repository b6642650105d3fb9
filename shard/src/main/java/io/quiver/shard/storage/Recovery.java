package io.quiver.shard.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a shard's storage back after a clean stop or a crash, in numbered passes (see {@link #run}). Any
 * corruption ({@link StorageCorruptionException}) stops it: the shard must refuse to start, and the message
 * names the file and offset. Runs once, on one thread, before the WAL accepts appends; not thread-safe.
 */
public final class Recovery {

    private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);

    private final StorageFiles files;
    private final WriteAheadLog wal;
    private final CheckpointStore checkpoints;
    private final LongSupplier nanoTime;

    public Recovery(StorageFiles files, WriteAheadLog wal, CheckpointStore checkpoints) {
        this(files, wal, checkpoints, System::nanoTime);
    }

    public Recovery(StorageFiles files, WriteAheadLog wal, CheckpointStore checkpoints, LongSupplier nanoTime) {
        this.files = Objects.requireNonNull(files, "files");
        this.wal = Objects.requireNonNull(wal, "wal");
        this.checkpoints = Objects.requireNonNull(checkpoints, "checkpoints");
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    }

    /**
     * @param loader  receives each published checkpoint's verified state
     * @param applier receives, in sequence order, every WAL record not covered by its partition's checkpoint
     */
    public RecoveryResult run(CheckpointLoader loader, RecordHandler applier) throws IOException {
        Objects.requireNonNull(loader, "loader");
        Objects.requireNonNull(applier, "applier");
        long start = nanoTime.getAsLong();

        // Pass 1: temporaries. A *.tmp file is a checkpoint or manifest whose rename never happened; the file it
        // was meant to replace (if any) is still complete, so the temporary is simply discarded.
        int temporaries = 0;
        for (Path tmp : files.listTemporaryFiles()) {
            Files.deleteIfExists(tmp);
            temporaries++;
        }
        if (temporaries > 0) {
            DurableFiles.forceDirectory(files.checkpointDirectory());
            DurableFiles.forceDirectory(files.walDirectory());
        }

        // Pass 2: the manifest (missing = empty: a fresh shard). Checkpoint files it does not name were written
        // but never published, or superseded but not yet retired: nothing will read them, so they go.
        Manifest manifest = checkpoints.loadManifest();
        int unpublished = checkpoints.deleteUnreferencedCheckpoints();

        // Pass 3: each published checkpoint, CRC-verified before the loader sees a byte.
        Map<PartitionKey, Long> covered = new HashMap<>();
        for (Manifest.Entry entry : manifest.entries()) {
            checkpoints.read(entry, in -> loader.load(entry.partition(), entry.coveredSequence(), in));
            covered.put(entry.partition(), entry.coveredSequence());
        }

        // Pass 4: the WAL, all segments in order (verified; a torn tail of the last segment is cut off). A record
        // is applied only if its partition's checkpoint does not already cover it; partitions without a
        // checkpoint get every record.
        long[] skipped = {0};
        long[] replayed = {0};
        ReplayResult replay = wal.replay(0, record -> {
            Long c = covered.get(record.partitionKey());
            if (c != null && record.sequence() <= c) {
                skipped[0]++;
            } else {
                replayed[0]++;
                applier.handle(record);
            }
        });

        // Pass 5: where the WAL continues: after its last record, and never at or below a sequence a checkpoint
        // covered (the WAL may have lost an unforced ASYNC tail, or its segments were retired).
        long last = Math.max(replay.lastSequence(), manifest.sequenceFloor());
        wal.resumeAfter(last);

        Duration duration = Duration.ofNanos(nanoTime.getAsLong() - start);
        RecoveryResult result = new RecoveryResult(last, temporaries, unpublished, covered.size(), replayed[0],
                skipped[0], replay.tornBytesDropped(), duration);
        LOG.info("recovered {} in {} ms: {} checkpoint(s), {} WAL record(s) applied, {} already covered, "
                        + "{} torn byte(s) cut, {} temporary and {} unpublished file(s) removed; WAL continues after {}",
                files.dataDirectory(), duration.toMillis(), covered.size(), replayed[0], skipped[0],
                replay.tornBytesDropped(), temporaries, unpublished, last);
        return result;
    }
}
