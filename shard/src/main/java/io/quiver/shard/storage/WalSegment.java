package io.quiver.shard.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * One WAL segment file, {@code <first-sequence>.wal} (name from {@link StorageFiles}): a header, then records
 * back to back. All integers big-endian.
 *
 * <pre>
 * Segment header, 20 bytes:
 *   0  int   magic          0x5157414C ("QWAL")
 *   4  int   version        CURRENT_VERSION (1)
 *   8  long  firstSequence  sequence of the first record; equals the number in the file name
 *  16  int   headerCrc      CRC32C of bytes 0..15
 *
 * Record, 29 + n bytes, at offset p:
 *   p+0   int   length         21 + n: the bytes after the crc field
 *   p+4   int   crc            CRC32C of the `length` bytes p+8 .. p+8+length (type through body)
 *   p+8   byte  type           opaque to the log
 *   p+9   long  sequence       strictly increasing across the whole log, first one is 1
 *   p+17  long  collectionUid
 *   p+25  int   partition
 *   p+29  n bytes body         opaque; n &lt;= MAX_BODY_BYTES
 * </pre>
 *
 * <h2>Torn tail or corruption</h2>
 * A record is <em>bad</em> if fewer than 8 bytes are left for its length and crc, its length is out of range,
 * it runs past the end of the file, or its CRC does not match. A bad record (or bad header) is a
 * <em>torn tail</em>, cut off by recovery, only if it is in the <em>last</em> segment and no CRC-valid record
 * with a higher sequence starts at any later offset of that file: what follows it is zeros, garbage or
 * nothing, which is what an interrupted append leaves. Anything else is corruption
 * ({@link WalCorruptionException}, naming the file and the offset of the bad record): a bad record in an
 * earlier segment, a bad record followed by a valid one, or a valid record whose sequence does not increase
 * or whose first sequence disagrees with the file name. Bit rot in the very last record is therefore
 * indistinguishable from a torn write and is cut off; that record was never acknowledged under SYNC unless it
 * was forced, and a forced record is only lost to the media itself. A segment is forced when it is rolled, so
 * an earlier segment is always complete and a bad record there is never a tear. Within the last segment, a power
 * loss that persisted a later page of unforced data but not an earlier one makes recovery report corruption
 * instead of guessing; an operator can then truncate the file at the reported offset.
 *
 * <p>Stateless helpers; thread-safe. A {@link Scanner} is confined to one thread.
 */
final class WalSegment {

    static final int MAGIC = 0x5157_414C;
    static final int CURRENT_VERSION = 1;
    static final int HEADER_SIZE = 20;

    /** length + crc. */
    static final int RECORD_PREFIX_SIZE = 8;
    /** type + sequence + collectionUid + partition: the smallest legal {@code length}. */
    static final int RECORD_FIXED_SIZE = 1 + 8 + 8 + 4;
    static final int RECORD_HEADER_SIZE = RECORD_PREFIX_SIZE + RECORD_FIXED_SIZE;
    static final int MAX_BODY_BYTES = 1 << 30;

    private WalSegment() {
    }

    static int recordSize(int bodyLength) {
        return RECORD_HEADER_SIZE + bodyLength;
    }

    static void encodeHeader(ByteBuffer dst, long firstSequence) {
        int start = dst.position();
        dst.putInt(MAGIC).putInt(CURRENT_VERSION).putLong(firstSequence);
        dst.putInt(crc(dst, start, 16));
    }

    /** Appends one framed record at {@code dst}'s position; {@code body} is read from its position, not consumed. */
    static void encodeRecord(ByteBuffer dst, byte type, long sequence, long collectionUid, int partition, ByteBuffer body) {
        int start = dst.position();
        dst.putInt(RECORD_FIXED_SIZE + body.remaining()).putInt(0)
                .put(type).putLong(sequence).putLong(collectionUid).putInt(partition)
                .put(body.duplicate());
        int end = dst.position();
        dst.putInt(start + 4, crc(dst, start + RECORD_PREFIX_SIZE, end - start - RECORD_PREFIX_SIZE));
    }

    private static int crc(ByteBuffer buf, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(buf.duplicate().limit(offset + length).position(offset));
        return (int) crc.getValue();
    }

    /**
     * What a scan found: {@code validEnd} is the offset just past the last good record (or 0 when the header
     * itself is torn); {@code tornReason} is non-null when the bytes from {@code validEnd} on are a torn tail.
     */
    record ScanResult(long validEnd, long fileSize, long lastSequence, int records, String tornReason) {
        boolean torn() {
            return tornReason != null;
        }
    }

