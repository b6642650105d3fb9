package io.quiver.shard.index;

import io.quiver.shard.index.payload.Filter;
import io.quiver.shard.index.payload.Payload;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class PartitionIndexTest {

    private static final int DIM = 24;
    private static final Filter EVEN_BUCKET_NOT_RED = Filter.fromJson(
            "{\"should\":[{\"field\":\"bucket\",\"value\":0},{\"field\":\"bucket\",\"value\":2},{\"field\":\"bucket\",\"value\":4}],"
                    + "\"must_not\":[{\"field\":\"tags\",\"value\":\"red\"}]}");

    /** Reference model: id -> (vector, payload), searched by brute force in double precision. */
    private final Map<Long, float[]> vectors = new HashMap<>();
    private final Map<Long, Payload> payloads = new HashMap<>();

    private PartitionIndex populated(Metric metric, int n, long seed) {
        return populated(metric, n, seed, DIM);
    }

    private PartitionIndex populated(Metric metric, int n, long seed, int dim) {
        Random random = new Random(seed);
        PartitionIndex index = new PartitionIndex(dim, metric);
        for (int i = 0; i < n; i++) {
            long id = random.nextInt(4) == 0 ? random.nextLong() : random.nextInt(1_000_000);
            float[] v = gaussian(random, dim);
            Payload p = Payload.fromJson("{\"bucket\":" + (i % 7) + ",\"tags\":[\""
                    + (random.nextBoolean() ? "red" : "blue") + "\"]}");
            boolean created = index.upsert(id, v, p);
            assertThat(created).isEqualTo(!vectors.containsKey(id));
            vectors.put(id, v);
            payloads.put(id, p);
        }
        return index;
    }

    private static float[] gaussian(Random random) {
        return gaussian(random, DIM);
    }

    private static float[] gaussian(Random random, int dim) {
        float[] v = new float[dim];
        for (int d = 0; d < dim; d++) {
            v[d] = (float) random.nextGaussian();
        }
        return v;
    }

    private List<SearchHit> bruteForce(float[] q, int k, Metric metric, Filter filter) {
        List<SearchHit> all = new ArrayList<>();
        for (Map.Entry<Long, float[]> e : vectors.entrySet()) {
            if (filter != null && !filter.matches(payloads.get(e.getKey()))) {
                continue;
            }
            all.add(new SearchHit(e.getKey(), (float) referenceScore(metric, q, e.getValue()), null));
        }
        Comparator<SearchHit> byScore = Comparator.comparingDouble(SearchHit::score);
        if (metric.higherIsBetter()) {
            byScore = byScore.reversed();
        }
        all.sort(byScore.thenComparing(SearchHit::id, Long::compareUnsigned));
        return all.subList(0, Math.min(k, all.size()));
    }

    private static double referenceScore(Metric metric, float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0, l2 = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
            l2 += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
        }
        return switch (metric) {
            case DOT -> dot;
            case COSINE -> dot / Math.sqrt(na * nb);
            case L2 -> Math.sqrt(l2);
        };
    }

    private void assertSameHits(SearchResult result, List<SearchHit> expected) {
        assertThat(result.hits()).extracting(SearchHit::id).containsExactlyElementsOf(
                expected.stream().map(SearchHit::id).toList());
        for (int i = 0; i < expected.size(); i++) {
            assertThat(result.hits().get(i).score()).isCloseTo(expected.get(i).score(), within(1e-3f));
        }
    }

    @ParameterizedTest
    @EnumSource(Metric.class)
    void exactSearchEqualsBruteForceWithAndWithoutFilter(Metric metric) {
        PartitionIndex index = populated(metric, 3000, 11);
        Random random = new Random(99);
        for (int q = 0; q < 20; q++) {
            float[] query = gaussian(random);
            assertSameHits(index.search(query, 10, metric, SearchMode.EXACT, 0.95f, null, false),
                    bruteForce(query, 10, metric, null));
            SearchResult filtered = index.search(query, 10, metric, SearchMode.EXACT, 0.95f, EVEN_BUCKET_NOT_RED, true);
            assertSameHits(filtered, bruteForce(query, 10, metric, EVEN_BUCKET_NOT_RED));
            assertThat(filtered.mode()).isEqualTo(SearchMode.EXACT);
            assertThat(filtered.hits()).allSatisfy(h -> assertThat(EVEN_BUCKET_NOT_RED.matches(h.payload())).isTrue());
        }
    }

    /**
     * The batch scan scores four queries per pass over a block of rows: with an odd dimension (a SIMD tail),
     * a query count that is not a multiple of four, rows that do not fill the last block, dead rows and a
     * filter, every query still gets the brute-force answer and the answer it gets alone.
     */
    @ParameterizedTest
    @EnumSource(Metric.class)
    void exactBatchEqualsBruteForceAndSingleSearchesForOddShapes(Metric metric) {
        int dim = 37;
        PartitionIndex index = populated(metric, 5 * PartitionIndex.EXACT_BLOCK_ROWS + 3, 17, dim);
        List<Long> ids = new ArrayList<>(vectors.keySet());
        for (int i = 0; i < ids.size(); i += 9) {
            index.delete(ids.get(i));
            vectors.remove(ids.get(i));
            payloads.remove(ids.get(i));
        }
        Random random = new Random(4);
        for (int nq : new int[] {1, 3, 4, 11}) {
            float[][] queries = new float[nq][];
            for (int i = 0; i < nq; i++) {
                queries[i] = gaussian(random, dim);
            }
            for (Filter filter : new Filter[] {null, EVEN_BUCKET_NOT_RED}) {
                List<SearchResult> batch = index.searchBatch(queries, 10, metric, SearchMode.EXACT, 0.95f, filter, false);
                assertThat(batch).hasSize(nq);
                for (int i = 0; i < nq; i++) {
                    assertSameHits(batch.get(i), bruteForce(queries[i], 10, metric, filter));
                    // Scores may differ in the last bit: the Vector API's lane reduction order is unspecified.
                    assertSameHits(batch.get(i),
                            index.search(queries[i], 10, metric, SearchMode.EXACT, 0.95f, filter, false).hits());
                }
            }
        }
    }

    @Test
    void warmUpSearchesEveryMetricInBothModes() {
        // 3 metrics x 2 modes x (10 hits of one query + 4 results of a batch)
        assertThat(PartitionIndex.warmUp()).isEqualTo(3 * 2 * (10 + 4));
    }

    @Test
    void searchWithAnotherMetricThanTheIndexMetricIsExact() {
        PartitionIndex index = populated(Metric.DOT, 500, 3);
        float[] query = gaussian(new Random(5));
        assertSameHits(index.search(query, 7, Metric.L2, SearchMode.AUTO, 0.95f, null, false),
                bruteForce(query, 7, Metric.L2, null));
    }

    @Test
    void batchSearchEqualsSingleSearches() {
        PartitionIndex index = populated(Metric.COSINE, 2000, 21);
        Random random = new Random(8);
        float[][] queries = new float[5][];
        for (int i = 0; i < queries.length; i++) {
            queries[i] = gaussian(random);
        }
        List<SearchResult> batch = index.searchBatch(queries, 10, Metric.COSINE, SearchMode.EXACT, 0.95f,
                EVEN_BUCKET_NOT_RED, false);
        for (int i = 0; i < queries.length; i++) {
            // Scores may differ in the last bit: the Vector API's lane reduction order is unspecified.
            assertSameHits(batch.get(i), index.search(queries[i], 10, Metric.COSINE, SearchMode.EXACT,
                    0.95f, EVEN_BUCKET_NOT_RED, false).hits());
        }
    }

    @Test
    void tiesAreBrokenByUnsignedIdAscending() {
        PartitionIndex index = new PartitionIndex(2, Metric.DOT);
        float[] v = {1, 0};
        index.upsert(-1L, v, null);          // 2^64-1
        index.upsert(Long.MIN_VALUE, v, null); // 2^63
        index.upsert(5L, v, null);
        assertThat(index.search(v, 3, Metric.DOT, SearchMode.EXACT, 0.95f, null, false).hits())
                .extracting(SearchHit::id).containsExactly(5L, Long.MIN_VALUE, -1L);
    }

    @Test
    void deletedAndReplacedPointsNeverAppearAndUpsertIsVisibleAtOnce() {
        PartitionIndex index = populated(Metric.L2, 1500, 4);
        Random random = new Random(6);
        List<Long> ids = new ArrayList<>(vectors.keySet());
        for (int i = 0; i < 600; i++) { // enough deletes to trigger compaction
            long id = ids.get(i);
            assertThat(index.delete(id)).isTrue();
            assertThat(index.delete(id)).isFalse();
            vectors.remove(id);
            payloads.remove(id);
        }
        assertThat(index.rowCount()).as("compacted").isLessThan(1500);
        long fresh = 123_456_789_012L;
        float[] target = gaussian(random);
        assertThat(index.upsert(fresh, target, Payload.fromJson("{\"bucket\":0}"))).isTrue();
        vectors.put(fresh, target);
        payloads.put(fresh, Payload.fromJson("{\"bucket\":0}"));
        assertThat(index.search(target, 1, Metric.L2, SearchMode.AUTO, 0.95f, null, false).hits().get(0).id())
                .isEqualTo(fresh);
        // replace a point: the old vector must not be found any more
        long replaced = ids.get(700);
        float[] old = vectors.get(replaced);
        float[] moved = gaussian(random);
        assertThat(index.upsert(replaced, moved, null)).isFalse();
        vectors.put(replaced, moved);
        payloads.put(replaced, Payload.EMPTY);
        assertThat(index.get(replaced).vector()).containsExactly(moved);
        for (int q = 0; q < 10; q++) {
            float[] query = q == 0 ? old : gaussian(random);
            SearchResult result = index.search(query, 10, Metric.L2, SearchMode.EXACT, 0.95f, null, false);
            assertSameHits(result, bruteForce(query, 10, Metric.L2, null));
            for (int i = 0; i < 600; i++) {
                long deleted = ids.get(i);
                assertThat(result.hits()).noneMatch(h -> h.id() == deleted);
            }
        }
        assertThat(index.size()).isEqualTo(vectors.size());
        assertThat(index.get(ids.get(0))).isNull();
    }

    @Test
    void getReturnsTheVectorAsWrittenAndUpdatePayloadReplacesIt() {
        PartitionIndex index = new PartitionIndex(3, Metric.COSINE);
        float[] v = {3, 0, 4};
        index.upsert(9, v, Payload.fromJson("{\"a\":1}"));
        v[0] = 100; // the index holds its own copy
        StoredPoint p = index.get(9);
        assertThat(p.vector()).containsExactly(3, 0, 4);
        assertThat(p.payload().field("a")).isEqualTo(1.0);
        assertThat(index.updatePayload(9, Payload.fromJson("{\"a\":2}"))).isTrue();
        assertThat(index.updatePayload(10, Payload.EMPTY)).isFalse();
        assertThat(index.get(9).payload().field("a")).isEqualTo(2.0);
        assertThat(index.count(Filter.fromJson("{\"must\":[{\"field\":\"a\",\"value\":2}]}"))).isEqualTo(1);
        assertThat(index.count(Filter.fromJson("{\"must\":[{\"field\":\"a\",\"value\":1}]}"))).isZero();
        assertThatThrownBy(() -> index.upsert(1, new float[2], null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void countMatchesTheReference() {
        PartitionIndex index = populated(Metric.DOT, 1000, 2);
        long expected = payloads.values().stream().filter(EVEN_BUCKET_NOT_RED::matches).count();
        assertThat(index.count(EVEN_BUCKET_NOT_RED)).isEqualTo(expected);
        assertThat(index.count(null)).isEqualTo(vectors.size());
    }

    @Test
    void idsAfterPagesInUnsignedOrderIncludingIdsAboveTwoToThe63() {
        PartitionIndex index = new PartitionIndex(2, Metric.DOT);
        long[] ids = {0, 1, 42, Long.MAX_VALUE, Long.MIN_VALUE, -2, -1, 1L << 40};
        for (long id : ids) {
            index.upsert(id, new float[] {1, 1}, null);
        }
        index.delete(42);
        List<Long> paged = new ArrayList<>();
        long[] page = index.idsAfter(0, false, 3);
        while (page.length > 0) {
            for (long id : page) {
                paged.add(id);
            }
            page = index.idsAfter(page[page.length - 1], true, 3);
        }
        assertThat(paged).containsExactly(0L, 1L, 1L << 40, Long.MAX_VALUE, Long.MIN_VALUE, -2L, -1L);
        assertThat(index.idsAfter(Long.MAX_VALUE, true, 10)).containsExactly(Long.MIN_VALUE, -2L, -1L);
        assertThat(index.idsAfter(-1L, true, 10)).isEmpty();
        assertThat(index.idsAfter(0, false, 0)).isEmpty();
    }

    @Test
    void writeToReadFromRoundTripKeepsPointsAndSearchResults() throws IOException {
        PartitionIndex index = populated(Metric.COSINE, 1200, 13);
        List<Long> ids = new ArrayList<>(vectors.keySet());
        for (int i = 0; i < 50; i++) {
            index.delete(ids.get(i));
            vectors.remove(ids.get(i));
        }
        PartitionIndex copy = roundTrip(index);
        assertThat(copy.size()).isEqualTo(index.size());
        assertThat(copy.dimension()).isEqualTo(DIM);
        assertThat(copy.indexMetric()).isEqualTo(Metric.COSINE);
        for (long id : vectors.keySet()) {
            StoredPoint p = copy.get(id);
            assertThat(p.vector()).containsExactly(vectors.get(id));
            assertThat(p.payload()).isEqualTo(payloads.get(id));
        }
        float[] query = gaussian(new Random(1));
        SearchResult before = index.search(query, 10, Metric.COSINE, SearchMode.EXACT, 0.95f, EVEN_BUCKET_NOT_RED, true);
        SearchResult after = copy.search(query, 10, Metric.COSINE, SearchMode.EXACT, 0.95f, EVEN_BUCKET_NOT_RED, true);
        assertSameHits(after, before.hits());
        assertThat(after.hits()).extracting(SearchHit::payload).containsExactlyElementsOf(
                before.hits().stream().map(SearchHit::payload).toList());
    }

    @Test
    void readFromRejectsAForeignMagicNumber() {
        byte[] junk = {1, 2, 3, 4, 0, 0, 0, 1};
        assertThatThrownBy(() -> PartitionIndex.readFrom(new DataInputStream(new ByteArrayInputStream(junk))))
                .isInstanceOf(IOException.class).hasMessageContaining("magic");
    }

    @Test
    void ramBytesUsedGrowsWithPoints() {
        PartitionIndex index = new PartitionIndex(DIM, Metric.DOT);
        long empty = index.ramBytesUsed();
        Random random = new Random(3);
        for (int i = 0; i < 1000; i++) {
            index.upsert(i, gaussian(random), Payload.fromJson("{\"name\":\"point-" + i + "\"}"));
        }
        long full = index.ramBytesUsed();
        assertThat(full - empty).isGreaterThan(1000L * (DIM * 4 + 8 + 4 + 20));
        for (int i = 0; i < 1000; i++) {
            index.delete(i);
        }
        assertThat(index.ramBytesUsed()).isLessThan(full);
    }

    static PartitionIndex roundTrip(PartitionIndex index) throws IOException {
        return PartitionIndex.readFrom(serialise(index));
    }

    static DataInputStream serialise(PartitionIndex index) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            index.writeTo(out);
        }
        return new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
    }
}
