package io.quiver.shard.index.graph;

import io.github.jbellis.jvector.disk.ByteBufferReader;
import io.github.jbellis.jvector.graph.GraphIndexBuilder;
import io.github.jbellis.jvector.graph.GraphSearcher;
import io.github.jbellis.jvector.graph.ImmutableGraphIndex;
import io.github.jbellis.jvector.graph.NodesIterator;
import io.github.jbellis.jvector.graph.OnHeapGraphIndex;
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
 * <p>Serialised form ({@link #writeTo}): {@code int indexedCount, int byteLength, byte[byteLength]} where the
 * bytes are jvector's on-heap graph format version 4 (magic, layer degrees, entry node, per layer the
 * node ids and neighbour lists; neighbour scores are written as 0 and recomputed on load).
 */
public final class OnHeapAnnGraph {

    /** Maximum out-degree of the base layer. */
    public static final int MAX_DEGREE = 16;
    /** Beam width used while inserting. */
    public static final int BUILD_BEAM_WIDTH = 100;
    static final float NEIGHBOR_OVERFLOW = 1.2f;
    static final float ALPHA = 1.2f;
    private static final int GRAPH_FORMAT_VERSION = 4;

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
                NodesIterator neighbors = onHeap.getNeighborsIterator(level, node);
                out.writeInt(node);
                out.writeInt(neighbors.size());
                while (neighbors.hasNext()) {
                    out.writeInt(neighbors.nextInt());
                    out.writeFloat(0f);
                }
            }
        }
    }

    /**
     * Reads a graph written by {@link #writeTo} over the same rows (vectors must already be loaded: the
     * neighbour scores are recomputed from them). The graph is loaded, never rebuilt.
     */
    public static OnHeapAnnGraph readFrom(DataInput in, OnHeapVectorChunks vectors,
                                          VectorSimilarityFunction similarity) throws IOException {
        int indexed = in.readInt();
        int length = in.readInt();
        if (indexed < 0 || indexed > vectors.size() || length < 0) {
            throw new IOException("corrupt graph section: indexedCount " + indexed + ", length " + length
                    + ", rows " + vectors.size());
        }
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        OnHeapAnnGraph graph = new OnHeapAnnGraph(vectors, similarity);
        if (indexed > 0) {
            try (ByteBufferReader reader = new ByteBufferReader(ByteBuffer.wrap(bytes))) {
                graph.builder.load(reader);
            } catch (RuntimeException e) {
                throw new IOException("corrupt graph section: " + e.getMessage(), e);
            }
        }
        graph.indexedCount = indexed;
        return graph;
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
