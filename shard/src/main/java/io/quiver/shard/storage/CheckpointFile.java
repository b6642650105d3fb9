package io.quiver.shard.storage;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;
import java.util.zip.CheckedOutputStream;

/**
 * One partition's checkpoint, {@code <uid>-<partition>-<covered>.ckpt} in {@code <data>/checkpoints/}: the
 * partition state as of every WAL record up to {@code coveredSequence}. All integers big-endian.
 *
 * <pre>
 *   0  int   magic            0x51434B50 ("QCKP")
 *   4  int   version          CURRENT_VERSION (1)
 *   8  long  collectionUid
 *  16  int   partition
 *  20  long  coveredSequence
 *  28  ...   state            whatever the {@link StateWriter} wrote; opaque here
 * n-4  int   crc              CRC32C of bytes 0 .. n-4
 * </pre>
 *
 * Written as {@code <name>.tmp}, forced, renamed atomically over {@code <name>}, directory forced: a reader
 * sees the whole file or none. Reading verifies the CRC over the whole file before the state reader sees a byte.
 * A file of this name written twice (same partition, same covered sequence) is replaced atomically.
 *
 * <p>Immutable value plus static I/O; thread-safe as long as two threads do not write the same name at once.
 */
public final class CheckpointFile {

    static final int MAGIC = 0x5143_4B50;
    static final int CURRENT_VERSION = 1;
    static final int HEADER_SIZE = 28;
    static final int TRAILER_SIZE = 4;
    private static final int BUFFER = 64 * 1024;

    private final PartitionKey partition;
    private final long coveredSequence;
    private final Path path;

    CheckpointFile(PartitionKey partition, long coveredSequence, Path path) {
        this.partition = partition;
        this.coveredSequence = coveredSequence;
        this.path = path;
    }

    public PartitionKey partition() {
        return partition;
    }

    public long coveredSequence() {
        return coveredSequence;
    }

    public Path path() {
        return path;
    }

    public String fileName() {
        return path.getFileName().toString();
    }

