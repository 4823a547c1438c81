package io.github.labelsmoothing;

import static io.github.labelsmoothing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.CenterLossOutputLayer;
import org.deeplearning4j.nn.conf.layers.Cnn3DLossLayer;
import org.deeplearning4j.nn.conf.layers.CnnLossLayer;
import org.deeplearning4j.nn.conf.layers.Convolution3D;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnLossLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossKLD;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;
import org.nd4j.linalg.lossfunctions.impl.LossNegativeLogLikelihood;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

class ApplyToTest {

    private static NeuralNetConfiguration.ListBuilder list() {
        return new NeuralNetConfiguration.Builder().seed(42).updater(new Adam(0.01)).list();
    }

    private static ILossFunction lossOf(Layer layer) {
        if (layer instanceof BaseOutputLayer l) {
            return l.getLossFn();
        } else if (layer instanceof LossLayer l) {
            return l.getLossFn();
        } else if (layer instanceof RnnLossLayer l) {
            return l.getLossFn();
        } else if (layer instanceof CnnLossLayer l) {
            return l.getLossFn();
        } else if (layer instanceof Cnn3DLossLayer l) {
            return l.getLossFn();
        }
        throw new AssertionError("no loss in " + layer);
    }

    private static ILossFunction headLoss(MultiLayerConfiguration conf) {
        return lossOf(conf.getConf(conf.getConfs().size() - 1).getLayer());
    }

