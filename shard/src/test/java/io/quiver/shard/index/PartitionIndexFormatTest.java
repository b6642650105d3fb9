package io.quiver.shard.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quiver.shard.index.payload.Payload;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

/**
 * The checkpoint layout of {@link PartitionIndex} across versions: version 2 stores the graph's neighbour
 * scores and reads back byte for byte; version 1 (scores written as 0), as a build before version 2 wrote
 * it, still loads its graph; an unknown version is refused with the versions this build reads.
 */
class PartitionIndexFormatTest {

    /**
     * Written by the build before version 2 (commit 0daec5b): 300 rows of 8 floats from Random(7), ids 7 i + 1,
     * payload {"i": i, "even": ...}, metric l2, graph complete (indexer on the calling thread), then id 8 deleted.
     */
    private static final String V1_RESOURCE = "partition-v1-l2-graph.bin";

    /** Holds every task: the tests observe what was loaded, not what an indexer built. */
    private static final Executor IDLE = task -> { };

    static byte[] bytesOf(PartitionIndex index) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            index.writeTo(out);
        }
        return bytes.toByteArray();
    }

    static PartitionIndex read(byte[] bytes) throws IOException {
        return PartitionIndex.readFrom(new DataInputStream(new ByteArrayInputStream(bytes)), IDLE);
    }

    /** A partition whose graph is complete (inserted on the calling thread), with one dead row inside it. */
    static PartitionIndex indexedPartition(int rows, int dim, Metric metric, long seed) {
        Random random = new Random(seed);
        PartitionIndex index = new PartitionIndex(dim, metric, Runnable::run);
        for (int i = 0; i < rows; i++) {
            index.upsert(i, randomVector(random, dim), Payload.fromJson("{\"i\":" + i + "}"));
        }
        index.delete(3);
        return index;
    }

    static float[] randomVector(Random random, int dim) {
        float[] v = new float[dim];
        for (int d = 0; d < dim; d++) {
            v[d] = random.nextFloat() - 0.5f;
        }
        return v;
    }

    @Test
    void version2StoresTheGraphWithItsScoresAndRoundTripsByteForByte() throws IOException {
        for (Metric metric : Metric.values()) {
            PartitionIndex original = indexedPartition(500, 16, metric, 11);
            byte[] written = bytesOf(original);
            assertThat(ByteBuffer.wrap(written).getInt(4)).isEqualTo(PartitionIndex.CURRENT_VERSION).isEqualTo(2);

            PartitionIndex loaded = read(written);
            assertThat(loaded.indexedCount()).as("graph loaded, not rebuilt (%s)", metric).isEqualTo(500);
            assertThat(bytesOf(loaded)).as("written again after loading (%s)", metric).isEqualTo(written);

            float[] query = randomVector(new Random(5), 16);
            assertThat(ids(loaded.search(query, 10, metric, SearchMode.ANN, 0.95f, null, false)))
                    .as("same graph, same answers (%s)", metric)
                    .containsExactlyElementsOf(ids(original.search(query, 10, metric, SearchMode.ANN, 0.95f, null, false)));
        }
    }

    @Test
    void version2GraphSectionCarriesTheScoresNotZeros() throws IOException {
        PartitionIndex original = indexedPartition(200, 8, Metric.L2, 3);
        byte[] withScores = bytesOf(original);
        // The same partition written as version 1 did: every score 0. Reading it recomputes the scores,
        // which must be the ones version 2 stored.
        byte[] asVersion1 = zeroScores(withScores, 8);
        ByteBuffer.wrap(asVersion1).putInt(4, 1);
        assertThat(asVersion1).isNotEqualTo(withScores);
        assertThat(bytesOf(read(asVersion1))).isEqualTo(withScores);
    }

    @Test
    void readsVersion1WrittenBeforeScoresWereStored() throws IOException {
        byte[] v1;
        try (InputStream in = getClass().getResourceAsStream(V1_RESOURCE)) {
            assertThat(in).as(V1_RESOURCE).isNotNull();
            v1 = in.readAllBytes();
        }
        assertThat(ByteBuffer.wrap(v1).getInt(4)).isEqualTo(1);
        PartitionIndex loaded = read(v1);
        assertThat(loaded.rowCount()).isEqualTo(300);
        assertThat(loaded.indexedCount()).as("graph loaded, not rebuilt").isEqualTo(300);
        assertThat(loaded.size()).isEqualTo(299);
        assertThat(loaded.get(8L)).as("deleted before it was written").isNull();
        float[] row10 = loaded.get(71L).vector(); // ids are 7 i + 1
        SearchHit nearest = loaded.search(row10, 1, Metric.L2, SearchMode.ANN, 0.95f, null, true).hits().get(0);
        assertThat(nearest.id()).isEqualTo(71L);
        assertThat(nearest.payload().field("i")).isEqualTo(10.0);

        byte[] rewritten = bytesOf(loaded);
        assertThat(ByteBuffer.wrap(rewritten).getInt(4)).isEqualTo(2);
        assertThat(bytesOf(read(rewritten))).isEqualTo(rewritten);
    }

    @Test
    void refusesAnUnknownVersionNamingTheVersionsItReads() throws IOException {
        byte[] bytes = bytesOf(indexedPartition(20, 4, Metric.COSINE, 1));
        ByteBuffer.wrap(bytes).putInt(4, 3);
        assertThatThrownBy(() -> read(bytes)).isInstanceOf(IOException.class)
                .hasMessage("unsupported partition index version 3 (this build reads 1 to 2)");
    }

    @Test
    void anInconsistentGraphSectionIsRefusedWithItsByteOffset() throws IOException {
        byte[] bytes = bytesOf(indexedPartition(100, 8, Metric.L2, 2));
        GraphSection g = GraphSection.find(bytes, 8);
        ByteBuffer.wrap(bytes).putInt(g.firstNeighbourAt(), 1_000_000);
        assertThatThrownBy(() -> read(bytes)).isInstanceOf(IOException.class)
                .hasMessageStartingWith("corrupt graph section at byte " + (g.firstNeighbourAt() - g.bytesAt()) + " of ")
                .hasMessageContaining("1000000 is outside [0, 99]");

        byte[] nan = bytesOf(indexedPartition(100, 8, Metric.L2, 2));
        ByteBuffer.wrap(nan).putFloat(g.firstNeighbourAt() + 4, Float.NaN);
        assertThatThrownBy(() -> read(nan)).isInstanceOf(IOException.class)
                .hasMessageStartingWith("corrupt graph section at byte " + (g.firstNeighbourAt() + 4 - g.bytesAt()) + " of ")
                .hasMessageContaining("is not finite or out of order");
    }

    private static java.util.List<Long> ids(SearchResult result) {
        return result.hits().stream().map(SearchHit::id).toList();
    }

    /** A copy of a version 2 partition with every graph score set to 0. */
    private static byte[] zeroScores(byte[] partition, int dim) {
        byte[] copy = partition.clone();
        GraphSection g = GraphSection.find(copy, dim);
        ByteBuffer b = ByteBuffer.wrap(copy);
        int p = g.levelsAt();
        int levels = b.getInt(p);
        p += 4 + 4 * levels + 4; // degrees, entry node
        for (int level = 0; level < levels; level++) {
            int nodes = b.getInt(p);
            p += 4;
            for (int i = 0; i < nodes; i++) {
                int count = b.getInt(p + 4);
                p += 8;
                for (int j = 0; j < count; j++) {
                    b.putFloat(p + 4, 0f);
                    p += 8;
                }
            }
        }
        return copy;
    }

    /** Offsets into a serialised partition (layout in {@link PartitionIndex}'s class comment). */
    record GraphSection(int bytesAt, int length, int firstNeighbourAt) {

        static GraphSection find(byte[] partition, int dim) {
            ByteBuffer b = ByteBuffer.wrap(partition);
            int rows = b.getInt(13);
            int p = 17;
            for (int r = 0; r < rows; r++) {
                byte flags = b.get(p + 8);
                p += 9 + 4 * dim;
                if ((flags & 1) != 0) {
                    p += 4 + b.getInt(p);
                }
            }
            assertThat(b.get(p)).as("graph section present").isEqualTo((byte) 1);
            int length = b.getInt(p + 5);
            int bytesAt = p + 9;
            int levels = b.getInt(bytesAt + 8);
            int level0 = bytesAt + 12 + 4 * levels + 4; // after magic, layout version, levels, degrees, entry node
            assertThat(b.getInt(level0 + 8)).as("first node has neighbours").isPositive();
            return new GraphSection(bytesAt, length, level0 + 12); // after the node count, the node, its neighbour count
        }

        int levelsAt() {
            return bytesAt + 8;
        }
    }
}
