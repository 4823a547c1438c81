package io.github.labelsmoothing;

import static io.github.labelsmoothing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.mockito.ArgumentCaptor;
import org.mockito.Mockito;
import org.nd4j.autodiff.loss.LossReduce;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossKLD;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;
import org.nd4j.linalg.lossfunctions.impl.LossNegativeLogLikelihood;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

class LossLabelSmoothingTest {

    private static final IActivation SOFTMAX = Activation.SOFTMAX.getActivationFunction();
    private static final IActivation SIGMOID = Activation.SIGMOID.getActivationFunction();
    /** PyTorch parity tolerance from DESIGN: 1e-6 relative in double. */
    private static final double RTOL = 1e-6;
    private static final double ATOL = 1e-12;

    // ---- exactness against PyTorch -----------------------------------------------------------------------------

    static Stream<Arguments> torchCasesAndDenseBases() {
        return TorchReference.all().stream().flatMap(ref -> Stream.of(
                Arguments.of(ref, new LossMCXENT()), Arguments.of(ref, new LossNegativeLogLikelihood())));
    }

    @ParameterizedTest(name = "{0} over {1}")
    @MethodSource("torchCasesAndDenseBases")
    void scoreAndGradientEqualPyTorch(TorchReference ref, ILossFunction base) {
        LossLabelSmoothing loss = new LossLabelSmoothing(ref.smoothing(), base);
        INDArray logits = ref.logitsArray();
        INDArray labels = ref.oneHot();

        assertClose(ref.summedLoss(), loss.computeScore(labels, logits, SOFTMAX, null, false), RTOL, ATOL, "sum");
        assertClose(ref.summedLoss() / ref.numExamples(), loss.computeScore(labels, logits, SOFTMAX, null, true),
                RTOL, ATOL, "average");
        assertClose(ref.gradientArray(), loss.computeGradient(labels, logits, SOFTMAX, null), RTOL, ATOL, "gradient");

        INDArray scoreArray = loss.computeScoreArray(labels, logits, SOFTMAX, null);
        assertArrayEquals(new long[] {ref.numExamples(), 1}, scoreArray.shape());
        assertClose(ref.summedLoss(), scoreArray.sumNumber().doubleValue(), RTOL, ATOL, "score array total");

        Pair<Double, INDArray> both = loss.computeGradientAndScore(labels, logits, SOFTMAX, null, true);
        assertClose(ref.summedLoss() / ref.numExamples(), both.getFirst(), RTOL, ATOL, "joint score");
        assertClose(ref.gradientArray(), both.getSecond(), RTOL, ATOL, "joint gradient");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.github.labelsmoothing.TorchReference#all")
    void sparseLabelsEqualPyTorch(TorchReference ref) {
        LossLabelSmoothing loss = new LossLabelSmoothing(ref.smoothing(), new LossSparseMCXENT());
        INDArray logits = ref.logitsArray();
        INDArray indices = ref.indexColumn().castTo(DataType.DOUBLE);

        assertClose(ref.summedLoss(), loss.computeScore(indices, logits, SOFTMAX, null, false), RTOL, ATOL, "sum");
        assertClose(ref.gradientArray(), loss.computeGradient(indices, logits, SOFTMAX, null), RTOL, ATOL, "gradient");
        assertClose(ref.summedLoss(), loss.computeScoreArray(indices, logits, SOFTMAX, null).sumNumber().doubleValue(),
                RTOL, ATOL, "score array total");
        Pair<Double, INDArray> both = loss.computeGradientAndScore(indices, logits, SOFTMAX, null, false);
        assertClose(ref.summedLoss(), both.getFirst(), RTOL, ATOL, "joint score");
        assertClose(ref.gradientArray(), both.getSecond(), RTOL, ATOL, "joint gradient");
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.1, 1.0})
    void extremeLogitsStayExactAndFinite(double s) {
        double[][] z = {{1e4, -1e4, 0}, {-1e4, 1e4, 5e3}, {3e3, 3e3, -1e4}};
        double[][] y = {{0, 1, 0}, {0, 1, 0}, {1, 0, 0}};
        LossLabelSmoothing loss = new LossLabelSmoothing(s);
        INDArray logits = Nd4j.createFromArray(z);
        INDArray labels = Nd4j.createFromArray(y);

        double[] rows = Hand.rowLosses(z, y, s);
        assertClose(Hand.sum(rows), loss.computeScore(labels, logits, SOFTMAX, null, false), RTOL, ATOL, "score");
        assertClose(rows, loss.computeScoreArray(labels, logits, SOFTMAX, null).toDoubleVector(), RTOL, ATOL, "rows");
        assertClose(Nd4j.createFromArray(Hand.gradient(z, y, s)), loss.computeGradient(labels, logits, SOFTMAX, null),
                RTOL, ATOL, "gradient");
        // The clipped DL4J route is far off here, which is why the fused path exists.
        double clipped = new LossMCXENT().computeScore(LabelSmoothing.smoothLabels(labels, s), logits, SOFTMAX, null, false);
        assertTrue(Math.abs(clipped - Hand.sum(rows)) > 0.1 * Hand.sum(rows), "clipping error expected, got " + clipped);
    }

