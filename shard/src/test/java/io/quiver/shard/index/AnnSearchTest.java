package io.quiver.shard.index;

import io.quiver.shard.index.payload.Filter;
import io.quiver.shard.index.payload.Payload;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Executor;

import static org.assertj.core.api.Assertions.assertThat;

/** ANN behaviour of {@link PartitionIndex}; the graph is built by a manual executor the test drives. */
class AnnSearchTest {

    private static final int N = 10_000;
    private static final int DIM = 64;
    private static final int CLUSTERS = 40;
    private static final Filter CATEGORY_3 = Filter.fromJson("{\"must\":[{\"field\":\"category\",\"value\":3}]}");

    private static ManualExecutor executor;
    private static PartitionIndex index;
    private static float[][] data;

    /** Runs submitted tasks only when asked to. */
    static final class ManualExecutor implements Executor {
        private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

        @Override
        public synchronized void execute(Runnable task) {
            tasks.add(task);
        }

        void runAll() {
            Runnable task;
            while ((task = poll()) != null) {
                task.run();
            }
        }

        private synchronized Runnable poll() {
            return tasks.poll();
        }

        synchronized int pending() {
            return tasks.size();
        }
    }

    @BeforeAll
    static void buildClusteredIndex() {
        Random random = new Random(42);
        float[][] centers = new float[CLUSTERS][];
        for (int c = 0; c < CLUSTERS; c++) {
            centers[c] = gaussian(random, 1f);
        }
        data = new float[N][];
        executor = new ManualExecutor();
        index = new PartitionIndex(DIM, Metric.COSINE, executor);
        for (int i = 0; i < N; i++) {
            float[] center = centers[random.nextInt(CLUSTERS)];
            float[] v = gaussian(random, 0.35f);
            for (int d = 0; d < DIM; d++) {
                v[d] += center[d];
            }
            data[i] = v;
            index.upsert(i, v, Payload.fromJson("{\"category\":" + (i % 10) + "}"));
        }
        long start = System.nanoTime();
        executor.runAll();
        System.out.printf("graph build, one indexer thread, %d x %d: %d ms%n", N, DIM,
                (System.nanoTime() - start) / 1_000_000);
        assertThat(index.indexedCount()).isEqualTo(N);
    }

    private static float[] gaussian(Random random, float scale) {
        float[] v = new float[DIM];
        for (int d = 0; d < DIM; d++) {
            v[d] = (float) random.nextGaussian() * scale;
        }
        return v;
    }

    private static float[] query(Random random) {
        float[] base = data[random.nextInt(N)];
        float[] q = gaussian(random, 0.3f);
        for (int d = 0; d < DIM; d++) {
            q[d] += base[d];
        }
        return q;
    }

    private static double recallAt10(PartitionIndex idx, Filter filter, int queries, long seed) {
        Random random = new Random(seed);
        int found = 0;
        int expected = 0;
        for (int i = 0; i < queries; i++) {
            float[] q = query(random);
            SearchResult exact = idx.search(q, 10, Metric.COSINE, SearchMode.EXACT, 0f, filter, false);
            SearchResult ann = idx.search(q, 10, Metric.COSINE, SearchMode.ANN, 0f, filter, false);
            assertThat(ann.mode()).isEqualTo(SearchMode.ANN);
            Set<Long> truth = new HashSet<>();
            exact.hits().forEach(h -> truth.add(h.id()));
            expected += truth.size();
            for (SearchHit hit : ann.hits()) {
                if (truth.contains(hit.id())) {
                    found++;
                }
            }
        }
        return (double) found / expected;
    }

    @Test
    void annRecallAt10IsAtLeast95PercentWithDefaultSettings() {
        double recall = recallAt10(index, null, 200, 1);
        System.out.printf("ANN recall@10 (10k x 64 clustered, cosine, default target): %.4f%n", recall);
        System.out.printf("ANN recall@10 at target 0.8 (candidates %d): %.4f%n",
                PartitionIndex.candidatesFor(10, 0.8f), recallAt10WithTarget(0.8f));
        Random random = new Random(9);
        float[][] queries = new float[200][];
        for (int i = 0; i < queries.length; i++) {
            queries[i] = query(random);
        }
        for (SearchMode mode : new SearchMode[] {SearchMode.EXACT, SearchMode.ANN}) {
            long start = System.nanoTime();
            for (float[] q : queries) {
                index.search(q, 10, Metric.COSINE, mode, 0.95f, null, false);
            }
            System.out.printf("%s mean latency over %d queries (after the recall pass warmed up): %.1f us%n",
                    mode, queries.length, (System.nanoTime() - start) / 1e3 / queries.length);
        }
        long start = System.nanoTime();
        index.searchBatch(queries, 10, Metric.COSINE, SearchMode.EXACT, 0.95f, null, false);
        System.out.printf("EXACT batch of %d: %.1f us per query%n", queries.length,
                (System.nanoTime() - start) / 1e3 / queries.length);
        assertThat(recall).isGreaterThanOrEqualTo(0.95);
    }

