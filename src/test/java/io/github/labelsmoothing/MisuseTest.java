package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossCosineProximity;
import org.nd4j.linalg.lossfunctions.impl.LossFMeasure;
import org.nd4j.linalg.lossfunctions.impl.LossHinge;
import org.nd4j.linalg.lossfunctions.impl.LossL1;
import org.nd4j.linalg.lossfunctions.impl.LossL2;
import org.nd4j.linalg.lossfunctions.impl.LossMAE;
import org.nd4j.linalg.lossfunctions.impl.LossMAPE;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;
import org.nd4j.linalg.lossfunctions.impl.LossMSLE;
import org.nd4j.linalg.lossfunctions.impl.LossMixtureDensity;
import org.nd4j.linalg.lossfunctions.impl.LossMultiLabel;
import org.nd4j.linalg.lossfunctions.impl.LossNegativeLogLikelihood;
import org.nd4j.linalg.lossfunctions.impl.LossPoisson;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossSquaredHinge;
import org.nd4j.linalg.lossfunctions.impl.LossWasserstein;

/**
 * DESIGN's "Misuse is refused, never computed silently" and the preprocessor's provenance rules: each case here gave a
 * plausible but wrong number before, and now gives the right one or a clear exception at the point of the mistake.
 * Loss cases run on both paths (the CPU kernel and the ND4J ops CUDA runs).
 */
class MisuseTest {
    private static final IActivation SOFTMAX = Activation.SOFTMAX.getActivationFunction();
    private static final int K = 3;

    /** The loss call on the scalar CPU kernel, or on the ND4J-op path. */
    private static <T> T onPath(boolean kernel, Supplier<T> call) {
        return SoftmaxXents.forcing(kernel ? SoftmaxXents.Path.SCALAR : SoftmaxXents.Path.ND4J_OPS, call);
    }

    private static INDArray oneHot(int... classes) {
        INDArray y = Nd4j.zeros(DataType.FLOAT, classes.length, K);
        for (int i = 0; i < classes.length; i++) {
            y.putScalar(i, classes[i], 1);
        }
        return y;
    }

    /** Dense smoothed labels worked by hand: 1 - s + s/K at the class, s/K elsewhere. */
    private static INDArray byHand(double s, int... classes) {
        INDArray y = Nd4j.valueArrayOf(new long[] {classes.length, K}, s / K, DataType.FLOAT);
        for (int i = 0; i < classes.length; i++) {
            y.putScalar(i, classes[i], 1 - s + s / K);
        }
        return y;
    }

    private static String message(Class<? extends Throwable> type, org.junit.jupiter.api.function.Executable call) {
        return assertThrows(type, call).getMessage();
    }

    // ---- 1, 2: preprocessing the same cached data set with several values of s ---------------------------------

    @Test
    void aSweepOverCachedDataGetsEachValueExactly() {
        int[] classes = {0, 2, 1, 2};
        DataSet cached = new DataSet(Nd4j.rand(DataType.FLOAT, 4, 2), oneHot(classes));
        INDArray original = cached.getLabels();
        for (double s : new double[] {0, 0.1, 0.2, 0.3, 0.3, 0.1, 0}) {
            new LabelSmoothingPreProcessor(s).preProcess(cached);
            assertEquals(byHand(s, classes), cached.getLabels(), "s = " + s);
            assertEquals(oneHot(classes), original, "the caller's labels array is never written");
        }
        assertSame(original, cached.getLabels(), "s = 0 after a sweep gives the original labels back");
    }

    @Test
    void theSamePreProcessorTwiceDoesNotCompound() {
        DataSet cached = new DataSet(Nd4j.rand(DataType.FLOAT, 2, 2), oneHot(1, 0));
        LabelSmoothingPreProcessor pre = new LabelSmoothingPreProcessor(0.2);
        pre.preProcess(cached);
        INDArray once = cached.getLabels();
        pre.preProcess(cached);
        new LabelSmoothingPreProcessor(0.2).preProcess(cached); // an equal one, as a new instance per epoch would be
        assertSame(once, cached.getLabels());
        assertEquals(byHand(0.2, 1, 0), cached.getLabels());
    }

