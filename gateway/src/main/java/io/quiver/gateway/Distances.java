package io.quiver.gateway;

/**
 * The score of two vectors under a metric, for {@code POST /distance}: dot product, cosine
 * similarity, or Euclidean distance (API.md §2). Scalar code: it serves one pair per request;
 * bulk scoring lives in the shard's index. Stateless.
 */
final class Distances {
  private Distances() {}

  static double score(String metric, float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    double l2 = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
      double d = (double) a[i] - b[i];
      l2 += d * d;
    }
    return switch (metric) {
      case "l2" -> Math.sqrt(l2);
      case "cosine" -> na == 0 || nb == 0 ? 0 : dot / (Math.sqrt(na) * Math.sqrt(nb));
      default -> dot;
    };
  }
}
