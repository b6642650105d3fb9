package io.quiver.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

class DatasetTest {

  @Test
  void syntheticVectorsDependOnlyOnTheirArguments() {
    Dataset a = Dataset.synthetic(200, 16, 4, 42, 10);
    Dataset b = Dataset.synthetic(200, 16, 4, 42, 10);
    assertThat(a.base()).isDeepEqualTo(b.base());
    assertThat(a.queries()).isDeepEqualTo(b.queries());
    assertThat(a.labels()).containsExactly(b.labels());

    Dataset other = Dataset.synthetic(200, 16, 4, 43, 10);
    assertThat(other.base()[0]).isNotEqualTo(a.base()[0]);
  }

  @Test
  void syntheticPointsClusterAroundTheirCentre() {
    Dataset d = Dataset.synthetic(400, 32, 4, 3, 0);
    assertThat(d.dimension()).isEqualTo(32);
    assertThat(java.util.Arrays.stream(d.labels()).allMatch(l -> l >= 0 && l < 4)).isTrue();
    // two points of the same cluster are much closer than two of different clusters, on average
    double same = 0;
    double different = 0;
    int ns = 0;
    int nd = 0;
    for (int i = 0; i < 100; i++) {
      for (int j = i + 1; j < 100; j++) {
        double dist = -Metric.L2.score(d.base()[i], d.base()[j]);
        if (d.labels()[i] == d.labels()[j]) {
          same += dist;
          ns++;
        } else {
          different += dist;
          nd++;
        }
      }
    }
    assertThat(same / ns).isLessThan(different / nd / 5);
  }

  @Test
  void fashionMnistFromTheDebianPackageWhenInstalled() throws IOException {
    assumeTrue(Files.isReadable(Dataset.FASHION_MNIST_DIR.resolve("t10k-images-idx3-ubyte.gz")),
        "dataset-fashion-mnist is not installed");
    Dataset d = Dataset.fashionMnist(Dataset.FASHION_MNIST_DIR, 100, 10);
    assertThat(d.size()).isEqualTo(100);
    assertThat(d.dimension()).isEqualTo(784);
    assertThat(d.queries()).hasNumberOfRows(10);
    assertThat(java.util.Arrays.stream(d.labels()).allMatch(l -> l >= 0 && l < 10)).isTrue();
    for (float[] v : d.base()) {
      for (float x : v) {
        assertThat(x).isBetween(0f, 1f);
      }
    }
  }
}
