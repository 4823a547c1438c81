package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@link CpuSoftmaxXent.Array#nonZero}, the scan for label entries and the memo's one-hot check, against an element by
 * element scan: every value that is not +-0 (NaN, subnormals, runs of values) is found, in the order of the buffer,
 * across its 16 KB comparison runs, in FLOAT and DOUBLE arrays and views that start inside a buffer.
 */
class NonZeroScanTest {

    @Test
    void findsEveryValueThatIsNotZero() {
        Random random = new Random(7);
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            int length = 12_000;
            INDArray values = Nd4j.zeros(type, 1, length);
            int[] at = {0, 1, 2, 3, 4095, 4096, 4097, 2047, 2048, 8191, 8192, length - 2, length - 1};
            double[] special = {1, -0.0, Double.NaN, Float.MIN_VALUE, -1e-30, 0.5, -0.0, 3, -0.0, 2, Double.MIN_VALUE,
                    -0.0, 1};
            for (int i = 0; i < at.length; i++) {
                values.putScalar(0, at[i], special[i]);
            }
            for (int i = 0; i < 300; i++) { // scattered values, -0 among them, and a dense run
                values.putScalar(0, random.nextInt(length), random.nextBoolean() ? -0.0 : random.nextGaussian());
                values.putScalar(0, 6000 + i, 0.25 + i);
            }
            INDArray[] arrays = {values, values.get(NDArrayIndex.all(), NDArrayIndex.interval(333, length))};
            for (INDArray array : arrays) {
                CpuSoftmaxXent.Array a = new CpuSoftmaxXent.Array(array);
                int end = a.offset + (int) array.length();
                for (int from : new int[] {a.offset, a.offset + 1, a.offset + 4000, end - 1}) {
                    String what = type + " from " + from + " of a view at " + a.offset;
                    int expected = from;
                    int found = a.nonZero(from, end);
                    while (expected < end) {
                        while (expected < end && isZero(a.get(expected))) {
                            expected++;
                        }
                        assertEquals(expected, found, what);
                        if (found == end) {
                            break;
                        }
                        expected = found + 1;
                        found = a.nonZero(found + 1, end);
                    }
                    assertEquals(end, found, what + ": nothing after the last value");
                }
            }
        }
    }

    private static boolean isZero(double value) {
        return value == 0; // +-0; NaN is not
    }
}
