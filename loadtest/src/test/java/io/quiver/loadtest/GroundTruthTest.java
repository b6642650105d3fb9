package io.quiver.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Comparator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class GroundTruthTest {

  @Test
  void recallIsTheFractionOfTheExactTopKFound() {
    long[] truth = {1, 2, 3, 4};
    assertThat(GroundTruth.recall(truth, new long[] {4, 3, 2, 1})).isEqualTo(1.0);
    assertThat(GroundTruth.recall(truth, new long[] {1, 9, 3, 8})).isEqualTo(0.5);
    assertThat(GroundTruth.recall(truth, new long[] {1, 1, 1, 1})).isEqualTo(0.25); // duplicates count once
    assertThat(GroundTruth.recall(truth, new long[0])).isEqualTo(0.0);
  }

  @Test
  void bruteForceMatchesASortOfAllScoresForEveryMetric() {
    Dataset d = Dataset.synthetic(500, 12, 5, 7, 20);
    for (Metric m : Metric.values()) {
      GroundTruth gt = GroundTruth.compute(d.base(), d.queries(), 10, m, 2);
      for (int q = 0; q < d.queries().length; q++) {
        float[] query = d.queries()[q];
        long[] expected = IntStream.range(0, d.size()).boxed()
            .sorted(Comparator.<Integer>comparingDouble(i -> -m.score(d.base()[i], query)).thenComparing(i -> i))
            .limit(10).mapToLong(Integer::longValue).toArray();
        assertThat(gt.neighbours(q)).as("%s query %d", m, q).containsExactly(expected);
      }
    }
  }

  @Test
  void tiesAreBrokenByTheSmallerId() {
    float[][] base = {{1, 0}, {0, 1}, {1, 0}, {1, 0}};
    long[] top = GroundTruth.topK(base, new float[] {1, 0}, 2, Metric.DOT);
    assertThat(top).containsExactly(0, 2);
  }

  @Test
  void oneThreadAndManyThreadsAgree() {
    Dataset d = Dataset.synthetic(300, 8, 3, 1, 30);
    GroundTruth one = GroundTruth.compute(d.base(), d.queries(), 5, Metric.L2, 1);
    GroundTruth many = GroundTruth.compute(d.base(), d.queries(), 5, Metric.L2, 4);
    for (int q = 0; q < 30; q++) {
      assertThat(many.neighbours(q)).containsExactly(one.neighbours(q));
    }
  }

  @Test
  void kLargerThanTheDatasetReturnsEveryPoint() {
    float[][] base = {{0}, {1}};
    assertThat(GroundTruth.topK(base, new float[] {1}, 5, Metric.L2)).containsExactly(1, 0);
    assertThat(GroundTruth.recall(new long[] {1, 0}, new long[] {0, 1})).isEqualTo(1.0);
  }
}