    /**
     * Reads and verifies a whole segment, handing records with sequence &gt; {@code afterSequence} to {@code handler}.
     *
     * @param previousSequence last sequence of the previous segment (0 if none); records must be above it
     * @param last             whether this is the log's last segment, the only one that may have a torn tail
     */
    static ScanResult scan(Path path, FileChannel channel, long nameSequence, long previousSequence, boolean last,
                           long afterSequence, RecordHandler handler) throws IOException {
        Scanner s = new Scanner(channel);
        String headerProblem = s.headerProblem();
        if (headerProblem != null) {
            if (last && !s.validRecordAt(1, previousSequence)) {
                return new ScanResult(0, s.size, previousSequence, 0, headerProblem);
            }
            throw new WalCorruptionException(path, 0, headerProblem + (last ? "; valid records follow it" : ""));
        }
        long firstSequence = s.buf.getLong(s.index(8));
        if (firstSequence != nameSequence) {
            throw new WalCorruptionException(path, 8,
                    "header says first sequence " + firstSequence + " but the file name says " + nameSequence);
        }

        long position = HEADER_SIZE;
        long lastSequence = previousSequence;
        int records = 0;
        while (position < s.size) {
            String problem = s.recordProblem(position);
            if (problem != null) {
                if (last && !s.validRecordAt(position + 1, lastSequence)) {
                    return new ScanResult(position, s.size, lastSequence, records, problem);
                }
                throw new WalCorruptionException(path, position,
                        problem + (last ? "; a valid record follows it, so this is not a torn tail" : ""));
            }
            int length = s.buf.getInt(s.index(position));
            int at = s.index(position + RECORD_PREFIX_SIZE);
            byte type = s.buf.get(at);
            long sequence = s.buf.getLong(at + 1);
            long uid = s.buf.getLong(at + 9);
            int partition = s.buf.getInt(at + 17);
            if (records == 0 && sequence != nameSequence) {
                throw new WalCorruptionException(path, position,
                        "first record has sequence " + sequence + " but the segment is named " + nameSequence);
            }
            if (sequence <= lastSequence) {
                throw new WalCorruptionException(path, position,
                        "sequence " + sequence + " does not follow " + lastSequence);
            }
            if (partition < 0) {
                throw new WalCorruptionException(path, position, "negative partition " + partition);
            }
            if (sequence > afterSequence) {
                ByteBuffer body = s.buf.slice(at + RECORD_FIXED_SIZE, length - RECORD_FIXED_SIZE).asReadOnlyBuffer();
                handler.handle(new WalRecord(type, sequence, uid, partition, body));
            }
            lastSequence = sequence;
            records++;
            position += RECORD_PREFIX_SIZE + length;
        }
        return new ScanResult(position, s.size, lastSequence, records, null);
    }

    /** Buffered positional reader over one segment; a window of the file is held in {@code buf}. */
    private static final class Scanner {
        private static final int WINDOW = 256 * 1024;

        private final FileChannel channel;
        private final long size;
        private ByteBuffer buf = ByteBuffer.allocate(0);
        private long windowStart;

        Scanner(FileChannel channel) throws IOException {
            this.channel = channel;
            this.size = channel.size();
        }

        /** Makes bytes [position, position+n) available in buf; false if they are not all in the file. */
        boolean ensure(long position, int n) throws IOException {
            if (position < 0 || n < 0 || position + n > size) {
                return false;
            }
            if (position >= windowStart && position + n <= windowStart + buf.limit()) {
                return true;
            }
            int capacity = Math.max(n, WINDOW);
            if (buf.capacity() < capacity) {
                buf = ByteBuffer.allocate(capacity);
            }
            buf.clear().limit((int) Math.min(buf.capacity(), size - position));
            DurableFiles.readFully(channel, buf, position);
            buf.flip();
            windowStart = position;
            return true;
        }

        int index(long position) {
            return (int) (position - windowStart);
        }

        String headerProblem() throws IOException {
            if (!ensure(0, HEADER_SIZE)) {
                return "segment header incomplete: the file has " + size + " of " + HEADER_SIZE + " bytes";
            }
            if (crc(buf, index(0), 16) != buf.getInt(index(16))) {
                return "segment header checksum mismatch";
            }
            int magic = buf.getInt(index(0));
            if (magic != MAGIC) {
                return String.format("bad magic 0x%08x (expected 0x%08x)", magic, MAGIC);
            }
            int version = buf.getInt(index(4));
            if (version < 1 || version > CURRENT_VERSION) {
                return "unsupported segment version " + version + " (this build reads up to " + CURRENT_VERSION + ")";
            }
            return null;
        }

        /** Null if a complete, CRC-valid record starts at {@code position}, else what is wrong with it. */
        String recordProblem(long position) throws IOException {
            if (!ensure(position, RECORD_PREFIX_SIZE)) {
                return "incomplete record header: " + (size - position) + " bytes before end of file";
            }
            int length = buf.getInt(index(position));
            if (length < RECORD_FIXED_SIZE || length > RECORD_FIXED_SIZE + MAX_BODY_BYTES) {
                return "invalid record length " + length;
            }
            if (!ensure(position, RECORD_PREFIX_SIZE + length)) {
                return "record of " + (RECORD_PREFIX_SIZE + length) + " bytes runs past end of file ("
                        + (size - position) + " bytes left)";
            }
            int stored = buf.getInt(index(position) + 4);
            int computed = crc(buf, index(position) + RECORD_PREFIX_SIZE, length);
            if (stored != computed) {
                return String.format("record checksum mismatch (stored %08x, computed %08x)", stored, computed);
            }
            return null;
        }

        /** True if some offset at or after {@code from} starts a CRC-valid record with a sequence above {@code after}. */
        boolean validRecordAt(long from, long after) throws IOException {
            for (long q = from; q + RECORD_HEADER_SIZE <= size; q++) {
                if (!ensure(q, RECORD_PREFIX_SIZE)) {
                    return false;
                }
                int length = buf.getInt(index(q));
                if (length < RECORD_FIXED_SIZE || q + RECORD_PREFIX_SIZE + (long) length > size) {
                    continue;
                }
                if (recordProblem(q) == null && buf.getLong(index(q) + RECORD_PREFIX_SIZE + 1) > after) {
                    return true;
                }
            }
            return false;
        }
    }
}