    @Test
    void aSweepOverCachedClassIndicesAndAnIterator() {
        DataSet cached = new DataSet(Nd4j.rand(DataType.FLOAT, 3, 2), Nd4j.createFromArray(2f, 0f, 1f).reshape(3, 1));
        CachedIterators.OfDataSets iterator = new CachedIterators.OfDataSets(List.of(cached), false);
        for (double s : new double[] {0, 0.1, 0.2, 0.3}) {
            iterator.setPreProcessor(new LabelSmoothingPreProcessor(s, K));
            for (int epoch = 0; epoch < 2; epoch++) {
                iterator.reset();
                assertEquals(byHand(s, 2, 0, 1), iterator.next().getLabels(), "s = " + s + ", epoch " + epoch);
            }
        }
    }

    @Test
    void theApplyFormRecomputesFromTheOriginalToo() {
        MultiDataSet cached = new MultiDataSet(new INDArray[] {Nd4j.rand(DataType.FLOAT, 2, 2)},
                new INDArray[] {oneHot(1, 2), oneHot(0, 0)});
        MultiDataSet first = new LabelSmoothingPreProcessor(0.1).apply(cached);
        MultiDataSet second = new LabelSmoothingPreProcessor(0.3).apply(first);
        assertEquals(byHand(0.3, 1, 2), second.getLabels(0));
        assertEquals(byHand(0.3, 0, 0), second.getLabels(1));
        assertEquals(byHand(0.1, 1, 2), first.getLabels(0), "apply leaves its argument as it was");
    }

