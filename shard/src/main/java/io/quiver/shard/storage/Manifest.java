package io.quiver.shard.storage;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The checkpoint manifest, {@code <data>/checkpoints/MANIFEST}: for each (collection uid, partition) the
 * checkpoint file that holds its state and the WAL sequence that file covers, plus a sequence floor. A
 * checkpoint file counts only once the manifest names it; WAL segments and superseded checkpoint files may go
 * only after a manifest that no longer needs them is durable. All integers big-endian.
 *
 * <pre>
 *   0  int   magic           0x514D414E ("QMAN")
 *   4  int   version         CURRENT_VERSION (1)
 *   8  long  sequenceFloor   highest sequence any published checkpoint ever covered; never decreases, so
 *                            recovery never reuses a sequence even after partitions are dropped and the WAL
 *                            that held it is gone
 *  16  int   entryCount
 *  20  entries, ascending by (uid unsigned, partition), each:
 *        long  collectionUid
 *        int   partition
 *        long  coveredSequence
 *        short nameLength    (bytes, UTF-8)
 *        bytes name          a checkpoint file name from {@link StorageFiles}, no directory part
 * n-4  int   crc             CRC32C of bytes 0 .. n-4
 * </pre>
 *
 * Written like a checkpoint: {@code MANIFEST.tmp}, force, atomic rename, force the directory. A missing
 * manifest is an empty one (a fresh shard). Immutable value (the {@code with*} methods return new ones) plus
 * static reading; thread-safe.
 */
public final class Manifest {

    static final int MAGIC = 0x514D_414E;
    static final int CURRENT_VERSION = 1;
    static final int HEADER_SIZE = 20;
    static final int TRAILER_SIZE = 4;

    /** One partition's published checkpoint. */
    public record Entry(PartitionKey partition, String fileName, long coveredSequence) {
        public Entry {
            if (!StorageFiles.isCheckpointFileName(fileName)) {
                throw new IllegalArgumentException("not a checkpoint file name: " + fileName);
            }
        }
    }

    private static final Manifest EMPTY = new Manifest(0, new TreeMap<>());

    private final long sequenceFloor;
    private final SortedMap<PartitionKey, Entry> entries;

    private Manifest(long sequenceFloor, SortedMap<PartitionKey, Entry> entries) {
        this.sequenceFloor = sequenceFloor;
        this.entries = Collections.unmodifiableSortedMap(entries);
    }

    public static Manifest empty() {
        return EMPTY;
    }

    public long sequenceFloor() {
        return sequenceFloor;
    }

    /** Entries ascending by partition key. */
    public Collection<Entry> entries() {
        return entries.values();
    }

    public Optional<Entry> entry(PartitionKey key) {
        return Optional.ofNullable(entries.get(key));
    }

    public int size() {
        return entries.size();
    }

    /** Names of every checkpoint file this manifest refers to. */
    public Set<String> fileNames() {
        Set<String> names = new HashSet<>();
        for (Entry e : entries.values()) {
            names.add(e.fileName());
        }
        return names;
    }

    /**
     * This manifest with {@code updates} replacing the entries of the same partitions.
     *
     * @throws IllegalArgumentException if an update covers less than the entry it replaces: publishing an older
     *                                  checkpoint over a newer one could lose records whose WAL is already gone
     */
    public Manifest withEntries(Collection<Entry> updates) {
        TreeMap<PartitionKey, Entry> next = new TreeMap<>(entries);
        long floor = sequenceFloor;
        for (Entry u : updates) {
            Entry old = next.get(u.partition());
            if (old != null && u.coveredSequence() < old.coveredSequence()) {
                throw new IllegalArgumentException("checkpoint of " + u.partition() + " covering " + u.coveredSequence()
                        + " would replace one covering " + old.coveredSequence());
            }
            next.put(u.partition(), u);
            floor = Math.max(floor, u.coveredSequence());
        }
        return new Manifest(floor, next);
    }

    /** This manifest without the given partitions (dropped collection, partition moved away); the floor stays. */
    public Manifest without(Collection<PartitionKey> keys) {
        TreeMap<PartitionKey, Entry> next = new TreeMap<>(entries);
        keys.forEach(next::remove);
        return new Manifest(sequenceFloor, next);
    }

    // ---------------------------------------------------------------- disk

