package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.labelsmoothing.VectorSoftmaxXent.LaneFunction;
import java.util.function.DoubleUnaryOperator;
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
        assertMatchesMathExp(x -> {
            double[] out = new double[1];
            VectorSoftmaxXent.eachLane(LaneFunction.EXP_FOR_FLOAT, new double[] {x}, out);
            return out[0];
        }, expected -> 1e-8 * expected, 28);
    }

    @Test
    void expForDoubleIsWithinThreeUlpOfMathExpInEveryLane() {
        assertMatchesMathExp(x -> {
            double[] out = new double[1];
            VectorSoftmaxXent.eachLane(LaneFunction.EXP, new double[] {x}, out);
            return out[0];
        }, expected -> 3 * Math.ulp(expected), 30);
    }

    /**
     * The SIMD exps are their polynomials bit for bit ({@link #exp}, in scalar arithmetic): IEEE multiplies and fused
     * multiply-adds only, so the same before and after C2 compiles them. (The JDK's {@code EXP} is not: SVML once
     * compiled, {@link Math#exp} per lane before, an ulp apart on 0.5-4% of inputs, so that two calls on the same
     * inputs could differ.)
     */
    @Test
    void expIsItsPolynomialBitForBit() {
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
            assertEquals(exp(x[i], true), single[i], 0, "float32 exp(" + x[i] + ")");
            assertEquals(exp(x[i], false), full[i], 0, "float64 exp(" + x[i] + ")");
        }
    }

    /** The SIMD kernel's double exp one value at a time, as its javadoc writes it. */
    private static double exp(double x, boolean single) {
        if (!(x > VectorSoftmaxXent.EXP_UNDERFLOW)) {
            return x == x ? 0 : x;
        }
        double shifted = Math.fma(x, VectorSoftmaxXent.LOG2_E, VectorSoftmaxXent.ROUNDING);
        double n = shifted - VectorSoftmaxXent.ROUNDING;
        double r = Math.fma(-n, VectorSoftmaxXent.LN2_LOW, Math.fma(-n, VectorSoftmaxXent.LN2_HIGH, x));
        double r2 = r * r;
        double r4 = r2 * r2;
        double low = Math.fma(r2, Math.fma(r, 1.0 / 6, 0.5), 1 + r);
        double middle = Math.fma(r2, Math.fma(r, 1.0 / 5_040, 1.0 / 720), Math.fma(r, 1.0 / 120, 1.0 / 24));
        double poly;
        if (single) {
            poly = Math.fma(r4, middle, low);
        } else {
            double high = Math.fma(r2, Math.fma(r, 1.0 / 39_916_800, 1.0 / 3_628_800),
                    Math.fma(r, 1.0 / 362_880, 1.0 / 40_320));
            poly = Math.fma(r4 * r4, Math.fma(r4, 1.0 / 479_001_600, high), Math.fma(r4, middle, low));
        }
        return poly * Double.longBitsToDouble((Double.doubleToRawLongBits(shifted) + 1023) << 52);
    }

    /** {@code exp} against {@link Math#exp} on a million points of [-708, 0], and at its edges. */
    private static void assertMatchesMathExp(DoubleUnaryOperator exp, DoubleUnaryOperator tolerance, long seed) {
        java.util.Random random = new java.util.Random(seed);
        for (int i = 0; i < 1_000_000; i++) {
            double x = -random.nextDouble() * (i % 3 == 0 ? 1 : i % 3 == 1 ? 40 : 708);
            double expected = Math.exp(x);
            assertEquals(expected, exp.applyAsDouble(x), tolerance.applyAsDouble(expected), "exp(" + x + ")");
        }
        assertEquals(1.0, exp.applyAsDouble(0.0), "e^0 is exactly 1: the row's maximum contributes exactly 1");
        assertEquals(1.0, exp.applyAsDouble(-0.0));
        assertEquals(0.0, exp.applyAsDouble(Double.NEGATIVE_INFINITY));
        assertEquals(0.0, exp.applyAsDouble(-800));
        assertTrue(Double.isNaN(exp.applyAsDouble(Double.NaN)));
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
