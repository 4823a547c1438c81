package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/** The scalar kernel's own exp (its numbers are checked with the other kernels' in {@link CpuSoftmaxXentTest}). */
class ScalarSoftmaxXentTest {

    @Test
    void expIsWithinThreeUlpOfMathExpOverTheWholeRangeItTakes() {
        assertMatchesMathExp(ScalarSoftmaxXent::exp, expected -> 3 * Math.ulp(expected), 26);
    }

    @Test
    void expForFloatIsWithin1e8RelativeOfMathExp() {
        assertMatchesMathExp(ScalarSoftmaxXent::expForFloat, expected -> 1e-8 * expected, 27);
    }

    /** {@code exp} against {@link Math#exp} on a million points of [-708, 0], and at its edges. */
    static void assertMatchesMathExp(DoubleUnaryOperator exp, DoubleUnaryOperator tolerance, long seed) {
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
}
