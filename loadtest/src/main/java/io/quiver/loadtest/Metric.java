package io.quiver.loadtest;

/**
 * The similarity metrics of the Quiver API, as the bench tool computes them locally for ground truth.
 * {@link #score} is oriented so that higher is always closer (l2 returns the negated squared distance:
 * same order as the distance).
 */
public enum Metric {
  L2("l2"),
  DOT("dot"),
  COSINE("cosine");

  private final String wireName;

  Metric(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }

  public static Metric parse(String s) {
    for (Metric m : values()) {
      if (m.wireName.equalsIgnoreCase(s)) {
        return m;
      }
    }
    throw new IllegalArgumentException("unknown metric '" + s + "' (l2, dot, cosine)");
  }

  /**
   * Higher is closer. Accumulates in f32 like the server does, in four independent sums so that the CPU
   * overlaps the additions.
   */
  public double score(float[] a, float[] b) {
    return switch (this) {
      case L2 -> -squaredDistance(a, b);
      case DOT -> dot(a, b);
      case COSINE -> {
        double na = dot(a, a);
        double nb = dot(b, b);
        yield na == 0 || nb == 0 ? 0 : dot(a, b) / Math.sqrt(na * nb);
      }
    };
  }

  static double dot(float[] a, float[] b) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int n = a.length;
    int i = 0;
    for (; i + 3 < n; i += 4) {
      s0 += a[i] * b[i];
      s1 += a[i + 1] * b[i + 1];
      s2 += a[i + 2] * b[i + 2];
      s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) {
      s0 += a[i] * b[i];
    }
    return (double) (s0 + s1) + (s2 + s3);
  }

  static double squaredDistance(float[] a, float[] b) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int n = a.length;
    int i = 0;
    for (; i + 3 < n; i += 4) {
      float d0 = a[i] - b[i];
      float d1 = a[i + 1] - b[i + 1];
      float d2 = a[i + 2] - b[i + 2];
      float d3 = a[i + 3] - b[i + 3];
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
    }
    for (; i < n; i++) {
      float d = a[i] - b[i];
      s0 += d * d;
    }
    return (double) (s0 + s1) + (s2 + s3);
  }
}
