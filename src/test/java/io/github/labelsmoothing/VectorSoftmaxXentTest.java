package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
            VectorSoftmaxXent.expEachLane(new double[] {x}, out, true);
            return out[0];
        }, expected -> 1e-8 * expected, 28);
    }

    @Test
    void lanesAreIndependentWhenEdgesMeetInOneVector() {
        double[] x = {0, Double.NEGATIVE_INFINITY, -1, Double.NaN, -800, -0.5, -708.5, -707.5, -3, -1e-300, -20};
        double[] out = new double[x.length];
        VectorSoftmaxXent.expEachLane(x, out, true);
        for (int i = 0; i < x.length; i++) {
            double expected = x[i] <= -708 ? 0 : Math.exp(x[i]);
            if (Double.isNaN(x[i])) {
                assertTrue(Double.isNaN(out[i]), "NaN stays NaN");
            } else {
                assertEquals(expected, out[i], 1e-8 * expected, "exp(" + x[i] + ") next to the others");
            }
        }
    }
}
