package io.quiver.shard.index.vector;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class VectorOpsTest {

    @Test
    void simdAndScalarKernelsAgreeOnEveryLengthAndOffset() {
        VectorOps.Kernels scalar = VectorOps.scalarKernels();
        VectorOps.Kernels simd = VectorOps.simdKernelsOrNull();
        assertThat(simd).as("tests run with --add-modules jdk.incubator.vector").isNotNull();
        Random random = new Random(7);
        for (int length = 0; length <= 300; length++) {
            float[] a = randomArray(random, length + 5);
            float[] b = randomArray(random, length + 9);
            int ao = random.nextInt(6);
            int bo = random.nextInt(10);
            double refDot = 0;
            double refL2 = 0;
            for (int i = 0; i < length; i++) {
                refDot += (double) a[ao + i] * b[bo + i];
                double d = (double) a[ao + i] - b[bo + i];
                refL2 += d * d;
            }
            double tolerance = 1e-4 * Math.max(1, length);
            assertThat((double) scalar.dot(a, ao, b, bo, length)).isCloseTo(refDot, within(tolerance));
            assertThat((double) simd.dot(a, ao, b, bo, length)).isCloseTo(refDot, within(tolerance));
            assertThat((double) scalar.squaredL2(a, ao, b, bo, length)).isCloseTo(refL2, within(tolerance));
            assertThat((double) simd.squaredL2(a, ao, b, bo, length)).isCloseTo(refL2, within(tolerance));
        }
    }

    @Test
    void fourQueryKernelsEqualOneQueryKernels() {
        Random random = new Random(11);
        for (VectorOps.Kernels kernels : new VectorOps.Kernels[] {VectorOps.scalarKernels(), VectorOps.simdKernelsOrNull()}) {
            for (int length = 0; length <= 300; length++) {
                float[][] q = new float[4][];
                for (int j = 0; j < 4; j++) {
                    q[j] = randomArray(random, length);
                }
                float[] row = randomArray(random, length + 13);
                int offset = random.nextInt(14);
                float[] dots = new float[6];
                float[] l2 = new float[6];
                kernels.dot4(q[0], q[1], q[2], q[3], row, offset, length, dots, 1);
                kernels.squaredL2x4(q[0], q[1], q[2], q[3], row, offset, length, l2, 2);
                // Same summation order; only the Vector API's lane reduction (unspecified order) may differ.
                float tolerance = 1e-5f * Math.max(1, length);
                for (int j = 0; j < 4; j++) {
                    assertThat(dots[1 + j]).as(kernels.name() + " dot4 length " + length)
                            .isCloseTo(kernels.dot(q[j], 0, row, offset, length), within(tolerance));
                    assertThat(l2[2 + j]).as(kernels.name() + " squaredL2x4 length " + length)
                            .isCloseTo(kernels.squaredL2(q[j], 0, row, offset, length), within(tolerance));
                }
            }
        }
    }

    @Test
    void activeImplementationIsSimdUnlessForcedScalar() {
        String expected = Boolean.getBoolean(VectorOps.FORCE_SCALAR_PROPERTY)
                ? "scalar" : VectorOps.simdKernelsOrNull().name();
        assertThat(VectorOps.implementationName()).isEqualTo(expected);
    }

    @Test
    void inverseNormOfZeroVectorIsZero() {
        assertThat(VectorOps.inverseNorm(new float[4], 0, 4)).isZero();
        assertThat(VectorOps.inverseNorm(new float[] {3, 4}, 0, 2)).isCloseTo(0.2f, within(1e-6f));
    }

    private static float[] randomArray(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }
}
