package io.quiver.shard.index;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class MetricTest {

    @Test
    void parseIsCaseInsensitiveAndNamesUnknownValues() {
        assertThat(Metric.parse("DOT")).isEqualTo(Metric.DOT);
        assertThat(Metric.parse("l2")).isEqualTo(Metric.L2);
        assertThat(Metric.parse("Cosine")).isEqualTo(Metric.COSINE);
        assertThatThrownBy(() -> Metric.parse("hamming")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("hamming");
        assertThat(Metric.L2.higherIsBetter()).isFalse();
        assertThat(Metric.COSINE.higherIsBetter()).isTrue();
    }

    @Test
    void scoresAreDotCosineAndEuclideanDistance() {
        float[] a = {3, 4};
        float[] b = {4, 3};
        assertThat(Metric.DOT.score(a, b)).isEqualTo(24f);
        assertThat(Metric.COSINE.score(a, b)).isCloseTo(24f / 25f, within(1e-6f));
        assertThat(Metric.L2.score(a, b)).isCloseTo((float) Math.sqrt(2), within(1e-6f));
    }

    @Test
    void searchModeParsesIvfAsAnn() {
        assertThat(SearchMode.parse("IVF")).isEqualTo(SearchMode.ANN);
        assertThat(SearchMode.parse("exact")).isEqualTo(SearchMode.EXACT);
        assertThat(SearchMode.parse(null)).isEqualTo(SearchMode.AUTO);
        assertThatThrownBy(() -> SearchMode.parse("hnsw")).hasMessageContaining("hnsw");
    }
}
