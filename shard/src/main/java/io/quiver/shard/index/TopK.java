package io.quiver.shard.index;

import java.util.Arrays;

/**
 * A bounded heap of the k best (key, id, row) triples, where a higher key is better and equal keys are
 * ordered by id ascending (unsigned). The root is the worst kept entry, so a candidate is compared once
 * against it. NaN keys are treated as the worst possible. Not thread-safe: one per query.
 */
final class TopK {

    private final int capacity;
    private final float[] keys;
    private final long[] ids;
    private final int[] rows;
    private int size;

    TopK(int capacity) {
        this.capacity = capacity;
        this.keys = new float[capacity];
        this.ids = new long[capacity];
        this.rows = new int[capacity];
    }

    int size() {
        return size;
    }

    boolean isFull() {
        return size == capacity;
    }

    /** The key a candidate must beat (strictly, or equal with a smaller id) once the heap is full. */
    float worstKey() {
        return size == 0 ? Float.NEGATIVE_INFINITY : keys[0];
    }

    void offer(float key, long id, int row) {
        if (Float.isNaN(key)) {
            key = Float.NEGATIVE_INFINITY;
        }
        if (size < capacity) {
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (!better(keys[parent], ids[parent], key, id)) {
                    break;
                }
                set(i, keys[parent], ids[parent], rows[parent]);
                i = parent;
            }
            set(i, key, id, row);
        } else if (capacity > 0 && better(key, id, keys[0], ids[0])) {
            siftDown(key, id, row);
        }
    }

    /** True if (ka, ia) is better than (kb, ib). */
    static boolean better(float ka, long ia, float kb, long ib) {
        return ka > kb || (ka == kb && Long.compareUnsigned(ia, ib) < 0);
    }

    private void siftDown(float key, long id, int row) {
        int i = 0;
        while (true) {
            int left = 2 * i + 1;
            if (left >= size) {
                break;
            }
            int right = left + 1;
            int worse = left;
            if (right < size && better(keys[left], ids[left], keys[right], ids[right])) {
                worse = right;
            }
            if (better(key, id, keys[worse], ids[worse])) {
                set(i, keys[worse], ids[worse], rows[worse]);
                i = worse;
            } else {
                break;
            }
        }
        set(i, key, id, row);
    }

    private void set(int i, float key, long id, int row) {
        keys[i] = key;
        ids[i] = id;
        rows[i] = row;
    }

    /** Drains into slot order best-first; returns the number of entries. Empties the heap. */
    int drainBestFirst(float[] outKeys, long[] outIds, int[] outRows) {
        int n = size;
        for (int slot = n - 1; slot >= 0; slot--) {
            outKeys[slot] = keys[0];
            outIds[slot] = ids[0];
            outRows[slot] = rows[0];
            size--;
            if (size > 0) {
                siftDown(keys[size], ids[size], rows[size]);
            }
        }
        return n;
    }

    @Override
    public String toString() {
        return "TopK" + Arrays.toString(Arrays.copyOf(keys, size));
    }
}
