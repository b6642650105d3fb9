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

  public double score(float[] a, float[] b) {
    switch (this) {
      case L2 -> {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
          double d = a[i] - b[i];
          s += d * d;
        }
        return -s;
      }
      case DOT -> {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
          s += a[i] * b[i];
        }
        return s;
      }
      default -> {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
          dot += a[i] * b[i];
          na += a[i] * a[i];
          nb += b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
      }
    }
  }
}
