package io.quiver.shard.index;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Where and when partitions insert their rows into their ANN graphs: the executor that runs graph
 * insertion, and how far a partition's graph may lag behind its writes while they keep arriving.
 *
 * <p>Inserting a 784-d point into a jvector graph costs several times what storing and logging it
 * costs, and on a shard with few cores the indexer and the write path compete for the same CPUs (it
 * took about two thirds of the CPU samples of an ingest through the gateway). Writes never wait for
 * the graph: a point not in the graph yet is found by the exact scan of the partition's unindexed tail.
 * So while writes keep arriving (the partition took one within the last {@value #QUIET_MILLIS} ms),
 * a partition whose tail is shorter than {@code maxLagRows} leaves its graph alone and looks again
 * {@value #QUIET_MILLIS} ms later; once writes pause, or the tail reaches {@code maxLagRows}, it
 * inserts as usual. {@code maxLagRows} bounds what a search pays for the lag (an exact scan of at
 * most that many rows per partition) and keeps a sustained ingest from outrunning the graph forever;
 * 0 inserts at once, as rows arrive. Immutable and thread-safe.
 */
public final class GraphIndexer {

    /** Writes count as "still arriving" until a partition has had none for this long. */
    public static final long QUIET_MILLIS = 100;
    /** Default {@code maxLagRows}: about 60 MB of 784-d rows, an exact scan of 2-4 ms on one core. */
    public static final int DEFAULT_MAX_LAG_ROWS = 20_000;

    private final Executor executor;
    private final int maxLagRows;
    private final LongSupplier nanoClock;
    private final Executor afterQuietPeriod;

    /**
     * @param executor   runs graph insertion and cleanup (one thread per shard in a shard process)
     * @param maxLagRows unindexed rows a partition may hold while writes arrive; 0: insert at once
     */
    public GraphIndexer(Executor executor, int maxLagRows) {
        this(executor, maxLagRows, System::nanoTime,
                CompletableFuture.delayedExecutor(QUIET_MILLIS, TimeUnit.MILLISECONDS, executor));
    }

    /** Test seam: the clock writes are timed with, and the executor that runs a task after the quiet period. */
    GraphIndexer(Executor executor, int maxLagRows, LongSupplier nanoClock, Executor afterQuietPeriod) {
        this.executor = Objects.requireNonNull(executor, "executor");
        if (maxLagRows < 0) {
            throw new IllegalArgumentException("maxLagRows must be >= 0: " + maxLagRows);
        }
        this.maxLagRows = maxLagRows;
        this.nanoClock = nanoClock;
        this.afterQuietPeriod = afterQuietPeriod;
    }

    /** Inserts rows as soon as they arrive (null executor: null, no graphs, every search exact). */
    public static GraphIndexer eager(Executor executor) {
        return executor == null ? null : new GraphIndexer(executor, 0);
    }

    public Executor executor() {
        return executor;
    }

    public int maxLagRows() {
        return maxLagRows;
    }

    /** The time a write is stamped with. */
    long now() {
        return nanoClock.getAsLong();
    }

    /** Whether a partition with {@code lagRows} unindexed rows and its last write at {@code lastWriteNanos} waits. */
    boolean yieldsToWrites(int lagRows, long lastWriteNanos) {
        return lagRows < maxLagRows && nanoClock.getAsLong() - lastWriteNanos < TimeUnit.MILLISECONDS.toNanos(QUIET_MILLIS);
    }

    /** Runs {@code task} on the executor after the quiet period. */
    void executeAfterQuietPeriod(Runnable task) {
        afterQuietPeriod.execute(task);
    }
}
