package io.quiver.shard.index;

import io.quiver.shard.index.vector.VectorOps;

import java.util.Locale;

/**
 * Similarity metrics and the score each reports: {@code DOT} the dot product and {@code COSINE} the cosine
 * similarity (higher is closer), {@code L2} the Euclidean distance (square-rooted; lower is closer).
 * Thread-safe.
 */
public enum Metric {
    DOT(true),
    L2(false),
    COSINE(true);

    private final boolean higherIsBetter;

    Metric(boolean higherIsBetter) {
        this.higherIsBetter = higherIsBetter;
    }

    public boolean higherIsBetter() {
        return higherIsBetter;
    }

    /** The wire name: {@code dot}, {@code l2}, {@code cosine}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Case-insensitive; throws IllegalArgumentException naming an unknown value. */
    public static Metric parse(String value) {
        if (value != null) {
            switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "dot":
                    return DOT;
                case "l2":
                    return L2;
                case "cosine":
                    return COSINE;
                default:
                    break;
            }
        }
        throw new IllegalArgumentException("unknown metric '" + value + "' (expected dot, l2 or cosine)");
    }

    /** The score of two vectors under this metric (as for {@code POST /distance}). */
    public float score(float[] a, float[] b) {
        return switch (this) {
            case DOT -> VectorOps.dot(a, b);
            case L2 -> (float) Math.sqrt(VectorOps.squaredL2(a, b));
            case COSINE -> {
                float inv = VectorOps.inverseNorm(a, 0, a.length) * VectorOps.inverseNorm(b, 0, b.length);
                yield VectorOps.dot(a, b) * inv;
            }
        };
    }

    /** True if score {@code a} is strictly closer than score {@code b}. */
    public boolean better(float a, float b) {
        return higherIsBetter ? a > b : a < b;
    }
}
