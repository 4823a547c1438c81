package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The scalar kernel's own exp (its numbers are checked with the other kernels' in {@link CpuSoftmaxXentTest}). */
class ScalarSoftmaxXentTest {

    @Test
    void expIsWithin2e13RelativeOfMathExpDownToItsFloor() {
        java.util.Random random = new java.util.Random(26);
        for (int i = 0; i < 1_000_000; i++) {
            double x = -random.nextDouble() * (i % 3 == 0 ? 1 : i % 3 == 1 ? 20 : -ScalarSoftmaxXent.EXP_FLOOR);
            double expected = Math.exp(x);
            assertEquals(expected, ScalarSoftmaxXent.exp(x), 2e-13 * expected, "exp(" + x + ")");
        }
    }

    @Test
    void expIsExactAtItsEdges() {
        assertEquals(1.0, ScalarSoftmaxXent.exp(0.0), "e^0 is exactly 1: the row's maximum contributes exactly 1");
        assertEquals(1.0, ScalarSoftmaxXent.exp(-0.0));
        assertEquals(0.0, ScalarSoftmaxXent.exp(Double.NEGATIVE_INFINITY));
        assertTrue(Double.isNaN(ScalarSoftmaxXent.exp(Double.NaN)));
        assertTrue(Double.isNaN(ScalarSoftmaxXent.expClamped(Double.NaN)));
    }

    @Test
    void belowItsFloorExpIsEToTheFloorWhichNoFloatHolds() {
        double floor = Math.exp(ScalarSoftmaxXent.EXP_FLOOR);
        assertEquals(floor, ScalarSoftmaxXent.exp(-800), 2e-13 * floor);
        assertEquals(ScalarSoftmaxXent.exp(-800), ScalarSoftmaxXent.expClamped(Double.NEGATIVE_INFINITY));
        assertEquals(0f, (float) floor, "rounds to float 0");
    }
}
