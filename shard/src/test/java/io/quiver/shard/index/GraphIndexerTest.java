package io.quiver.shard.index;

import io.quiver.shard.index.payload.Payload;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The graph yielding to writes ({@link GraphIndexer}): driven by a hand-run executor and a hand-set clock,
 * so every step is deterministic.
 */
class GraphIndexerTest {
    private static final int DIM = 16;
    private static final long QUIET_NANOS = TimeUnit.MILLISECONDS.toNanos(GraphIndexer.QUIET_MILLIS);

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final Deque<Runnable> now = new ArrayDeque<>();
    private final Deque<Runnable> later = new ArrayDeque<>();
    private final Random random = new Random(7);

    private PartitionIndex index(int maxLagRows) {
        return new PartitionIndex(DIM, Metric.L2, new GraphIndexer(now::add, maxLagRows, clock::get, later::add));
    }

    private float[] write(PartitionIndex index, long id) {
        float[] v = new float[DIM];
        for (int d = 0; d < DIM; d++) {
            v[d] = random.nextFloat();
        }
        index.upsert(id, v, Payload.EMPTY);
        return v;
    }

    /** Runs the tasks queued now (a task may queue itself again: that one waits for the next call). */
    private static void runQueued(Deque<Runnable> tasks) {
        for (int n = tasks.size(); n > 0; n--) {
            tasks.poll().run();
        }
    }

    @Test
    void whileWritesArriveTheGraphWaitsAndTheTailIsStillSearched() {
        PartitionIndex index = index(1_000);
        float[] last = null;
        for (int i = 0; i < 300; i++) {
            last = write(index, i);
        }
        runQueued(now);

        assertThat(index.indexedCount()).isZero();
        assertThat(index.annPendingPoints()).isEqualTo(300);
        assertThat(later).as("the partition looks again after the quiet period").hasSize(1);
        SearchResult r = index.search(last, 1, Metric.L2, SearchMode.ANN, 0, null, false);
        assertThat(r.hits().get(0).id()).isEqualTo(299L);

        // Still writing when it looks again: it waits again. A replaced point is pending once.
        clock.addAndGet(QUIET_NANOS / 2);
        write(index, 300);
        write(index, 299);
        assertThat(index.annPendingPoints()).isEqualTo(301);
        runQueued(later);
        assertThat(index.indexedCount()).isZero();
        assertThat(later).hasSize(1);

        // Writes paused for the quiet period: everything goes into the graph.
        clock.addAndGet(QUIET_NANOS);
        runQueued(later);
        runQueued(now);
        assertThat(index.indexedCount()).isEqualTo(302);
        assertThat(index.annPendingPoints()).isZero();
        assertThat(later).isEmpty();
        assertThat(now).isEmpty();
    }

    @Test
    void aTailAtTheLimitIsIndexedEvenWhileWritesArrive() {
        PartitionIndex index = index(200);
        for (int i = 0; i < 199; i++) {
            write(index, i);
        }
        assertThat(now).hasSize(1);
        runQueued(now);
        assertThat(index.indexedCount()).isZero();

        write(index, 199); // the 200th unindexed row: the limit
        runQueued(later);
        // It inserts until the lag is under the limit again (one batch here), then waits for the writes.
        assertThat(index.indexedCount()).isEqualTo(PartitionIndex.INDEX_BATCH_ROWS);
        assertThat(later).hasSize(1);

        clock.addAndGet(QUIET_NANOS);
        runQueued(later);
        assertThat(index.indexedCount()).isEqualTo(200);
    }

    @Test
    void noLagAllowedIndexesAsPointsArrive() {
        PartitionIndex index = index(0);
        for (int i = 0; i < 50; i++) {
            write(index, i);
        }
        runQueued(now);
        assertThat(index.indexedCount()).isEqualTo(50);
        assertThat(later).isEmpty();
    }

    @Test
    void aPartitionWithoutRecentWritesIndexesAtOnce() throws Exception {
        PartitionIndex source = index(0);
        for (int i = 0; i < 40; i++) {
            write(source, i);
        }
        // Restored from a checkpoint written before its graph had these rows: no write since, so no waiting.
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        source.writeTo(new java.io.DataOutputStream(bytes));
        PartitionIndex restored = PartitionIndex.readFrom(
                new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray())),
                new GraphIndexer(now::add, 1_000, clock::get, later::add));
        runQueued(now);
        assertThat(restored.indexedCount()).isEqualTo(40);
        assertThat(later).isEmpty();
    }

    @Test
    void aNegativeLimitIsRefused() {
        assertThatThrownBy(() -> new GraphIndexer(Runnable::run, -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxLagRows");
    }
}
