package io.quiver.shard.index;

import io.github.jbellis.jvector.graph.SearchResult.NodeScore;
import io.github.jbellis.jvector.graph.similarity.ScoreFunction;
import io.github.jbellis.jvector.util.Bits;
import io.github.jbellis.jvector.vector.VectorSimilarityFunction;
import io.quiver.shard.index.graph.OnHeapAnnGraph;
import io.quiver.shard.index.payload.Filter;
import io.quiver.shard.index.payload.Payload;
import io.quiver.shard.index.vector.OnHeapVectorChunks;
import io.quiver.shard.index.vector.VectorOps;
import it.unimi.dsi.fastutil.HashCommon;
import it.unimi.dsi.fastutil.longs.Long2IntOpenHashMap;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The points of one collection partition and the structures that search them.
 *
 * <h2>Layout</h2>
 * Rows are append-only: vectors live contiguously in {@link OnHeapVectorChunks}, and row-indexed arrays
 * hold the id ({@code rowIds}), the inverse norm ({@code invNorms}, computed at write time so that a cosine
 * score costs one dot product) and the payload. {@code rowById} maps a live id to its row. The vector is
 * stored exactly as written, so {@link #get} returns it unchanged. Replacing a point appends a new row and
 * tombstones the old one ({@code deadRows}); deleting tombstones. Compaction rewrites the live rows into
 * fresh storage when tombstones pass {@value #COMPACT_DEAD_FRACTION} of all rows and there are at least
 * {@value #COMPACT_MIN_DEAD_ROWS} of them (so tiny partitions do not churn).
 *
 * <h2>Search</h2>
 * Exact search scans live rows once, evaluates the filter during the scan (never over-fetch-and-drop), and
 * keeps a bounded top-k heap. Results are best-first, ties broken by id ascending (unsigned). The batch
 * form scores blocks of {@value #EXACT_BLOCK_ROWS} rows against four queries at a time, so each row is loaded
 * from memory once per batch and once per four queries from cache.
 *
 * <h2>Approximate search</h2>
 * When built with an indexer {@link Executor}, the partition keeps a jvector graph ({@link OnHeapAnnGraph})
 * for its index metric, built incrementally in the background: {@code upsert} only schedules the indexer and
 * never waits for graph insertion. A search in ANN mode walks the graph over rows below
 * {@code indexedCount} and scans the not-yet-indexed tail exactly, merging both, so a point is searchable as
 * soon as {@code upsert} returns. Filters and tombstones are applied inside the graph search through
 * jvector's accept-ordinals {@link Bits} (never by over-fetching). Deletes mark the graph node deleted at
 * once; the indexer rewires the graph around deleted nodes ({@code removeDeletedNodes}) when it has no rows
 * to insert and at least {@value #GRAPH_CLEANUP_MIN_DELETED} and 10% of the graph's nodes are deleted.
 * Compaction renumbers rows, so it drops the graph and the indexer rebuilds it (exact tail scans keep
 * results correct meanwhile). A search with a metric other than the index metric always runs exact.
 *
 * <p>Mode rules: EXACT always scans. ANN uses the graph when there is one for the metric, else scans.
 * AUTO scans when the partition has fewer than {@value #AUTO_EXACT_MAX_LIVE_ROWS} live rows, when more than
 * half the live rows are still in the unindexed tail, or when the filter is selective: its estimated
 * matches (from a sample of up to {@value #SELECTIVITY_SAMPLE_ROWS} rows) are fewer than
 * {@value #AUTO_EXACT_MAX_FILTER_MATCHES} or under {@value #AUTO_EXACT_MAX_FILTER_FRACTION} of the live rows;
 * otherwise ANN. The graph search keeps {@link #candidatesFor(int, float) candidates} results, chosen from the
 * target recall (default {@value #DEFAULT_TARGET_RECALL}), and {@value #DOT_RERANK_FACTOR} times as many for dot.
 *
 * <h2>Thread-safety</h2>
 * One writer at a time (the caller serialises writes per partition) and any number of concurrent readers.
 * A {@link ReentrantReadWriteLock} enforces it: every write method takes the write lock (so it is also safe,
 * if slower, to call writes concurrently), reads share the read lock. A write waits for in-flight scans.
 *
 * <h2>Checkpoint layout ({@link #writeTo}, big-endian, version {@value #CURRENT_VERSION})</h2>
 * <pre>
 * int   magic 0x51504958 ("QPIX")
 * int   version
 * int   dimension
 * byte  metric code (0 dot, 1 l2, 2 cosine)
 * int   rowCount
 * rowCount times:
 *   long  id
 *   byte  flags (bit 0: live)
 *   float[dimension] vector
 *   if live: int payloadLength, byte[payloadLength] payload UTF-8 JSON
 * byte  graph section present (0 = no, 1 = yes)
 * if present: the {@link OnHeapAnnGraph#writeTo graph section}
 * </pre>
 * Dead rows are written too (vector only) so that row numbers survive a round trip. Version 2 stores the
 * graph's neighbour scores; version 1 (same layout) wrote them as 0, and reading one recomputes them.
 */
public final class PartitionIndex {

    public static final int MAGIC = 0x51504958;
    public static final int CURRENT_VERSION = 2;
    /** The oldest layout this build still reads (its graph scores are recomputed on load). */
    public static final int OLDEST_READABLE_VERSION = 1;

    /** Compact when dead rows exceed this fraction of all rows ... */
    public static final double COMPACT_DEAD_FRACTION = 0.25;
    /** ... and number at least this many. */
    public static final int COMPACT_MIN_DEAD_ROWS = 256;

    /** AUTO runs exact below this many live rows. */
    public static final int AUTO_EXACT_MAX_LIVE_ROWS = 2_000;
    /** AUTO runs exact when a filter is estimated to match fewer rows than this ... */
    public static final int AUTO_EXACT_MAX_FILTER_MATCHES = 1_000;
    /** ... or less than this fraction of the live rows. */
    public static final double AUTO_EXACT_MAX_FILTER_FRACTION = 0.05;
    /** Rows sampled (evenly spaced) to estimate a filter's selectivity. */
    public static final int SELECTIVITY_SAMPLE_ROWS = 512;
    public static final float DEFAULT_TARGET_RECALL = 0.95f;
    /**
     * A dot-product search keeps this many times {@link #candidatesFor} candidates: its graph walk is by
     * angle, and the best dot products (large norms) rank lower by angle (recall@10 0.63 with 20
     * candidates, at least 0.95 with 100, on {@code AnnSearchTest}'s clustered data).
     */
    public static final int DOT_RERANK_FACTOR = 5;
    /** Upper bound on graph search candidates. */
    public static final int MAX_CANDIDATES = 4_096;
    /** Graph cleanup waits for at least this many deleted nodes (and 10% of the graph). */
    public static final int GRAPH_CLEANUP_MIN_DELETED = 64;
    /** Rows the indexer inserts between checks (compaction and checkpoints wait for at most one batch). */
    static final int INDEX_BATCH_ROWS = 128;

    /** Rows scored together by an exact batch (about 100 KB of 784-d rows: fits the L2 cache). */
    static final int EXACT_BLOCK_ROWS = 32;

    private static final int INITIAL_ROWS = 16;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PartitionIndex.class);

    private final int dimension;
    private final Metric indexMetric;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

    // Guarded by lock.
    private OnHeapVectorChunks vectors;
    private long[] rowIds = new long[INITIAL_ROWS];
    private float[] invNorms = new float[INITIAL_ROWS];
    private Payload[] payloads = new Payload[INITIAL_ROWS];
    private BitSet deadRows = new BitSet();
    private int deadCount;
    private final Long2IntOpenHashMap rowById = new Long2IntOpenHashMap();
    private long payloadBytes;

    /** Null when ANN is disabled. Replaced (under the write lock) on compaction. */
    private volatile OnHeapAnnGraph graph;
    private final GraphIndexer indexer;
    private final AtomicBoolean indexerScheduled = new AtomicBoolean();
    /** System.nanoTime() of the last upsert: the indexer yields to writes ({@link GraphIndexer}). */
    private volatile long lastWriteNanos;

    /** A partition whose graph is built on a shared single-thread daemon indexer. */
    public PartitionIndex(int dimension, Metric indexMetric) {
        this(dimension, indexMetric, DefaultIndexer.EXECUTOR);
    }

    /**
     * @param indexer runs background graph insertion and cleanup; null disables ANN (every search is exact)
     */
    public PartitionIndex(int dimension, Metric indexMetric, Executor indexer) {
        this(dimension, indexMetric, GraphIndexer.eager(indexer), true);
    }

    /**
     * @param indexer builds the graph in the background and says how far it may lag behind writes; null
     *                disables ANN (every search is exact)
     */
    public PartitionIndex(int dimension, Metric indexMetric, GraphIndexer indexer) {
        this(dimension, indexMetric, indexer, true);
    }

    private PartitionIndex(int dimension, Metric indexMetric, GraphIndexer indexer, boolean createGraph) {
        if (dimension <= 0) {
            throw new IllegalArgumentException("dimension must be positive: " + dimension);
        }
        this.dimension = dimension;
        this.indexMetric = indexMetric == null ? Metric.DOT : indexMetric;
        this.vectors = new OnHeapVectorChunks(dimension);
        rowById.defaultReturnValue(-1);
        this.indexer = indexer;
        if (indexer != null) {
            lastWriteNanos = indexer.now() - 2 * java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(GraphIndexer.QUIET_MILLIS);
        }
        if (indexer != null && createGraph) {
            this.graph = new OnHeapAnnGraph(vectors, similarityOf(this.indexMetric));
        }
    }

    /**
     * Builds, fills and searches a small throw-away index (graph inserted on the calling thread) so that
     * the first real collection does not pay for loading and initialising jvector and the SIMD kernels:
     * on a busy machine that first use took seconds, inside a client's create or first write. Returns
     * the number of hits found (so the work cannot be optimised away).
     */
    public static int warmUp() {
        int dim = 64;
        java.util.Random random = new java.util.Random(1);
        int hits = 0;
        for (Metric metric : Metric.values()) {
            PartitionIndex index = new PartitionIndex(dim, metric, Runnable::run);
            float[][] points = new float[128][dim];
            for (int i = 0; i < points.length; i++) {
                for (int d = 0; d < dim; d++) {
                    points[i][d] = random.nextFloat() - 0.5f;
                }
                index.upsert(i, points[i], Payload.EMPTY);
            }
            for (SearchMode mode : new SearchMode[] {SearchMode.EXACT, SearchMode.ANN}) {
                hits += index.search(points[0], 10, metric, mode, 0, null, false).hits().size();
                hits += index.searchBatch(new float[][] {points[1], points[2], points[3], points[4]}, 10, metric, mode,
                        0, null, false).size();
            }
        }
        return hits;
    }

    private static final class DefaultIndexer {
        static final ExecutorService EXECUTOR = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "quiver-graph-indexer");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The similarity the graph is built with. Dot product is not a metric on vectors of differing norms,
     * and a graph built on it finds poor neighbourhoods (recall 0.64 on clustered data in
     * {@code AnnSearchTest}); a dot collection's graph is built on the angle (cosine) instead and its
     * candidates are re-ranked by the exact dot product.
     */
    private static VectorSimilarityFunction similarityOf(Metric metric) {
        return switch (metric) {
            case DOT -> VectorSimilarityFunction.COSINE;
            case L2 -> VectorSimilarityFunction.EUCLIDEAN;
            case COSINE -> VectorSimilarityFunction.COSINE;
        };
    }

    public int dimension() {
        return dimension;
    }

    public Metric indexMetric() {
        return indexMetric;
    }

    // ---------------------------------------------------------------- writes

    /**
     * Inserts or replaces a point. Returns true if the id was new, false if an existing point was replaced.
     * The point is searchable when this returns.
     */
    public boolean upsert(long id, float[] vector, Payload payload) {
        checkDimension(vector);
        Payload p = payload == null ? Payload.EMPTY : payload;
        lock.writeLock().lock();
        try {
            int old = rowById.get(id);
            if (old >= 0) {
                killRow(old);
            }
            int row = vectors.append(vector);
            ensureRowCapacity(row + 1);
            rowIds[row] = id;
            invNorms[row] = VectorOps.inverseNorm(vector, 0, dimension);
            payloads[row] = p;
            payloadBytes += p.ramBytesUsed();
            rowById.put(id, row);
            maybeCompact();
            if (indexer != null) {
                lastWriteNanos = indexer.now();
            }
            return old < 0;
        } finally {
            lock.writeLock().unlock();
            scheduleIndexer();
        }
    }

    /** Deletes a point; returns whether it existed. */
    public boolean delete(long id) {
        lock.writeLock().lock();
        try {
            int row = rowById.remove(id);
            if (row < 0) {
                return false;
            }
            killRow(row);
            maybeCompact();
            return true;
        } finally {
            lock.writeLock().unlock();
            scheduleIndexer();
        }
    }

    /** Replaces the payload of an existing point (the vector is untouched); returns whether it existed. */
    public boolean updatePayload(long id, Payload payload) {
        Payload p = payload == null ? Payload.EMPTY : payload;
        lock.writeLock().lock();
        try {
            int row = rowById.get(id);
            if (row < 0) {
                return false;
            }
            payloadBytes += p.ramBytesUsed() - payloads[row].ramBytesUsed();
            payloads[row] = p;
            return true;
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void killRow(int row) {
        deadRows.set(row);
        deadCount++;
        payloadBytes -= payloads[row].ramBytesUsed();
        payloads[row] = null;
        OnHeapAnnGraph g = graph;
        if (g != null) {
            g.markDeleted(row);
        }
    }

    private void ensureRowCapacity(int rows) {
        if (rows > rowIds.length) {
            int capacity = (int) Math.min(Integer.MAX_VALUE - 16, Math.max(rows, rowIds.length + (rowIds.length >> 1)));
            rowIds = Arrays.copyOf(rowIds, capacity);
            invNorms = Arrays.copyOf(invNorms, capacity);
            payloads = Arrays.copyOf(payloads, capacity);
        }
    }

    private void maybeCompact() {
        int rows = vectors.size();
        if (deadCount >= COMPACT_MIN_DEAD_ROWS && deadCount > rows * COMPACT_DEAD_FRACTION) {
            compact();
        }
    }

    /** Rewrites live rows into fresh storage, in row order. Caller holds the write lock. */
    private void compact() {
        int rows = vectors.size();
        int live = rows - deadCount;
        OnHeapVectorChunks newVectors = new OnHeapVectorChunks(dimension);
        long[] newIds = new long[Math.max(INITIAL_ROWS, live)];
        float[] newInv = new float[newIds.length];
        Payload[] newPayloads = new Payload[newIds.length];
        for (int row = deadRows.nextClearBit(0); row < rows; row = deadRows.nextClearBit(row + 1)) {
            int newRow = newVectors.append(vectors.chunkOf(row), vectors.offsetInChunk(row));
            newIds[newRow] = rowIds[row];
            newInv[newRow] = invNorms[row];
            newPayloads[newRow] = payloads[row];
            rowById.put(rowIds[row], newRow);
        }
        vectors = newVectors;
        rowIds = newIds;
        invNorms = newInv;
        payloads = newPayloads;
        deadRows = new BitSet();
        deadCount = 0;
        rowById.trim();
        if (graph != null) {
            // Row numbers changed: the old graph's ordinals are meaningless. Rebuild in the background;
            // until then the unindexed tail (everything) is scanned exactly.
            graph = new OnHeapAnnGraph(newVectors, similarityOf(indexMetric));
        }
    }

    // ---------------------------------------------------------------- background indexing

    private void scheduleIndexer() {
        OnHeapAnnGraph g = graph;
        if (g == null || !needsIndexerWork(g) || !indexerScheduled.compareAndSet(false, true)) {
            return;
        }
        try {
            indexer.executor().execute(this::runIndexer);
        } catch (RejectedExecutionException e) {
            indexerScheduled.set(false); // the tail scan keeps results correct; retried on the next write
        }
    }

    private static boolean needsIndexerWork(OnHeapAnnGraph g) {
        return g.indexedCount() < g.vectors().size() || cleanupDue(g);
    }

    private static boolean cleanupDue(OnHeapAnnGraph g) {
        int deleted = g.deletedSinceCleanup();
        return deleted >= GRAPH_CLEANUP_MIN_DELETED && deleted * 10L >= g.graphSize();
    }

    private void runIndexer() {
        boolean handedBack = false;
        try {
            while (true) {
                OnHeapAnnGraph g = graph;
                if (g == null) {
                    return;
                }
                int lag = g.vectors().size() - g.indexedCount();
                if (lag > 0) {
                    if (indexer.yieldsToWrites(lag, lastWriteNanos) && handBackAfterQuietPeriod()) {
                        handedBack = true;
                        return;
                    }
                    g.insertUpTo(g.indexedCount() + INDEX_BATCH_ROWS);
                } else {
                    if (cleanupDue(g)) {
                        g.removeDeletedNodes();
                    }
                    if (g == graph) {
                        return;
                    }
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.error("graph indexing failed; this partition falls back to exact search", e);
            graph = null;
        } finally {
            if (!handedBack) {
                indexerScheduled.set(false);
                // A write may have arrived after the last check and before the flag was cleared.
                OnHeapAnnGraph g = graph;
                if (g != null && g.indexedCount() < g.vectors().size()) {
                    scheduleIndexer();
                }
            }
        }
    }

    /**
     * Writes are arriving and the lag is allowed ({@link GraphIndexer}): runs this partition's indexing
     * again after the quiet period, still holding {@code indexerScheduled}. False if the executor refused.
     */
    private boolean handBackAfterQuietPeriod() {
        try {
            indexer.executeAfterQuietPeriod(this::runIndexer);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /** Rows already in the graph (0 when ANN is disabled); rows at or above are scanned exactly. */
    public int indexedCount() {
        OnHeapAnnGraph g = graph;
        return g == null ? 0 : g.indexedCount();
    }

    /** Live points stored but not yet inserted into the graph (0 when ANN is disabled). */
    public int annPendingPoints() {
        lock.readLock().lock();
        try {
            OnHeapAnnGraph g = graph;
            if (g == null) {
                return 0;
            }
            int from = g.indexedCount();
            int to = g.vectors().size();
            return to <= from ? 0 : to - from - deadRows.get(from, to).cardinality();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Whether this partition keeps a graph (an indexer executor was given and indexing has not failed). */
    public boolean annEnabled() {
        return graph != null;
    }

    // ---------------------------------------------------------------- point reads

    /** The stored point (vector copied), or null. */
    public StoredPoint get(long id) {
        lock.readLock().lock();
        try {
            int row = rowById.get(id);
            return row < 0 ? null : new StoredPoint(id, vectors.copyOf(row), payloads[row]);
        } finally {
            lock.readLock().unlock();
        }
    }

    public boolean contains(long id) {
        lock.readLock().lock();
        try {
            return rowById.containsKey(id);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Number of live points. */
    public int size() {
        lock.readLock().lock();
        try {
            return rowById.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Number of live points matching the filter (all live points when it is null or empty). */
    public long count(Filter filter) {
        lock.readLock().lock();
        try {
            if (filter == null || filter.isEmpty()) {
                return rowById.size();
            }
            long n = 0;
            int rows = vectors.size();
            for (int row = deadRows.nextClearBit(0); row < rows; row = deadRows.nextClearBit(row + 1)) {
                if (filter.matches(payloads[row])) {
                    n++;
                }
            }
            return n;
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Up to {@code limit} live ids in ascending unsigned order, strictly after {@code afterId} when
     * {@code hasAfter}. Costs one pass over the ids and a heap of {@code limit}.
     */
    public long[] idsAfter(long afterId, boolean hasAfter, int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0: " + limit);
        }
        // Ids are compared as signed longs after flipping the sign bit, which orders them as unsigned.
        long floor = afterId ^ Long.MIN_VALUE;
        long[] heap = new long[Math.min(limit, 1 << 16)]; // max-heap of the smallest flipped ids
        int size = 0;
        lock.readLock().lock();
        try {
            if (limit == 0) {
                return new long[0];
            }
            if (limit > heap.length) {
                heap = new long[Math.min(limit, rowById.size())];
            }
            int rows = vectors.size();
            for (int row = deadRows.nextClearBit(0); row < rows; row = deadRows.nextClearBit(row + 1)) {
                long flipped = rowIds[row] ^ Long.MIN_VALUE;
                if (hasAfter && flipped <= floor) {
                    continue;
                }
                if (size < limit) {
                    if (size == heap.length) {
                        heap = Arrays.copyOf(heap, Math.min(limit, heap.length * 2 + 1));
                    }
                    int i = size++;
                    while (i > 0) {
                        int parent = (i - 1) >>> 1;
                        if (heap[parent] >= flipped) {
                            break;
                        }
                        heap[i] = heap[parent];
                        i = parent;
                    }
                    heap[i] = flipped;
                } else if (flipped < heap[0]) {
                    int i = 0;
                    while (true) {
                        int child = 2 * i + 1;
                        if (child >= size) {
                            break;
                        }
                        if (child + 1 < size && heap[child + 1] > heap[child]) {
                            child++;
                        }
                        if (heap[child] <= flipped) {
                            break;
                        }
                        heap[i] = heap[child];
                        i = child;
                    }
                    heap[i] = flipped;
                }
            }
        } finally {
            lock.readLock().unlock();
        }
        long[] out = Arrays.copyOf(heap, size);
        Arrays.sort(out);
        for (int i = 0; i < out.length; i++) {
            out[i] ^= Long.MIN_VALUE;
        }
        return out;
    }

    // ---------------------------------------------------------------- search

    /**
     * The k best live points for {@code query} under {@code metric}, best first, optionally filtered.
     *
     * @param mode          EXACT, ANN or AUTO; the result says which ran
     * @param targetRecall  for ANN: the recall to aim for in (0, 1]; values <= 0 mean the default 0.95
     */
    public SearchResult search(float[] query, int k, Metric metric, SearchMode mode, float targetRecall,
                               Filter filter, boolean includePayload) {
        return searchBatch(new float[][] {query}, k, metric, mode, targetRecall, filter, includePayload).get(0);
    }

    /**
     * Searches many queries with the same parameters. Exact searches share one pass over the data: each
     * row is loaded once and scored against every query.
     */
    public List<SearchResult> searchBatch(float[][] queries, int k, Metric metric, SearchMode mode,
                                          float targetRecall, Filter filter, boolean includePayload) {
        if (k < 0) {
            throw new IllegalArgumentException("k must be >= 0: " + k);
        }
        for (float[] q : queries) {
            checkDimension(q);
        }
        Metric m = metric == null ? indexMetric : metric;
        Filter f = (filter == null || filter.isEmpty()) ? null : filter;
        lock.readLock().lock();
        try {
            OnHeapAnnGraph g = graph;
            SearchMode ran = resolveMode(mode == null ? SearchMode.AUTO : mode, m, f, g);
            if (ran == SearchMode.EXACT || k == 0) {
                return exactBatch(queries, k, m, f, includePayload);
            }
            int candidates = candidatesFor(k, targetRecall);
            if (m == Metric.DOT) {
                // The walk ranks by angle, the answer by dot product: re-rank a wider set (see similarityOf).
                candidates = (int) Math.min(MAX_CANDIDATES, (long) candidates * DOT_RERANK_FACTOR);
            }
            List<SearchResult> results = new ArrayList<>(queries.length);
            for (float[] q : queries) {
                results.add(annSearch(g, q, k, candidates, m, f, includePayload));
            }
            return results;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The mode that will run. Caller holds the read lock. */
    private SearchMode resolveMode(SearchMode requested, Metric metric, Filter filter, OnHeapAnnGraph g) {
        if (requested == SearchMode.EXACT || g == null || metric != indexMetric) {
            return SearchMode.EXACT;
        }
        if (requested == SearchMode.ANN) {
            return SearchMode.ANN;
        }
        int live = rowById.size();
        if (live < AUTO_EXACT_MAX_LIVE_ROWS) {
            return SearchMode.EXACT;
        }
        int tail = vectors.size() - g.indexedCount();
        if (tail > live / 2) {
            return SearchMode.EXACT;
        }
        if (filter != null) {
            double matches = estimateMatches(filter);
            if (matches < AUTO_EXACT_MAX_FILTER_MATCHES || matches < AUTO_EXACT_MAX_FILTER_FRACTION * live) {
                return SearchMode.EXACT;
            }
        }
        return SearchMode.ANN;
    }

    /** Estimated number of live rows matching the filter, from evenly spaced sample rows. Read lock held. */
    double estimateMatches(Filter filter) {
        int rows = vectors.size();
        int live = rowById.size();
        if (live == 0) {
            return 0;
        }
        int step = Math.max(1, rows / SELECTIVITY_SAMPLE_ROWS);
        int sampled = 0;
        int matched = 0;
        for (int row = 0; row < rows; row += step) {
            if (deadRows.get(row)) {
                continue;
            }
            sampled++;
            if (filter.matches(payloads[row])) {
                matched++;
            }
        }
        return sampled == 0 ? 0 : (double) matched / sampled * live;
    }

    /**
     * Graph search breadth (candidates kept, jvector's rerankK) for a target recall:
     * {@code ceil(max(k, 10) * f)} with f = 1 up to 0.80, 1.5 up to 0.90, 2 up to 0.95, 4 up to 0.99 and 10
     * above; at least k, at most {@value #MAX_CANDIDATES}. So k = 10 at the default 0.95 keeps 20 candidates.
     * A target of 0 or less (or NaN) means {@value #DEFAULT_TARGET_RECALL}.
     *
     * <p>Measured on Fashion-MNIST (60,000 x 784, l2, 1,000 test queries, recall@10 of the merged top 10
     * over 16 partitions of 3,750 points, as a collection is laid out by default): 10 candidates give
     * 0.996, 20 give 0.999, 40 give 0.9996, 100 give 0.9999, while the search cost grows about linearly with
     * the candidates. A query searches every partition and each contributes only its share of the global
     * top k, which is why so few candidates per partition suffice; one large partition needs more for the
     * same recall ({@code AnnSearchTest}: 10,000 x 64 clustered points in one partition).
     */
    public static int candidatesFor(int k, float targetRecall) {
        float r = (targetRecall > 0 && !Float.isNaN(targetRecall)) ? Math.min(targetRecall, 1f) : DEFAULT_TARGET_RECALL;
        double factor = r <= 0.80f ? 1 : r <= 0.90f ? 1.5 : r <= 0.95f ? 2 : r <= 0.99f ? 4 : 10;
        long candidates = (long) Math.ceil(Math.max(k, 10) * factor);
        return (int) Math.max(k, Math.min(MAX_CANDIDATES, candidates));
    }

    /** Graph search over indexed rows merged with an exact scan of the tail. Read lock held. */
    private SearchResult annSearch(OnHeapAnnGraph g, float[] query, int k, int candidates, Metric metric,
                                   Filter filter, boolean includePayload) {
        int indexed = g.indexedCount();
        float queryInv = VectorOps.inverseNorm(query, 0, dimension);
        BitSet dead = deadRows;
        Payload[] rowPayloads = payloads;
        Bits accept = filter == null
                ? ord -> ord < indexed && !dead.get(ord)
                : ord -> ord < indexed && !dead.get(ord) && filter.matches(rowPayloads[ord]);
        OnHeapVectorChunks rows = vectors;
        // Walk the graph with the similarity it was built on, then rank the candidates by the metric asked for.
        Metric walk = metric == Metric.DOT ? Metric.COSINE : metric;
        ScoreFunction.ExactScoreFunction score =
                ord -> key(walk, query, queryInv, rows.chunkOf(ord), rows.offsetInChunk(ord), ord);
        TopK top = new TopK(k);
        if (indexed > 0) {
            for (NodeScore node : g.search(score, Math.max(k, candidates), accept)) {
                float exact = walk == metric ? node.score
                        : key(metric, query, queryInv, rows.chunkOf(node.node), rows.offsetInChunk(node.node), node.node);
                top.offer(exact, rowIds[node.node], node.node);
            }
        }
        int end = rows.size();
        for (int row = dead.nextClearBit(indexed); row < end; row = dead.nextClearBit(row + 1)) {
            if (filter == null || filter.matches(rowPayloads[row])) {
                top.offer(key(metric, query, queryInv, rows.chunkOf(row), rows.offsetInChunk(row), row),
                        rowIds[row], row);
            }
        }
        return toResult(top, metric, SearchMode.ANN, includePayload);
    }

    /** Caller holds the read lock. */
    private List<SearchResult> exactBatch(float[][] queries, int k, Metric metric, Filter filter,
                                          boolean includePayload) {
        int nq = queries.length;
        TopK[] tops = new TopK[nq];
        float[] queryInv = new float[nq];
        for (int i = 0; i < nq; i++) {
            tops[i] = new TopK(Math.min(k, Math.max(0, rowById.size())));
            queryInv[i] = VectorOps.inverseNorm(queries[i], 0, dimension);
        }
        if (k > 0) {
            int rows = vectors.size();
            int[] block = new int[EXACT_BLOCK_ROWS];
            float[] scores = new float[4];
            int n = 0;
            for (int row = deadRows.nextClearBit(0); row < rows; row = deadRows.nextClearBit(row + 1)) {
                if (filter == null || filter.matches(payloads[row])) {
                    block[n++] = row;
                    if (n == block.length) {
                        scoreBlock(queries, queryInv, tops, metric, block, n, scores);
                        n = 0;
                    }
                }
            }
            scoreBlock(queries, queryInv, tops, metric, block, n, scores);
        }
        List<SearchResult> results = new ArrayList<>(nq);
        for (int i = 0; i < nq; i++) {
            results.add(toResult(tops[i], metric, SearchMode.EXACT, includePayload));
        }
        return results;
    }

    /** Internal ranking key: higher is better. L2 uses the negated squared distance. */
    private float key(Metric metric, float[] query, float queryInv, float[] chunk, int offset, int row) {
        return switch (metric) {
            case DOT -> VectorOps.dot(query, 0, chunk, offset, dimension);
            case COSINE -> VectorOps.dot(query, 0, chunk, offset, dimension) * queryInv * invNorms[row];
            case L2 -> -VectorOps.squaredL2(query, 0, chunk, offset, dimension);
        };
    }

    /**
     * Offers rows {@code block[0 .. n)} to every query's heap. Queries go four at a time over the whole block
     * ({@link VectorOps#squaredL2x4}, {@link VectorOps#dot4}: each row is loaded once per four queries), so
     * the block stays in the L2 cache and the four queries in L1 while it is scored. Read lock held.
     */
    private void scoreBlock(float[][] queries, float[] queryInv, TopK[] tops, Metric metric, int[] block, int n,
                            float[] scores) {
        int nq = queries.length;
        int grouped = nq & ~3;
        for (int i = 0; i < grouped; i += 4) {
            TopK t0 = tops[i];
            TopK t1 = tops[i + 1];
            TopK t2 = tops[i + 2];
            TopK t3 = tops[i + 3];
            for (int b = 0; b < n; b++) {
                int row = block[b];
                keys4(metric, queries, i, queryInv, vectors.chunkOf(row), vectors.offsetInChunk(row), row, scores);
                long id = rowIds[row];
                t0.offer(scores[0], id, row);
                t1.offer(scores[1], id, row);
                t2.offer(scores[2], id, row);
                t3.offer(scores[3], id, row);
            }
        }
        for (int i = grouped; i < nq; i++) {
            TopK top = tops[i];
            for (int b = 0; b < n; b++) {
                int row = block[b];
                top.offer(key(metric, queries[i], queryInv[i], vectors.chunkOf(row), vectors.offsetInChunk(row), row),
                        rowIds[row], row);
            }
        }
    }

    /** {@link #key} of queries {@code first .. first + 3} against one row, into {@code out[0..3]}. */
    private void keys4(Metric metric, float[][] queries, int first, float[] queryInv, float[] chunk, int offset,
                       int row, float[] out) {
        float[] q0 = queries[first];
        float[] q1 = queries[first + 1];
        float[] q2 = queries[first + 2];
        float[] q3 = queries[first + 3];
        switch (metric) {
            case DOT -> VectorOps.dot4(q0, q1, q2, q3, chunk, offset, dimension, out, 0);
            case COSINE -> {
                VectorOps.dot4(q0, q1, q2, q3, chunk, offset, dimension, out, 0);
                float inv = invNorms[row];
                for (int j = 0; j < 4; j++) {
                    out[j] = out[j] * queryInv[first + j] * inv;
                }
            }
            case L2 -> {
                VectorOps.squaredL2x4(q0, q1, q2, q3, chunk, offset, dimension, out, 0);
                for (int j = 0; j < 4; j++) {
                    out[j] = -out[j];
                }
            }
        }
    }

    private static float scoreOfKey(Metric metric, float key) {
        return metric == Metric.L2 ? (float) Math.sqrt(-key) : key;
    }

    /** Caller holds the read lock (payload lookup). */
    private SearchResult toResult(TopK top, Metric metric, SearchMode ran, boolean includePayload) {
        int n = top.size();
        float[] keys = new float[n];
        long[] ids = new long[n];
        int[] rows = new int[n];
        top.drainBestFirst(keys, ids, rows);
        List<SearchHit> hits = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            hits.add(new SearchHit(ids[i], scoreOfKey(metric, keys[i]), includePayload ? payloads[rows[i]] : null));
        }
        return new SearchResult(ran, metric, hits);
    }

    // ---------------------------------------------------------------- accounting

    /** Estimated heap bytes held: vectors, row arrays, id map, tombstones, payloads. */
    public long ramBytesUsed() {
        lock.readLock().lock();
        try {
            long bytes = 64;
            bytes += vectors.ramBytesUsed();
            bytes += 16 + 8L * rowIds.length;
            bytes += 16 + 4L * invNorms.length;
            bytes += 16 + 4L * payloads.length;
            bytes += 16 + deadRows.size() / 8;
            long mapCapacity = HashCommon.arraySize(Math.max(2, rowById.size()), 0.75f);
            bytes += 64 + 12L * (mapCapacity + 1);
            bytes += payloadBytes;
            OnHeapAnnGraph g = graph;
            if (g != null) {
                bytes += g.ramBytesUsed();
            }
            return bytes;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Rows held, live and dead (for tests and metrics). */
    public int rowCount() {
        lock.readLock().lock();
        try {
            return vectors.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    // ---------------------------------------------------------------- checkpoint

    /** Writes the partition in the layout described in the class comment. Takes the read lock. */
    public void writeTo(DataOutput out) throws IOException {
        lock.readLock().lock();
        try {
            out.writeInt(MAGIC);
            out.writeInt(CURRENT_VERSION);
            out.writeInt(dimension);
            out.writeByte(metricCode(indexMetric));
            int rows = vectors.size();
            out.writeInt(rows);
            ByteBuffer buffer = ByteBuffer.allocate(4 * dimension);
            for (int row = 0; row < rows; row++) {
                boolean live = !deadRows.get(row);
                out.writeLong(rowIds[row]);
                out.writeByte(live ? 1 : 0);
                buffer.clear();
                buffer.asFloatBuffer().put(vectors.chunkOf(row), vectors.offsetInChunk(row), dimension);
                out.write(buffer.array(), 0, 4 * dimension);
                if (live) {
                    byte[] json = payloads[row].json();
                    out.writeInt(json.length);
                    out.write(json);
                }
            }
            OnHeapAnnGraph g = graph;
            if (g == null) {
                out.writeByte(0);
            } else {
                out.writeByte(1);
                g.writeTo(out);
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Reads a partition written by {@link #writeTo}.
     *
     * @throws IOException on a bad magic number, an unknown version or inconsistent content
     */
    public static PartitionIndex readFrom(DataInput in) throws IOException {
        return readFrom(in, DefaultIndexer.EXECUTOR);
    }

    /** {@link #readFrom(DataInput, GraphIndexer)} with an indexer that inserts rows as they arrive. */
    public static PartitionIndex readFrom(DataInput in, Executor indexer) throws IOException {
        return readFrom(in, GraphIndexer.eager(indexer));
    }

    /**
     * Reads a partition; with a non-null {@code indexer} the saved graph is loaded (not rebuilt) and the
     * indexer only inserts rows that were not yet indexed when it was written.
     */
    public static PartitionIndex readFrom(DataInput in, GraphIndexer indexer) throws IOException {
        int magic = in.readInt();
        if (magic != MAGIC) {
            throw new IOException(String.format("not a partition index: magic 0x%08x, expected 0x%08x", magic, MAGIC));
        }
        int version = in.readInt();
        if (version < OLDEST_READABLE_VERSION || version > CURRENT_VERSION) {
            throw new IOException("unsupported partition index version " + version + " (this build reads "
                    + OLDEST_READABLE_VERSION + " to " + CURRENT_VERSION + ")");
        }
        int dimension = in.readInt();
        if (dimension <= 0) {
            throw new IOException("corrupt partition index: dimension " + dimension);
        }
        Metric metric = metricOfCode(in.readByte());
        int rows = in.readInt();
        if (rows < 0) {
            throw new IOException("corrupt partition index: row count " + rows);
        }
        PartitionIndex index = new PartitionIndex(dimension, metric, indexer, false);
        index.ensureRowCapacity(rows);
        byte[] bytes = new byte[4 * dimension];
        float[] vector = new float[dimension];
        for (int r = 0; r < rows; r++) {
            long id = in.readLong();
            byte flags = in.readByte();
            in.readFully(bytes);
            ByteBuffer.wrap(bytes).asFloatBuffer().get(vector);
            int row = index.vectors.append(vector);
            index.rowIds[row] = id;
            index.invNorms[row] = VectorOps.inverseNorm(vector, 0, dimension);
            if ((flags & 1) != 0) {
                int length = in.readInt();
                if (length < 0) {
                    throw new IOException("corrupt partition index: payload length " + length + " at row " + r);
                }
                byte[] json = new byte[length];
                in.readFully(json);
                Payload payload;
                try {
                    payload = Payload.fromJson(json);
                } catch (IllegalArgumentException e) {
                    throw new IOException("corrupt partition index: bad payload at row " + r, e);
                }
                index.payloads[row] = payload;
                index.payloadBytes += payload.ramBytesUsed();
                if (index.rowById.put(id, row) >= 0) {
                    throw new IOException("corrupt partition index: id " + Long.toUnsignedString(id)
                            + " is live twice");
                }
            } else {
                index.deadRows.set(row);
                index.deadCount++;
            }
        }
        byte graphPresent = in.readByte();
        if (graphPresent == 1) {
            OnHeapAnnGraph g = OnHeapAnnGraph.readFrom(in, index.vectors, similarityOf(metric), version >= 2);
            if (indexer != null) {
                for (int row = index.deadRows.nextSetBit(0); row >= 0 && row < g.indexedCount();
                     row = index.deadRows.nextSetBit(row + 1)) {
                    g.markDeleted(row);
                }
                index.graph = g;
            }
        } else if (graphPresent != 0) {
            throw new IOException("corrupt partition index: graph section flag " + graphPresent);
        }
        if (indexer != null && index.graph == null) {
            index.graph = new OnHeapAnnGraph(index.vectors, similarityOf(metric));
        }
        index.scheduleIndexer();
        return index;
    }

    private static int metricCode(Metric metric) {
        return switch (metric) {
            case DOT -> 0;
            case L2 -> 1;
            case COSINE -> 2;
        };
    }

    private static Metric metricOfCode(byte code) throws IOException {
        return switch (code) {
            case 0 -> Metric.DOT;
            case 1 -> Metric.L2;
            case 2 -> Metric.COSINE;
            default -> throw new IOException("corrupt partition index: metric code " + code);
        };
    }

    private void checkDimension(float[] vector) {
        if (vector == null || vector.length != dimension) {
            throw new IllegalArgumentException("expected a vector of dimension " + dimension + ", got "
                    + (vector == null ? "null" : vector.length));
        }
    }
}