    @Test
    void aSliceOfLabelsAnotherPreProcessorWroteIsRefused() {
        DataSet ds = new LabelSmoothingPreProcessor(0.1).apply(new DataSet(Nd4j.rand(DataType.FLOAT, 4, 2),
                oneHot(0, 1, 2, 0)));
        DataSet slice = new DataSet(ds.getFeatures(), ds.getLabels().get(
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2), org.nd4j.linalg.indexing.NDArrayIndex.all()));
        INDArray before = slice.getLabels().dup();
        String m = message(IllegalArgumentException.class, () -> new LabelSmoothingPreProcessor(0.2).preProcess(slice));
        assertTrue(m.contains("part of labels") && m.contains("smoothing=0.1") && m.contains("smoothing=0.2"), m);
        assertEquals(before, slice.getLabels(), "a rejected call changes nothing");
        new LabelSmoothingPreProcessor(0.1).preProcess(slice); // the writer's own settings: left alone, no error
        assertEquals(before, slice.getLabels());
    }

    @Test
    void smoothingZeroMarksNothingSoASmoothedNetworkTakesTheLabels() {
        DataSet ds = new DataSet(Nd4j.rand(DataType.FLOAT, 4, 4), oneHot(0, 1, 2, 1));
        INDArray labels = ds.getLabels();
        new LabelSmoothingPreProcessor(0).preProcess(ds);
        assertSame(labels, ds.getLabels(), "s = 0 changes nothing");
        MultiLayerNetwork net = new MultiLayerNetwork(LabelSmoothing.applyTo(mlp(Activation.SOFTMAX, new LossMCXENT()),
                0.1));
        net.init();
        double expected = net.score(new DataSet(ds.getFeatures(), labels.dup()));
        assertEquals(expected, net.score(ds), 0.0, "the labels are not refused as already smoothed");
    }

    @Test
    void labelsReorderedAfterSmoothingAreNotRecomputedFromStaleOriginals() {
        int[] classes = {0, 1, 2, 0, 1, 2, 0, 1};
        INDArray features = Nd4j.createFromArray(new float[] {0, 1, 2, 0, 1, 2, 0, 1}).reshape(8, 1);
        DataSet ds = new DataSet(features, oneHot(classes));
        new LabelSmoothingPreProcessor(0.2).preProcess(ds);
        ds.shuffle(42); // reorders features and labels in place; the original labels stay in their order
        INDArray before = ds.getLabels().dup();
        String m = message(IllegalArgumentException.class, () -> new LabelSmoothingPreProcessor(0.1).preProcess(ds));
        assertTrue(m.contains("changed after") && m.contains("shuffle"), m);
        assertEquals(before, ds.getLabels(), "a rejected call changes nothing");
        new LabelSmoothingPreProcessor(0.2).preProcess(ds); // the writer's own settings: rows still match features
        for (int i = 0; i < 8; i++) {
            int c = (int) ds.getFeatures().getDouble(i, 0);
            assertEquals(1 - 0.2 + 0.2 / K, ds.getLabels().getDouble(i, c), 1e-6, "row " + i);
        }
    }

    // ---- 3: the unsmoothed calculator on an iterator that smooths --------------------------------------------

    @ParameterizedTest(name = "smoothed network: {0}")
    @ValueSource(booleans = {true, false})
    void theCalculatorRefusesAnIteratorThatSmooths(boolean smoothedNetwork) {
        DataSet ds = new DataSet(Nd4j.rand(DataType.FLOAT, 4, 4), oneHot(0, 1, 2, 1));
        MultiLayerConfiguration plain = mlp(Activation.SOFTMAX, new LossMCXENT());
        MultiLayerNetwork net = new MultiLayerNetwork(smoothedNetwork ? LabelSmoothing.applyTo(plain, 0.1) : plain);
        net.init();
        CachedIterators.OfDataSets iterator = new CachedIterators.OfDataSets(List.of(ds), false);
        iterator.setPreProcessor(new LabelSmoothingPreProcessor(0.1));
        String m = message(IllegalArgumentException.class, () -> new UnsmoothedLossCalculator(iterator, true));
        assertTrue(m.contains("remove the LabelSmoothingPreProcessor from the validation iterator"), m);

        // a preprocessor set after the calculator was built: refused at the first batch
        CachedIterators.OfDataSets later = new CachedIterators.OfDataSets(List.of(ds), false);
        UnsmoothedLossCalculator calculator = new UnsmoothedLossCalculator(later, true);
        later.setPreProcessor(new LabelSmoothingPreProcessor(0.1));
        m = message(IllegalStateException.class, () -> calculator.calculateScore(net));
        assertTrue(m.contains("smoothing=0.1") && m.contains("validation iterator"), m);

        later.setPreProcessor(new LabelSmoothingPreProcessor(0)); // s = 0 leaves the original labels: allowed
        MultiLayerNetwork reference = new MultiLayerNetwork(plain.clone());
        reference.init(net.params().dup(), false);
        double expected = reference.score(new DataSet(ds.getFeatures(), oneHot(0, 1, 2, 1)));
        assertEquals(expected, new UnsmoothedLossCalculator(later, true).calculateScore(net), 1e-6);
    }

    @Test
    void theCalculatorRefusesAMultiDataSetIteratorThatSmooths() {
        MultiDataSet mds = new MultiDataSet(Nd4j.rand(DataType.FLOAT, 2, 4), oneHot(0, 1));
        CachedIterators.OfMultiDataSets iterator = new CachedIterators.OfMultiDataSets(List.of(mds), false);
        iterator.setPreProcessor(new LabelSmoothingPreProcessor(0.2));
        String m = message(IllegalArgumentException.class, () -> new UnsmoothedLossCalculator(iterator, false));
        assertTrue(m.contains("validation iterator"), m);
    }

    // ---- 4: activations DL4J refuses with a plain softmax cross-entropy loss ---------------------------------

    static Stream<Arguments> activationsAndPaths() {
        return Stream.of(true, false).flatMap(kernel -> Stream.of(
                Arguments.of(Activation.SIGMOID, new LossMCXENT(), K, "sigmoid activation function in combination with "
                        + "LossMCXENT", kernel),
                Arguments.of(Activation.RELU, new LossNegativeLogLikelihood(), K, "expects activations to be in the "
                        + "range 0 to 1", kernel),
                Arguments.of(Activation.SOFTMAX, new LossMCXENT(), 1, "nOut=1", kernel),
                Arguments.of(Activation.SOFTMAX, new LossSparseMCXENT(), 1, "nOut=1", kernel),
                Arguments.of(Activation.SOFTMAX, new LossBinaryXENT(), K, "softmax activation function in combination "
                        + "with LossBinaryXENT", kernel)));
    }

    @ParameterizedTest(name = "{0} {1} K={2} kernel={4}")
    @MethodSource("activationsAndPaths")
    void anActivationDl4jRefusesIsRefused(Activation activation, ILossFunction base, int k, String wording,
            boolean kernel) {
        boolean sparse = base instanceof LossSparseMCXENT;
        INDArray labels = sparse ? Nd4j.zeros(DataType.FLOAT, 4, 1) : Nd4j.zeros(DataType.FLOAT, 4, k).addi(1.0 / k);
        INDArray z = Nd4j.randn(DataType.FLOAT, 4, k);
        for (double s : new double[] {0.1, 0}) {
            LossLabelSmoothing loss = new LossLabelSmoothing(s, base);
            IActivation fn = activation.getActivationFunction();
            for (Supplier<Object> call : List.<Supplier<Object>>of(
                    () -> loss.computeScore(labels, z, fn, null, true),
                    () -> loss.computeScoreArray(labels, z, fn, null),
                    () -> loss.computeGradient(labels, z, fn, null),
                    () -> loss.computeGradientAndScore(labels, z, fn, null, true))) {
                String m = message(IllegalArgumentException.class, () -> onPath(kernel, call));
                assertTrue(m.contains(wording) && m.contains(loss.toString()), m);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"SIGMOID", "IDENTITY", "TANH"})
    void aNetworkWithTheWrongActivationDoesNotTrain(String activation) {
        MultiLayerNetwork net = new MultiLayerNetwork(mlpWithSmoothedHead(Activation.valueOf(activation)));
        net.init();
        INDArray params = net.params().dup();
        DataSet ds = new DataSet(Nd4j.rand(DataType.FLOAT, 4, 4).subi(0.5).muli(8), oneHot(0, 1, 2, 1));
        String m = message(IllegalArgumentException.class, () -> net.fit(ds));
        assertTrue(m.contains("Invalid output layer configuration"), m);
        assertEquals(params, net.params(), "no step was taken");
        String early = message(IllegalArgumentException.class,
                () -> LabelSmoothing.applyTo(mlpWithSmoothedHead(Activation.valueOf(activation)), 0.2));
        assertTrue(early.contains("layer 1 (OutputLayer)"), "applyTo names the layer: " + early);
    }

    @Test
    void identityPassingProbabilitiesInALossLayerIsAllowed() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.DOUBLE)
                .updater(new Sgd(0.1)).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(K).activation(Activation.SOFTMAX).build())
                .layer(new LossLayer.Builder(new LossMCXENT()).activation(Activation.IDENTITY).build()).build();
        MultiLayerNetwork smoothed = new MultiLayerNetwork(LabelSmoothing.applyTo(conf, 0.2));
        smoothed.init();
        MultiLayerNetwork plain = new MultiLayerNetwork(conf);
        plain.init(smoothed.params().dup(), false);
        DataSet ds = new DataSet(Nd4j.rand(DataType.DOUBLE, 4, 4), oneHot(0, 1, 2, 1).castTo(DataType.DOUBLE));
        DataSet smoothedLabels = new DataSet(ds.getFeatures(), LabelSmoothing.smoothLabels(ds.getLabels(), 0.2));
        assertEquals(plain.score(smoothedLabels), smoothed.score(ds), 1e-12,
                "identity over probabilities: MCXENT on the smoothed labels, as DL4J allows for a loss layer");
    }

    @Test
    void identityOnAnOutputLayerIsRefusedAlsoWhenItsValuesLookLikeProbabilities() {
        INDArray z = Nd4j.valueArrayOf(new long[] {2, K}, 0.3, DataType.FLOAT); // in [0, 1], rows summing to 0.9
        LossLabelSmoothing loss = new LossLabelSmoothing(0.1);
        IActivation identity = Activation.IDENTITY.getActivationFunction();
        String m = message(IllegalArgumentException.class,
                () -> loss.computeScore(oneHot(0, 1), z, identity, null, true));
        assertTrue(m.contains("row sums off 1") && m.contains("identity"), m);
    }

    // ---- 5, 6: applyTo that would do nothing, regression bases -------------------------------------------------

    @Test
    void applyToWithoutAClassificationHeadIsRefused() {
        MultiLayerConfiguration mse = mlp(Activation.IDENTITY, new LossMSE());
        MultiLayerConfiguration hinge = mlp(Activation.IDENTITY, new LossHinge());
        for (MultiLayerConfiguration conf : List.of(mse, hinge)) {
            String json = conf.toJson();
            String m = message(IllegalArgumentException.class, () -> LabelSmoothing.applyTo(conf, 0.1));
            assertTrue(m.contains("no classification head") && m.contains("layer 1 (OutputLayer: Loss"), m);
            assertEquals(json, conf.toJson(), "the argument is unchanged");
            assertEquals(json, LabelSmoothing.applyTo(conf, 0).toJson(), "s = 0 with nothing to remove: a no-op");
            MultiLayerNetwork net = new MultiLayerNetwork(conf.clone());
            net.init();
            String n = message(IllegalArgumentException.class, () -> LabelSmoothing.applyTo(net, 0.1));
            assertTrue(n.contains("no classification head"), n);
        }
        ComputationGraphConfiguration graph = new NeuralNetConfiguration.Builder().graphBuilder().addInputs("in")
                .addLayer("value", new OutputLayer.Builder(new LossMSE()).nIn(4).nOut(1)
                        .activation(Activation.IDENTITY).build(), "in")
                .setOutputs("value").build();
        String m = message(IllegalArgumentException.class, () -> LabelSmoothing.applyTo(graph, 0.1));
        assertTrue(m.contains("layer 'value' (OutputLayer: LossMSE"), m);
        ComputationGraph g = new ComputationGraph(graph.clone());
        g.init();
        assertTrue(message(IllegalArgumentException.class, () -> LabelSmoothing.applyTo(g, 0.3))
                .contains("no classification head"));
    }

    static Stream<ILossFunction> regressionLosses() {
        return Stream.of(new LossMSE(), new LossL1(), new LossL2(), new LossMAE(), new LossMAPE(), new LossMSLE(),
                new LossPoisson(), new LossCosineProximity(), new LossHinge(), new LossSquaredHinge(),
                new LossWasserstein(), new LossMixtureDensity(), new LossFMeasure(), new LossMultiLabel());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("regressionLosses")
    void dl4jsOtherLossesAreRefusedAsBases(ILossFunction base) {
        String m = message(IllegalArgumentException.class, () -> new LossLabelSmoothing(0.1, base));
        assertTrue(m.contains(base.toString()) && m.contains("classification losses"), m);
        assertTrue(message(IllegalArgumentException.class, () -> new LossLabelSmoothing(0, base))
                .contains(base.toString()), "refused at s = 0 too: the configuration would say smoothing applies");
    }

    @Test
    void applyToZeroUnwrapsEveryWrapperWhateverItsBase() {
        MultiLayerConfiguration conf = mlp(Activation.IDENTITY, new LossLabelSmoothing(0.1, new OwnSquaredLoss()));
        MultiLayerConfiguration plain = LabelSmoothing.applyTo(conf, 0);
        assertEquals(new OwnSquaredLoss(), ((OutputLayer) plain.getConf(1).getLayer()).getLossFn());
    }

    // ---- 8: empty batches --------------------------------------------------------------------------------------

    @ParameterizedTest(name = "kernel {0}")
    @ValueSource(booleans = {true, false})
    void anEmptyBatchIsRefusedOnEveryPath(boolean kernel) {
        for (ILossFunction base : List.of(new LossMCXENT(), new LossSparseMCXENT(),
                new LossMCXENT(Nd4j.createFromArray(1.0, 2.0, 3.0)))) {
            INDArray z = Nd4j.create(DataType.FLOAT, 0, K);
            INDArray labels = base instanceof LossSparseMCXENT ? Nd4j.create(DataType.FLOAT, 0, 1) : z.dup();
            for (double s : new double[] {0.1, 0}) {
                LossLabelSmoothing loss = new LossLabelSmoothing(s, base);
                for (Supplier<Object> call : List.<Supplier<Object>>of(
                        () -> loss.computeScore(labels, z, SOFTMAX, null, true),
                        () -> loss.computeScoreArray(labels, z, SOFTMAX, null),
                        () -> loss.computeGradient(labels, z, SOFTMAX, null),
                        () -> loss.computeGradientAndScore(labels, z, SOFTMAX, null, false))) {
                    String m = message(IllegalArgumentException.class, () -> onPath(kernel, call));
                    assertTrue(m.contains("empty batch") && m.contains(loss.toString()), m);
                }
            }
        }
    }

    // ---- 10: applyTo(conf) on a configuration that trained a network -------------------------------------------

    @Test
    void applyToConfStartsANewNetworkAtStepZero() {
        MultiLayerConfiguration conf = adamMlp();
        MultiLayerNetwork trained = new MultiLayerNetwork(conf);
        trained.init();
        DataSet ds = new DataSet(Nd4j.rand(DataType.DOUBLE, 4, 4), oneHot(0, 1, 2, 1).castTo(DataType.DOUBLE));
        for (int i = 0; i < 7; i++) {
            trained.fit(ds);
        }
        assertEquals(7, conf.getIterationCount(), "DL4J wrote the count into the configuration it trained");
        MultiLayerConfiguration smoothed = LabelSmoothing.applyTo(conf, 0.1);
        assertEquals(0, smoothed.getIterationCount());
        assertEquals(0, smoothed.getEpochCount());
        assertEquals(7, conf.getIterationCount(), "the argument keeps its counts");
        // Adam's first step from the same parameters is the one a never-trained configuration gives (bias correction
        // at step 1, not step 8)
        MultiLayerNetwork fromTrained = new MultiLayerNetwork(smoothed);
        fromTrained.init(trained.params().dup(), false);
        MultiLayerNetwork fromFresh = new MultiLayerNetwork(LabelSmoothing.applyTo(adamMlp(), 0.1));
        fromFresh.init(trained.params().dup(), false);
        fromTrained.fit(ds);
        fromFresh.fit(ds);
        assertEquals(fromFresh.params(), fromTrained.params());
    }

    private static MultiLayerConfiguration adamMlp() {
        return new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.DOUBLE).updater(new Adam(0.05)).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(5).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(new LossMCXENT()).nIn(5).nOut(K).activation(Activation.SOFTMAX).build())
                .build();
    }

    // ---------------------------------------------------------------------------------------------------------------

    private static MultiLayerConfiguration mlp(Activation head, ILossFunction loss) {
        return new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT).updater(new Sgd(0.1)).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(5).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(loss).nIn(5).nOut(K).activation(head).build())
                .build();
    }

    /** DL4J would refuse these with a plain MCXENT; with the wrapper its own check cannot see the base. */
    private static MultiLayerConfiguration mlpWithSmoothedHead(Activation head) {
        return mlp(head, new LossLabelSmoothing(0.1));
    }
}
