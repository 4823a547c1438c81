package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The scalar kernel's own exp (its numbers are checked with the other kernels' in {@link CpuSoftmaxXentTest}). */
class ScalarSoftmaxXentTest {

    @Test
    void expIsWithinThreeUlpOfMathExpOverTheWholeRangeItTakes() {
        java.util.Random random = new java.util.Random(26);
        for (int i = 0; i < 1_000_000; i++) {
            double x = -random.nextDouble() * (i % 3 == 0 ? 1 : i % 3 == 1 ? 40 : 708);
            double expected = Math.exp(x);
            assertEquals(expected, ScalarSoftmaxXent.exp(x), 3 * Math.ulp(expected), "exp(" + x + ")");
        }
        assertEquals(1.0, ScalarSoftmaxXent.exp(0.0), "e^0 is exactly 1: the row's maximum contributes exactly 1");
        assertEquals(1.0, ScalarSoftmaxXent.exp(-0.0));
        assertEquals(0.0, ScalarSoftmaxXent.exp(Double.NEGATIVE_INFINITY));
        assertEquals(0.0, ScalarSoftmaxXent.exp(-800));
        assertTrue(Double.isNaN(ScalarSoftmaxXent.exp(Double.NaN)));
    }

    @Test
    void expForFloatIsWithin1e8RelativeOfMathExp() {
        java.util.Random random = new java.util.Random(27);
        for (int i = 0; i < 1_000_000; i++) {
            double x = -random.nextDouble() * (i % 3 == 0 ? 1 : i % 3 == 1 ? 40 : 708);
            double expected = Math.exp(x);
            assertEquals(expected, ScalarSoftmaxXent.expForFloat(x), 1e-8 * expected, "expForFloat(" + x + ")");
        }
        assertEquals(1.0, ScalarSoftmaxXent.expForFloat(0.0), "e^0 is exactly 1");
        assertEquals(0.0, ScalarSoftmaxXent.expForFloat(Double.NEGATIVE_INFINITY));
        assertTrue(Double.isNaN(ScalarSoftmaxXent.expForFloat(Double.NaN)));
    }
}
