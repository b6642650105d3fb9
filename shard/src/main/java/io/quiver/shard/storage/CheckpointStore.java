package io.quiver.shard.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checkpoints of a shard's partitions in {@code <data>/checkpoints/} and the {@link Manifest} that publishes them.
 *
 * <p>One cycle, in this order (each step is a {@link CheckpointCrashPoint.Step}):
 * <ol>
 *   <li>{@link #writeFile}: the partition state goes to {@code <name>.ckpt.tmp}, is forced, renamed atomically to
 *       {@code <name>.ckpt}, and the directory is forced ({@link CheckpointFile}). Not yet visible to recovery.</li>
 *   <li>{@link #publish}: one new manifest naming every file just written: tmp, force, rename, force directory.
 *       From here on recovery loads these files and replays only records above their covered sequences.</li>
 *   <li>{@link #retireObsolete}: only now, WAL segments that every live partition's checkpoint covers, and
 *       checkpoint files the manifest no longer names, are deleted.</li>
 * </ol>
 * {@link #write} does steps 1 and 2 for one partition. Checkpointing several partitions then publishing once
 * costs one manifest write instead of many.
 *
 * <p>The covered sequence is the caller's promise: the state it streams reflects every record of that partition
 * with sequence &lt;= covered. Records above it are replayed on top at recovery, so if the snapshot is fuzzy
 * (also holds some later records) applying them must be idempotent.
 *
 * <p>Thread-safe. {@link #writeFile} may run concurrently for different partitions and alongside appends;
 * publish, drop and retire are serialized by one lock. The manifest must be loaded ({@link #loadManifest},
 * done by {@link Recovery}) before anything is published.
 */
public final class CheckpointStore {

    private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);

    private final StorageFiles files;
    private final CheckpointCrashPoint crash;
    private final ReentrantLock manifestLock = new ReentrantLock();
    /** Checkpoint files written (or being written) but not yet named by the manifest: retire must not delete them. */
    private final Set<String> unpublished = ConcurrentHashMap.newKeySet();
    private volatile Manifest manifest;

    private CheckpointStore(StorageFiles files, CheckpointCrashPoint crash) {
        this.files = files;
        this.crash = crash;
    }

    public static CheckpointStore open(StorageFiles files) throws IOException {
        return open(files, CheckpointCrashPoint.NONE);
    }

    /** Creates the checkpoint directory if needed; reads nothing yet. */
    public static CheckpointStore open(StorageFiles files, CheckpointCrashPoint crash) throws IOException {
        Objects.requireNonNull(files, "files");
        Objects.requireNonNull(crash, "crash");
        Files.createDirectories(files.checkpointDirectory());
        return new CheckpointStore(files, crash);
    }

    /** Reads and verifies the manifest (missing = empty) and makes it current. */
    public Manifest loadManifest() throws IOException {
        manifestLock.lock();
        try {
            manifest = Manifest.read(files.manifest());
            return manifest;
        } finally {
            manifestLock.unlock();
        }
    }

    /** The current (last loaded or published) manifest. */
    public Manifest manifest() {
        Manifest m = manifest;
        if (m == null) {
            throw new IllegalStateException("the manifest has not been loaded; run recovery first");
        }
        return m;
    }

    /**
     * Step 1: writes one partition's checkpoint file durably. It counts only after {@link #publish}.
     *
     * @throws IllegalArgumentException if the manifest already holds a checkpoint of this partition covering more
     */
    public CheckpointFile writeFile(long collectionUid, int partition, long coveredSequence, StateWriter writer)
            throws IOException {
        Objects.requireNonNull(writer, "writer");
        PartitionKey key = new PartitionKey(collectionUid, partition);
        long published = manifest().entry(key).map(Manifest.Entry::coveredSequence).orElse(-1L);
        if (coveredSequence < published) {
            throw new IllegalArgumentException("checkpoint of " + key + " covering " + coveredSequence
                    + " is older than the published one covering " + published);
        }
        String name = StorageFiles.checkpointFileName(key, coveredSequence);
        unpublished.add(name);
        try {
            return CheckpointFile.write(files, key, coveredSequence, writer, crash);
        } catch (IOException | RuntimeException e) {
            unpublished.remove(name);
            throw e;
        }
    }

    /** Step 2: one durable manifest naming {@code written} (replacing older entries of the same partitions). */
    public Manifest publish(Collection<CheckpointFile> written) throws IOException {
        List<Manifest.Entry> updates = new ArrayList<>();
        for (CheckpointFile f : written) {
            updates.add(new Manifest.Entry(f.partition(), f.fileName(), f.coveredSequence()));
        }
        manifestLock.lock();
        try {
            Manifest next;
            try {
                next = manifest().withEntries(updates);
            } catch (IllegalArgumentException refused) {
                // Nothing was written: the files are not referenced anywhere, so retire may delete them.
                written.forEach(f -> unpublished.remove(f.fileName()));
                throw refused;
            }
            // If the write fails the files stay protected: the manifest on disk may name them after all.
            next.write(files, crash);
            manifest = next;
            written.forEach(f -> unpublished.remove(f.fileName()));
            return next;
        } finally {
            manifestLock.unlock();
        }
    }

    /** Steps 1 and 2 for one partition. */
    public Manifest write(long collectionUid, int partition, long coveredSequence, StateWriter writer) throws IOException {
        return publish(List.of(writeFile(collectionUid, partition, coveredSequence, writer)));
    }

    /**
     * Removes partitions from the manifest (collection dropped, partition moved away) and makes that durable.
     * Their files are deleted by the next {@link #retireObsolete}. Their WAL records stay until retired and are
     * replayed at recovery like any record without a checkpoint; the engine ignores what it no longer owns.
     */
    public Manifest drop(Collection<PartitionKey> partitions) throws IOException {
        manifestLock.lock();
        try {
            Manifest next = manifest().without(partitions);
            next.write(files, crash);
            manifest = next;
            return next;
        } finally {
            manifestLock.unlock();
        }
    }

    /** Verifies and reads one published checkpoint. */
    public void read(Manifest.Entry entry, StateReader reader) throws IOException {
        CheckpointFile.read(files.checkpointDirectory().resolve(entry.fileName()), entry.partition(),
                entry.coveredSequence(), reader);
    }

    /**
     * Step 3: deletes what the durable manifest no longer needs. WAL segments may go up to the smallest covered
     * sequence among {@code livePartitions} (every partition this shard still owns, whose records must survive),
     * capped by the manifest's sequence floor; a live partition without a checkpoint keeps the whole WAL. Then
     * checkpoint files the manifest does not name (superseded, dropped, or never published) are deleted.
     */
    public RetireResult retireObsolete(WriteAheadLog wal, Set<PartitionKey> livePartitions) throws IOException {
        Objects.requireNonNull(wal, "wal");
        manifestLock.lock();
        try {
            Manifest m = manifest();
            long safe = m.sequenceFloor();
            for (PartitionKey key : livePartitions) {
                long covered = m.entry(key).map(Manifest.Entry::coveredSequence).orElse(0L);
                safe = Math.min(safe, covered);
            }
            crash.reached(CheckpointCrashPoint.Step.BEFORE_SEGMENT_DELETE);
            int segments = safe > 0 ? wal.deleteSegmentsCoveredBy(safe) : 0;
            crash.reached(CheckpointCrashPoint.Step.SEGMENTS_DELETED);
            int checkpoints = deleteUnreferencedCheckpointsLocked(m);
            return new RetireResult(safe, segments, checkpoints);
        } finally {
            manifestLock.unlock();
        }
    }

    /** Deletes checkpoint files the current manifest does not name and nobody is writing; recovery pass 2 uses it. */
    int deleteUnreferencedCheckpoints() throws IOException {
        manifestLock.lock();
        try {
            return deleteUnreferencedCheckpointsLocked(manifest());
        } finally {
            manifestLock.unlock();
        }
    }

    private int deleteUnreferencedCheckpointsLocked(Manifest m) throws IOException {
        Set<String> keep = m.fileNames();
        int deleted = 0;
        for (Path p : files.listCheckpointFiles()) {
            String name = p.getFileName().toString();
            if (!keep.contains(name) && !unpublished.contains(name)) {
                Files.deleteIfExists(p);
                deleted++;
            }
        }
        if (deleted > 0) {
            DurableFiles.forceDirectory(files.checkpointDirectory());
            LOG.info("checkpoints {}: deleted {} file(s) the manifest no longer names", files.checkpointDirectory(), deleted);
        }
        return deleted;
    }
}