    /** l2 scores are negative distances and dot scores can be negative: the graph must find them too. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = Metric.class, names = {"L2", "DOT"})
    void annRecallHoldsForMetricsWithNegativeScores(Metric metric) {
        ManualExecutor indexer = new ManualExecutor();
        PartitionIndex idx = new PartitionIndex(DIM, metric, indexer);
        for (int i = 0; i < 3000; i++) {
            idx.upsert(i, data[i], Payload.EMPTY);
        }
        indexer.runAll();
        Random random = new Random(5);
        int found = 0;
        for (int i = 0; i < 100; i++) {
            float[] q = query(random);
            Set<Long> truth = new HashSet<>();
            idx.search(q, 10, metric, SearchMode.EXACT, 0f, null, false).hits().forEach(h -> truth.add(h.id()));
            SearchResult ann = idx.search(q, 10, metric, SearchMode.ANN, 0.95f, null, false);
            assertThat(ann.mode()).isEqualTo(SearchMode.ANN);
            assertThat(ann.hits()).hasSize(10);
            for (SearchHit hit : ann.hits()) {
                found += truth.contains(hit.id()) ? 1 : 0;
            }
        }
        assertThat(found / 1000.0).as(metric + " recall@10").isGreaterThanOrEqualTo(0.95);
    }

    private static double recallAt10WithTarget(float target) {
        Random random = new Random(11);
        int found = 0;
        for (int i = 0; i < 100; i++) {
            float[] q = query(random);
            Set<Long> truth = new HashSet<>();
            index.search(q, 10, Metric.COSINE, SearchMode.EXACT, 0f, null, false).hits().forEach(h -> truth.add(h.id()));
            for (SearchHit hit : index.search(q, 10, Metric.COSINE, SearchMode.ANN, target, null, false).hits()) {
                found += truth.contains(hit.id()) ? 1 : 0;
            }
        }
        return found / 1000.0;
    }

    @Test
    void filteredAnnReturnsOnlyMatchingPointsWithGoodRecall() {
        Random random = new Random(2);
        for (int i = 0; i < 20; i++) {
            SearchResult result = index.search(query(random), 10, Metric.COSINE, SearchMode.ANN, 0.95f, CATEGORY_3, true);
            assertThat(result.mode()).isEqualTo(SearchMode.ANN);
            assertThat(result.hits()).hasSize(10);
            assertThat(result.hits()).allSatisfy(h -> assertThat(h.id() % 10).isEqualTo(3));
            assertThat(result.hits()).allSatisfy(h -> assertThat(h.payload().field("category")).isEqualTo(3.0));
        }
        assertThat(recallAt10(index, CATEGORY_3, 50, 3)).isGreaterThanOrEqualTo(0.9);
    }

    @Test
    void autoPicksAnnForALargePartitionAndExactForSelectiveFiltersOrOtherMetrics() {
        float[] q = query(new Random(4));
        assertThat(index.search(q, 10, Metric.COSINE, SearchMode.AUTO, 0.95f, null, false).mode())
                .isEqualTo(SearchMode.ANN);
        Filter half = Filter.fromJson("{\"must\":[{\"field\":\"category\",\"lt\":5}]}");
        assertThat(index.search(q, 10, Metric.COSINE, SearchMode.AUTO, 0.95f, half, false).mode())
                .as("5000 of 10k match").isEqualTo(SearchMode.ANN);
        Filter one = Filter.fromJson("{\"must\":[{\"field\":\"category\",\"value\":3}],"
                + "\"should\":[{\"field\":\"category\",\"value\":3}]}");
        assertThat(index.search(q, 10, Metric.COSINE, SearchMode.EXACT, 0.95f, one, false).hits()).hasSize(10);
        Filter rare = Filter.fromJson("{\"must\":[{\"field\":\"category\",\"value\":3}],"
                + "\"must_not\":[{\"field\":\"category\",\"value\":3}]}");
        assertThat(index.search(q, 10, Metric.COSINE, SearchMode.AUTO, 0.95f, rare, false).mode())
                .isEqualTo(SearchMode.EXACT);
        assertThat(index.search(q, 10, Metric.DOT, SearchMode.ANN, 0.95f, null, false).mode())
                .as("graph is for cosine only").isEqualTo(SearchMode.EXACT);
        assertThat(index.search(q, 10, Metric.COSINE, SearchMode.EXACT, 0.95f, null, false).mode())
                .isEqualTo(SearchMode.EXACT);
    }

    @Test
    void candidatesGrowWithTargetRecall() {
        assertThat(PartitionIndex.candidatesFor(10, 0.95f)).isEqualTo(20);
        assertThat(PartitionIndex.candidatesFor(10, 0f)).isEqualTo(20);
        assertThat(PartitionIndex.candidatesFor(10, Float.NaN)).isEqualTo(20);
        assertThat(PartitionIndex.candidatesFor(10, 0.8f)).isEqualTo(10);
        assertThat(PartitionIndex.candidatesFor(10, 0.9f)).isEqualTo(15);
        assertThat(PartitionIndex.candidatesFor(10, 0.99f)).isEqualTo(40);
        assertThat(PartitionIndex.candidatesFor(10, 1f)).isEqualTo(100);
        assertThat(PartitionIndex.candidatesFor(3, 0.95f)).as("small k still searches 10 wide").isEqualTo(20);
        assertThat(PartitionIndex.candidatesFor(100, 0.95f)).isEqualTo(200);
        assertThat(PartitionIndex.candidatesFor(1000, 1f)).isEqualTo(PartitionIndex.MAX_CANDIDATES);
        assertThat(PartitionIndex.candidatesFor(5000, 0.5f)).isEqualTo(5000);
    }

    @Test
    void roundTripLoadsTheGraphInsteadOfRebuildingIt() throws IOException {
        ManualExecutor idle = new ManualExecutor();
        PartitionIndex copy = PartitionIndex.readFrom(PartitionIndexTest.serialise(index), idle);
        assertThat(copy.indexedCount()).as("graph loaded before any indexer task ran").isEqualTo(N);
        assertThat(idle.pending()).as("nothing left to index").isZero();
        assertThat(recallAt10(copy, null, 100, 5)).isGreaterThanOrEqualTo(0.95);
        assertThat(copy.ramBytesUsed()).isGreaterThan(copy.ramBytesUsed() - 1).isPositive();
    }

    @Test
    void aPointIsFoundByTheTailScanBeforeTheGraphHasIt() {
        ManualExecutor idle = new ManualExecutor();
        PartitionIndex small = new PartitionIndex(DIM, Metric.COSINE, idle);
        Random random = new Random(6);
        for (int i = 0; i < 300; i++) {
            small.upsert(i, gaussian(random, 1f), null);
        }
        idle.runAll();
        assertThat(small.indexedCount()).isEqualTo(300);
        float[] fresh = gaussian(random, 1f);
        small.upsert(10_000, fresh, Payload.fromJson("{\"new\":true}"));
        assertThat(small.indexedCount()).as("not yet in the graph").isEqualTo(300);
        SearchResult result = small.search(fresh, 3, Metric.COSINE, SearchMode.ANN, 0.95f, null, true);
        assertThat(result.mode()).isEqualTo(SearchMode.ANN);
        assertThat(result.hits().get(0).id()).isEqualTo(10_000L);
        assertThat(result.hits().get(0).payload().field("new")).isEqualTo(true);
        idle.runAll();
        assertThat(small.indexedCount()).isEqualTo(301);
        assertThat(small.search(fresh, 3, Metric.COSINE, SearchMode.ANN, 0.95f, null, false).hits().get(0).id())
                .isEqualTo(10_000L);
    }

    @Test
    void deletedPointsNeverAppearInAnnResultsAndGraphCleanupKeepsRecall() {
        ManualExecutor own = new ManualExecutor();
        PartitionIndex idx = new PartitionIndex(DIM, Metric.COSINE, own);
        for (int i = 0; i < 3000; i++) {
            idx.upsert(i, data[i], null);
        }
        own.runAll();
        Set<Long> deleted = new HashSet<>();
        for (int i = 0; i < 3000; i += 7) { // ~14%: enough for a graph cleanup, below compaction
            idx.delete(i);
            deleted.add((long) i);
        }
        Random random = new Random(8);
        List<float[]> queries = List.of(data[0], data[7], query(random), query(random));
        for (float[] q : queries) {
            assertThat(idx.search(q, 10, Metric.COSINE, SearchMode.ANN, 0.95f, null, false).hits())
                    .noneMatch(h -> deleted.contains(h.id()));
        }
        assertThat(own.pending()).as("cleanup scheduled").isPositive();
        own.runAll();
        for (float[] q : queries) {
            SearchResult ann = idx.search(q, 10, Metric.COSINE, SearchMode.ANN, 0.95f, null, false);
            assertThat(ann.hits()).hasSize(10).noneMatch(h -> deleted.contains(h.id()));
        }
    }

    @Test
    void ramBytesUsedIncludesTheGraph() {
        PartitionIndex exactOnly = new PartitionIndex(DIM, Metric.COSINE, (GraphIndexer) null);
        for (int i = 0; i < 2000; i++) {
            exactOnly.upsert(i, data[i], Payload.fromJson("{\"category\":" + (i % 10) + "}"));
        }
        ManualExecutor own = new ManualExecutor();
        PartitionIndex withGraph = new PartitionIndex(DIM, Metric.COSINE, own);
        for (int i = 0; i < 2000; i++) {
            withGraph.upsert(i, data[i], Payload.fromJson("{\"category\":" + (i % 10) + "}"));
        }
        own.runAll();
        assertThat(withGraph.ramBytesUsed() - exactOnly.ramBytesUsed()).isGreaterThan(2000L * 16 * 4);
    }
}