    /** One network per head type, each ending in a classification head with MCXENT. */
    static Stream<Arguments> headTypes() {
        return Stream.of(
                Arguments.of("OutputLayer", list().layer(new DenseLayer.Builder().nIn(4).nOut(5).build())
                        .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(5).nOut(3).activation(Activation.SOFTMAX).build())
                        .build()),
                Arguments.of("RnnOutputLayer", list().layer(new LSTM.Builder().nIn(4).nOut(5).build())
                        .layer(new RnnOutputLayer.Builder(LossFunction.MCXENT).nIn(5).nOut(3).activation(Activation.SOFTMAX).build())
                        .build()),
                Arguments.of("CenterLossOutputLayer", list().layer(new DenseLayer.Builder().nIn(4).nOut(5).build())
                        .layer(new CenterLossOutputLayer.Builder().lossFunction(LossFunction.MCXENT).nIn(5).nOut(3)
                                .activation(Activation.SOFTMAX).build())
                        .build()),
                Arguments.of("LossLayer", list().layer(new DenseLayer.Builder().nIn(4).nOut(3).build())
                        .layer(new LossLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).build())
                        .build()),
                Arguments.of("RnnLossLayer", list().layer(new LSTM.Builder().nIn(4).nOut(3).build())
                        .layer(new RnnLossLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).build())
                        .build()),
                Arguments.of("CnnLossLayer", list().layer(new ConvolutionLayer.Builder(1, 1).nIn(2).nOut(3).build())
                        .layer(new CnnLossLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).build())
                        .setInputType(InputType.convolutional(4, 4, 2)).build()),
                Arguments.of("Cnn3DLossLayer", list().layer(new Convolution3D.Builder(1, 1, 1).nIn(2).nOut(3).build())
                        .layer(new Cnn3DLossLayer.Builder(Convolution3D.DataFormat.NCDHW).lossFunction(LossFunction.MCXENT)
                                .activation(Activation.SOFTMAX).build())
                        .setInputType(InputType.convolutional3D(Convolution3D.DataFormat.NCDHW, 2, 2, 2, 2)).build()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("headTypes")
    void wrapsEveryClassificationHeadType(String name, MultiLayerConfiguration conf) {
        MultiLayerConfiguration smoothed = LabelSmoothing.applyTo(conf, 0.1);
        assertEquals(new LossLabelSmoothing(0.1, new LossMCXENT()), headLoss(smoothed), name);
        assertInstanceOf(LossMCXENT.class, headLoss(conf), "the argument keeps its loss");
        new MultiLayerNetwork(smoothed).init(); // still a valid network
    }

    @Test
    void wrapsEveryClassificationLossAndLeavesRegressionAlone() {
        for (ILossFunction loss : List.of(new LossMCXENT(), new LossNegativeLogLikelihood(), new LossSparseMCXENT(),
                new LossKLD(), new LossBinaryXENT())) {
            Activation activation = loss instanceof LossBinaryXENT ? Activation.SIGMOID : Activation.SOFTMAX;
            MultiLayerConfiguration conf = list()
                    .layer(new OutputLayer.Builder(loss).nIn(4).nOut(3).activation(activation).build()).build();
            assertEquals(new LossLabelSmoothing(0.2, loss), headLoss(LabelSmoothing.applyTo(conf, 0.2)), loss.toString());
        }
        MultiLayerConfiguration regression = list()
                .layer(new OutputLayer.Builder(new LossMSE()).nIn(4).nOut(1).activation(Activation.IDENTITY).build())
                .build();
        assertEquals(new LossMSE(), headLoss(LabelSmoothing.applyTo(regression, 0)), "s = 0: nothing to remove, a no-op");
    }

    @Test
    void reapplyingReplacesTheSmoothingAndZeroUnwraps() {
        MultiLayerConfiguration conf = (MultiLayerConfiguration) headTypes().findFirst().orElseThrow().get()[1];
        MultiLayerConfiguration once = LabelSmoothing.applyTo(conf, 0.1);
        MultiLayerConfiguration twice = LabelSmoothing.applyTo(once, 0.3);
        assertEquals(new LossLabelSmoothing(0.3, new LossMCXENT()), headLoss(twice));
        assertEquals(new LossMCXENT(), headLoss(LabelSmoothing.applyTo(twice, 0)));
        assertEquals(LabelSmoothing.applyTo(conf, 0.3).toJson(), twice.toJson());
        // a custom prior set on the head survives re-application
        MultiLayerConfiguration custom = list().layer(new OutputLayer.Builder(
                new LossLabelSmoothing(0.1, new LossMCXENT(), new double[] {0.5, 0.25, 0.25})).nIn(4).nOut(3).build()).build();
        assertEquals(new LossLabelSmoothing(0.2, new LossMCXENT(), new double[] {0.5, 0.25, 0.25}),
                headLoss(LabelSmoothing.applyTo(custom, 0.2)));
    }

    @Test
    void theArgumentIsNeverChanged() {
        MultiLayerConfiguration conf = (MultiLayerConfiguration) headTypes().findFirst().orElseThrow().get()[1];
        String before = conf.toJson();
        LabelSmoothing.applyTo(conf, 0.1);
        LabelSmoothing.applyTo(conf, 0.2, 1);
        assertEquals(before, conf.toJson());
        ComputationGraphConfiguration graph = twoHeadGraph();
        String graphBefore = graph.toJson();
        LabelSmoothing.applyTo(graph, 0.1);
        LabelSmoothing.applyTo(graph, 0.1, "classes");
        assertEquals(graphBefore, graph.toJson());
    }

    @Test
    void perLayerSelection() {
        MultiLayerConfiguration conf = list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(3).build())
                .layer(new LossLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).build())
                .build();
        assertEquals(new LossLabelSmoothing(0.2), lossOf(LabelSmoothing.applyTo(conf, 0.2, 1).getConf(1).getLayer()));
        String range = assertThrows(IllegalArgumentException.class, () -> LabelSmoothing.applyTo(conf, 0.2, 2))
                .getMessage();
        assertTrue(range.contains("2") && range.contains("2 layers"), range);
        String notHead = assertThrows(IllegalArgumentException.class, () -> LabelSmoothing.applyTo(conf, 0.2, 0))
                .getMessage();
        assertTrue(notHead.contains("layer 0") && notHead.contains("DenseLayer"), notHead);

        ComputationGraphConfiguration graph = twoHeadGraph();
        ComputationGraphConfiguration one = LabelSmoothing.applyTo(graph, 0.2, "classes");
        assertEquals(new LossLabelSmoothing(0.2), vertexLoss(one, "classes"));
        assertEquals(new LossBinaryXENT(), vertexLoss(one, "tags"));
        String unknown = assertThrows(IllegalArgumentException.class,
                () -> LabelSmoothing.applyTo(graph, 0.2, "nope")).getMessage();
        assertTrue(unknown.contains("'nope'"), unknown);
        String regression = assertThrows(IllegalArgumentException.class,
                () -> LabelSmoothing.applyTo(graph, 0.2, "value")).getMessage();
        assertTrue(regression.contains("'value'") && regression.contains("MSE"), regression);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LabelSmoothing.applyTo(graph, 2.0))
                .getMessage().contains("2.0"));
    }

    /** A graph with three heads: softmax classes, sigmoid tags (binary XENT) and a regression value. */
    static ComputationGraphConfiguration twoHeadGraph() {
        return new NeuralNetConfiguration.Builder().seed(42).updater(new Adam(0.01)).graphBuilder()
                .addInputs("in")
                .addLayer("hidden", new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).build(), "in")
                .addLayer("classes", new OutputLayer.Builder(LossFunction.MCXENT).nIn(8).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "hidden")
                .addLayer("tags", new OutputLayer.Builder(new LossBinaryXENT()).nIn(8).nOut(2)
                        .activation(Activation.SIGMOID).build(), "hidden")
                .addLayer("value", new OutputLayer.Builder(new LossMSE()).nIn(8).nOut(1)
                        .activation(Activation.IDENTITY).build(), "hidden")
                .setOutputs("classes", "tags", "value")
                .build();
    }

    private static ILossFunction vertexLoss(ComputationGraphConfiguration conf, String name) {
        return lossOf(((LayerVertex) conf.getVertices().get(name)).getLayerConf().getLayer());
    }

    @Test
    void graphsGetEveryClassificationOutput() {
        ComputationGraphConfiguration smoothed = LabelSmoothing.applyTo(twoHeadGraph(), 0.1);
        assertEquals(new LossLabelSmoothing(0.1), vertexLoss(smoothed, "classes"));
        assertEquals(new LossLabelSmoothing(0.1, new LossBinaryXENT()), vertexLoss(smoothed, "tags"));
        assertEquals(new LossMSE(), vertexLoss(smoothed, "value"));
    }

    @Test
    void jsonAndYamlRoundTripToEqualConfigurations() {
        MultiLayerConfiguration mln = LabelSmoothing.applyTo(
                (MultiLayerConfiguration) headTypes().findFirst().orElseThrow().get()[1], 0.1);
        assertEquals(mln, MultiLayerConfiguration.fromJson(mln.toJson()));
        assertEquals(mln, MultiLayerConfiguration.fromYaml(mln.toYaml()));
        ComputationGraphConfiguration graph = LabelSmoothing.applyTo(twoHeadGraph(), 0.1);
        assertEquals(graph, ComputationGraphConfiguration.fromJson(graph.toJson()));
        assertEquals(graph, ComputationGraphConfiguration.fromYaml(graph.toYaml()));
    }

    private static DataSet irisLikeBatch() {
        Nd4j.getRandom().setSeed(11);
        INDArray features = Nd4j.rand(DataType.FLOAT, 12, 4);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, 12, 3);
        for (int i = 0; i < 12; i++) {
            labels.putScalar(i, i % 3, 1);
        }
        return new DataSet(features, labels);
    }

    @Test
    void multiLayerNetworkSavesRestoresAndKeepsTraining(@TempDir Path dir) throws IOException {
        MultiLayerConfiguration conf = LabelSmoothing.applyTo(
                (MultiLayerConfiguration) headTypes().findFirst().orElseThrow().get()[1], 0.1);
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        DataSet batch = irisLikeBatch();
        for (int i = 0; i < 5; i++) {
            net.fit(batch);
        }
        File file = dir.resolve("mln.zip").toFile();
        ModelSerializer.writeModel(net, file, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(file, true);
        assertEquals(new LossLabelSmoothing(0.1), headLoss(restored.getLayerWiseConfigurations()));
        assertEquals(net.output(batch.getFeatures()), restored.output(batch.getFeatures()));
        assertEquals(net.getUpdater().getStateViewArray(), restored.getUpdater().getStateViewArray());
        net.fit(batch);
        restored.fit(batch);
        assertEquals(net.params(), restored.params(), "restored training continues exactly");
        assertTrue(Double.isFinite(restored.score()));
    }

    @Test
    void computationGraphWithTwoOutputsSavesRestoresAndKeepsTraining(@TempDir Path dir) throws IOException {
        ComputationGraph graph = new ComputationGraph(LabelSmoothing.applyTo(twoHeadGraph(), 0.1));
        graph.init();
        DataSet batch = irisLikeBatch();
        INDArray tags = batch.getLabels().get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2)).dup();
        MultiDataSet data = new MultiDataSet(new INDArray[] {batch.getFeatures()},
                new INDArray[] {batch.getLabels(), tags, batch.getFeatures().sum(true, 1)});
        double first = Double.NaN;
        for (int i = 0; i < 20; i++) {
            graph.fit(data);
            first = i == 0 ? graph.score() : first;
        }
        assertTrue(graph.score() < first, "training lowers the score: " + first + " -> " + graph.score());
        File file = dir.resolve("graph.zip").toFile();
        ModelSerializer.writeModel(graph, file, true);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(file, true);
        assertEquals(new LossLabelSmoothing(0.1), vertexLoss(restored.getConfiguration(), "classes"));
        INDArray[] before = graph.output(batch.getFeatures());
        INDArray[] after = restored.output(batch.getFeatures());
        for (int i = 0; i < before.length; i++) {
            assertEquals(before[i], after[i], "output " + i);
        }
        graph.fit(data);
        restored.fit(data);
        assertEquals(graph.params(), restored.params());
    }

    /** A configuration written by version 0.1.0 (test resource) must keep loading. */
    @Test
    void savedFixtureJsonLoads() throws IOException {
        String json;
        try (InputStream in = ApplyToTest.class.getResourceAsStream("/fixtures/mln-smoothed-0.1.0.json")) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        MultiLayerConfiguration conf = MultiLayerConfiguration.fromJson(json);
        assertEquals(new LossLabelSmoothing(0.1, new LossMCXENT(Nd4j.createFromArray(1.0f, 2.0f, 1.0f)),
                new double[] {0.5, 0.25, 0.25}), headLoss(conf));
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        net.fit(irisLikeBatch());
        assertTrue(Double.isFinite(net.score()));
        try (InputStream in = ApplyToTest.class.getResourceAsStream("/fixtures/graph-smoothed-0.1.0.json")) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        ComputationGraphConfiguration graph = ComputationGraphConfiguration.fromJson(json);
        assertEquals(new LossLabelSmoothing(0.1, new LossBinaryXENT()), vertexLoss(graph, "tags"));
        assertSame(LossMSE.class, vertexLoss(graph, "value").getClass());
    }

    /**
     * Model zips written by version 0.1.0 (ModelSerializer, with updater state) restore with their smoothed heads,
     * give the outputs recorded when they were saved, and keep training.
     */
    @Test
    void savedFixtureModelsRestoreAndKeepTraining() throws IOException {
        Map<String, double[]> recorded = new HashMap<>();
        try (InputStream in = ApplyToTest.class.getResourceAsStream("/fixtures/zips-outputs-0.1.0.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.startsWith("#")) {
                    String[] kv = line.split(" ", 2);
                    recorded.put(kv[0], Arrays.stream(kv[1].replaceAll("[\\[\\]]", "").split(", "))
                            .mapToDouble(Double::parseDouble).toArray());
                }
            }
        }
        INDArray x = Nd4j.createFromArray(recorded.get("input")).reshape(4, 4);
        MultiLayerNetwork net;
        ComputationGraph graph;
        try (InputStream mln = ApplyToTest.class.getResourceAsStream("/fixtures/mln-smoothed-0.1.0.zip");
                InputStream cg = ApplyToTest.class.getResourceAsStream("/fixtures/graph-smoothed-0.1.0.zip")) {
            net = ModelSerializer.restoreMultiLayerNetwork(mln, true);
            graph = ModelSerializer.restoreComputationGraph(cg, true);
        }
        assertEquals(new LossLabelSmoothing(0.1, new LossMCXENT(Nd4j.createFromArray(1.0, 2.0, 1.0)),
                new double[] {0.5, 0.25, 0.25}), headLoss(net.getLayerWiseConfigurations()));
        assertEquals(new LossLabelSmoothing(0.1), vertexLoss(graph.getConfiguration(), "classes"));
        assertEquals(new LossLabelSmoothing(0.2, new LossBinaryXENT()), vertexLoss(graph.getConfiguration(), "tags"));
        assertArrayEquals(recorded.get("mln"), net.output(x).dup('c').data().asDouble(), 1e-12);
        INDArray[] out = graph.output(x);
        assertArrayEquals(recorded.get("classes"), out[0].dup('c').data().asDouble(), 1e-12);
        assertArrayEquals(recorded.get("tags"), out[1].dup('c').data().asDouble(), 1e-12);
        assertEquals(3, net.getIterationCount());
        INDArray before = net.params().dup();
        net.fit(new DataSet(x, Nd4j.eye(3).getRows(0, 1, 2, 1)));
        assertTrue(Double.isFinite(net.score()) && !before.equals(net.params()), "it keeps training");
    }
}