    /** Writes, forces and atomically publishes the file (not the manifest), reporting each step to {@code crash}. */
    static CheckpointFile write(StorageFiles files, PartitionKey key, long coveredSequence, StateWriter writer,
                                CheckpointCrashPoint crash) throws IOException {
        Path target = files.checkpoint(key, coveredSequence);
        Path temporary = StorageFiles.temporaryFor(target);
        try (FileChannel channel = FileChannel.open(temporary,
                StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            CRC32C crc = new CRC32C();
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
                    new CheckedOutputStream(Channels.newOutputStream(channel), crc), BUFFER));
            out.writeInt(MAGIC);
            out.writeInt(CURRENT_VERSION);
            out.writeLong(key.collectionUid());
            out.writeInt(key.partition());
            out.writeLong(coveredSequence);
            writer.writeTo(new DataOutputStream(new FlushOnClose(out)));
            out.flush();
            DurableFiles.writeFully(channel, ByteBuffer.allocate(TRAILER_SIZE).putInt((int) crc.getValue()).flip());
            channel.force(true);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(temporary, e);
            throw e;
        }
        crash.reached(CheckpointCrashPoint.Step.CHECKPOINT_TEMP_WRITTEN);
        try {
            DurableFiles.atomicMove(temporary, target);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(temporary, e);
            throw e;
        }
        crash.reached(CheckpointCrashPoint.Step.CHECKPOINT_RENAMED);
        DurableFiles.forceDirectory(files.checkpointDirectory());
        crash.reached(CheckpointCrashPoint.Step.CHECKPOINT_DURABLE);
        return new CheckpointFile(key, coveredSequence, target);
    }

    /**
     * Verifies the file's CRC and header against what the manifest says it holds, then hands the state to
     * {@code reader}. A missing, short, mismatching or inconsistent file is a {@link CheckpointCorruptionException}.
     */
    static void read(Path path, PartitionKey expectedKey, long expectedCovered, StateReader reader) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < HEADER_SIZE + TRAILER_SIZE) {
                throw new CheckpointCorruptionException(path, size, "file is " + size + " bytes; a checkpoint has at least "
                        + (HEADER_SIZE + TRAILER_SIZE));
            }
            long crcOffset = size - TRAILER_SIZE;
            int computed = crc(channel, crcOffset);
            ByteBuffer stored = ByteBuffer.allocate(TRAILER_SIZE);
            DurableFiles.readFully(channel, stored, crcOffset);
            if (stored.getInt(0) != computed) {
                throw new CheckpointCorruptionException(path, crcOffset, String.format(
                        "stored CRC32C %08x does not match %08x computed over bytes [0, %d)",
                        stored.getInt(0), computed, crcOffset));
            }
            ByteBuffer header = ByteBuffer.allocate(HEADER_SIZE);
            DurableFiles.readFully(channel, header, 0);
            checkHeader(path, header, expectedKey, expectedCovered);
            RangeInputStream range = new RangeInputStream(channel, HEADER_SIZE, crcOffset);
            CountingInputStream state = new CountingInputStream(new BufferedInputStream(range, BUFFER));
            try {
                reader.readFrom(new DataInputStream(state));
            } catch (StorageCorruptionException e) {
                throw e;
            } catch (IOException e) {
                if (range.failed) {
                    throw e; // the disk failed, not the content
                }
                // The CRC matched, so these are the bytes that were written: the writer or the reader is wrong.
                throw new CheckpointCorruptionException(path, HEADER_SIZE + state.count,
                        "partition state does not parse (offset is where reading stopped): " + e.getMessage(), e);
            }
        } catch (NoSuchFileException e) {
            throw new CheckpointCorruptionException(path, 0, "file named by the manifest is missing");
        }
    }

    private static void checkHeader(Path path, ByteBuffer h, PartitionKey key, long covered) throws IOException {
        if (h.getInt(0) != MAGIC) {
            throw new CheckpointCorruptionException(path, 0, String.format("bad magic 0x%08x", h.getInt(0)));
        }
        int version = h.getInt(4);
        if (version < 1 || version > CURRENT_VERSION) {
            throw new CheckpointCorruptionException(path, 4,
                    "unsupported version " + version + " (this build reads up to " + CURRENT_VERSION + ")");
        }
        if (h.getLong(8) != key.collectionUid() || h.getInt(16) != key.partition()) {
            throw new CheckpointCorruptionException(path, 8, "holds partition " + Long.toUnsignedString(h.getLong(8))
                    + "/" + h.getInt(16) + " but the manifest expects " + key);
        }
        if (h.getLong(20) != covered) {
            throw new CheckpointCorruptionException(path, 20,
                    "covers sequence " + h.getLong(20) + " but the manifest expects " + covered);
        }
    }

    private static int crc(FileChannel channel, long end) throws IOException {
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER);
        for (long p = 0; p < end; ) {
            buf.clear().limit((int) Math.min(BUFFER, end - p));
            DurableFiles.readFully(channel, buf, p);
            p += buf.position();
            crc.update(buf.flip());
        }
        return (int) crc.getValue();
    }

    private static void deleteQuietly(Path path, Exception cause) {
        try {
            java.nio.file.Files.deleteIfExists(path);
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }

    @Override
    public String toString() {
        return "CheckpointFile[" + partition + " covers " + coveredSequence + ", " + path.getFileName() + "]";
    }

    /** Lets the state writer close its stream without closing the file under it. */
    private static final class FlushOnClose extends FilterOutputStream {
        FlushOnClose(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }

    /** Counts the bytes a reader consumed (above any buffering), for the offset of a parse error. */
    private static final class CountingInputStream extends FilterInputStream {
        long count;

        CountingInputStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = in.skip(n);
            count += skipped;
            return skipped;
        }
    }

    /** Positional reads of [start, end) of a channel; never closes it. */
    private static final class RangeInputStream extends InputStream {
        private final FileChannel channel;
        private final long end;
        private long position;
        /** Whether a read of the channel itself failed (an I/O error, not bad content). */
        boolean failed;

        RangeInputStream(FileChannel channel, long start, long end) {
            this.channel = channel;
            this.position = start;
            this.end = end;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (position >= end) {
                return -1;
            }
            ByteBuffer dst = ByteBuffer.wrap(b, off, (int) Math.min(len, end - position));
            int n;
            try {
                n = channel.read(dst, position);
            } catch (IOException e) {
                failed = true;
                throw e;
            }
            if (n < 0) {
                throw new java.io.EOFException("checkpoint shrank while being read at " + position);
            }
            position += n;
            return n;
        }

        @Override
        public int available() {
            return (int) Math.min(Integer.MAX_VALUE, end - position);
        }
    }
}
