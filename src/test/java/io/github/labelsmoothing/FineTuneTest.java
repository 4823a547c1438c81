package io.github.labelsmoothing;

import static io.github.labelsmoothing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.earlystopping.scorecalc.DataSetLossCalculator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mockito.Mockito;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.dataset.adapter.MultiDataSetIteratorAdapter;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;
import org.nd4j.linalg.dataset.api.iterator.TestMultiDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;

/**
 * Fine-tuning a trained network with smoothing ({@code applyTo(network, s)}) and scoring it without smoothing
 * ({@link UnsmoothedLossCalculator}). Reference numbers come from DL4J itself: the original network's own next step,
 * DL4J's {@code clone()}, and DL4J's {@link DataSetLossCalculator} on an unsmoothed network.
 */
class FineTuneTest {

    // ---------------------------------------------------------------------------------------------------------------
    // Networks and data: double precision, trained a few Adam steps so the updater state and the counters are not 0.

    private static MultiLayerConfiguration mlpConf() {
        return new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.DOUBLE).updater(new Adam(0.01)).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(8).nOut(3).activation(Activation.SOFTMAX).build())
                .build();
    }

    /** 12 examples, 4 features, one-hot labels over 3 classes. */
    private static DataSet batch(long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray features = Nd4j.rand(DataType.DOUBLE, 12, 4).subi(0.5).muli(4);
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, 12, 3);
        for (int i = 0; i < 12; i++) {
            labels.putScalar(i, (i * 7 + seed) % 3, 1);
        }
        return new DataSet(features, labels);
    }

    /** The three labels arrays of {@link ApplyToTest#twoHeadGraph()}: classes, tags, value. */
    private static MultiDataSet graphBatch(long seed) {
        DataSet b = batch(seed);
        INDArray tags = b.getLabels().getColumns(0, 2).dup();
        return new MultiDataSet(new INDArray[] {b.getFeatures()},
                new INDArray[] {b.getLabels(), tags, b.getFeatures().sum(true, 1)});
    }

    private static DataSetIterator validation() {
        List<DataSet> batches = new ArrayList<>();
        for (long seed = 100; seed < 103; seed++) {
            batches.add(batch(seed));
        }
        List<DataSet> examples = DataSet.merge(batches).asList();
        return new ListDataSetIterator<>(examples.subList(0, 30), 8); // 30 examples: the last batch has 6
    }

    private static MultiDataSetIterator graphValidation() {
        List<MultiDataSet> batches = List.of(graphBatch(100), graphBatch(101), graphBatch(102));
        return new TestMultiDataSetIterator(8, batches.toArray(new MultiDataSet[0]));
    }

    /** An MLP trained 2 epochs of 3 steps (Adam): iteration count 6, epoch count 2. */
    private static MultiLayerNetwork trainedMlp(MultiLayerConfiguration conf) {
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        DataSetIterator train = new ListDataSetIterator<>(DataSet.merge(List.of(batch(1), batch(2), batch(3))).asList(), 12);
        net.fit(train, 2);
        return net;
    }

    private static MultiLayerNetwork trainedMlp() {
        return trainedMlp(mlpConf());
    }

    private static ComputationGraphConfiguration graphConf() {
        ComputationGraphConfiguration conf = ApplyToTest.twoHeadGraph();
        conf.setDataType(DataType.DOUBLE);
        return conf;
    }

    /** The three-output graph (classes, tags, value) after 5 Adam steps and 1 epoch. */
    private static ComputationGraph trainedGraph(ComputationGraphConfiguration conf) {
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        for (int i = 0; i < 5; i++) {
            graph.fit(graphBatch(i));
        }
        graph.incrementEpochCount();
        return graph;
    }

    private static ComputationGraph trainedGraph() {
        return trainedGraph(graphConf());
    }

    private static INDArray updaterState(MultiLayerNetwork net) {
        return net.getUpdater().getStateViewArray();
    }

    private static INDArray updaterState(ComputationGraph graph) {
        return graph.getUpdater().getStateViewArray();
    }

    private static ILossFunction headLoss(MultiLayerNetwork net) {
        return ((BaseOutputLayer) net.getLayerWiseConfigurations().getConf(1).getLayer()).getLossFn();
    }

    private static ILossFunction headLoss(ComputationGraph graph, String name) {
        return ((BaseOutputLayer) ((LayerVertex) graph.getConfiguration().getVertices().get(name)).getLayerConf()
                .getLayer()).getLossFn();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // applyTo(network, s): the state travels, the argument stays.

    @ParameterizedTest(name = "s = {0}")
    @ValueSource(doubles = {0.1, 0})
    void copyHasTheSameParametersUpdaterStateAndCounters(double s) {
        MultiLayerNetwork net = trainedMlp();
        MultiLayerNetwork copy = LabelSmoothing.applyTo(net, s);
        assertEquals(6, net.getIterationCount());
        assertEquals(2, net.getEpochCount());
        assertTrue(updaterState(net).amaxNumber().doubleValue() > 0, "the original's Adam state is not zero");
        assertEquals(net.params(), copy.params());
        assertEquals(updaterState(net), updaterState(copy));
        assertEquals(net.getIterationCount(), copy.getIterationCount());
        assertEquals(net.getEpochCount(), copy.getEpochCount());
        MultiLayerConfiguration expected = LabelSmoothing.applyTo(net.getLayerWiseConfigurations(), s);
        assertEquals(0, expected.getIterationCount(), "applyTo(conf) is for a new network: its counts start at 0");
        expected.setIterationCount(net.getIterationCount());
        expected.setEpochCount(net.getEpochCount());
        assertEquals(expected.toJson(), copy.getLayerWiseConfigurations().toJson(),
                "smoothed exactly as the configuration overload does, the counts kept");

        ComputationGraph graph = trainedGraph();
        ComputationGraph graphCopy = LabelSmoothing.applyTo(graph, s);
        assertEquals(5, graph.getIterationCount());
        assertEquals(1, graph.getEpochCount());
        assertEquals(graph.params(), graphCopy.params());
        assertEquals(updaterState(graph), updaterState(graphCopy));
        assertEquals(graph.getIterationCount(), graphCopy.getIterationCount());
        assertEquals(graph.getEpochCount(), graphCopy.getEpochCount());
        ComputationGraphConfiguration graphConf = LabelSmoothing.applyTo(graph.getConfiguration(), s);
        assertEquals(0, graphConf.getIterationCount(), "applyTo(conf) is for a new network: its counts start at 0");
        graphConf.setIterationCount(graph.getIterationCount());
        graphConf.setEpochCount(graph.getEpochCount());
        ComputationGraph expectedGraph = new ComputationGraph(graphConf);
        expectedGraph.init(); // init() fills in the configuration's topological order
        assertEquals(expectedGraph.getConfiguration().toJson(), graphCopy.getConfiguration().toJson());
    }

    @Test
    void copyGivesTheSameOutputs() {
        MultiLayerNetwork net = trainedMlp();
        INDArray features = batch(50).getFeatures();
        assertEquals(net.output(features), LabelSmoothing.applyTo(net, 0.1).output(features));
        ComputationGraph graph = trainedGraph();
        INDArray[] expected = graph.output(features);
        INDArray[] actual = LabelSmoothing.applyTo(graph, 0.1).output(features);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], "output " + i);
        }
    }

    @Test
    void nextStepIsTheOriginalsStepWithTheSmoothedLoss() {
        MultiLayerNetwork net = trainedMlp();
        MultiLayerNetwork copy = LabelSmoothing.applyTo(net, 0.1);
        // Reference: DL4J's own copy of the network, its head's loss replaced in place by the smoothed one.
        MultiLayerNetwork reference = net.clone();
        ((BaseOutputLayer) reference.getLayerWiseConfigurations().getConf(1).getLayer())
                .setLossFn(new LossLabelSmoothing(0.1, new LossMCXENT()));
        DataSet next = batch(60);
        copy.fit(next);
        reference.fit(next);
        assertClose(reference.params(), copy.params(), 1e-9, 1e-12, "params after one step");
        assertEquals(reference.getIterationCount(), copy.getIterationCount());
        // ... and it is not the unsmoothed step
        net.fit(next);
        assertTrue(net.params().distance2(copy.params()) > 1e-6, "smoothing changed the step");
    }

    @Test
    void applyingZeroToTheSmoothedCopyTakesTheOriginalsNextStep() {
        MultiLayerNetwork net = trainedMlp();
        MultiLayerNetwork roundTrip = LabelSmoothing.applyTo(LabelSmoothing.applyTo(net, 0.1), 0);
        assertInstanceOf(LossMCXENT.class, headLoss(roundTrip));
        DataSet next = batch(61);
        roundTrip.fit(next);
        net.fit(next);
        assertClose(net.params(), roundTrip.params(), 1e-6, 1e-9, "MLN params after one Adam step");
        assertEquals(updaterState(net), updaterState(roundTrip));

        ComputationGraph graph = trainedGraph();
        ComputationGraph graphRoundTrip = LabelSmoothing.applyTo(LabelSmoothing.applyTo(graph, 0.1), 0);
        MultiDataSet graphNext = graphBatch(61);
        graphRoundTrip.fit(graphNext);
        graph.fit(graphNext);
        assertClose(graph.params(), graphRoundTrip.params(), 1e-6, 1e-9, "graph params after one Adam step");
    }

    @Test
    void originalIsUntouchedAfterTheCopyTrains() {
        MultiLayerNetwork net = trainedMlp();
        INDArray params = net.params().dup();
        INDArray state = updaterState(net).dup();
        String json = net.getLayerWiseConfigurations().toJson();
        MultiLayerNetwork copy = LabelSmoothing.applyTo(net, 0.1);
        copy.setLearningRate(0.5); // changes the copy's updater configuration, not the original's
        for (int i = 0; i < 3; i++) {
            copy.fit(batch(70 + i));
        }
        assertNotEquals(params, copy.params(), "the copy trained");
        assertEquals(params, net.params());
        assertEquals(state, updaterState(net));
        assertEquals(json, net.getLayerWiseConfigurations().toJson());

        ComputationGraph graph = trainedGraph();
        INDArray graphParams = graph.params().dup();
        INDArray graphState = updaterState(graph).dup();
        String graphJson = graph.getConfiguration().toJson();
        ComputationGraph graphCopy = LabelSmoothing.applyTo(graph, 0.1, "classes");
        graphCopy.setLearningRate(0.5);
        for (int i = 0; i < 3; i++) {
            graphCopy.fit(graphBatch(70 + i));
        }
        assertNotEquals(graphParams, graphCopy.params());
        assertEquals(graphParams, graph.params());
        assertEquals(graphState, updaterState(graph));
        assertEquals(graphJson, graph.getConfiguration().toJson());
    }

    @Test
    void configurationCopiesOwnTheirUpdaterSettings() {
        MultiLayerConfiguration conf = mlpConf();
        String json = conf.toJson();
        MultiLayerNetwork net = new MultiLayerNetwork(LabelSmoothing.applyTo(conf, 0.1));
        net.init();
        net.setLearningRate(0.5);
        assertEquals(json, conf.toJson(), "DL4J's clone() shares updater configurations; applyTo's copy does not");
        ComputationGraphConfiguration graphConf = graphConf();
        String graphJson = graphConf.toJson();
        ComputationGraph graph = new ComputationGraph(LabelSmoothing.applyTo(graphConf, 0.1));
        graph.init();
        graph.setLearningRate(0.5);
        assertEquals(graphJson, graphConf.toJson());
    }

    @Test
    void anUntrainedNetworkWithoutUpdaterStateGetsNoneAndNoUpdaterIsCreatedOnIt() {
        MultiLayerNetwork fresh = new MultiLayerNetwork(mlpConf());
        fresh.init();
        MultiLayerNetwork copy = LabelSmoothing.applyTo(fresh, 0.1);
        assertEquals(fresh.params(), copy.params());
        assertEquals(null, fresh.getUpdater(false), "applyTo did not create an updater on the argument");
        DataSet next = batch(62);
        MultiLayerNetwork plain = LabelSmoothing.applyTo(copy, 0);
        fresh.fit(next);
        plain.fit(next);
        assertClose(fresh.params(), plain.params(), 1e-6, 1e-9, "first step from fresh Adam state");
    }

    @Test
    void graphWithTwoClassificationHeadsSmoothsOneByName() {
        ComputationGraph graph = trainedGraph();
        ComputationGraph one = LabelSmoothing.applyTo(graph, 0.1, "classes");
        assertEquals(new LossLabelSmoothing(0.1), headLoss(one, "classes"));
        assertEquals(new LossBinaryXENT(), headLoss(one, "tags"));
        assertEquals(new LossMSE(), headLoss(one, "value"));
        assertEquals(graph.params(), one.params());
        assertEquals(updaterState(graph), updaterState(one));
        ComputationGraph all = LabelSmoothing.applyTo(graph, 0.1);
        assertEquals(new LossLabelSmoothing(0.1), headLoss(all, "classes"));
        assertEquals(new LossLabelSmoothing(0.1, new LossBinaryXENT()), headLoss(all, "tags"));
        assertEquals(new LossMSE(), headLoss(all, "value"));
        MultiLayerNetwork net = trainedMlp();
        assertEquals(new LossLabelSmoothing(0.2), headLoss(LabelSmoothing.applyTo(net, 0.2, 1)));
    }

    @Test
    void networksRestoredFromModelSerializerZips(@TempDir Path dir) throws IOException {
        MultiLayerNetwork net = trainedMlp();
        File file = dir.resolve("mln.zip").toFile();
        ModelSerializer.writeModel(net, file, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(file, true);
        MultiLayerNetwork smoothed = LabelSmoothing.applyTo(restored, 0.1);
        assertEquals(net.params(), smoothed.params());
        assertEquals(updaterState(net), updaterState(smoothed));
        assertEquals(net.getIterationCount(), smoothed.getIterationCount());
        assertEquals(net.getEpochCount(), smoothed.getEpochCount());
        DataSet next = batch(63);
        MultiLayerNetwork roundTrip = LabelSmoothing.applyTo(smoothed, 0);
        roundTrip.fit(next);
        net.fit(next);
        assertClose(net.params(), roundTrip.params(), 1e-6, 1e-9, "restored, smoothed, unsmoothed: the same step");
        // the smoothed copy saves and restores with its loss and state
        File smoothedFile = dir.resolve("smoothed.zip").toFile();
        ModelSerializer.writeModel(smoothed, smoothedFile, true);
        MultiLayerNetwork again = ModelSerializer.restoreMultiLayerNetwork(smoothedFile, true);
        assertEquals(new LossLabelSmoothing(0.1), headLoss(again));
        assertEquals(updaterState(smoothed), updaterState(again));

        ComputationGraph graph = trainedGraph();
        File graphFile = dir.resolve("graph.zip").toFile();
        ModelSerializer.writeModel(graph, graphFile, true);
        ComputationGraph restoredGraph = ModelSerializer.restoreComputationGraph(graphFile, true);
        ComputationGraph smoothedGraph = LabelSmoothing.applyTo(restoredGraph, 0.1, "classes");
        assertEquals(graph.params(), smoothedGraph.params());
        assertEquals(updaterState(graph), updaterState(smoothedGraph));
        assertEquals(graph.getIterationCount(), smoothedGraph.getIterationCount());
        ComputationGraph graphRoundTrip = LabelSmoothing.applyTo(smoothedGraph, 0);
        MultiDataSet graphNext = graphBatch(63);
        graphRoundTrip.fit(graphNext);
        graph.fit(graphNext);
        assertClose(graph.params(), graphRoundTrip.params(), 1e-6, 1e-9, "restored graph: the same step");
    }

    @Test
    void badInputThrowsTheConfigurationOverloadsExceptions() {
        MultiLayerNetwork net = trainedMlp();
        String json = net.getLayerWiseConfigurations().toJson();
        INDArray params = net.params().dup();
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        for (double s : new double[] {-0.1, 1.5, Double.NaN}) {
            assertEquals(message(() -> LabelSmoothing.applyTo(conf, s)), message(() -> LabelSmoothing.applyTo(net, s)));
        }
        assertEquals(message(() -> LabelSmoothing.applyTo(conf, 0.1, 0)),
                message(() -> LabelSmoothing.applyTo(net, 0.1, 0)), "a dense layer is not a head");
        assertEquals(message(() -> LabelSmoothing.applyTo(conf, 0.1, 5)),
                message(() -> LabelSmoothing.applyTo(net, 0.1, 5)));
        assertEquals(message(() -> LabelSmoothing.applyTo(conf, 0.1, (int[]) null)),
                message(() -> LabelSmoothing.applyTo(net, 0.1, (int[]) null)));
        assertEquals(json, net.getLayerWiseConfigurations().toJson(), "rejected calls change nothing");
        assertEquals(params, net.params());

        ComputationGraph graph = trainedGraph();
        ComputationGraphConfiguration graphConf = graph.getConfiguration();
        for (String name : new String[] {"value", "hidden", "nope"}) {
            assertEquals(message(() -> LabelSmoothing.applyTo(graphConf, 0.1, name)),
                    message(() -> LabelSmoothing.applyTo(graph, 0.1, name)), name);
        }
        assertEquals(message(() -> LabelSmoothing.applyTo(graphConf, 2.0)),
                message(() -> LabelSmoothing.applyTo(graph, 2.0)));

        assertTrue(message(() -> LabelSmoothing.applyTo((MultiLayerNetwork) null, 0.1)).contains("network must not be null"));
        assertTrue(message(() -> LabelSmoothing.applyTo((ComputationGraph) null, 0.1)).contains("network must not be null"));
        String uninitialized = message(() -> LabelSmoothing.applyTo(new MultiLayerNetwork(mlpConf()), 0.1));
        assertTrue(uninitialized.contains("MultiLayerNetwork") && uninitialized.contains("not initialized"), uninitialized);
        String uninitializedGraph = message(() -> LabelSmoothing.applyTo(new ComputationGraph(graphConf()), 0.1, "classes"));
        assertTrue(uninitializedGraph.contains("ComputationGraph") && uninitializedGraph.contains("not initialized"),
                uninitializedGraph);
    }

    private static String message(org.junit.jupiter.api.function.Executable call) {
        return assertThrows(IllegalArgumentException.class, call).getMessage();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // UnsmoothedLossCalculator: DL4J's DataSetLossCalculator on the unsmoothed network, without touching the smoothed one.

    @ParameterizedTest(name = "average = {0}")
    @ValueSource(booleans = {true, false})
    void calculatorEqualsDl4jsOnTheUnsmoothedNetwork(boolean average) {
        MultiLayerNetwork plain = trainedMlp();
        MultiLayerNetwork smoothed = LabelSmoothing.applyTo(plain, 0.1);
        double expected = new DataSetLossCalculator(validation(), average).calculateScore(plain);
        double actual = new UnsmoothedLossCalculator(validation(), average).calculateScore(smoothed);
        assertClose(expected, actual, 1e-6, 0, "MLN");
        double smoothedLoss = new DataSetLossCalculator(validation(), average).calculateScore(smoothed);
        assertTrue(Math.abs(smoothedLoss - actual) > 1e-4 * Math.abs(actual),
                "DL4J's calculator scores the smoothed loss: " + smoothedLoss + " vs " + actual);
        double perExample = new UnsmoothedLossCalculator(validation(), true).calculateScore(smoothed);
        assertClose(average ? perExample : perExample * 30, actual, 1e-9, 0, "sum = 30 x mean");

        ComputationGraph graph = trainedGraph();
        ComputationGraph smoothedGraph = LabelSmoothing.applyTo(graph, 0.1);
        double graphExpected = new DataSetLossCalculator(graphValidation(), average).calculateScore(graph);
        double graphActual = new UnsmoothedLossCalculator(graphValidation(), average).calculateScore(smoothedGraph);
        assertClose(graphExpected, graphActual, 1e-6, 0, "graph");
        double graphSmoothed = new DataSetLossCalculator(graphValidation(), average).calculateScore(smoothedGraph);
        assertTrue(Math.abs(graphSmoothed - graphActual) > 1e-4 * Math.abs(graphActual),
                graphSmoothed + " vs " + graphActual);
    }

    @ParameterizedTest(name = "average = {0}")
    @ValueSource(booleans = {true, false})
    void calculatorHonoursLabelMasksOfAnRnnHead(boolean average) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.DOUBLE)
                .updater(new Adam(0.01)).list()
                .layer(new LSTM.Builder().nIn(2).nOut(5).activation(Activation.TANH).build())
                .layer(new RnnOutputLayer.Builder(LossFunction.MCXENT).nIn(5).nOut(3).activation(Activation.SOFTMAX)
                        .build())
                .build();
        MultiLayerNetwork plain = new MultiLayerNetwork(conf);
        plain.init();
        List<DataSet> batches = new ArrayList<>();
        for (int b = 0; b < 3; b++) {
            Nd4j.getRandom().setSeed(200 + b);
            INDArray features = Nd4j.randn(DataType.DOUBLE, 4, 2, 6);
            INDArray labels = Nd4j.zeros(DataType.DOUBLE, 4, 3, 6);
            INDArray mask = Nd4j.ones(DataType.DOUBLE, 4, 6);
            for (int i = 0; i < 4; i++) {
                for (int t = 0; t < 6; t++) {
                    labels.putScalar(new long[] {i, (i + t + b) % 3, t}, 1);
                }
                for (int t = 6 - i; t < 6; t++) {
                    mask.putScalar(i, t, 0); // example i: its last i steps are padding
                }
            }
            batches.add(new DataSet(features, labels, null, mask));
        }
        MultiLayerNetwork smoothed = LabelSmoothing.applyTo(plain, 0.1);
        double expected = new DataSetLossCalculator(new ListDataSetIterator<>(batches), average).calculateScore(plain);
        double actual = new UnsmoothedLossCalculator(new ListDataSetIterator<>(batches), average).calculateScore(smoothed);
        assertClose(expected, actual, 1e-6, 0, "masked RNN");
        // the mask matters: without it the number is another
        List<DataSet> unmasked = batches.stream().map(d -> new DataSet(d.getFeatures(), d.getLabels())).toList();
        double noMask = new UnsmoothedLossCalculator(new ListDataSetIterator<>(unmasked), average).calculateScore(smoothed);
        assertTrue(Math.abs(noMask - actual) > 1e-6, noMask + " vs " + actual);
    }

    @Test
    void calculatorTakesMultiDataSetIteratorsForMultiLayerNetworksToo() {
        MultiLayerNetwork plain = trainedMlp();
        MultiLayerNetwork smoothed = LabelSmoothing.applyTo(plain, 0.1);
        double expected = new DataSetLossCalculator(validation(), true).calculateScore(plain);
        double actual = new UnsmoothedLossCalculator(new MultiDataSetIteratorAdapter(validation()), true)
                .calculateScore(smoothed);
        assertClose(expected, actual, 1e-6, 0, "MLN scored from a MultiDataSetIterator");
    }

    @Test
    void calculatorLeavesTheNetworkSmoothedAndUnchanged() {
        MultiLayerNetwork smoothed = LabelSmoothing.applyTo(trainedMlp(), 0.1);
        String json = smoothed.getLayerWiseConfigurations().toJson();
        INDArray params = smoothed.params().dup();
        INDArray state = updaterState(smoothed).dup();
        DataSet data = batch(80);
        double smoothedScore = smoothed.score(data);
        new UnsmoothedLossCalculator(validation(), true).calculateScore(smoothed);
        assertEquals(json, smoothed.getLayerWiseConfigurations().toJson());
        assertEquals(params, smoothed.params());
        assertEquals(state, updaterState(smoothed));
        assertEquals(smoothedScore, smoothed.score(data), "still scores the smoothed loss");

        ComputationGraph graph = LabelSmoothing.applyTo(trainedGraph(), 0.1);
        String graphJson = graph.getConfiguration().toJson();
        INDArray graphParams = graph.params().dup();
        new UnsmoothedLossCalculator(graphValidation(), false).calculateScore(graph);
        assertEquals(graphJson, graph.getConfiguration().toJson());
        assertEquals(graphParams, graph.params());
    }

    @Test
    void calculatorReadsTheNetworksOwnParametersWithoutCopyingThem() {
        MultiLayerNetwork smoothed = LabelSmoothing.applyTo(trainedMlp(), 0.1);
        MultiLayerNetwork view = (MultiLayerNetwork) NetworkSmoothing.unsmoothedView(smoothed);
        assertInstanceOf(LossMCXENT.class, headLoss(view));
        smoothed.params().addi(0.25); // written through the network's own array ...
        assertEquals(smoothed.params(), view.params()); // ... and seen by the view: one array, not a copy
        ComputationGraph graph = LabelSmoothing.applyTo(trainedGraph(), 0.1);
        ComputationGraph graphView = (ComputationGraph) NetworkSmoothing.unsmoothedView(graph);
        graph.params().addi(0.25);
        assertEquals(graph.params(), graphView.params());
        MultiLayerNetwork plain = trainedMlp();
        assertSame(plain, NetworkSmoothing.unsmoothedView(plain), "nothing to unwrap: the network itself");
    }

    @Test
    void calculatorUnwrapsASmoothedOwnLossToo() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.DOUBLE)
                .updater(new Adam(0.01)).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(new LossLabelSmoothing(0.1, new OwnSquaredLoss())).nIn(8).nOut(3)
                        .activation(Activation.SIGMOID).build())
                .build();
        MultiLayerConfiguration plainConf = conf.clone(); // a network keeps its configuration object: copy first
        ((BaseOutputLayer) plainConf.getConf(1).getLayer()).setLossFn(new OwnSquaredLoss());
        MultiLayerNetwork smoothed = trainedMlp(conf);
        MultiLayerNetwork plain = new MultiLayerNetwork(plainConf);
        plain.init(smoothed.params().dup(), false);
        double expected = new DataSetLossCalculator(validation(), true).calculateScore(plain);
        assertClose(expected, new UnsmoothedLossCalculator(validation(), true).calculateScore(smoothed), 1e-6, 0,
                "a user's own base");
        double smoothedLoss = new DataSetLossCalculator(validation(), true).calculateScore(smoothed);
        assertTrue(Math.abs(smoothedLoss - expected) > 1e-4 * expected, smoothedLoss + " vs " + expected);
    }

    @Test
    void calculatorContractAndBadInput() {
        UnsmoothedLossCalculator calculator = new UnsmoothedLossCalculator(validation(), true);
        assertTrue(calculator.minimizeScore());
        assertEquals("UnsmoothedLossCalculator(average=true)", calculator.toString());
        assertTrue(message(() -> new UnsmoothedLossCalculator((DataSetIterator) null, true)).contains("iterator"));
        assertTrue(message(() -> new UnsmoothedLossCalculator((MultiDataSetIterator) null, true)).contains("iterator"));
        assertTrue(message(() -> calculator.calculateScore(null)).contains("null"));
        String uninitialized = message(() -> calculator.calculateScore(new MultiLayerNetwork(mlpConf())));
        assertTrue(uninitialized.contains("not initialized"), uninitialized);
        Model other = Mockito.mock(Model.class);
        String type = message(() -> calculator.calculateScore(other));
        assertTrue(type.contains("MultiLayerNetwork or a ComputationGraph") && type.contains(other.getClass().getName()),
                type);
        assertFalse(Double.isNaN(calculator.calculateScore(LabelSmoothing.applyTo(trainedMlp(), 0.1))));
    }
}
