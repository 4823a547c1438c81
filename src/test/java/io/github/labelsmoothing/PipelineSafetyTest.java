package io.github.labelsmoothing;

import static io.github.labelsmoothing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.common.primitives.Pair;
import org.nd4j.common.util.SerializationUtils;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

/**
 * Safe in real training pipelines: cached data behind DL4J's async prefetch, the non-mutating form, padding under
 * masks, fully masked batches, float32 with large logits, and double smoothing refused.
 */
@ExtendWith(ScopePanic.class)
class PipelineSafetyTest {
    private static final IActivation SOFTMAX = Activation.SOFTMAX.getActivationFunction();
    private static final IActivation SIGMOID = Activation.SIGMOID.getActivationFunction();
    private static final double S = 0.2;
    private static final double[] WEIGHTS = {1.0, 2.0, 0.5, 1.5};
    private static final double[] PRIOR = {0.4, 0.3, 0.2, 0.1};

    // ---- cached data behind AsyncDataSetIterator -----------------------------------------------------------------

    private static INDArray oneHot(int n, int k, int shift) {
        INDArray labels = Nd4j.zeros(DataType.FLOAT, n, k);
        for (int i = 0; i < n; i++) {
            labels.putScalar(i, (i + shift) % k, 1);
        }
        return labels;
    }

    private static List<DataSet> cachedBatches() {
        Nd4j.getRandom().setSeed(5);
        List<DataSet> cached = new ArrayList<>();
        for (int b = 0; b < 4; b++) {
            cached.add(new DataSet(Nd4j.rand(DataType.FLOAT, 8, 4), oneHot(8, 3, b)));
        }
        return cached;
    }

