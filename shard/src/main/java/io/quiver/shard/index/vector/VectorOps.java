package io.quiver.shard.index.vector;

/**
 * Float vector kernels (dot product, squared Euclidean distance) over slices of float arrays, so that
 * callers can score rows stored contiguously in large chunks without copying them.
 *
 * <p>The implementation is chosen once, when this class is initialised: the JDK Vector API
 * ({@code jdk.incubator.vector}, {@code FloatVector.SPECIES_PREFERRED}) when the module is present
 * (run with {@code --add-modules jdk.incubator.vector}), otherwise a scalar loop. Setting the system
 * property {@value #FORCE_SCALAR_PROPERTY}{@code =true} forces the scalar loop (tests, or to rule the
 * Vector API out when debugging).
 *
 * <p>Thread-safe: stateless.
 */
public final class VectorOps {

    /** System property that forces the scalar implementation when set to {@code true}. */
    public static final String FORCE_SCALAR_PROPERTY = "quiver.vector.scalar";

    /** One kernel implementation. Implementations are stateless and thread-safe. */
    public interface Kernels {
        float dot(float[] a, int aOffset, float[] b, int bOffset, int length);

        float squaredL2(float[] a, int aOffset, float[] b, int bOffset, int length);

        /**
         * Dot products of four queries (each read from index 0) with one row: {@code out[outOffset + j] =
         * dot(qj, 0, b, bOffset, length)}, summed in the same order. The row is loaded once for the four queries.
         */
        default void dot4(float[] q0, float[] q1, float[] q2, float[] q3, float[] b, int bOffset, int length,
                          float[] out, int outOffset) {
            out[outOffset] = dot(q0, 0, b, bOffset, length);
            out[outOffset + 1] = dot(q1, 0, b, bOffset, length);
            out[outOffset + 2] = dot(q2, 0, b, bOffset, length);
            out[outOffset + 3] = dot(q3, 0, b, bOffset, length);
        }

        /** Squared distances of four queries to one row, summed in the order of {@link #squaredL2}. */
        default void squaredL2x4(float[] q0, float[] q1, float[] q2, float[] q3, float[] b, int bOffset, int length,
                                 float[] out, int outOffset) {
            out[outOffset] = squaredL2(q0, 0, b, bOffset, length);
            out[outOffset + 1] = squaredL2(q1, 0, b, bOffset, length);
            out[outOffset + 2] = squaredL2(q2, 0, b, bOffset, length);
            out[outOffset + 3] = squaredL2(q3, 0, b, bOffset, length);
        }

        String name();
    }

    private static final Kernels SCALAR = new ScalarKernels();
    private static final Kernels SIMD = loadSimd();
    private static final Kernels ACTIVE =
            (SIMD == null || Boolean.getBoolean(FORCE_SCALAR_PROPERTY)) ? SCALAR : SIMD;

    private VectorOps() {
    }

    private static Kernels loadSimd() {
        try {
            Class<?> type = Class.forName("io.quiver.shard.index.vector.PanamaKernels");
            Kernels kernels = (Kernels) type.getDeclaredConstructor().newInstance();
            // Touch the Vector API once so that a missing module fails here, not on the first search.
            kernels.dot(new float[1], 0, new float[1], 0, 1);
            return kernels;
        } catch (LinkageError | ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    public static float dot(float[] a, float[] b) {
        checkSameLength(a, b);
        return ACTIVE.dot(a, 0, b, 0, a.length);
    }

    public static float dot(float[] a, int aOffset, float[] b, int bOffset, int length) {
        return ACTIVE.dot(a, aOffset, b, bOffset, length);
    }

    public static float squaredL2(float[] a, float[] b) {
        checkSameLength(a, b);
        return ACTIVE.squaredL2(a, 0, b, 0, a.length);
    }

    public static float squaredL2(float[] a, int aOffset, float[] b, int bOffset, int length) {
        return ACTIVE.squaredL2(a, aOffset, b, bOffset, length);
    }

    /** See {@link Kernels#dot4}. */
    public static void dot4(float[] q0, float[] q1, float[] q2, float[] q3, float[] b, int bOffset, int length,
                            float[] out, int outOffset) {
        ACTIVE.dot4(q0, q1, q2, q3, b, bOffset, length, out, outOffset);
    }

    /** See {@link Kernels#squaredL2x4}. */
    public static void squaredL2x4(float[] q0, float[] q1, float[] q2, float[] q3, float[] b, int bOffset, int length,
                                   float[] out, int outOffset) {
        ACTIVE.squaredL2x4(q0, q1, q2, q3, b, bOffset, length, out, outOffset);
    }

    /** 1 / ||v|| for the slice, or 0 for a zero (or non-finite) norm so that cosine scores become 0. */
    public static float inverseNorm(float[] v, int offset, int length) {
        double norm = Math.sqrt(ACTIVE.dot(v, offset, v, offset, length));
        return (norm > 0 && Double.isFinite(norm)) ? (float) (1.0 / norm) : 0f;
    }

    /** Name of the implementation in use ("panama-&lt;lanes&gt;" or "scalar"), for logs and metrics. */
    public static String implementationName() {
        return ACTIVE.name();
    }

    /** The scalar kernels, always available. */
    public static Kernels scalarKernels() {
        return SCALAR;
    }

    /** The Vector API kernels, or null when {@code jdk.incubator.vector} is not available. */
    public static Kernels simdKernelsOrNull() {
        return SIMD;
    }

    private static void checkSameLength(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("vector lengths differ: " + a.length + " vs " + b.length);
        }
    }

    static final class ScalarKernels implements Kernels {
        @Override
        public float dot(float[] a, int aOffset, float[] b, int bOffset, int length) {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int i = 0;
            for (; i + 3 < length; i += 4) {
                s0 += a[aOffset + i] * b[bOffset + i];
                s1 += a[aOffset + i + 1] * b[bOffset + i + 1];
                s2 += a[aOffset + i + 2] * b[bOffset + i + 2];
                s3 += a[aOffset + i + 3] * b[bOffset + i + 3];
            }
            for (; i < length; i++) {
                s0 += a[aOffset + i] * b[bOffset + i];
            }
            return (s0 + s1) + (s2 + s3);
        }

        @Override
        public float squaredL2(float[] a, int aOffset, float[] b, int bOffset, int length) {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int i = 0;
            for (; i + 3 < length; i += 4) {
                float d0 = a[aOffset + i] - b[bOffset + i];
                float d1 = a[aOffset + i + 1] - b[bOffset + i + 1];
                float d2 = a[aOffset + i + 2] - b[bOffset + i + 2];
                float d3 = a[aOffset + i + 3] - b[bOffset + i + 3];
                s0 += d0 * d0;
                s1 += d1 * d1;
                s2 += d2 * d2;
                s3 += d3 * d3;
            }
            for (; i < length; i++) {
                float d = a[aOffset + i] - b[bOffset + i];
                s0 += d * d;
            }
            return (s0 + s1) + (s2 + s3);
        }

        @Override
        public String name() {
            return "scalar";
        }
    }
}
