package io.quiver.loadtest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Vectors to load (point {@code i} has id {@code i} and vector {@code base[i]}), a label per point (sent
 * as payload {@code {"label": n}} so that filters have something to match) and query vectors that are
 * not in the base set.
 *
 * <p>Immutable after construction (the arrays are not copied: callers must not modify them); thread-safe.
 */
public record Dataset(String name, float[][] base, int[] labels, float[][] queries) {

  public static final Path FASHION_MNIST_DIR = Path.of("/usr/share/datasets/fashion-mnist");

  public int dimension() {
    return base.length > 0 ? base[0].length : queries[0].length;
  }

  public int size() {
    return base.length;
  }

  /**
   * Fashion-MNIST from the Debian package dataset-fashion-mnist: base vectors from the 60,000 training
   * images, queries from the 10,000 test images, 784 floats each (pixel / 255).
   */
  public static Dataset fashionMnist(Path dir, int points, int queries) throws IOException {
    Path train = dir.resolve("train-images-idx3-ubyte.gz");
    Path trainLabels = dir.resolve("train-labels-idx1-ubyte.gz");
    Path test = dir.resolve("t10k-images-idx3-ubyte.gz");
    if (!Files.isReadable(train) || !Files.isReadable(test)) {
      throw new IOException("Fashion-MNIST not found in " + dir + " (apt-get install dataset-fashion-mnist, or --dataset-dir)");
    }
    float[][] base = IdxReader.readImages(train, points);
    int[] labels = Files.isReadable(trainLabels) ? IdxReader.readLabels(trainLabels, base.length) : new int[base.length];
    return new Dataset("fashion-mnist", base, labels, IdxReader.readImages(test, queries));
  }

  /**
   * Seeded clustered vectors: {@code clusters} centres uniform in [-1, 1]^dim, each point a centre plus
   * Gaussian noise (sigma 0.1); queries are drawn the same way from an independent stream of the same
   * seed. Same arguments, same vectors, on every JVM.
   */
  public static Dataset synthetic(int points, int dim, int clusters, long seed, int queries) {
    if (points < 0 || dim < 1 || clusters < 1 || queries < 0) {
      throw new IllegalArgumentException("synthetic dataset needs points >= 0, dim >= 1, clusters >= 1");
    }
    SplittableRandom root = new SplittableRandom(seed);
    float[][] centres = new float[clusters][dim];
    for (float[] c : centres) {
      for (int j = 0; j < dim; j++) {
        c[j] = (float) (root.nextDouble() * 2 - 1);
      }
    }
    SplittableRandom pointRandom = root.split();
    SplittableRandom queryRandom = root.split();
    int[] labels = new int[points];
    float[][] base = draw(points, centres, pointRandom, labels);
    float[][] q = draw(queries, centres, queryRandom, new int[queries]);
    return new Dataset("synthetic", base, labels, q);
  }

  private static float[][] draw(int n, float[][] centres, SplittableRandom random, int[] labels) {
    int dim = centres[0].length;
    float[][] out = new float[n][dim];
    for (int i = 0; i < n; i++) {
      int c = random.nextInt(centres.length);
      labels[i] = c;
      for (int j = 0; j < dim; j++) {
        out[i][j] = (float) (centres[c][j] + 0.1 * gaussian(random));
      }
    }
    return out;
  }

  // Box-Muller, so that the values do not depend on the JDK's nextGaussian algorithm.
  private static double gaussian(SplittableRandom random) {
    double u1 = 1.0 - random.nextDouble();
    double u2 = random.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