    private static NeuralNetConfiguration.Builder training() {
        return new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT).updater(new Adam(0.01))
                .trainingWorkspaceMode(WorkspaceMode.ENABLED).inferenceWorkspaceMode(WorkspaceMode.ENABLED);
    }

    /**
     * The crash reported against 0.1.0: fit() wraps an async-capable iterator in AsyncDataSetIterator, whose prefetch
     * thread runs the preprocessor inside a workspace that is reused for the next batch. The smoothed labels stored in
     * the cached DataSets must live outside it, and be smoothed once over all epochs.
     */
    @Test
    void cachedDataSetsBehindAsyncPrefetchTrainFiveEpochsAndAreSmoothedOnce() {
        List<DataSet> cached = cachedBatches();
        List<INDArray> expected = cached.stream().map(ds -> LabelSmoothing.smoothLabels(ds.getLabels(), S)).toList();
        MultiLayerNetwork net = new MultiLayerNetwork(training().list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(8).nOut(3).activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        CachedIterators.OfDataSets it = new CachedIterators.OfDataSets(cached, true);
        it.setPreProcessor(new LabelSmoothingPreProcessor(S));
        net.fit(it, 5);

        assertEquals(20, it.served, "5 epochs of 4 cached batches went through the async prefetch");
        assertTrue(Double.isFinite(net.score()));
        for (int b = 0; b < cached.size(); b++) {
            INDArray labels = cached.get(b).getLabels();
            assertFalse(labels.isAttached(), "labels of batch " + b + " live in a workspace");
            assertEquals(expected.get(b), labels, "batch " + b + " smoothed exactly once");
        }
    }

    @Test
    void cachedMultiDataSetsBehindAsyncPrefetchTrainAGraphFiveEpochsAndAreSmoothedOnce() {
        List<MultiDataSet> cached = cachedBatches().stream()
                .map(ds -> new MultiDataSet(ds.getFeatures(), ds.getLabels())).toList();
        List<INDArray> expected = cached.stream().map(m -> LabelSmoothing.smoothLabels(m.getLabels(0), S)).toList();
        ComputationGraphConfiguration conf = training().graphBuilder().addInputs("in")
                .addLayer("dense", new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).build(), "in")
                .addLayer("out", new OutputLayer.Builder(LossFunction.MCXENT).nIn(8).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "dense")
                .setOutputs("out").build();
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        CachedIterators.OfMultiDataSets it = new CachedIterators.OfMultiDataSets(cached, true);
        it.setPreProcessor(new LabelSmoothingPreProcessor(S));
        graph.fit(it, 5);

        assertEquals(20, it.served);
        for (int b = 0; b < cached.size(); b++) {
            INDArray labels = cached.get(b).getLabels(0);
            assertFalse(labels.isAttached(), "labels of batch " + b + " live in a workspace");
            assertEquals(expected.get(b), labels, "batch " + b + " smoothed exactly once");
        }
    }

    // ---- the non-mutating form and serialized copies --------------------------------------------------------------

    @Test
    void applyReturnsANewDataSetAndLeavesTheArgumentUntouched() {
        DataSet ds = new DataSet(Nd4j.rand(DataType.FLOAT, 3, 2), oneHot(3, 3, 0), null, Nd4j.ones(DataType.FLOAT, 3, 1));
        INDArray labels = ds.getLabels();
        INDArray before = labels.dup();
        LabelSmoothingPreProcessor pre = new LabelSmoothingPreProcessor(S);
        DataSet out = pre.apply(ds);

        assertSame(labels, ds.getLabels());
        assertEquals(before, labels);
        assertNotSame(ds, out);
        assertSame(ds.getFeatures(), out.getFeatures());
        assertSame(ds.getLabelsMaskArray(), out.getLabelsMaskArray());
        assertEquals(LabelSmoothing.smoothLabels(before, S), out.getLabels());
        assertEquals(out.getLabels(), pre.apply(ds).getLabels(), "applying again to the original smooths it once");
        assertSame(out.getLabels(), pre.apply(out).getLabels(), "its own output is already smoothed: shared as is");
    }

    @Test
    void applyToAMultiDataSetSmoothsTheSelectedArraysOnly() {
        INDArray regression = Nd4j.rand(DataType.FLOAT, 3, 1);
        MultiDataSet mds = new MultiDataSet(new INDArray[] {Nd4j.rand(DataType.FLOAT, 3, 2)},
                new INDArray[] {oneHot(3, 3, 1), regression});
        INDArray labels = mds.getLabels(0);
        MultiDataSet out = LabelSmoothingPreProcessor.builder(S).labelsArrays(0).build().apply(mds);
        assertSame(labels, mds.getLabels(0));
        assertEquals(LabelSmoothing.smoothLabels(labels, S), out.getLabels(0));
        assertSame(regression, out.getLabels(1));
        assertSame(mds.getFeatures(0), out.getFeatures(0));
    }

    /**
     * What a Spark task does every epoch: deserialize the preprocessor and a cached data set. The deserialized copy
     * is new data to any registry, so apply() on the cached original is the form that cannot compound.
     */
    @Test
    void serializedCopiesSmoothedWithApplyDoNotCompoundOverEpochs() {
        DataSet original = new DataSet(Nd4j.rand(DataType.FLOAT, 2, 2), Nd4j.createFromArray(new float[][] {{0, 1}, {1, 0}}));
        byte[] cachedData = SerializationUtils.toByteArray(original);
        byte[] shippedPre = SerializationUtils.toByteArray(new LabelSmoothingPreProcessor(S));
        for (int epoch = 0; epoch < 3; epoch++) {
            LabelSmoothingPreProcessor pre = SerializationUtils.fromByteArray(shippedPre);
            DataSet cached = SerializationUtils.fromByteArray(cachedData);
            DataSet out = pre.apply(cached);
            assertArrayEquals(new float[] {0.1f, 0.9f, 0.9f, 0.1f}, out.getLabels().ravel().toFloatVector(), 1e-7f,
                    "epoch " + epoch);
            assertEquals(original.getLabels(), cached.getLabels(), "the cached copy is untouched");
        }
    }

    @Test
    void aSecondEqualPreProcessorDoesNotSmoothAgain() {
        DataSet ds = new DataSet(Nd4j.zeros(DataType.FLOAT, 1, 2), Nd4j.createFromArray(new float[][] {{0, 1}}));
        new LabelSmoothingPreProcessor(S).preProcess(ds);
        new LabelSmoothingPreProcessor(S).preProcess(ds);
        assertArrayEquals(new float[] {0.1f, 0.9f}, ds.getLabels().ravel().toFloatVector(), 1e-7f);
    }

    // ---- padding under masks ---------------------------------------------------------------------------------------

    /** Logits [5,4] in double, class indices with padding (-1, 99) in the masked rows 1 and 3. */
    private static final double[][] Z = {{0.5, -1, 2, 0}, {1, 1, 1, 1}, {-2, 0.3, 0.1, 3}, {4, -4, 0, 1}, {0, 0.2, -0.7, 1.1}};
    private static final double[] PADDED = {2, -1, 0, 99, 3};
    private static final double[] ROW_MASK = {1, 0, 1, 0, 1};

    private static INDArray column(double[] values) {
        return Nd4j.createFromArray(values).reshape(values.length, 1);
    }

    private static double[][] oneHotRows(double[] indices, int k, double[] mask) {
        double[][] y = new double[indices.length][k];
        for (int i = 0; i < indices.length; i++) {
            if (mask[i] != 0) {
                y[i][(int) indices[i]] = 1;
            }
        }
        return y;
    }

    @Test
    void paddingUnderTheMaskAtZeroSmoothingIsWhatLossSparseMcxentGives() {
        INDArray z = Nd4j.createFromArray(Z);
        INDArray indices = column(PADDED);
        INDArray mask = column(ROW_MASK);
        LossSparseMCXENT dl4j = new LossSparseMCXENT();
        LossLabelSmoothing ours = new LossLabelSmoothing(0, new LossSparseMCXENT());
        assertEquals(dl4j.computeScore(indices, z, SOFTMAX, mask, false), ours.computeScore(indices, z, SOFTMAX, mask, false));
        assertEquals(dl4j.computeScoreArray(indices, z, SOFTMAX, mask), ours.computeScoreArray(indices, z, SOFTMAX, mask));
        assertEquals(dl4j.computeGradient(indices, z.dup(), SOFTMAX, mask), ours.computeGradient(indices, z, SOFTMAX, mask));
    }

    static Stream<Arguments> sparseBases() {
        return Stream.of(Arguments.of("sparse", (Supplier<ILossFunction>) LossSparseMCXENT::new, null),
                Arguments.of("weighted sparse",
                        (Supplier<ILossFunction>) () -> new LossSparseMCXENT(Nd4j.createFromArray(WEIGHTS)), WEIGHTS));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sparseBases")
    void paddingUnderTheMaskIsIgnoredAndTheOtherRowsAreExact(String name, Supplier<ILossFunction> base, double[] w) {
        INDArray z = Nd4j.createFromArray(Z);
        INDArray mask = column(ROW_MASK);
        LossLabelSmoothing loss = new LossLabelSmoothing(S, base.get());
        double[][] y = oneHotRows(PADDED, 4, ROW_MASK);
        double[] rows = Hand.rowLosses(Z, y, S, w, null, ROW_MASK);
        double[][] grad = Hand.gradient(Z, y, S, w, null, ROW_MASK);
        INDArray indices = column(PADDED);
        assertClose(Hand.sum(rows), loss.computeScore(indices, z, SOFTMAX, mask, false), 1e-12, 0, "score");
        assertClose(rows, loss.computeScoreArray(indices, z, SOFTMAX, mask).toDoubleVector(), 1e-12, 1e-15, "rows");
        assertClose(Nd4j.createFromArray(grad), loss.computeGradient(indices, z, SOFTMAX, mask), 1e-12, 1e-15, "gradient");
        Pair<Double, INDArray> both = loss.computeGradientAndScore(indices, z, SOFTMAX, mask, false);
        assertClose(Hand.sum(rows), both.getFirst(), 1e-12, 0, "joint score");
        assertEquals(column(PADDED), indices, "the caller's indices are untouched");
    }

    @Test
    void aBadIndexInAnUnmaskedRowIsStillRejectedWithItsValue() {
        double[] bad = PADDED.clone();
        bad[2] = 7;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LossLabelSmoothing(S, new LossSparseMCXENT()).computeScore(column(bad),
                        Nd4j.createFromArray(Z), SOFTMAX, column(ROW_MASK), false));
        assertTrue(e.getMessage().contains("7.0"), e.getMessage());
    }

    @Test
    void preProcessorIgnoresPaddedIndicesAtMaskedTimeSteps() {
        // [N=2, 1, T=3] indices, -1 at the masked steps; mask [N,T]
        INDArray indices = Nd4j.createFromArray(new double[][][] {{{2, 0, -1}}, {{1, -1, -1}}});
        INDArray mask = Nd4j.createFromArray(new double[][] {{1, 1, 0}, {1, 0, 0}});
        DataSet ds = new DataSet(Nd4j.zeros(DataType.DOUBLE, 2, 1, 3), indices, null, mask);
        new LabelSmoothingPreProcessor(0.3, 3).preProcess(ds);
        double lo = 0.1;
        double hi = 0.8;
        INDArray expected = Nd4j.createFromArray(new double[][][] {
                {{lo, hi, 0}, {lo, lo, 0}, {hi, lo, 0}},
                {{lo, 0, 0}, {hi, 0, 0}, {lo, 0, 0}}});
        assertClose(expected, ds.getLabels(), 1e-15, 1e-15, "labels");
    }

    // ---- fully masked batches ----------------------------------------------------------------------------------------

    static Stream<Arguments> everyPath() {
        INDArray dense = Nd4j.createFromArray(oneHotRows(new double[] {0, 1, 2, 3, 0}, 4, new double[] {1, 1, 1, 1, 1}));
        INDArray padded = column(new double[] {-1, -1, -1, -1, -1});
        INDArray w = Nd4j.createFromArray(WEIGHTS);
        return Stream.of(
                Arguments.of("native fused", new LossLabelSmoothing(S), dense, SOFTMAX),
                Arguments.of("weighted", new LossLabelSmoothing(S, new LossMCXENT(w)), dense, SOFTMAX),
                Arguments.of("custom prior", new LossLabelSmoothing(S, new LossMCXENT(), PRIOR), dense, SOFTMAX),
                Arguments.of("sparse", new LossLabelSmoothing(S, new LossSparseMCXENT()), padded, SOFTMAX),
                Arguments.of("weighted sparse", new LossLabelSmoothing(S, new LossSparseMCXENT(w)), padded, SOFTMAX),
                Arguments.of("generic (binary)", new LossLabelSmoothing(S, new LossBinaryXENT()), dense, SIGMOID),
                Arguments.of("s = 0 (the base)", new LossLabelSmoothing(0), dense, SOFTMAX),
                Arguments.of("s = 0 sparse (the base)", new LossLabelSmoothing(0, new LossSparseMCXENT()), padded,
                        SOFTMAX));
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false) // the arrays are shared between invocations
    @MethodSource("everyPath")
    void aFullyMaskedBatchScoresZeroWithAZeroGradient(String name, ILossFunction loss, INDArray labels,
            IActivation activation) {
        INDArray z = Nd4j.createFromArray(Z);
        INDArray mask = Nd4j.zeros(DataType.DOUBLE, 5, 1);
        assertZero(loss.computeScore(labels, z, activation, mask, true), "average score");
        assertZero(loss.computeScore(labels, z, activation, mask, false), "summed score");
        assertEquals(Nd4j.zeros(DataType.DOUBLE, 5, 1), loss.computeScoreArray(labels, z, activation, mask));
        assertEquals(Nd4j.zeros(DataType.DOUBLE, 5, 4), loss.computeGradient(labels, z, activation, mask));
        Pair<Double, INDArray> both = loss.computeGradientAndScore(labels, z, activation, mask, true);
        assertZero(both.getFirst(), "joint score");
        assertEquals(Nd4j.zeros(DataType.DOUBLE, 5, 4), both.getSecond(), "joint gradient");
    }

    /** 0 or -0 (DL4J's sparse loss gives -0 for a fully masked batch), never NaN. */
    private static void assertZero(double value, String what) {
        assertTrue(value == 0, what + " is " + value);
    }

    // ---- float32 with large logits ------------------------------------------------------------------------------------

    static Stream<Arguments> float32Paths() {
        return KernelVersusOpsTest.paths().stream().flatMap(path -> Stream.of(1e3, 1e4).flatMap(offset -> Stream.of(
                Arguments.of(path, offset, "dense", false, null, null),
                Arguments.of(path, offset, "weighted", false, WEIGHTS, null),
                Arguments.of(path, offset, "custom prior", false, null, PRIOR),
                Arguments.of(path, offset, "sparse", true, null, null),
                Arguments.of(path, offset, "weighted sparse", true, WEIGHTS, null))));
    }

    /**
     * Within 1e-6 relative of a double-precision reference computed from the same float32 inputs, for logits around
     * 1e3 and 1e4, on every fused path, in each CPU kernel and on the ND4J-op path.
     */
    @ParameterizedTest(name = "{0}, offset {1}: {2}")
    @MethodSource("float32Paths")
    void float32StaysExactForLargeLogits(SoftmaxXents.Path path, double offset, String name, boolean sparse,
            double[] w, double[] prior) {
        SoftmaxXents.forcing(path, () -> {
            float32StaysExact(offset, sparse, w, prior);
            return null;
        });
    }

    private static void float32StaysExact(double offset, boolean sparse, double[] w, double[] prior) {
        Nd4j.getRandom().setSeed(11);
        INDArray z = Nd4j.randn(DataType.FLOAT, 6, 4).muli(3).addi(offset);
        double[] idx = {0, 3, 1, 2, 3, 1};
        double[] mask = {1, 1, 1, 1, 1, 1};
        double[][] zd = z.castTo(DataType.DOUBLE).toDoubleMatrix();
        double[][] y = oneHotRows(idx, 4, mask);
        double[] rows = Hand.rowLosses(zd, y, S, w, prior, null);
        INDArray labels = sparse ? column(idx).castTo(DataType.FLOAT)
                : Nd4j.createFromArray(oneHotRows(idx, 4, mask)).castTo(DataType.FLOAT);
        INDArray weights = w == null ? null : Nd4j.createFromArray(w).castTo(DataType.FLOAT);
        ILossFunction base = sparse ? new LossSparseMCXENT(weights) : new LossMCXENT(weights);
        LossLabelSmoothing loss = new LossLabelSmoothing(S, base, prior);

        assertClose(Hand.sum(rows), loss.computeScore(labels, z, SOFTMAX, null, false), 1e-6, 0, "score");
        assertClose(rows, loss.computeScoreArray(labels, z, SOFTMAX, null).castTo(DataType.DOUBLE).toDoubleVector(),
                1e-6, 0, "rows");
        assertClose(Hand.sum(rows), loss.computeGradientAndScore(labels, z, SOFTMAX, null, false).getFirst(), 1e-6, 0,
                "joint score");
        assertClose(Nd4j.createFromArray(Hand.gradient(zd, y, S, w, prior, null)),
                loss.computeGradient(labels, z, SOFTMAX, null), 1e-5, 1e-6, "gradient");
    }

    /**
     * A confident row at a small s: the loss is about s times the logits' spread, so the float32 rounding of
     * {@code log Σ exp} near {@code log 1} must not reach it (it did on the ND4J-op path through {@code -log max p}).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("io.github.labelsmoothing.KernelVersusOpsTest#paths")
    void float32StaysExactForAConfidentRowAtSmallSmoothing(SoftmaxXents.Path path) {
        double s = 1e-4;
        INDArray z = Nd4j.createFromArray(new float[][] {{16, 0, -2}, {-3, 9, 1}});
        double[][] y = {{1, 0, 0}, {0, 1, 0}};
        double[] rows = Hand.rowLosses(z.castTo(DataType.DOUBLE).toDoubleMatrix(), y, s);
        INDArray labels = Nd4j.createFromArray(y).castTo(DataType.FLOAT);
        INDArray indices = Nd4j.createFromArray(new float[][] {{0}, {1}});
        Supplier<double[][]> scores = () -> new double[][] {
                new LossLabelSmoothing(s).computeScoreArray(labels, z, SOFTMAX, null).toDoubleVector(),
                new LossLabelSmoothing(s, new LossSparseMCXENT()).computeScoreArray(indices, z, SOFTMAX, null)
                        .toDoubleVector(),
                new LossLabelSmoothing(s, new LossMCXENT(), new double[] {0.2, 0.3, 0.5})
                        .computeScoreArray(labels, z, SOFTMAX, null).toDoubleVector()};
        double[][] got = SoftmaxXents.forcing(path, scores);
        assertClose(rows, got[0], 1e-6, 0, "dense");
        assertClose(rows, got[1], 1e-6, 0, "sparse");
        double[] prior = Hand.rowLosses(z.castTo(DataType.DOUBLE).toDoubleMatrix(), y, s, null,
                new double[] {0.2, 0.3, 0.5}, null);
        assertClose(prior, got[2], 1e-6, 0, "custom prior");
    }

    // ---- double smoothing ----------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void labelsFromThePreProcessorAreRefusedBySmoothingLoss(boolean view) {
        DataSet ds = new LabelSmoothingPreProcessor(S).apply(new DataSet(Nd4j.rand(DataType.FLOAT, 4, 3), oneHot(4, 3, 0)));
        INDArray labels = view ? ds.getLabels().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2),
                org.nd4j.linalg.indexing.NDArrayIndex.all()) : ds.getLabels();
        INDArray z = Nd4j.rand(DataType.FLOAT, labels.rows(), 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LossLabelSmoothing(0.1).computeGradient(labels, z, SOFTMAX, null));
        assertTrue(e.getMessage().contains("smoothed by LabelSmoothingPreProcessor(smoothing=" + S)
                && e.getMessage().contains("smooth them twice"), e.getMessage());
        assertEquals(new LossMCXENT().computeScore(labels, z, SOFTMAX, null, true),
                new LossLabelSmoothing(0).computeScore(labels, z, SOFTMAX, null, true),
                "s = 0 takes them: it is the base as it is");
    }

    @Test
    void aSmoothedNetworkRefusesPreProcessedLabelsInFit() {
        MultiLayerNetwork net = new MultiLayerNetwork(LabelSmoothing.applyTo(training().list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(8).nOut(3).activation(Activation.SOFTMAX).build())
                .build(), 0.1));
        net.init();
        INDArray params = net.params().dup();
        DataSet ds = new DataSet(Nd4j.rand(DataType.FLOAT, 8, 4), oneHot(8, 3, 0));
        new LabelSmoothingPreProcessor(0.1).preProcess(ds);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> net.fit(ds));
        assertTrue(e.getMessage().contains("smooth them twice"), e.getMessage());
        assertEquals(params, net.params(), "no step was taken");
    }
}