    /** The native fused score on random batches against the plain-double formula (independent of ND4J). */
    @Test
    void scoreEqualsTheHandFormulaOnRandomBatches() {
        Nd4j.getRandom().setSeed(21);
        for (int k : new int[] {2, 7, 50}) {
            INDArray logits = Nd4j.randn(DataType.DOUBLE, 9, k).muli(4);
            INDArray labels = Nd4j.zeros(DataType.DOUBLE, 9, k);
            for (int i = 0; i < 9; i++) {
                labels.putScalar(i, (i * 5) % k, 1);
            }
            double[] rows = Hand.rowLosses(logits.toDoubleMatrix(), labels.toDoubleMatrix(), 0.15);
            LossLabelSmoothing loss = new LossLabelSmoothing(0.15);
            assertClose(Hand.sum(rows), loss.computeScore(labels, logits, SOFTMAX, null, false), RTOL, ATOL, "K=" + k);
            assertClose(rows, loss.computeScoreArray(labels, logits, SOFTMAX, null).toDoubleVector(), RTOL, ATOL,
                    "rows, K=" + k);
        }
    }

    @Test
    void binaryBaseEqualsNd4jSigmoidCrossEntropyOp() {
        Nd4j.getRandom().setSeed(7);
        INDArray logits = Nd4j.randn(DataType.DOUBLE, 6, 4).muli(2);
        INDArray labels = Nd4j.rand(DataType.DOUBLE, 6, 4).gt(0.5).castTo(DataType.DOUBLE);
        double s = 0.2;
        INDArray expected = Nd4j.loss().sigmoidCrossEntropy(labels, logits, null, LossReduce.SUM, s);
        double ours = new LossLabelSmoothing(s, new LossBinaryXENT()).computeScore(labels, logits, SIGMOID, null, false);
        // LossBinaryXENT clips probabilities at 1e-5; these logits stay far from it.
        assertClose(expected.getDouble(0), ours, 1e-6, 0, "sigmoid CE");
    }

    // ---- drop-in semantics -------------------------------------------------------------------------------------

    static Stream<Arguments> bases() {
        return Stream.of(
                Arguments.of("MCXENT", (Supplier<ILossFunction>) LossMCXENT::new, SOFTMAX),
                Arguments.of("MCXENT weighted", (Supplier<ILossFunction>) () -> new LossMCXENT(
                        Nd4j.createFromArray(0.5, 2.0, 1.0, 3.0)), SOFTMAX),
                Arguments.of("NLL", (Supplier<ILossFunction>) LossNegativeLogLikelihood::new, SOFTMAX),
                Arguments.of("KLD", (Supplier<ILossFunction>) LossKLD::new, SOFTMAX),
                Arguments.of("own squared loss", (Supplier<ILossFunction>) OwnSquaredLoss::new,
                        Activation.IDENTITY.getActivationFunction()),
                Arguments.of("binary XENT", (Supplier<ILossFunction>) LossBinaryXENT::new, SIGMOID));
    }

