package io.quiver.shard.index.vector;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels. Loaded reflectively by {@link VectorOps} so that a JVM without
 * {@code jdk.incubator.vector} falls back to the scalar loop instead of failing. Thread-safe: stateless.
 *
 * <p>Every kernel sums in the same order: two accumulators take alternate blocks of {@code lanes}
 * floats, are added and reduced, then the tail (length not a multiple of the lanes) is added one float at
 * a time. So the four-query kernels give the scores of the one-query kernels (up to the lane reduction,
 * whose order the Vector API leaves unspecified), and a query gets the same answer alone or in a batch.
 */
final class PanamaKernels implements VectorOps.Kernels {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    @Override
    public float dot(float[] a, int aOffset, float[] b, int bOffset, int length) {
        int lanes = SPECIES.length();
        int bound = SPECIES.loopBound(length);
        int i = 0;
        FloatVector acc0 = FloatVector.zero(SPECIES);
        FloatVector acc1 = FloatVector.zero(SPECIES);
        for (; i + lanes < bound; i += 2 * lanes) {
            acc0 = FloatVector.fromArray(SPECIES, a, aOffset + i)
                    .fma(FloatVector.fromArray(SPECIES, b, bOffset + i), acc0);
            acc1 = FloatVector.fromArray(SPECIES, a, aOffset + i + lanes)
                    .fma(FloatVector.fromArray(SPECIES, b, bOffset + i + lanes), acc1);
        }
        for (; i < bound; i += lanes) {
            acc0 = FloatVector.fromArray(SPECIES, a, aOffset + i)
                    .fma(FloatVector.fromArray(SPECIES, b, bOffset + i), acc0);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < length; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    @Override
    public float squaredL2(float[] a, int aOffset, float[] b, int bOffset, int length) {
        int lanes = SPECIES.length();
        int bound = SPECIES.loopBound(length);
        int i = 0;
        FloatVector acc0 = FloatVector.zero(SPECIES);
        FloatVector acc1 = FloatVector.zero(SPECIES);
        for (; i + lanes < bound; i += 2 * lanes) {
            FloatVector d0 = FloatVector.fromArray(SPECIES, a, aOffset + i)
                    .sub(FloatVector.fromArray(SPECIES, b, bOffset + i));
            acc0 = d0.fma(d0, acc0);
            FloatVector d1 = FloatVector.fromArray(SPECIES, a, aOffset + i + lanes)
                    .sub(FloatVector.fromArray(SPECIES, b, bOffset + i + lanes));
            acc1 = d1.fma(d1, acc1);
        }
        for (; i < bound; i += lanes) {
            FloatVector d = FloatVector.fromArray(SPECIES, a, aOffset + i)
                    .sub(FloatVector.fromArray(SPECIES, b, bOffset + i));
            acc0 = d.fma(d, acc0);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < length; i++) {
            float d = a[aOffset + i] - b[bOffset + i];
            sum += d * d;
        }
        return sum;
    }

    @Override
    public void dot4(float[] q0, float[] q1, float[] q2, float[] q3, float[] b, int bOffset, int length,
                     float[] out, int outOffset) {
        int lanes = SPECIES.length();
        int bound = SPECIES.loopBound(length);
        int i = 0;
        FloatVector a00 = FloatVector.zero(SPECIES);
        FloatVector a01 = a00;
        FloatVector a10 = a00;
        FloatVector a11 = a00;
        FloatVector a20 = a00;
        FloatVector a21 = a00;
        FloatVector a30 = a00;
        FloatVector a31 = a00;
        for (; i + lanes < bound; i += 2 * lanes) {
            FloatVector r0 = FloatVector.fromArray(SPECIES, b, bOffset + i);
            FloatVector r1 = FloatVector.fromArray(SPECIES, b, bOffset + i + lanes);
            a00 = FloatVector.fromArray(SPECIES, q0, i).fma(r0, a00);
            a01 = FloatVector.fromArray(SPECIES, q0, i + lanes).fma(r1, a01);
            a10 = FloatVector.fromArray(SPECIES, q1, i).fma(r0, a10);
            a11 = FloatVector.fromArray(SPECIES, q1, i + lanes).fma(r1, a11);
            a20 = FloatVector.fromArray(SPECIES, q2, i).fma(r0, a20);
            a21 = FloatVector.fromArray(SPECIES, q2, i + lanes).fma(r1, a21);
            a30 = FloatVector.fromArray(SPECIES, q3, i).fma(r0, a30);
            a31 = FloatVector.fromArray(SPECIES, q3, i + lanes).fma(r1, a31);
        }
        for (; i < bound; i += lanes) {
            FloatVector r0 = FloatVector.fromArray(SPECIES, b, bOffset + i);
            a00 = FloatVector.fromArray(SPECIES, q0, i).fma(r0, a00);
            a10 = FloatVector.fromArray(SPECIES, q1, i).fma(r0, a10);
            a20 = FloatVector.fromArray(SPECIES, q2, i).fma(r0, a20);
            a30 = FloatVector.fromArray(SPECIES, q3, i).fma(r0, a30);
        }
        float s0 = a00.add(a01).reduceLanes(VectorOperators.ADD);
        float s1 = a10.add(a11).reduceLanes(VectorOperators.ADD);
        float s2 = a20.add(a21).reduceLanes(VectorOperators.ADD);
        float s3 = a30.add(a31).reduceLanes(VectorOperators.ADD);
        for (; i < length; i++) {
            float x = b[bOffset + i];
            s0 += q0[i] * x;
            s1 += q1[i] * x;
            s2 += q2[i] * x;
            s3 += q3[i] * x;
        }
        out[outOffset] = s0;
        out[outOffset + 1] = s1;
        out[outOffset + 2] = s2;
        out[outOffset + 3] = s3;
    }

    @Override
    public void squaredL2x4(float[] q0, float[] q1, float[] q2, float[] q3, float[] b, int bOffset, int length,
                            float[] out, int outOffset) {
        int lanes = SPECIES.length();
        int bound = SPECIES.loopBound(length);
        int i = 0;
        FloatVector a00 = FloatVector.zero(SPECIES);
        FloatVector a01 = a00;
        FloatVector a10 = a00;
        FloatVector a11 = a00;
        FloatVector a20 = a00;
        FloatVector a21 = a00;
        FloatVector a30 = a00;
        FloatVector a31 = a00;
        for (; i + lanes < bound; i += 2 * lanes) {
            FloatVector r0 = FloatVector.fromArray(SPECIES, b, bOffset + i);
            FloatVector r1 = FloatVector.fromArray(SPECIES, b, bOffset + i + lanes);
            FloatVector d;
            d = FloatVector.fromArray(SPECIES, q0, i).sub(r0);
            a00 = d.fma(d, a00);
            d = FloatVector.fromArray(SPECIES, q0, i + lanes).sub(r1);
            a01 = d.fma(d, a01);
            d = FloatVector.fromArray(SPECIES, q1, i).sub(r0);
            a10 = d.fma(d, a10);
            d = FloatVector.fromArray(SPECIES, q1, i + lanes).sub(r1);
            a11 = d.fma(d, a11);
            d = FloatVector.fromArray(SPECIES, q2, i).sub(r0);
            a20 = d.fma(d, a20);
            d = FloatVector.fromArray(SPECIES, q2, i + lanes).sub(r1);
            a21 = d.fma(d, a21);
            d = FloatVector.fromArray(SPECIES, q3, i).sub(r0);
            a30 = d.fma(d, a30);
            d = FloatVector.fromArray(SPECIES, q3, i + lanes).sub(r1);
            a31 = d.fma(d, a31);
        }
        for (; i < bound; i += lanes) {
            FloatVector r0 = FloatVector.fromArray(SPECIES, b, bOffset + i);
            FloatVector d;
            d = FloatVector.fromArray(SPECIES, q0, i).sub(r0);
            a00 = d.fma(d, a00);
            d = FloatVector.fromArray(SPECIES, q1, i).sub(r0);
            a10 = d.fma(d, a10);
            d = FloatVector.fromArray(SPECIES, q2, i).sub(r0);
            a20 = d.fma(d, a20);
            d = FloatVector.fromArray(SPECIES, q3, i).sub(r0);
            a30 = d.fma(d, a30);
        }
        float s0 = a00.add(a01).reduceLanes(VectorOperators.ADD);
        float s1 = a10.add(a11).reduceLanes(VectorOperators.ADD);
        float s2 = a20.add(a21).reduceLanes(VectorOperators.ADD);
        float s3 = a30.add(a31).reduceLanes(VectorOperators.ADD);
        for (; i < length; i++) {
            float x = b[bOffset + i];
            float d0 = q0[i] - x;
            float d1 = q1[i] - x;
            float d2 = q2[i] - x;
            float d3 = q3[i] - x;
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
        }
        out[outOffset] = s0;
        out[outOffset + 1] = s1;
        out[outOffset + 2] = s2;
        out[outOffset + 3] = s3;
    }

    @Override
    public String name() {
        return "panama-" + SPECIES.length();
    }
}