    /** Reads and verifies the manifest; a missing file is {@link #empty()}. */
    static Manifest read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return EMPTY;
        }
        return decode(file, bytes);
    }

    /** tmp, force, rename, force directory, reporting the steps to {@code crash}. */
    void write(StorageFiles files, CheckpointCrashPoint crash) throws IOException {
        Path temporary = files.manifestTemporary();
        try (FileChannel channel = FileChannel.open(temporary,
                StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            DurableFiles.writeFully(channel, ByteBuffer.wrap(encode()));
            channel.force(true);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(temporary);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        crash.reached(CheckpointCrashPoint.Step.MANIFEST_TEMP_WRITTEN);
        DurableFiles.atomicMove(temporary, files.manifest());
        DurableFiles.forceDirectory(files.checkpointDirectory());
        crash.reached(CheckpointCrashPoint.Step.MANIFEST_DURABLE);
    }

    byte[] encode() {
        List<byte[]> names = entries.values().stream().map(e -> e.fileName().getBytes(StandardCharsets.UTF_8)).toList();
        int size = HEADER_SIZE + TRAILER_SIZE;
        for (byte[] n : names) {
            size += 8 + 4 + 8 + 2 + n.length;
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        out.putInt(MAGIC).putInt(CURRENT_VERSION).putLong(sequenceFloor).putInt(entries.size());
        int i = 0;
        for (Entry e : entries.values()) {
            byte[] name = names.get(i++);
            out.putLong(e.partition().collectionUid()).putInt(e.partition().partition()).putLong(e.coveredSequence())
                    .putShort((short) name.length).put(name);
        }
        CRC32C crc = new CRC32C();
        crc.update(out.array(), 0, out.position());
        out.putInt((int) crc.getValue());
        return out.array();
    }

    static Manifest decode(Path file, byte[] bytes) throws ManifestCorruptionException {
        if (bytes.length < HEADER_SIZE + TRAILER_SIZE) {
            throw new ManifestCorruptionException(file, bytes.length,
                    "file is " + bytes.length + " bytes; a manifest has at least " + (HEADER_SIZE + TRAILER_SIZE));
        }
        int crcOffset = bytes.length - TRAILER_SIZE;
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, crcOffset);
        if ((int) crc.getValue() != in.getInt(crcOffset)) {
            throw new ManifestCorruptionException(file, crcOffset, String.format(
                    "stored CRC32C %08x does not match %08x computed over bytes [0, %d)",
                    in.getInt(crcOffset), (int) crc.getValue(), crcOffset));
        }
        in.limit(crcOffset);
        if (in.getInt() != MAGIC) {
            throw new ManifestCorruptionException(file, 0, String.format("bad magic 0x%08x", in.getInt(0)));
        }
        int version = in.getInt();
        if (version < 1 || version > CURRENT_VERSION) {
            throw new ManifestCorruptionException(file, 4,
                    "unsupported version " + version + " (this build reads up to " + CURRENT_VERSION + ")");
        }
        long floor = in.getLong();
        int count = in.getInt();
        if (count < 0) {
            throw new ManifestCorruptionException(file, 16, "negative entry count " + count);
        }
        TreeMap<PartitionKey, Entry> entries = new TreeMap<>();
        for (int i = 0; i < count; i++) {
            int at = in.position();
            try {
                long uid = in.getLong();
                int partition = in.getInt();
                long covered = in.getLong();
                int nameLength = Short.toUnsignedInt(in.getShort());
                byte[] name = new byte[nameLength];
                in.get(name);
                String fileName = new String(name, StandardCharsets.UTF_8);
                if (partition < 0 || covered < 0 || !StorageFiles.isCheckpointFileName(fileName)) {
                    throw new ManifestCorruptionException(file, at, "invalid entry " + i + ": partition " + partition
                            + ", covered " + covered + ", file '" + fileName + "'");
                }
                Entry entry = new Entry(new PartitionKey(uid, partition), fileName, covered);
                if (entries.put(entry.partition(), entry) != null) {
                    throw new ManifestCorruptionException(file, at, "partition " + entry.partition() + " listed twice");
                }
                if (covered > floor) {
                    throw new ManifestCorruptionException(file, at,
                            "entry covers " + covered + " above the sequence floor " + floor);
                }
            } catch (BufferUnderflowException e) {
                throw new ManifestCorruptionException(file, at, "entry " + i + " of " + count + " runs past the end");
            }
        }
        if (in.hasRemaining()) {
            throw new ManifestCorruptionException(file, in.position(), in.remaining() + " unexpected bytes after the entries");
        }
        return new Manifest(floor, entries);
    }

    @Override
    public String toString() {
        return "Manifest[floor=" + sequenceFloor + ", " + entries.values() + "]";
    }
}