    /** Moderate logits and one-hot labels, 5 examples over 4 classes. */
    private static INDArray[] batch(DataType type) {
        Nd4j.getRandom().setSeed(12345);
        INDArray logits = Nd4j.randn(DataType.DOUBLE, 5, 4).castTo(type);
        INDArray labels = Nd4j.zeros(type, 5, 4);
        int[] classes = {0, 3, 1, 2, 3};
        for (int i = 0; i < classes.length; i++) {
            labels.putScalar(i, classes[i], 1);
        }
        return new INDArray[] {labels, logits};
    }

    private static final INDArray EXAMPLE_MASK = Nd4j.createFromArray(new double[][] {{1}, {0}, {1}, {1}, {0}});

    @ParameterizedTest(name = "{0}")
    @MethodSource("bases")
    void atZeroSmoothingEqualsTheBase(String name, Supplier<ILossFunction> base, IActivation activation) {
        for (INDArray mask : new INDArray[] {null, EXAMPLE_MASK}) {
            INDArray[] b = batch(DataType.DOUBLE);
            ILossFunction plain = base.get();
            LossLabelSmoothing smoothed = new LossLabelSmoothing(0, base.get());
            // DL4J's own losses may write into preOutput (softmax backprop does): they get copies.
            assertEquals(plain.computeScore(b[0], b[1].dup(), activation, mask, true),
                    smoothed.computeScore(b[0], b[1], activation, mask, true), name);
            assertEquals(plain.computeScoreArray(b[0], b[1].dup(), activation, mask),
                    smoothed.computeScoreArray(b[0], b[1], activation, mask), name);
            assertEquals(plain.computeGradient(b[0], b[1].dup(), activation, mask),
                    smoothed.computeGradient(b[0], b[1], activation, mask), name);
        }
    }

    static Stream<Arguments> basesAndTypes() {
        return bases().flatMap(a -> Stream.of(DataType.DOUBLE, DataType.FLOAT)
                .map(t -> Arguments.of(a.get()[0], a.get()[1], a.get()[2], t)));
    }

    @ParameterizedTest(name = "{0} {3}")
    @MethodSource("basesAndTypes")
    void equalsTheBaseOnSmoothedLabels(String name, Supplier<ILossFunction> base, IActivation activation,
            DataType type) {
        double s = 0.15;
        double rtol = type == DataType.DOUBLE ? 1e-9 : 2e-5;
        for (INDArray mask : new INDArray[] {null, EXAMPLE_MASK.castTo(type)}) {
            INDArray[] b = batch(type);
            INDArray smoothedLabels = name.equals("binary XENT") ? LabelSmoothing.smoothBinaryLabels(b[0], s)
                    : LabelSmoothing.smoothLabels(b[0], s);
            ILossFunction plain = base.get();
            LossLabelSmoothing loss = new LossLabelSmoothing(s, base.get());
            String what = name + " " + type + (mask == null ? "" : " masked");
            assertClose(plain.computeScore(smoothedLabels, b[1].dup(), activation, mask, true),
                    loss.computeScore(b[0], b[1], activation, mask, true), rtol, 1e-7, what + " score");
            INDArray scoreArray = loss.computeScoreArray(b[0], b[1], activation, mask);
            assertEquals(type, scoreArray.dataType(), what);
            assertClose(plain.computeScoreArray(smoothedLabels, b[1].dup(), activation, mask), scoreArray, rtol, 1e-7,
                    what + " score array");
            INDArray gradient = loss.computeGradient(b[0], b[1], activation, mask);
            assertEquals(type, gradient.dataType(), what);
            assertClose(plain.computeGradient(smoothedLabels, b[1].dup(), activation, mask), gradient, rtol, 1e-7,
                    what + " gradient");
        }
    }

    @Test
    void perOutputMasksGoToTheBase() {
        INDArray[] b = batch(DataType.DOUBLE);
        INDArray mask = Nd4j.ones(DataType.DOUBLE, 5, 4);
        mask.putScalar(1, 2, 0);
        IActivation identity = Activation.IDENTITY.getActivationFunction();
        INDArray expected = new LossMSE().computeGradient(LabelSmoothing.smoothLabels(b[0], 0.1), b[1].dup(), identity,
                mask);
        INDArray actual = new LossLabelSmoothing(0.1, new OwnSquaredLoss()).computeGradient(b[0], b[1], identity, mask);
        assertEquals(expected, actual);
        assertEquals(0.0, Math.abs(actual.getDouble(1, 2)));
    }

