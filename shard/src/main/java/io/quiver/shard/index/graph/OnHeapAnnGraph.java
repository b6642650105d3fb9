package io.quiver.shard.index.graph;

import io.github.jbellis.jvector.disk.ByteBufferReader;
import io.github.jbellis.jvector.graph.GraphIndexBuilder;
import io.github.jbellis.jvector.graph.GraphSearcher;
import io.github.jbellis.jvector.graph.ImmutableGraphIndex;
import io.github.jbellis.jvector.graph.NodeArray;
import io.github.jbellis.jvector.graph.NodesIterator;
import io.github.jbellis.jvector.graph.OnHeapGraphIndex;
import io.github.jbellis.jvector.graph.OnHeapGraphNeighbors;
import io.github.jbellis.jvector.graph.SearchResult;
import io.github.jbellis.jvector.graph.similarity.DefaultSearchScoreProvider;
import io.github.jbellis.jvector.graph.similarity.ScoreFunction;
import io.github.jbellis.jvector.util.Bits;
import io.github.jbellis.jvector.vector.VectorSimilarityFunction;
import io.quiver.shard.index.vector.OnHeapVectorChunks;

import java.io.ByteArrayOutputStream;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A mutable on-heap jvector graph (Vamana/HNSW-style, {@link GraphIndexBuilder}) over the rows of one
 * {@link OnHeapVectorChunks}; graph ordinal = row number.
 *
 * <p>Rows are inserted in row order by one background indexer: every row below {@link #indexedCount()} has
 * been inserted (dead rows too, marked deleted), rows at or above it are the not-yet-indexed tail that the
 * caller scans exactly. Deletion marks the node at once ({@link #markDeleted}); {@link #removeDeletedNodes}
 * rewires the graph around them and runs only between insert batches.
 *
 * <p>Thread-safety: {@link #insertUpTo}, {@link #removeDeletedNodes} and {@link #writeTo} exclude each other
 * (the {@code mutation} lock); searches run concurrently with inserts (jvector's concurrent view) but not
 * with {@code removeDeletedNodes} (the {@code structure} read-write lock). {@link #markDeleted} is safe
 * from any thread.
 *
 * <p>Serialised form ({@link #writeTo}, big-endian): {@code int indexedCount, int byteLength, byte[byteLength]}
 * where the bytes are jvector's on-heap graph layout version 4:
 * <pre>
 * int   magic ({@code OnHeapGraphIndex.MAGIC}), int 4 (jvector's layout version)
 * int   levels, then levels times: int maximum degree of the level
 * int   entry node (-1: none)
 * levels times: int nodes, then per node: int node, int neighbours, then per neighbour: int node, float score
 * </pre>
 * Neighbours are listed best first with the similarity jvector holds for the edge (from partition index version 2 on):
 * loading them is reading, not one similarity computation per edge. Sections written before that
 * (partition index version 1) carry 0 for every score; {@link #readFrom} recomputes those, as jvector's
 * own loader does.
 */
public final class OnHeapAnnGraph {

    /** Maximum out-degree of the base layer. */
    public static final int MAX_DEGREE = 16;
    /** Beam width used while inserting. */
    public static final int BUILD_BEAM_WIDTH = 100;
    static final float NEIGHBOR_OVERFLOW = 1.2f;
    static final float ALPHA = 1.2f;
    private static final int GRAPH_FORMAT_VERSION = 4;
    /** Sanity bound on a level's maximum degree and on the levels of a stored graph (jvector's are far below). */
    private static final int MAX_STORED_DEGREE = 4096;
    private static final int MAX_STORED_LEVELS = 64;

    private final OnHeapVectorChunks vectors;
    private final GraphIndexBuilder builder;
    private final ReentrantLock mutation = new ReentrantLock();
    private final ReentrantReadWriteLock structure = new ReentrantReadWriteLock();
    private volatile int indexedCount;
    private volatile int deletedSinceCleanup;

    public OnHeapAnnGraph(OnHeapVectorChunks vectors, VectorSimilarityFunction similarity) {
        this.vectors = vectors;
        this.builder = new GraphIndexBuilder(new ChunkedVectorValues(vectors), similarity, MAX_DEGREE,
                BUILD_BEAM_WIDTH, NEIGHBOR_OVERFLOW, ALPHA, true);
    }

    public OnHeapVectorChunks vectors() {
        return vectors;
    }

    /** Rows [0, indexedCount) are in the graph (or were dead when inserted); the rest is the tail. */
    public int indexedCount() {
        return indexedCount;
    }

    /** Number of deletions marked since the last {@link #removeDeletedNodes}. */
    public int deletedSinceCleanup() {
        return deletedSinceCleanup;
    }

    /**
     * Inserts rows from {@link #indexedCount()} up to {@code endRow} (exclusive, capped at the store's size).
     * Returns the number inserted. Called by the single background indexer.
     */
    public int insertUpTo(int endRow) {
        mutation.lock();
        structure.readLock().lock();
        try {
            int end = Math.min(endRow, vectors.size());
            int start = indexedCount;
            for (int row = start; row < end; row++) {
                builder.addGraphNode(row, ChunkedVectorValues.wrap(vectors.copyOf(row)));
                indexedCount = row + 1;
            }
            return Math.max(0, end - start);
        } finally {
            structure.readLock().unlock();
            mutation.unlock();
        }
    }

    /** Hides a node from search results at once; thread-safe. */
    public void markDeleted(int row) {
        builder.markNodeDeleted(row);
        deletedSinceCleanup++; // approximate under races; only a trigger for cleanup
    }

    /** Rewires the graph around deleted nodes. Blocks searches and inserts while it runs. */
    public void removeDeletedNodes() {
        mutation.lock();
        structure.writeLock().lock();
        try {
            deletedSinceCleanup = 0;
            builder.removeDeletedNodes();
        } finally {
            structure.writeLock().unlock();
            mutation.unlock();
        }
    }

    /**
     * Best-first graph search over the nodes accepted by {@code accept}, keeping {@code candidates}
     * results. {@code score} must be higher-is-better and exact (no reranking is done).
     */
    public SearchResult.NodeScore[] search(ScoreFunction.ExactScoreFunction score, int candidates, Bits accept) {
        structure.readLock().lock();
        try {
            // One searcher per thread, pointed at this graph's current view: a new searcher per search
            // allocated and regrew its visited set and queues every time (~8% of search CPU in a profile).
            GraphSearcher searcher = SEARCHER.get();
            if (searcher == null) {
                searcher = new GraphSearcher(builder.getGraph());
                SEARCHER.set(searcher);
            } else {
                searcher.setView(builder.getGraph().getView());
            }
            // No score floor: l2 scores are negative distances, so a floor of 0 would drop every node.
            SearchResult result = searcher.search(new DefaultSearchScoreProvider(score), candidates, candidates,
                    Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, accept);
            return result.getNodes();
        } finally {
            structure.readLock().unlock();
        }
    }

    /** The calling thread's searcher; searches set its view to the graph they walk (views of on-heap graphs hold no resources). */
    private static final ThreadLocal<GraphSearcher> SEARCHER = new ThreadLocal<>();

    /** Number of nodes in the base layer. */
    public int graphSize() {
        return builder.getGraph().size(0);
    }

    public long ramBytesUsed() {
        return builder.ramBytesUsed();
    }

    /** Writes the graph (see class comment); waits for an in-flight insert batch to finish. */
    public void writeTo(DataOutput out) throws IOException {
        mutation.lock();
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            writeGraph(new DataOutputStream(bytes));
            out.writeInt(indexedCount);
            out.writeInt(bytes.size());
            bytes.writeTo(new DataOutputAdapter(out));
        } finally {
            mutation.unlock();
        }
    }

    private void writeGraph(DataOutputStream out) throws IOException {
        ImmutableGraphIndex graph = builder.getGraph();
        OnHeapGraphIndex onHeap = (OnHeapGraphIndex) graph;
        int levels = graph.size(0) == 0 ? 1 : graph.getMaxLevel() + 1;
        out.writeInt(OnHeapGraphIndex.MAGIC);
        out.writeInt(GRAPH_FORMAT_VERSION);
        out.writeInt(levels);
        for (int level = 0; level < levels; level++) {
            out.writeInt(graph.getDegree(level));
        }
        ImmutableGraphIndex.NodeAtLevel entry = onHeap.entryNode();
        out.writeInt(entry == null ? ImmutableGraphIndex.ENTRY_NODE_ABSENT : entry.node);
        for (int level = 0; level < levels; level++) {
            out.writeInt(graph.size(level));
            NodesIterator nodes = graph.getNodes(level);
            while (nodes.hasNext()) {
                int node = nodes.nextInt();
                NodeArray neighbors = OnHeapGraphNeighbors.of(onHeap, level, node);
                int count = neighbors == null ? 0 : neighbors.size();
                out.writeInt(node);
                out.writeInt(count);
                for (int i = 0; i < count; i++) {
                    out.writeInt(neighbors.getNode(i));
                    out.writeFloat(neighbors.getScore(i));
                }
            }
        }
    }

    /**
     * Reads a graph written by {@link #writeTo} over the same rows (vectors must already be loaded). The graph is
     * loaded, never rebuilt. With {@code scoresStored} (partition index version 2 on) the neighbour scores are
     * taken as written; without, they were written as 0 and are recomputed from the vectors.
     *
     * @throws IOException when the section is inconsistent: the message gives the byte within the section
     */
    public static OnHeapAnnGraph readFrom(DataInput in, OnHeapVectorChunks vectors, VectorSimilarityFunction similarity,
                                          boolean scoresStored) throws IOException {
        int indexed = in.readInt();
        int length = in.readInt();
        if (indexed < 0 || indexed > vectors.size() || length < 0) {
            throw new IOException("corrupt graph section: indexedCount " + indexed + ", length " + length
                    + ", rows " + vectors.size());
        }
        OnHeapAnnGraph graph = new OnHeapAnnGraph(vectors, similarity);
        if (scoresStored) {
            SectionInput section = new SectionInput(in, length);
            if (indexed > 0) {
                loadScored(section, (OnHeapGraphIndex) graph.builder.getGraph(), indexed);
            }
            section.skipRest();
        } else {
            byte[] bytes = new byte[length];
            in.readFully(bytes);
            if (indexed > 0) {
                try (ByteBufferReader reader = new ByteBufferReader(ByteBuffer.wrap(bytes))) {
                    graph.builder.load(reader);
                } catch (RuntimeException e) {
                    throw new IOException("corrupt graph section: " + e.getMessage(), e);
                }
            }
        }
        graph.indexedCount = indexed;
        return graph;
    }

    /**
     * jvector's {@code loadV4} with the stored scores instead of recomputed ones, checking every value
     * against the section's own bounds (node ids below {@code indexed}, scores best first).
     */
    private static void loadScored(SectionInput in, OnHeapGraphIndex graph, int indexed) throws IOException {
        in.expect(OnHeapGraphIndex.MAGIC, "graph magic");
        in.expect(GRAPH_FORMAT_VERSION, "graph layout version");
        int levels = in.readInt(1, MAX_STORED_LEVELS, "level count");
        List<Integer> degrees = new ArrayList<>(levels);
        for (int level = 0; level < levels; level++) {
            degrees.add(in.readInt(1, MAX_STORED_DEGREE, "maximum degree of level " + level));
        }
        int entry = in.readInt(ImmutableGraphIndex.ENTRY_NODE_ABSENT, indexed - 1, "entry node");
        int[] topLevel = new int[indexed];
        Arrays.fill(topLevel, -1);
        for (int level = 0; level < levels; level++) {
            int size = in.readInt(0, indexed, "node count of level " + level);
            int maxNeighbours = 2 * degrees.get(level);
            for (int i = 0; i < size; i++) {
                int node = in.readInt(0, indexed - 1, "node id");
                int count = in.readInt(0, maxNeighbours, "neighbour count of node " + node);
                NodeArray neighbours = new NodeArray(count);
                float previous = Float.POSITIVE_INFINITY;
                for (int j = 0; j < count; j++) {
                    int neighbour = in.readInt(0, indexed - 1, "neighbour of node " + node);
                    float score = in.readFloat();
                    if (!(score <= previous)) { // also refuses NaN
                        throw in.corrupt("score " + score + " of neighbour " + neighbour + " of node " + node
                                + " is not finite or out of order (previous " + previous + ")");
                    }
                    previous = score;
                    neighbours.addInOrder(neighbour, score);
                }
                graph.connectNode(level, node, neighbours);
                topLevel[node] = level;
            }
        }
        for (int node = 0; node < indexed; node++) {
            if (topLevel[node] >= 0) {
                graph.markComplete(new ImmutableGraphIndex.NodeAtLevel(topLevel[node], node));
            }
        }
        graph.setDegrees(degrees);
        if (entry != ImmutableGraphIndex.ENTRY_NODE_ABSENT) {
            graph.updateEntryNode(new ImmutableGraphIndex.NodeAtLevel(graph.getMaxLevel(), entry));
        }
    }

    /** The graph bytes of a section, read straight from the checkpoint stream, counting what was read. */
    private static final class SectionInput {
        private final DataInput in;
        private final int length;
        private int position;

        SectionInput(DataInput in, int length) {
            this.in = in;
            this.length = length;
        }

        int readInt() throws IOException {
            need(4);
            position += 4;
            return in.readInt();
        }

        int readInt(int min, int max, String what) throws IOException {
            int v = readInt();
            if (v < min || v > max) {
                throw corrupt(what + " " + v + " is outside [" + min + ", " + max + "]", 4);
            }
            return v;
        }

        float readFloat() throws IOException {
            need(4);
            position += 4;
            return in.readFloat();
        }

        void expect(int expected, String what) throws IOException {
            int v = readInt();
            if (v != expected) {
                throw corrupt(String.format("%s 0x%08x, expected 0x%08x", what, v, expected), 4);
            }
        }

        void skipRest() throws IOException {
            while (position < length) {
                int skipped = in.skipBytes(length - position);
                if (skipped <= 0) {
                    in.readByte(); // skipBytes may skip nothing without being at the end
                    skipped = 1;
                }
                position += skipped;
            }
        }

        IOException corrupt(String detail) {
            return corrupt(detail, 4);
        }

        private IOException corrupt(String detail, int valueBytes) {
            return new IOException("corrupt graph section at byte " + (position - valueBytes) + " of " + length + ": "
                    + detail);
        }

        private void need(int bytes) throws IOException {
            if (position + bytes > length) {
                throw new IOException("corrupt graph section: ends at byte " + length + " in the middle of a value at byte "
                        + position);
            }
        }
    }

    /** Lets a ByteArrayOutputStream write into any DataOutput. */
    private static final class DataOutputAdapter extends java.io.OutputStream {
        private final DataOutput out;

        DataOutputAdapter(DataOutput out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }
    }
}
