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
            assertEquals(expected, ScalarSoftmaxXent.exp(x, false), 2e-13 * expected, "exp(" + x + ")");
        }
    }

    @Test
    void expIsExactAtItsEdges() {
        assertEquals(1.0, ScalarSoftmaxXent.exp(0.0, false), "e^0 is exactly 1: a row's maximum contributes exactly 1");
        assertEquals(1.0, ScalarSoftmaxXent.exp(-0.0, false));
        assertEquals(0.0, ScalarSoftmaxXent.exp(Double.NEGATIVE_INFINITY, false));
        assertTrue(Double.isNaN(ScalarSoftmaxXent.exp(Double.NaN, false)));
        assertTrue(Double.isNaN(ScalarSoftmaxXent.expClamped(Double.NaN)));
    }

    @Test
    void belowItsFloorExpIsEToTheFloorWhichNoFloatHolds() {
        double floor = Math.exp(ScalarSoftmaxXent.EXP_FLOOR);
        assertEquals(floor, ScalarSoftmaxXent.exp(-800, false), 2e-13 * floor);
        assertEquals(ScalarSoftmaxXent.exp(-800, false), ScalarSoftmaxXent.expClamped(Double.NEGATIVE_INFINITY));
        assertEquals(0f, (float) floor, "rounds to float 0");
        assertEquals(floor, ScalarSoftmaxXent.exp(-800, true), 1e-9 * floor);
        assertEquals(ScalarSoftmaxXent.exp(-800, true), ScalarSoftmaxXent.expClampedSingle(Double.NEGATIVE_INFINITY));
    }

    @Test
    void floatLogitsExpIsWithin1e9RelativeOfMathExpDownToItsFloor() {
        java.util.Random random = new java.util.Random(27);
        double worst = 0;
        for (int i = 0; i < 1_000_000; i++) {
            double x = -random.nextDouble() * (i % 3 == 0 ? 1 : i % 3 == 1 ? 20 : -ScalarSoftmaxXent.EXP_FLOOR);
            double expected = Math.exp(x);
            double got = ScalarSoftmaxXent.exp(x, true);
            assertEquals(expected, got, 1e-9 * expected, "exp(" + x + ")");
            worst = Math.max(worst, Math.abs(got - expected) / expected);
        }
        assertTrue(worst > 1e-13, "a polynomial of its own, not the float64 one: worst " + worst);
    }

    @Test
    void floatLogitsExpIsExactAtItsEdges() {
        assertEquals(1.0, ScalarSoftmaxXent.exp(0.0, true));
        assertEquals(1.0, ScalarSoftmaxXent.exp(-0.0, true));
        assertEquals(0.0, ScalarSoftmaxXent.exp(Double.NEGATIVE_INFINITY, true));
        assertTrue(Double.isNaN(ScalarSoftmaxXent.exp(Double.NaN, true)));
    }
}