    @Test
    void maskedExamplesContributeExactlyNothing() {
        INDArray[] b = batch(DataType.DOUBLE);
        b[1].putRow(1, Nd4j.createFromArray(1e4, -1e4, 3e3, 0.0)); // an extreme masked row changes nothing either
        LossLabelSmoothing loss = new LossLabelSmoothing(0.2);
        INDArray rows = loss.computeScoreArray(b[0], b[1], SOFTMAX, EXAMPLE_MASK);
        INDArray gradient = loss.computeGradient(b[0], b[1], SOFTMAX, EXAMPLE_MASK);
        for (int masked : new int[] {1, 4}) {
            assertEquals(0.0, rows.getDouble(masked, 0));
            assertEquals(0.0, gradient.getRow(masked).amaxNumber().doubleValue());
        }
        INDArray kept = Nd4j.createFromArray(0L, 2L, 3L);
        double keptOnly = loss.computeScore(b[0].get(kept), b[1].get(kept), SOFTMAX, null, false);
        assertClose(keptOnly, loss.computeScore(b[0], b[1], SOFTMAX, EXAMPLE_MASK, false), 1e-12, 0, "masked sum");
        assertClose(keptOnly / 5, loss.computeScore(b[0], b[1], SOFTMAX, EXAMPLE_MASK, true), 1e-12, 0,
                "average divides by the minibatch size, as DL4J does");
        Pair<Double, INDArray> both = loss.computeGradientAndScore(b[0], b[1], SOFTMAX, EXAMPLE_MASK, false);
        assertClose(keptOnly, both.getFirst(), 1e-12, 0, "joint masked sum");
        assertEquals(gradient, both.getSecond());
    }

    @Test
    void customPriorMatchesTheBaseOnLabelsSmoothedTowardsIt() {
        INDArray[] b = batch(DataType.DOUBLE);
        double[] prior = {0.4, 0.3, 0.2, 0.1};
        INDArray smoothed = LabelSmoothing.smoothLabels(b[0], 0.3, prior);
        INDArray weights = Nd4j.createFromArray(1.0, 2.0, 0.5, 1.5);
        for (LossMCXENT base : List.of(new LossMCXENT(), new LossMCXENT(weights))) {
            LossLabelSmoothing loss = new LossLabelSmoothing(0.3, base, prior);
            assertClose(base.computeScoreArray(smoothed, b[1], SOFTMAX, null),
                    loss.computeScoreArray(b[0], b[1], SOFTMAX, null), 1e-9, 0, "score " + base);
            assertClose(base.computeGradient(smoothed, b[1], SOFTMAX, null),
                    loss.computeGradient(b[0], b[1], SOFTMAX, null), 1e-9, 1e-15, "gradient " + base);
        }
    }

    @Test
    void weightedSparseLabelsEqualWeightedDenseLabels() {
        INDArray[] b = batch(DataType.DOUBLE);
        INDArray indices = Nd4j.createFromArray(new double[][] {{0}, {3}, {1}, {2}, {3}});
        INDArray weights = Nd4j.createFromArray(1.0, 2.0, 0.5, 1.5);
        LossLabelSmoothing sparse = new LossLabelSmoothing(0.2, new LossSparseMCXENT(weights));
        LossLabelSmoothing dense = new LossLabelSmoothing(0.2, new LossMCXENT(weights));
        assertClose(dense.computeScoreArray(b[0], b[1], SOFTMAX, EXAMPLE_MASK),
                sparse.computeScoreArray(indices, b[1], SOFTMAX, EXAMPLE_MASK), 1e-12, 0, "score");
        assertClose(dense.computeGradient(b[0], b[1], SOFTMAX, EXAMPLE_MASK),
                sparse.computeGradient(indices, b[1], SOFTMAX, EXAMPLE_MASK), 1e-12, 0, "gradient");
    }

