package io.quiver.shard.index.vector;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class OnHeapVectorChunksTest {

    @Test
    void rowsSurviveChunkGrowthAndSpanSeveralChunks() {
        int dimension = 300_000; // 3 rows per 4 MiB chunk -> chunks of 2 rows
        OnHeapVectorChunks chunks = new OnHeapVectorChunks(dimension);
        assertThat(chunks.rowsPerChunk()).isEqualTo(2);
        for (int r = 0; r < 5; r++) {
            float[] v = new float[dimension];
            v[0] = r;
            v[dimension - 1] = -r;
            assertThat(chunks.append(v)).isEqualTo(r);
        }
        for (int r = 0; r < 5; r++) {
            float[] v = chunks.copyOf(r);
            assertThat(v[0]).isEqualTo(r);
            assertThat(v[dimension - 1]).isEqualTo(-r);
        }
    }

    @Test
    void smallDimensionStartsSmall() {
        OnHeapVectorChunks chunks = new OnHeapVectorChunks(8);
        for (int r = 0; r < 100; r++) {
            chunks.append(new float[] {r, 0, 0, 0, 0, 0, 0, r});
        }
        assertThat(chunks.copyOf(99)[7]).isEqualTo(99f);
        assertThat(chunks.ramBytesUsed()).isLessThan(8 * 4 * 256 + 1024);
    }
}
