package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Closeness assertions: |actual - expected| <= rtol·|expected| + atol, element by element. */
final class Close {
    private Close() {
    }

    static void assertClose(double expected, double actual, double rtol, double atol, String what) {
        assertTrue(Math.abs(actual - expected) <= rtol * Math.abs(expected) + atol,
                what + ": expected " + expected + " but was " + actual + " (diff " + Math.abs(actual - expected) + ")");
    }

    static void assertClose(double[] expected, double[] actual, double rtol, double atol, String what) {
        assertTrue(expected.length == actual.length, what + ": lengths " + expected.length + " vs " + actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertClose(expected[i], actual[i], rtol, atol, what + "[" + i + "]");
        }
    }

    static void assertClose(INDArray expected, INDArray actual, double rtol, double atol, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        assertClose(expected.castTo(DataType.DOUBLE).ravel().toDoubleVector(),
                actual.castTo(DataType.DOUBLE).ravel().toDoubleVector(),
                rtol, atol, what);
    }
}