    @Test
    void sparseLabelsAtTheEdgesZeroAndKMinusOne() {
        INDArray[] b = batch(DataType.DOUBLE);
        INDArray dense = Nd4j.createFromArray(new double[][] {{1, 0, 0, 0}, {0, 0, 0, 1}});
        INDArray indices = Nd4j.createFromArray(new double[][] {{0}, {3}});
        INDArray logits = b[1].get(Nd4j.createFromArray(0L, 1L));
        assertClose(new LossLabelSmoothing(0.1).computeGradient(dense, logits, SOFTMAX, null),
                new LossLabelSmoothing(0.1, new LossSparseMCXENT()).computeGradient(indices, logits, SOFTMAX, null),
                1e-12, 0, "gradient");
    }

    @ParameterizedTest
    @ValueSource(strings = {"HALF", "BFLOAT16"})
    void lowPrecisionIsFiniteAndNearFloat(String typeName) {
        DataType type = DataType.valueOf(typeName);
        INDArray[] b = batch(DataType.FLOAT);
        LossLabelSmoothing loss = new LossLabelSmoothing(0.1);
        INDArray reference = loss.computeGradient(b[0], b[1], SOFTMAX, null);
        INDArray low = loss.computeGradient(b[0].castTo(type), b[1].castTo(type), SOFTMAX, null);
        assertEquals(type, low.dataType());
        double tol = type == DataType.HALF ? 5e-3 : 3e-2;
        assertClose(reference, low, 0, tol, typeName + " gradient");
        double score = loss.computeScore(b[0].castTo(type), b[1].castTo(type), SOFTMAX, null, true);
        assertClose(loss.computeScore(b[0], b[1], SOFTMAX, null, true), score, tol * 3, 0, typeName + " score");
    }

    @Test
    void integerOneHotLabelsWork() {
        INDArray[] b = batch(DataType.FLOAT);
        LossLabelSmoothing loss = new LossLabelSmoothing(0.1);
        assertEquals(loss.computeGradient(b[0], b[1], SOFTMAX, null),
                loss.computeGradient(b[0].castTo(DataType.INT), b[1], SOFTMAX, null));
    }

    @Test
    void inputsAreNeverModified() {
        for (ILossFunction base : List.of(new LossMCXENT(), new LossKLD())) {
            INDArray[] b = batch(DataType.DOUBLE);
            INDArray labels = b[0].dup();
            INDArray logits = b[1].dup();
            INDArray mask = EXAMPLE_MASK.dup();
            LossLabelSmoothing loss = new LossLabelSmoothing(0.3, base);
            loss.computeScore(b[0], b[1], SOFTMAX, EXAMPLE_MASK, true);
            loss.computeScoreArray(b[0], b[1], SOFTMAX, EXAMPLE_MASK);
            loss.computeGradient(b[0], b[1], SOFTMAX, EXAMPLE_MASK);
            loss.computeGradientAndScore(b[0], b[1], SOFTMAX, EXAMPLE_MASK, true);
            assertEquals(labels, b[0], base + " labels");
            assertEquals(logits, b[1], base + " preOutput");
            assertEquals(mask, EXAMPLE_MASK, base + " mask");
        }
    }

    /** DL4J hands losses column-major arrays (RnnLossLayer reshapes to 'f' order): results must not depend on it. */
    @Test
    void columnMajorPreOutputGivesTheSameResults() {
        INDArray[] b = batch(DataType.DOUBLE);
        INDArray columnMajor = b[1].dup('f');
        INDArray indices = Nd4j.createFromArray(new double[][] {{0}, {3}, {1}, {2}, {3}});
        for (LossLabelSmoothing loss : List.of(new LossLabelSmoothing(0.1),
                new LossLabelSmoothing(0.1, new LossMCXENT(Nd4j.createFromArray(1.0, 2.0, 0.5, 1.5))),
                new LossLabelSmoothing(0.1, new LossSparseMCXENT()))) {
            INDArray labels = loss.getBase() instanceof LossSparseMCXENT ? indices : b[0];
            assertClose(loss.computeGradient(labels, b[1], SOFTMAX, EXAMPLE_MASK),
                    loss.computeGradient(labels, columnMajor, SOFTMAX, EXAMPLE_MASK), 1e-12, 0, loss + " gradient");
            assertClose(loss.computeScoreArray(labels, b[1], SOFTMAX, EXAMPLE_MASK),
                    loss.computeScoreArray(labels, columnMajor, SOFTMAX, EXAMPLE_MASK), 1e-12, 0, loss + " score");
            Pair<Double, INDArray> both = loss.computeGradientAndScore(labels, columnMajor, SOFTMAX, EXAMPLE_MASK, true);
            assertClose(loss.computeGradient(labels, b[1], SOFTMAX, EXAMPLE_MASK), both.getSecond(), 1e-12, 0,
                    loss + " joint gradient");
        }
    }

