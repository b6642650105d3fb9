package io.quiver.shard.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write-ahead log of one shard: segments in {@code <data>/wal/}, each {@code <first-sequence>.wal}, rolled
 * before a record would take the active one past {@link WalOptions#segmentBytes()}. The byte layout of a
 * segment (20-byte header with magic and version; records framed as length, CRC32C, type, sequence, collection
 * uid, partition, body) and the torn-tail rule are in {@link WalSegment}.
 *
 * <h2>Life cycle</h2>
 * {@link #open} lists the segments; {@link #replay} (normally through {@link Recovery}) verifies them, cuts off
 * a torn tail and learns the last sequence; {@link #resumeAfter} may raise it (a checkpoint can cover more than
 * the WAL kept); then appends may start. Appending before a replay is an {@link IllegalStateException}, as is
 * replaying after the first append.
 *
 * <h2>Appends and durability</h2>
 * An append assigns the next sequence(s) and writes the framed records to the active segment under one lock,
 * so sequences are gap-free and file order is sequence order. {@link #appendAll} writes several records with
 * consecutive sequences in one call and one future, so a batch costs one force; it is ordered but not atomic:
 * after a crash a prefix of an unacknowledged batch may come back (callers that need all-or-nothing put the
 * batch in one record body). Futures complete:
 * <ul>
 *   <li>{@link Durability#SYNC}: on the single flusher thread, after a {@code force(false)} that started after
 *       the record was written. While one force runs, later appends queue; the next force covers all of them
 *       (group commit). A newly created segment's directory entry is forced before its records are acknowledged.
 *       A full segment is forced when it is rolled, before the next one receives a record.
 *   <li>{@link Durability#ASYNC}: on the appending thread as soon as the write call returns; the flusher forces
 *       every {@code syncIntervalMs}, as soon as {@code asyncForceBytes} were written since its last force, and
 *       on close.
 * </ul>
 * Callbacks chained without {@code *Async} on a SYNC future run on the flusher thread and delay the next group
 * commit; keep them short.
 *
 * <h2>Failure</h2>
 * The first IOException from a write or force moves the log into a permanent failed state: that append's
 * future, every future still waiting for a force, and every later append complete exceptionally with
 * {@link StorageUnavailableException}. Nothing is retried. Only a restart (with recovery from disk) clears it.
 * {@link FileChannel} is interruptible: interrupting a thread inside {@code append} closes the channel and
 * fails the log, so do not interrupt appenders.
 *
 * <p>Thread-safe. {@code append*}, {@link #deleteSegmentsCoveredBy}, the getters and {@link #close} may be
 * called from any thread; {@link #replay} and {@link #resumeAfter} are recovery steps for one thread before
 * appends start.
 */
public final class WriteAheadLog implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(WriteAheadLog.class);
    private static final int ENCODE_BUFFER_BYTES = 64 * 1024;

    private final StorageFiles files;
    private final Path directory;
    private final Durability durability;
    private final long segmentBytes;
    private final long syncIntervalNanos;
    private final long asyncForceBytes;
    private final ChannelOpener opener;
    private final LongConsumer forceLatencyListener;
    private final LongSupplier nanoTime;
    private final Thread flusher;
    private final AtomicLong forceCount = new AtomicLong();

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when there is work for the flusher (SYNC appends) or when closing/failing. */
    private final Condition work = lock.newCondition();

    // ---- guarded by lock ----
    /** Every segment except the active one: first sequence -> size in bytes. */
    private final TreeMap<Long, Long> segments = new TreeMap<>();
    /** The segment appends go to; null before the first append and right after a roll. */
    private Active active;
    /** Channels of rolled segments the flusher has yet to force (then close). */
    private final List<FileChannel> rolledUnforced = new ArrayList<>();
    /** A segment was created since the last force: the directory must be forced too. */
    private boolean directoryDirty;
    /** ASYNC: bytes written since the flusher last took a round, and whether it was woken for them. */
    private long unforcedBytes;
    private boolean forceRequested;
    /** SYNC: appends waiting for a force, in sequence order. */
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final ByteBuffer encodeBuffer = ByteBuffer.allocateDirect(ENCODE_BUFFER_BYTES);
    private boolean replayed;
    private boolean appending;
    private boolean closed;

    // ---- written under lock, read anywhere ----
    private volatile long lastSequence;
    private volatile long durableSequence;
    private volatile StorageUnavailableException failure;

    private WriteAheadLog(StorageFiles files, WalOptions options) throws IOException {
        this.files = files;
        this.directory = files.walDirectory();
        this.durability = options.durability();
        this.segmentBytes = options.segmentBytes();
        this.syncIntervalNanos = TimeUnit.MILLISECONDS.toNanos(options.syncIntervalMs());
        this.asyncForceBytes = options.asyncForceBytes();
        this.opener = options.channelOpener();
        this.forceLatencyListener = options.forceLatencyListener();
        this.nanoTime = options.nanoTime();
        for (long first : files.listSegments()) {
            segments.put(first, Files.size(files.segment(first)));
        }
        this.flusher = new Thread(this::flushLoop, "quiver-wal-flusher-" + files.dataDirectory().toAbsolutePath());
        this.flusher.setDaemon(true);
    }

    /** Opens (creating the directory if needed) the log in {@code files.walDirectory()}; reads nothing yet. */
    public static WriteAheadLog open(StorageFiles files, WalOptions options) throws IOException {
        Objects.requireNonNull(files, "files");
        Objects.requireNonNull(options, "options");
        Files.createDirectories(files.walDirectory());
        WriteAheadLog wal = new WriteAheadLog(files, options);
        wal.flusher.start();
        if (wal.durability == Durability.ASYNC) {
            LOG.warn("WAL {} is ASYNC: acknowledged writes of the last {} ms can be lost on power loss",
                    wal.directory, options.syncIntervalMs());
        }
        return wal;
    }

    // ------------------------------------------------------------------ recovery

    /**
     * Reads every segment in order, verifying framing, CRCs and sequence order, and hands records with
     * sequence &gt; {@code afterSequence} to {@code handler} (on this thread, body valid only during the call).
     * A torn tail of the last segment is truncated away (a last segment left with no records is deleted);
     * anything else bad throws {@link WalCorruptionException}. Must run before the first append.
     */
    public ReplayResult replay(long afterSequence, RecordHandler handler) throws IOException {
        Objects.requireNonNull(handler, "handler");
        lock.lock();
        try {
            if (closed || appending) {
                throw new IllegalStateException("replay is a recovery step: it must run before the first append ("
                        + (closed ? "log is closed" : "appends have started") + ")");
            }
            long previous = 0;
            long read = 0;
            long[] handled = {0};
            long torn = 0;
            RecordHandler counting = r -> {
                handled[0]++;
                handler.handle(r);
            };
            List<Long> firsts = new ArrayList<>(segments.keySet());
            for (int i = 0; i < firsts.size(); i++) {
                long first = firsts.get(i);
                boolean last = i == firsts.size() - 1;
                Path path = files.segment(first);
                WalSegment.ScanResult scan;
                try (FileChannel channel = opener.open(path, Set.of(StandardOpenOption.READ))) {
                    scan = WalSegment.scan(path, channel, first, previous, last, afterSequence, counting);
                }
                read += scan.records();
                if (scan.torn()) {
                    torn += scan.fileSize() - scan.validEnd();
                    cutTornTail(first, path, scan);
                } else if (scan.records() == 0) {
                    if (!last) {
                        throw new WalCorruptionException(path, WalSegment.HEADER_SIZE,
                                "segment holds no records although later segments exist");
                    }
                    LOG.warn("WAL {}: deleting last segment {}, which holds no records", directory, path.getFileName());
                    deleteSegmentFile(first, path);
                } else {
                    segments.put(first, scan.validEnd());
                }
                if (scan.records() > 0) {
                    previous = scan.lastSequence();
                }
            }
            lastSequence = Math.max(lastSequence, previous);
            replayed = true;
            return new ReplayResult(previous, read, handled[0], torn);
        } finally {
            lock.unlock();
        }
    }

    private void cutTornTail(long first, Path path, WalSegment.ScanResult scan) throws IOException {
        long dropped = scan.fileSize() - scan.validEnd();
        if (scan.records() == 0) {
            LOG.warn("WAL {}: torn tail at offset {} of {} ({}); the segment holds no complete record, deleting it",
                    directory, scan.validEnd(), path.getFileName(), scan.tornReason());
            deleteSegmentFile(first, path);
            return;
        }
        LOG.warn("WAL {}: torn tail at offset {} of {} ({}); cutting off {} bytes after sequence {}",
                directory, scan.validEnd(), path.getFileName(), scan.tornReason(), dropped, scan.lastSequence());
        try (FileChannel channel = opener.open(path, Set.of(StandardOpenOption.WRITE))) {
            channel.truncate(scan.validEnd());
            channel.force(true);
        }
        segments.put(first, scan.validEnd());
    }

    private void deleteSegmentFile(long first, Path path) throws IOException {
        Files.deleteIfExists(path);
        segments.remove(first);
        DurableFiles.forceDirectory(directory);
    }

    /**
     * Makes the next append get a sequence above {@code sequence} even if the log holds less, e.g. because a
     * checkpoint covers records whose WAL tail was lost (ASYNC and a power loss) or whose segments were deleted.
     * Never lowers it. A recovery step: call after {@link #replay} and before the first append.
     */
    public void resumeAfter(long sequence) {
        lock.lock();
        try {
            if (appending || closed) {
                throw new IllegalStateException("resumeAfter must be called before the first append");
            }
            lastSequence = Math.max(lastSequence, sequence);
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ appends

    /** Appends one record; the future yields its sequence once it is durable per the profile. */
    public CompletableFuture<Long> append(byte type, long collectionUid, int partition, ByteBuffer body) {
        return appendAll(List.of(new WalEntry(type, collectionUid, partition, body)));
    }

    /**
     * Appends records with consecutive sequences in list order; the future yields the <em>last</em> sequence
     * (the first is {@code last - entries.size() + 1}) once all of them are durable per the profile.
     */
    public CompletableFuture<Long> appendAll(List<WalEntry> entries) {
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("nothing to append");
        }
        CompletableFuture<Long> future = new CompletableFuture<>();
        StorageUnavailableException refusal = null;
        List<Pending> victims = List.of();
        long written = -1;
        lock.lock();
        try {
            if (failure != null) {
                refusal = failure;
            } else if (closed) {
                refusal = new StorageUnavailableException("WAL " + directory + " is closed", null);
            } else {
                if (!replayed) {
                    throw new IllegalStateException("replay (recovery) must run before the first append");
                }
                try {
                    written = writeLocked(entries);
                    if (durability == Durability.SYNC) {
                        pending.addLast(new Pending(written, future));
                        work.signal();
                    } else if (unforcedBytes >= asyncForceBytes && !forceRequested) {
                        forceRequested = true;
                        work.signal();
                    }
                } catch (IOException e) {
                    victims = failLocked(e, "write");
                    refusal = failure;
                }
            }
        } finally {
            lock.unlock();
        }
        if (refusal != null) {
            failAll(victims, refusal);
            future.completeExceptionally(refusal);
        } else if (durability == Durability.ASYNC) {
            future.complete(written);
        }
        return future;
    }

    private long writeLocked(List<WalEntry> entries) throws IOException {
        if (!appending) {
            startAppendingLocked();
        }
        long sequence = lastSequence;
        encodeBuffer.clear();
        try {
            for (WalEntry e : entries) {
                sequence++;
                int size = WalSegment.recordSize(e.body().remaining());
                if (active != null && active.hasRecords && active.size + size > segmentBytes) {
                    flushEncodedLocked();
                    rollLocked();
                }
                if (active == null) {
                    createSegmentLocked(sequence);
                }
                if (size > encodeBuffer.remaining()) {
                    flushEncodedLocked();
                }
                if (size > encodeBuffer.capacity()) {
                    ByteBuffer large = ByteBuffer.allocate(size);
                    WalSegment.encodeRecord(large, e.type(), sequence, e.collectionUid(), e.partition(), e.body());
                    DurableFiles.writeFully(active.channel, large.flip());
                } else {
                    WalSegment.encodeRecord(encodeBuffer, e.type(), sequence, e.collectionUid(), e.partition(), e.body());
                }
                active.size += size;
                active.hasRecords = true;
                unforcedBytes += size;
            }
            flushEncodedLocked();
        } finally {
            encodeBuffer.clear();
        }
        lastSequence = sequence;
        return sequence;
    }

    private void flushEncodedLocked() throws IOException {
        if (encodeBuffer.position() > 0) {
            encodeBuffer.flip();
            DurableFiles.writeFully(active.channel, encodeBuffer);
            encodeBuffer.clear();
        }
    }

    /** The last segment left by recovery becomes the active one; its recovered content is forced once. */
    private void startAppendingLocked() throws IOException {
        appending = true;
        if (segments.isEmpty()) {
            durableSequence = lastSequence;
            return;
        }
        Map.Entry<Long, Long> last = segments.pollLastEntry();
        Path path = files.segment(last.getKey());
        FileChannel channel = opener.open(path, Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE));
        long size = channel.size();
        channel.position(size);
        active = new Active(last.getKey(), channel, size, true);
        timedForce(channel);
        durableSequence = lastSequence;
    }

    private void createSegmentLocked(long firstSequence) throws IOException {
        Path path = files.segment(firstSequence);
        FileChannel channel = opener.open(path,
                Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE));
        try {
            ByteBuffer header = ByteBuffer.allocate(WalSegment.HEADER_SIZE);
            WalSegment.encodeHeader(header, firstSequence);
            DurableFiles.writeFully(channel, header.flip());
        } catch (IOException e) {
            closeQuietly(channel);
            throw e;
        }
        active = new Active(firstSequence, channel, WalSegment.HEADER_SIZE, false);
        directoryDirty = true;
    }

    /**
     * Forces the full segment before any record goes to the next one, so a torn record can only ever be at the
     * end of the last segment (a power loss cannot keep the new segment and lose the old one's tail). Costs one
     * force per segment on the appending thread. The flusher still forces and then closes the channel: it may
     * be forcing it right now, so it must not be closed here.
     */
    private void rollLocked() throws IOException {
        timedForce(active.channel);
        rolledUnforced.add(active.channel);
        segments.put(active.firstSequence, active.size);
        active = null;
    }

    /** Enters the failed state (first cause wins) and takes every waiting future out for the caller to fail. */
    private List<Pending> failLocked(IOException cause, String operation) {
        if (failure == null) {
            failure = new StorageUnavailableException("WAL " + operation + " failed in " + directory
                    + "; the log accepts no more writes until the shard restarts", cause);
            LOG.error("WAL {}: {} failed; failing all unforced and later appends", directory, operation, cause);
        }
        List<Pending> victims = new ArrayList<>(pending);
        pending.clear();
        work.signalAll();
        return victims;
    }

    private static void failAll(List<Pending> victims, Throwable error) {
        for (Pending p : victims) {
            p.future.completeExceptionally(error);
        }
    }

    // ------------------------------------------------------------------ flusher

    private void flushLoop() {
        try {
            while (true) {
                Round round;
                lock.lock();
                try {
                    round = nextRoundLocked();
                } finally {
                    lock.unlock();
                }
                if (round == null) {
                    return;
                }
                if (round != Round.NOTHING) {
                    runRound(round);
                }
            }
        } catch (InterruptedException e) {
            List<Pending> victims;
            lock.lock();
            try {
                victims = failLocked(new java.io.InterruptedIOException("WAL flusher interrupted"), "force");
            } finally {
                lock.unlock();
            }
            failAll(victims, failure);
        }
    }

    /** Waits for work; null means the flusher should exit. */
    private Round nextRoundLocked() throws InterruptedException {
        if (durability == Durability.SYNC) {
            while (pending.isEmpty() && !closed && failure == null) {
                work.await();
            }
        } else {
            long wait = syncIntervalNanos;
            while (!closed && failure == null && wait > 0 && !forceRequested) {
                wait = work.awaitNanos(wait);
            }
            forceRequested = false;
        }
        if (failure != null) {
            return null;
        }
        // Before the first append nothing was written here (recovered records are forced when appends start).
        boolean dirty = appending
                && (lastSequence > durableSequence || !rolledUnforced.isEmpty() || directoryDirty);
        if (!dirty) {
            return closed ? null : Round.NOTHING;
        }
        // Every record up to lastSequence has been written to one of these channels: forcing them all covers it.
        Round round = new Round(lastSequence, List.copyOf(rolledUnforced),
                active == null ? null : active.channel, directoryDirty);
        rolledUnforced.clear();
        directoryDirty = false;
        unforcedBytes = 0;
        return round;
    }

    private void runRound(Round round) {
        try {
            for (FileChannel rolled : round.rolled) {
                timedForce(rolled);
            }
            if (round.active != null) {
                timedForce(round.active);
            }
            if (round.directory) {
                DurableFiles.forceDirectory(directory);
            }
        } catch (IOException e) {
            List<Pending> victims;
            lock.lock();
            try {
                victims = failLocked(e, "force");
            } finally {
                lock.unlock();
            }
            failAll(victims, failure);
            round.rolled.forEach(WriteAheadLog::closeQuietly);
            return;
        }
        round.rolled.forEach(WriteAheadLog::closeQuietly);
        List<Pending> done = new ArrayList<>();
        lock.lock();
        try {
            if (failure != null) {
                return; // an append failed while we forced: its failLocked already failed every pending future
            }
            durableSequence = Math.max(durableSequence, round.target);
            while (!pending.isEmpty() && pending.peekFirst().sequence <= round.target) {
                done.add(pending.pollFirst());
            }
        } finally {
            lock.unlock();
        }
        for (Pending p : done) {
            p.future.complete(p.sequence);
        }
    }

    private void timedForce(FileChannel channel) throws IOException {
        long start = nanoTime.getAsLong();
        channel.force(false);
        long elapsed = nanoTime.getAsLong() - start;
        forceCount.incrementAndGet();
        try {
            forceLatencyListener.accept(elapsed);
        } catch (RuntimeException e) {
            LOG.warn("WAL {}: force latency listener threw", directory, e);
        }
    }

    // ------------------------------------------------------------------ retention and introspection

    /**
     * Deletes, oldest first, every segment whose records all have sequence &lt;= {@code sequence}, i.e. whose
     * successor starts at or below {@code sequence + 1}. Never deletes the last (active) segment. Call only
     * when a durable checkpoint covers those records for every partition that has records in them.
     *
     * @return the number of segment files deleted
     */
    public int deleteSegmentsCoveredBy(long sequence) throws IOException {
        lock.lock();
        try {
            List<Long> victims = new ArrayList<>();
            for (long first : segments.keySet()) {
                Long next = segments.higherKey(first);
                if (next == null && active != null) {
                    next = active.firstSequence;
                }
                if (next == null || next - 1 > sequence) {
                    break;
                }
                victims.add(first);
            }
            for (long first : victims) {
                Files.deleteIfExists(files.segment(first));
                segments.remove(first);
            }
            if (!victims.isEmpty()) {
                DurableFiles.forceDirectory(directory);
                LOG.info("WAL {}: deleted {} segment(s) covered by sequence {}", directory, victims.size(), sequence);
            }
            return victims.size();
        } finally {
            lock.unlock();
        }
    }

    /** Sequence of the last record written (or recovered, or raised by {@link #resumeAfter}); 0 if none. */
    public long lastSequence() {
        return lastSequence;
    }

    /** Highest sequence covered by a completed force in this process (recovered records count once forced). */
    public long durableSequence() {
        return durableSequence;
    }

    /** Number of {@code force} calls made on segment files so far. */
    public long forceCount() {
        return forceCount.get();
    }

    public Durability durability() {
        return durability;
    }

    public boolean isFailed() {
        return failure != null;
    }

    /** Bytes in all segment files, as written (includes writes not yet forced). */
    public long sizeBytes() {
        lock.lock();
        try {
            long total = active == null ? 0 : active.size;
            for (long size : segments.values()) {
                total += size;
            }
            return total;
        } finally {
            lock.unlock();
        }
    }

    /** First sequences of the segments, ascending, the active one included. */
    public List<Long> segmentFirstSequences() {
        lock.lock();
        try {
            List<Long> out = new ArrayList<>(segments.keySet());
            if (active != null) {
                out.add(active.firstSequence);
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** Heap and direct memory this log holds for the budget: the encode buffer and the waiting futures. */
    public long ramBytesUsed() {
        lock.lock();
        try {
            return ENCODE_BUFFER_BYTES + 64L * pending.size() + 48L * segments.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops the log: SYNC appends already written are forced and acknowledged, ASYNC ones get a final force;
     * then the files are closed. Later appends fail with {@link StorageUnavailableException}. Idempotent.
     */
    @Override
    public void close() throws IOException {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            work.signalAll();
        } finally {
            lock.unlock();
        }
        boolean interrupted = false;
        if (Thread.currentThread() != flusher) {
            while (flusher.isAlive()) {
                try {
                    flusher.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        List<Pending> leftovers;
        List<FileChannel> channels = new ArrayList<>();
        lock.lock();
        try {
            leftovers = new ArrayList<>(pending);
            pending.clear();
            channels.addAll(rolledUnforced);
            rolledUnforced.clear();
            if (active != null) {
                channels.add(active.channel);
                segments.put(active.firstSequence, active.size);
                active = null;
            }
        } finally {
            lock.unlock();
        }
        failAll(leftovers, failure != null ? failure
                : new StorageUnavailableException("WAL " + directory + " closed before the record was forced", null));
        IOException first = null;
        for (FileChannel channel : channels) {
            try {
                channel.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (first != null) {
            throw first;
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.warn("closing a WAL segment failed", e);
        }
    }

    @Override
    public String toString() {
        return "WriteAheadLog[" + directory + ", " + durability + ", last=" + lastSequence + "]";
    }

    private static final class Active {
        final long firstSequence;
        final FileChannel channel;
        long size;
        boolean hasRecords;

        Active(long firstSequence, FileChannel channel, long size, boolean hasRecords) {
            this.firstSequence = firstSequence;
            this.channel = channel;
            this.size = size;
            this.hasRecords = hasRecords;
        }
    }

    private record Pending(long sequence, CompletableFuture<Long> future) {
    }

    private record Round(long target, List<FileChannel> rolled, FileChannel active, boolean directory) {
        static final Round NOTHING = new Round(-1, List.of(), null, false);
    }
}
