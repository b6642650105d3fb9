package io.quiver.shard.index.vector;

import java.util.Arrays;

/**
 * Append-only on-heap vector rows of one dimension, stored contiguously in large {@code float[]} chunks
 * (not one array per row) so that scans stream through memory. Row {@code r} lives in chunk
 * {@code r >>> chunkShift} at float offset {@code (r & chunkMask) * dimension}.
 *
 * <p>Chunks hold {@code 2^chunkShift} rows, the largest power of two that keeps a chunk at or under
 * {@value #TARGET_CHUNK_FLOATS} floats (4 MiB). Only the last chunk may be shorter: it starts small and
 * doubles, so a tiny partition does not pay for a full chunk.
 *
 * <p>Invariant: a row, once appended, is never modified or moved. Thread-safety: one appending thread at a
 * time; any number of readers may read rows below {@link #size()} concurrently without locks, because
 * {@code size} is volatile and written after the row's data and chunk references (safe publication).
 * A reader may hold a stale reference to a grown last chunk: it still holds every row it could see.
 */
public final class OnHeapVectorChunks {

    static final int TARGET_CHUNK_FLOATS = 1 << 20;
    private static final int INITIAL_LAST_CHUNK_ROWS = 16;

    private final int dimension;
    private final int chunkShift;
    private final int chunkMask;
    private volatile float[][] chunks = new float[0][];
    private volatile int size;

    public OnHeapVectorChunks(int dimension) {
        if (dimension <= 0) {
            throw new IllegalArgumentException("dimension must be positive: " + dimension);
        }
        this.dimension = dimension;
        int shift = 0;
        while ((2L << shift) * dimension <= TARGET_CHUNK_FLOATS && shift < 30) {
            shift++;
        }
        this.chunkShift = shift;
        this.chunkMask = (1 << shift) - 1;
    }

    public int dimension() {
        return dimension;
    }

    public int size() {
        return size;
    }

    /** Appends a row; single writer only. Returns its row number. */
    public int append(float[] vector) {
        return append(vector, 0);
    }

    /** Appends {@code dimension} floats starting at {@code offset}; single writer only. */
    public int append(float[] source, int offset) {
        int row = size;
        int chunkIndex = row >>> chunkShift;
        int inChunk = row & chunkMask;
        float[][] current = chunks;
        if (chunkIndex == current.length) {
            current = Arrays.copyOf(current, chunkIndex + 1);
            current[chunkIndex] = new float[Math.min(INITIAL_LAST_CHUNK_ROWS, chunkMask + 1) * dimension];
            chunks = current;
        } else if ((inChunk + 1) * dimension > current[chunkIndex].length) {
            int rows = Math.min((chunkMask + 1), Math.max(1, current[chunkIndex].length / dimension) * 2);
            float[][] grown = current.clone();
            grown[chunkIndex] = Arrays.copyOf(current[chunkIndex], rows * dimension);
            current = grown;
            chunks = current;
        }
        System.arraycopy(source, offset, current[chunkIndex], inChunk * dimension, dimension);
        size = row + 1;
        return row;
    }

    /** The chunk array holding {@code row}; read floats at {@link #offsetInChunk(int)}. */
    public float[] chunkOf(int row) {
        return chunks[row >>> chunkShift];
    }

    public int offsetInChunk(int row) {
        return (row & chunkMask) * dimension;
    }

    /** Number of rows in every full chunk. */
    public int rowsPerChunk() {
        return chunkMask + 1;
    }

    /** A copy of the row. */
    public float[] copyOf(int row) {
        checkRow(row);
        float[] out = new float[dimension];
        System.arraycopy(chunkOf(row), offsetInChunk(row), out, 0, dimension);
        return out;
    }

    /** Copies the row into {@code out} at {@code outOffset}. */
    public void copyInto(int row, float[] out, int outOffset) {
        checkRow(row);
        System.arraycopy(chunkOf(row), offsetInChunk(row), out, outOffset, dimension);
    }

    private void checkRow(int row) {
        if (row < 0 || row >= size) {
            throw new IndexOutOfBoundsException("row " + row + " of " + size);
        }
    }

    /** Bytes held by the chunk arrays (allocated capacity, not just used rows). */
    public long ramBytesUsed() {
        float[][] current = chunks;
        long bytes = 16 + 16 + 8L * current.length;
        for (float[] chunk : current) {
            bytes += 16 + 4L * chunk.length;
        }
        return bytes;
    }
}