    @Test
    void integerClassIndicesAreNeverModified() {
        INDArray[] b = batch(DataType.DOUBLE);
        INDArray indices = Nd4j.createFromArray(new long[][] {{0}, {3}, {1}, {2}, {3}});
        LossLabelSmoothing sparse = new LossLabelSmoothing(0.2, new LossSparseMCXENT());
        INDArray gradient = sparse.computeGradient(indices, b[1], SOFTMAX, null);
        sparse.computeScoreArray(indices, b[1], SOFTMAX, null);
        assertEquals(Nd4j.createFromArray(new long[][] {{0}, {3}, {1}, {2}, {3}}), indices);
        assertClose(new LossLabelSmoothing(0.2).computeGradient(b[0], b[1], SOFTMAX, null), gradient, 1e-12, 0,
                "INT64 indices give the one-hot result");
    }

    @Test
    void genericPathHandsTheBaseASmoothedCopyNeverTheCallersArray() {
        ILossFunction base = Mockito.mock(ILossFunction.class);
        INDArray[] b = batch(DataType.DOUBLE);
        INDArray labels = b[0];
        LossLabelSmoothing loss = new LossLabelSmoothing(0.2, base);
        loss.computeGradient(labels, b[1], SOFTMAX, null);
        ArgumentCaptor<INDArray> handed = ArgumentCaptor.forClass(INDArray.class);
        Mockito.verify(base).computeGradient(handed.capture(), Mockito.eq(b[1]), Mockito.same(SOFTMAX), Mockito.isNull());
        assertNotSame(labels, handed.getValue());
        assertEquals(LabelSmoothing.smoothLabels(labels, 0.2), handed.getValue());
        Mockito.verifyNoMoreInteractions(base);
    }

    @Test
    void zeroSmoothingHandsTheBaseTheCallersArraysUnchanged() {
        ILossFunction base = Mockito.mock(ILossFunction.class);
        INDArray[] b = batch(DataType.DOUBLE);
        new LossLabelSmoothing(0, base).computeScore(b[0], b[1], SOFTMAX, null, true);
        Mockito.verify(base).computeScore(Mockito.same(b[0]), Mockito.same(b[1]), Mockito.same(SOFTMAX),
                Mockito.isNull(), Mockito.eq(true));
    }

    // ---- construction, serialization, identity -----------------------------------------------------------------

    @Test
    void defaultsAreTenPercentOverMcxent() {
        LossLabelSmoothing loss = new LossLabelSmoothing();
        assertEquals(0.1, loss.getSmoothing());
        assertEquals(new LossMCXENT(), loss.getBase());
        assertNull(loss.getPrior());
        assertEquals(new LossLabelSmoothing(0.1, new LossMCXENT()), loss);
        assertEquals(new LossLabelSmoothing(0.1).hashCode(), loss.hashCode());
        assertNotEquals(new LossLabelSmoothing(0.2), loss);
        assertTrue(loss.toString().contains("0.1") && loss.toString().contains("LossMCXENT"), loss.toString());
        assertEquals(loss.toString(), loss.name());
    }

