package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.labelsmoothing.VectorSoftmaxXent.LaneFunction;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The SIMD kernel's exp for float32 logits, lane by lane against {@link Math#exp} (its other numbers are checked with
 * the other kernels' in {@link CpuSoftmaxXentTest}); runs at each vector width the build tests.
 */
class VectorSoftmaxXentTest {

    @BeforeEach
    void simdKernelLoaded() {
        assumeTrue(SoftmaxXents.implementation(SoftmaxXents.Path.VECTOR) != null, "the JVM runs without the vector module");
    }

    @Test
    void expForFloatIsWithin1e8RelativeOfMathExpInEveryLane() {
        ScalarSoftmaxXentTest.assertMatchesMathExp(x -> {
            double[] out = new double[1];
            VectorSoftmaxXent.eachLane(LaneFunction.EXP_FOR_FLOAT, new double[] {x}, out);
            return out[0];
        }, expected -> 1e-8 * expected, 28);
    }

    @Test
    void expForDoubleIsWithinThreeUlpOfMathExpInEveryLane() {
        ScalarSoftmaxXentTest.assertMatchesMathExp(x -> {
            double[] out = new double[1];
            VectorSoftmaxXent.eachLane(LaneFunction.EXP, new double[] {x}, out);
            return out[0];
        }, expected -> 3 * Math.ulp(expected), 30);
    }

    /**
     * The SIMD exps are the scalar kernel's polynomials bit for bit: IEEE multiplies and fused multiply-adds only, so
     * the same before and after C2 compiles them. (The JDK's {@code EXP} is not: SVML once compiled, {@link Math#exp}
     * per lane before, an ulp apart on 0.5-4% of inputs, so that two calls on the same inputs could differ.)
     */
    @Test
    void expIsTheScalarKernelsPolynomialBitForBit() {
        java.util.Random random = new java.util.Random(31);
        double[] x = new double[100_000];
        for (int i = 0; i < x.length; i++) {
            x[i] = -random.nextDouble() * (i % 3 == 0 ? 1 : i % 3 == 1 ? 30 : 720);
        }
        double[] single = new double[x.length];
        double[] full = new double[x.length];
        VectorSoftmaxXent.eachLane(LaneFunction.EXP_FOR_FLOAT, x, single);
        VectorSoftmaxXent.eachLane(LaneFunction.EXP, x, full);
        for (int i = 0; i < x.length; i++) {
            assertEquals(ScalarSoftmaxXent.expForFloat(x[i]), single[i], 0, "float32 exp(" + x[i] + ")");
            assertEquals(ScalarSoftmaxXent.exp(x[i]), full[i], 0, "float64 exp(" + x[i] + ")");
        }
    }

    /**
     * The row logs' {@code log} on what a row's {@code Σ e^(z - M)} can be (1 to K; near 1 for confident rows): within
     * 1 ulp of {@link Math#log}, exactly 0 at 1.
     */
    @Test
    void logIsWithinOneUlpOfMathLogInEveryLane() {
        java.util.Random random = new java.util.Random(37);
        double[] x = new double[1_000_000];
        for (int i = 0; i < x.length; i++) {
            x[i] = i % 3 == 0 ? 1 + random.nextDouble() * Math.pow(10, -random.nextInt(16))
                    : i % 3 == 1 ? 1 + random.nextDouble() : Math.exp(random.nextDouble() * 700);
        }
        x[0] = 1;
        x[1] = Double.MAX_VALUE;
        x[2] = Math.sqrt(2);
        x[3] = Math.nextUp(Math.sqrt(2));
        double[] out = new double[x.length];
        VectorSoftmaxXent.eachLane(LaneFunction.LOG, x, out);
        for (int i = 0; i < x.length; i++) {
            double expected = Math.log(x[i]);
            assertEquals(expected, out[i], Math.ulp(expected), "log(" + x[i] + ")");
        }
        assertEquals(0.0, out[0], "log 1 is exactly 0");
    }

    @Test
    void lanesAreIndependentWhenEdgesMeetInOneVector() {
        double[] x = {0, Double.NEGATIVE_INFINITY, -1, Double.NaN, -800, -0.5, -708.5, -707.5, -3, -1e-300, -20};
        double[] out = new double[x.length];
        VectorSoftmaxXent.eachLane(LaneFunction.EXP_FOR_FLOAT, x, out);
        for (int i = 0; i < x.length; i++) {
            double expected = x[i] <= -708 ? 0 : Math.exp(x[i]);
            if (Double.isNaN(x[i])) {
                assertTrue(Double.isNaN(out[i]), "NaN stays NaN");
            } else {
                assertEquals(expected, out[i], 1e-8 * expected, "exp(" + x[i] + ") next to the others");
            }
        }
    }

    /**
     * The float-arithmetic exp of the float tiles: within 1.2e-7 relative of {@link Math#exp} (2 float ulp) on a
     * million points of its range, exactly 1 at 0 (the row maximum's term), 0 at and below its underflow, NaN for NaN,
     * each lane independent of the others in its vector.
     */
    @Test
    void expFloatIsWithin2UlpOfMathExpInEveryLane() {
        java.util.Random random = new java.util.Random(29);
        float[] x = new float[1_000_000];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (-random.nextDouble() * (i % 3 == 0 ? 1 : i % 3 == 1 ? 20 : 87));
        }
        float[] out = new float[x.length];
        VectorSoftmaxXent.expFloatEachLane(x, out);
        for (int i = 0; i < x.length; i++) {
            double expected = Math.exp(x[i]);
            assertEquals(expected, out[i], 1.2e-7 * expected, "exp(" + x[i] + ")");
        }
        float[] edges = {0, -0f, Float.NEGATIVE_INFINITY, -1, Float.NaN, -87, -87.5f, -200, -86.9f, -1e-30f, -20};
        float[] got = new float[edges.length];
        VectorSoftmaxXent.expFloatEachLane(edges, got);
        for (int i = 0; i < edges.length; i++) {
            if (Float.isNaN(edges[i])) {
                assertTrue(Float.isNaN(got[i]), "NaN stays NaN");
            } else {
                double expected = edges[i] <= VectorSoftmaxXent.EXPF_UNDERFLOW ? 0 : Math.exp(edges[i]);
                assertEquals(expected, got[i], 1.2e-7 * expected, "exp(" + edges[i] + ") next to the others");
            }
        }
        assertEquals(1f, got[0], "e^0 is exactly 1");
        assertEquals(1f, got[1], "e^-0 is exactly 1");
    }
}
