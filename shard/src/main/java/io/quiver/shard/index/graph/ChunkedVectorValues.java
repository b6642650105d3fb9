package io.quiver.shard.index.graph;

import io.github.jbellis.jvector.graph.RandomAccessVectorValues;
import io.github.jbellis.jvector.vector.VectorizationProvider;
import io.github.jbellis.jvector.vector.types.VectorFloat;
import io.github.jbellis.jvector.vector.types.VectorTypeSupport;
import io.quiver.shard.index.vector.OnHeapVectorChunks;

/**
 * jvector's view of the rows of an {@link OnHeapVectorChunks}: ordinal = row. Each {@link #getVector} returns
 * a fresh copy, so the values are not shared and one instance serves every thread. Thread-safe for rows
 * below the store's published size (the store is append-only).
 */
final class ChunkedVectorValues implements RandomAccessVectorValues {

    private static final VectorTypeSupport VTS = VectorizationProvider.getInstance().getVectorTypeSupport();

    private final OnHeapVectorChunks vectors;

    ChunkedVectorValues(OnHeapVectorChunks vectors) {
        this.vectors = vectors;
    }

    static VectorFloat<?> wrap(float[] vector) {
        return VTS.createFloatVector(vector);
    }

    @Override
    public int size() {
        return vectors.size();
    }

    @Override
    public int dimension() {
        return vectors.dimension();
    }

    @Override
    public VectorFloat<?> getVector(int ordinal) {
        return VTS.createFloatVector(vectors.copyOf(ordinal));
    }

    @Override
    public boolean isValueShared() {
        return false;
    }

    @Override
    public RandomAccessVectorValues copy() {
        return this;
    }
}