    @Test
    void badConstructionIsRejectedWithTheValue() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new LossLabelSmoothing(1.5)).getMessage()
                .contains("1.5"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new LossLabelSmoothing(Double.NaN)).getMessage()
                .contains("NaN"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new LossLabelSmoothing(0.1, null)).getMessage()
                .contains("base"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new LossLabelSmoothing(0.1, new LossLabelSmoothing())).getMessage().contains("already"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new LossLabelSmoothing(0.1, new LossMCXENT(), new double[] {0.5, 0.6})).getMessage()
                .contains("sum"));
        assertThrows(IllegalArgumentException.class,
                () -> new LossLabelSmoothing(0.1, new LossBinaryXENT(), new double[] {0.5, 0.5}));
    }

    @Test
    void badInputsAreRejectedNamingTheProblem() {
        LossLabelSmoothing loss = new LossLabelSmoothing();
        INDArray[] b = batch(DataType.DOUBLE);
        INDArray wrong = Nd4j.zeros(DataType.DOUBLE, 5, 3);
        String shapes = assertThrows(IllegalArgumentException.class,
                () -> loss.computeScore(wrong, b[1], SOFTMAX, null, true)).getMessage();
        assertTrue(shapes.contains("[5, 3]") && shapes.contains("[5, 4]"), shapes);
        String mask = assertThrows(IllegalArgumentException.class,
                () -> loss.computeGradient(b[0], b[1], SOFTMAX, Nd4j.ones(3, 1))).getMessage();
        assertTrue(mask.contains("mask") && mask.contains("[3, 1]"), mask);
        LossLabelSmoothing sparse = new LossLabelSmoothing(0.1, new LossSparseMCXENT());
        String index = assertThrows(IllegalArgumentException.class, () -> sparse.computeGradient(
                Nd4j.createFromArray(new double[][] {{0}, {1}, {4}, {2}, {3}}), b[1], SOFTMAX, null)).getMessage();
        assertTrue(index.contains("4.0"), index);
        String fraction = assertThrows(IllegalArgumentException.class, () -> sparse.computeScore(
                Nd4j.createFromArray(new double[][] {{0}, {1}, {0.5}, {2}, {3}}), b[1], SOFTMAX, null, true)).getMessage();
        assertTrue(fraction.contains("0.5"), fraction);
        String sparseShape = assertThrows(IllegalArgumentException.class,
                () -> sparse.computeScore(b[0], b[1], SOFTMAX, null, true)).getMessage();
        assertTrue(sparseShape.contains("[N,1]") && sparseShape.contains("[5, 4]"), sparseShape);
    }

    @Test
    void javaSerializationRoundTrips() throws Exception {
        LossLabelSmoothing loss = new LossLabelSmoothing(0.2, new LossMCXENT(Nd4j.createFromArray(1.0, 2.0, 3.0)),
                new double[] {0.2, 0.3, 0.5});
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(loss);
        }
        Object back;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            back = in.readObject();
        }
        assertEquals(loss, back);
        INDArray[] b = batch(DataType.DOUBLE);
        INDArray labels = b[0].get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 3)).dup();
        INDArray logits = b[1].get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 3)).dup();
        assertEquals(loss.computeGradient(labels, logits, SOFTMAX, null),
                ((LossLabelSmoothing) back).computeGradient(labels, logits, SOFTMAX, null));
    }

    @Test
    void configurationJsonAndYamlRoundTrip() {
        for (LossLabelSmoothing loss : List.of(new LossLabelSmoothing(0.25),
                new LossLabelSmoothing(0.1, new LossMCXENT(Nd4j.createFromArray(1.0, 2.0, 3.0)), new double[] {0.2, 0.3, 0.5}),
                new LossLabelSmoothing(0.05, new LossSparseMCXENT()),
                LossLabelSmoothing.classConditional(0.3, new LossMCXENT(),
                        new double[][] {{0.5, 0.25, 0.25}, {0.1, 0.8, 0.1}, {0, 0.4, 0.6}}))) {
            MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().list()
                    .layer(new DenseLayer.Builder().nIn(4).nOut(5).build())
                    .layer(new OutputLayer.Builder().lossFunction(loss).nIn(5).nOut(3).activation(Activation.SOFTMAX).build())
                    .build();
            MultiLayerConfiguration fromJson = MultiLayerConfiguration.fromJson(conf.toJson());
            MultiLayerConfiguration fromYaml = MultiLayerConfiguration.fromYaml(conf.toYaml());
            assertEquals(conf, fromJson);
            assertEquals(conf, fromYaml);
            assertEquals(loss, ((OutputLayer) fromJson.getConf(1).getLayer()).getLossFn());
            assertEquals(loss, ((OutputLayer) fromYaml.getConf(1).getLayer()).getLossFn());
            assertSame(LossLabelSmoothing.class, ((OutputLayer) fromJson.getConf(1).getLayer()).getLossFn().getClass());
        }
    }
}
