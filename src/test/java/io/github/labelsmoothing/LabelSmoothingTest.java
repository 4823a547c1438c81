package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class LabelSmoothingTest {

    static Stream<Arguments> classesAndSmoothing() {
        return Stream.of(2, 3, 10).flatMap(k -> Stream.of(0.0, 0.1, 1.0).map(s -> Arguments.of(k, s)));
    }

    /** Hand-worked: class c gets 1 - s + s/K, every other class s/K. */
    @ParameterizedTest(name = "K={0} s={1}")
    @MethodSource("classesAndSmoothing")
    void oneHotRowsGetHandWorkedValues(int k, double s) {
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, 2, k);
        labels.putScalar(0, 0, 1);
        labels.putScalar(1, k - 1, 1);
        INDArray smoothed = LabelSmoothing.smoothLabels(labels, s);
        for (int i = 0; i < 2; i++) {
            int hot = i == 0 ? 0 : k - 1;
            for (int c = 0; c < k; c++) {
                double expected = (c == hot ? 1 - s : 0) + s / k;
                assertEquals(expected, smoothed.getDouble(i, c), 1e-15, "row " + i + " class " + c);
            }
        }
    }

    @Test
    void handWorkedThreeClassesAtPointOne() {
        INDArray smoothed = LabelSmoothing.smoothLabels(Nd4j.createFromArray(new double[][] {{0, 1, 0}}), 0.1);
        // 0.1/3 = 0.0333..., 0.9 + 0.0333... = 0.9333...
        assertArrayEquals(new double[] {0.1 / 3, 0.9 + 0.1 / 3, 0.1 / 3}, smoothed.toDoubleVector(), 1e-15);
    }

    @Test
    void matchesPyTorchTargets() {
        for (TorchReference ref : TorchReference.all()) {
            INDArray fromDense = LabelSmoothing.smoothLabels(ref.oneHot(), ref.smoothing());
            INDArray fromIndices = LabelSmoothing.smoothLabels(ref.indexColumn().castTo(DataType.DOUBLE),
                    ref.numClasses(), ref.smoothing());
            assertEquals(DataType.DOUBLE, fromIndices.dataType());
            assertTrue(ref.torchTarget().equalsWithEps(fromDense, 1e-12), ref + ": dense " + fromDense);
            assertTrue(ref.torchTarget().equalsWithEps(fromIndices, 1e-12), ref + ": indices " + fromIndices);
        }
    }

    @Test
    void classIndicesOfShapeNGiveDenseRows() {
        INDArray smoothed = LabelSmoothing.smoothLabels(Nd4j.createFromArray(2, 0), 4, 0.2);
        assertArrayEquals(new long[] {2, 4}, smoothed.shape());
        assertEquals(Nd4j.defaultFloatingPointType(), smoothed.dataType(), "integer indices give the default float type");
        assertArrayEquals(new float[] {0.05f, 0.05f, 0.85f, 0.05f}, smoothed.getRow(0).toFloatVector(), 1e-7f);
        assertArrayEquals(new float[] {0.85f, 0.05f, 0.05f, 0.05f}, smoothed.getRow(1).toFloatVector(), 1e-7f);
    }

    @Test
    void sequenceIndicesBecomeDenseTimeSeries() {
        // [N=1, 1, T=3] indices -> [1, K=3, 3]
        INDArray indices = Nd4j.createFromArray(new double[][][] {{{2, 0, 1}}});
        INDArray smoothed = LabelSmoothing.smoothLabels(indices, 3, 0.3);
        assertArrayEquals(new long[] {1, 3, 3}, smoothed.shape());
        double hi = 0.7 + 0.1;
        double lo = 0.1;
        double[][] expected = {{lo, hi, lo}, {lo, lo, hi}, {hi, lo, lo}}; // [class][time]
        for (int c = 0; c < 3; c++) {
            for (int t = 0; t < 3; t++) {
                assertEquals(expected[c][t], smoothed.getDouble(0, c, t), 1e-15, "class " + c + " time " + t);
            }
        }
    }

    @Test
    void timeSeriesAreSmoothedAlongAxisOneOnly() {
        // [N=1, K=2, T=3]: every time step is a distribution over the 2 classes
        INDArray labels = Nd4j.createFromArray(new double[][][] {{{1, 0, 1}, {0, 1, 0}}});
        INDArray smoothed = LabelSmoothing.smoothLabels(labels, 0.2);
        INDArray expected = Nd4j.createFromArray(new double[][][] {{{0.9, 0.1, 0.9}, {0.1, 0.9, 0.1}}});
        assertTrue(expected.equalsWithEps(smoothed, 1e-15), smoothed.toString());
    }

    @Test
    void segmentationMapsAreSmoothedAlongAxisOneOnly() {
        // [N=1, K=4, H=2, W=2]; the prior is 1/K = 1/4 whatever H and W are.
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, 1, 4, 2, 2);
        labels.putScalar(new long[] {0, 3, 1, 0}, 1);
        INDArray smoothed = LabelSmoothing.smoothLabels(labels, 0.4);
        assertEquals(0.6 + 0.1, smoothed.getDouble(0, 3, 1, 0), 1e-15);
        assertEquals(0.1, smoothed.getDouble(0, 0, 1, 0), 1e-15);
        assertEquals(0.1, smoothed.getDouble(0, 3, 0, 0), 1e-15);
    }

    @Test
    void softLabelsGetTheSameConvexCombination() {
        INDArray soft = Nd4j.createFromArray(new double[][] {{0.5, 0.3, 0.2}});
        INDArray smoothed = LabelSmoothing.smoothLabels(soft, 0.3);
        assertArrayEquals(new double[] {0.7 * 0.5 + 0.1, 0.7 * 0.3 + 0.1, 0.7 * 0.2 + 0.1}, smoothed.toDoubleVector(), 1e-15);
    }

    @Test
    void customPriorReplacesTheUniformOne() {
        INDArray smoothed = LabelSmoothing.smoothLabels(Nd4j.createFromArray(new double[][] {{1, 0, 0}}), 0.5,
                new double[] {0.2, 0.3, 0.5});
        assertArrayEquals(new double[] {0.5 + 0.1, 0.15, 0.25}, smoothed.toDoubleVector(), 1e-15);
        INDArray fromIndex = LabelSmoothing.smoothLabels(Nd4j.createFromArray(0L), 3, 0.5, new double[] {0.2, 0.3, 0.5});
        assertArrayEquals(new double[] {0.5 + 0.1, 0.15, 0.25}, fromIndex.castTo(DataType.DOUBLE).toDoubleVector(), 1e-7);
    }

    @Test
    void binaryLabelsAreSmoothedTowardsOneHalf() {
        INDArray smoothed = LabelSmoothing.smoothBinaryLabels(Nd4j.createFromArray(new double[][] {{1, 0, 1}}), 0.2);
        assertArrayEquals(new double[] {0.9, 0.1, 0.9}, smoothed.toDoubleVector(), 1e-15);
    }

    @ParameterizedTest
    @ValueSource(strings = {"FLOAT", "DOUBLE", "HALF", "BFLOAT16"})
    void resultKeepsTheLabelsFloatingType(String typeName) {
        DataType type = DataType.valueOf(typeName);
        INDArray labels = Nd4j.createFromArray(new double[][] {{0, 1}}).castTo(type);
        INDArray smoothed = LabelSmoothing.smoothLabels(labels, 0.5);
        assertEquals(type, smoothed.dataType());
        assertArrayEquals(new double[] {0.25, 0.75}, smoothed.castTo(DataType.DOUBLE).toDoubleVector(), 1e-15);
    }

    @Test
    void integerOneHotLabelsGiveTheDefaultFloatingType() {
        INDArray smoothed = LabelSmoothing.smoothLabels(Nd4j.createFromArray(new int[][] {{0, 1}}), 0.5);
        assertEquals(Nd4j.defaultFloatingPointType(), smoothed.dataType());
        assertArrayEquals(new float[] {0.25f, 0.75f}, smoothed.toFloatVector(), 0f);
    }

    @Test
    void inputsAreNeverModified() {
        INDArray labels = Nd4j.createFromArray(new double[][] {{0, 1, 0}, {1, 0, 0}});
        INDArray before = labels.dup();
        INDArray smoothed = LabelSmoothing.smoothLabels(labels, 0.1);
        assertNotSame(labels, smoothed);
        assertEquals(before, labels);
        assertNotSame(labels, LabelSmoothing.smoothLabels(labels, 0), "s = 0 still returns a new array");

        INDArray indices = Nd4j.createFromArray(new double[][] {{1}, {0}});
        INDArray indicesBefore = indices.dup();
        LabelSmoothing.smoothLabels(indices, 3, 0.1);
        assertEquals(indicesBefore, indices);
    }

    static Stream<Arguments> badSmoothing() {
        return Stream.of(-0.1, 1.5, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY).map(Arguments::of);
    }

    @ParameterizedTest
    @MethodSource("badSmoothing")
    void smoothingOutsideZeroOneIsRejectedWithItsValue(double s) {
        INDArray labels = Nd4j.createFromArray(new double[][] {{0, 1}});
        IllegalArgumentException dense = assertThrows(IllegalArgumentException.class,
                () -> LabelSmoothing.smoothLabels(labels, s));
        assertTrue(dense.getMessage().contains("smoothing") && dense.getMessage().contains(String.valueOf(s)),
                dense.getMessage());
        IllegalArgumentException sparse = assertThrows(IllegalArgumentException.class,
                () -> LabelSmoothing.smoothLabels(Nd4j.createFromArray(1.0), 2, s));
        assertTrue(sparse.getMessage().contains(String.valueOf(s)), sparse.getMessage());
    }

    static Stream<Arguments> badIndices() {
        return Stream.of(
                Arguments.of(new double[] {0, -1}, "-1.0"),
                Arguments.of(new double[] {0, 1.5}, "1.5"),
                Arguments.of(new double[] {3, 0}, "3.0"),
                Arguments.of(new double[] {0, Double.NaN}, "NaN"),
                Arguments.of(new double[] {Double.POSITIVE_INFINITY}, "Infinity"));
    }

    @ParameterizedTest
    @MethodSource("badIndices")
    void badClassIndicesAreRejectedWithTheBadValue(double[] indices, String shown) {
        INDArray array = Nd4j.createFromArray(indices);
        INDArray before = array.dup();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LabelSmoothing.smoothLabels(array, 3, 0.1));
        assertTrue(e.getMessage().contains("class indices") && e.getMessage().contains(shown), e.getMessage());
        assertArrayEquals(before.toDoubleVector(), array.toDoubleVector(), "a rejected call changes nothing");
    }

    @Test
    void numClassesBelowTwoIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LabelSmoothing.smoothLabels(Nd4j.createFromArray(0.0), 1, 0.1));
        assertTrue(e.getMessage().contains("numClasses") && e.getMessage().contains("1"), e.getMessage());
    }

    @Test
    void labelsWithoutAClassAxisAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LabelSmoothing.smoothLabels(Nd4j.createFromArray(0.0, 1.0), 0.1));
        assertTrue(e.getMessage().contains("[2]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LabelSmoothing.smoothLabels(null, 0.1));
        IllegalArgumentException single = assertThrows(IllegalArgumentException.class,
                () -> LabelSmoothing.smoothLabels(Nd4j.createFromArray(new double[][] {{1}}), 0.1));
        assertTrue(single.getMessage().contains("Bernoulli"), single.getMessage());
    }

    @Test
    void badPriorsAreRejected() {
        INDArray labels = Nd4j.createFromArray(new double[][] {{0, 1, 0}});
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LabelSmoothing.smoothLabels(labels, 0.1, new double[] {0.5, 0.6, -0.1})).getMessage()
                .contains("-0.1"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LabelSmoothing.smoothLabels(labels, 0.1, new double[] {0.5, 0.6, 0.1})).getMessage()
                .contains("sum"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LabelSmoothing.smoothLabels(labels, 0.1, new double[] {0.5, 0.5})).getMessage()
                .contains("3 classes"));
    }
}
