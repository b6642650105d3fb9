package io.quiver.shard.storage;

import java.util.Objects;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * Settings of a {@link WriteAheadLog}: a {@code DEFAULT_*} per field and fluent setters that validate.
 * Mutable and not thread-safe; the log copies the values when it opens, so later changes have no effect on it.
 */
public final class WalOptions {

    public static final Durability DEFAULT_DURABILITY = Durability.SYNC;
    public static final long DEFAULT_SEGMENT_BYTES = 64L * 1024 * 1024;
    public static final long DEFAULT_SYNC_INTERVAL_MS = 1000;
    public static final long DEFAULT_ASYNC_FORCE_BYTES = 8L * 1024 * 1024;
    /** A segment must hold its header and at least one empty record. */
    public static final long MIN_SEGMENT_BYTES = 64;

    private Durability durability = DEFAULT_DURABILITY;
    private long segmentBytes = DEFAULT_SEGMENT_BYTES;
    private long syncIntervalMs = DEFAULT_SYNC_INTERVAL_MS;
    private long asyncForceBytes = DEFAULT_ASYNC_FORCE_BYTES;
    private ChannelOpener channelOpener = ChannelOpener.DEFAULT;
    private LongConsumer forceLatencyListener = nanos -> { };
    private LongSupplier nanoTime = System::nanoTime;

    public Durability durability() {
        return durability;
    }

    public WalOptions durability(Durability durability) {
        this.durability = Objects.requireNonNull(durability, "durability");
        return this;
    }

    /** A segment is rolled before a record would take it past this size (a single larger record gets its own segment). */
    public long segmentBytes() {
        return segmentBytes;
    }

    public WalOptions segmentBytes(long segmentBytes) {
        if (segmentBytes < MIN_SEGMENT_BYTES) {
            throw new IllegalArgumentException("segmentBytes must be at least " + MIN_SEGMENT_BYTES + ": " + segmentBytes);
        }
        this.segmentBytes = segmentBytes;
        return this;
    }

    /**
     * ASYNC only: the background force also runs as soon as this many bytes were written since the last one,
     * before the interval ends. Many small forces instead of one large one per interval: a force of a whole
     * interval's writes (over 100 MB at full ingest speed) held up the appends behind it for hundreds of ms.
     */
    public long asyncForceBytes() {
        return asyncForceBytes;
    }

    public WalOptions asyncForceBytes(long asyncForceBytes) {
        if (asyncForceBytes <= 0) {
            throw new IllegalArgumentException("asyncForceBytes must be positive: " + asyncForceBytes);
        }
        this.asyncForceBytes = asyncForceBytes;
        return this;
    }

    /** ASYNC only: the longest time between a write and the background force that covers it. */
    public long syncIntervalMs() {
        return syncIntervalMs;
    }

    public WalOptions syncIntervalMs(long syncIntervalMs) {
        if (syncIntervalMs <= 0) {
            throw new IllegalArgumentException("syncIntervalMs must be positive: " + syncIntervalMs);
        }
        this.syncIntervalMs = syncIntervalMs;
        return this;
    }

    public ChannelOpener channelOpener() {
        return channelOpener;
    }

    public WalOptions channelOpener(ChannelOpener channelOpener) {
        this.channelOpener = Objects.requireNonNull(channelOpener, "channelOpener");
        return this;
    }

    /**
     * Called with the duration of every segment force, in nanoseconds: on the flusher thread, or on an appending
     * thread for the force at a segment roll or before the first append. Must be quick and thread-safe.
     */
    public LongConsumer forceLatencyListener() {
        return forceLatencyListener;
    }

    public WalOptions forceLatencyListener(LongConsumer forceLatencyListener) {
        this.forceLatencyListener = Objects.requireNonNull(forceLatencyListener, "forceLatencyListener");
        return this;
    }

    /** Clock used to time forces. */
    public LongSupplier nanoTime() {
        return nanoTime;
    }

    public WalOptions nanoTime(LongSupplier nanoTime) {
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        return this;
    }
}
