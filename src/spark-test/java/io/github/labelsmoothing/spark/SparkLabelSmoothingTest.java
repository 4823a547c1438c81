package io.github.labelsmoothing.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.labelsmoothing.LabelSmoothing;
import io.github.labelsmoothing.LabelSmoothingPreProcessor;
import io.github.labelsmoothing.LossLabelSmoothing;
import io.github.labelsmoothing.samples.spark.SparkSample;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.ToDoubleFunction;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/** DL4J's Spark training (parameter averaging, local[2]) with label smoothing switched on by applyTo. */
class SparkLabelSmoothingTest {
    private static final double SMOOTHING = 0.1;
    private static final int EPOCHS = 3;

    private static JavaSparkContext sc;
    private static List<DataSet> examples;
    private static JavaRDD<DataSet> iris;

    @BeforeAll
    static void startSpark() throws IOException {
        SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("label-smoothing-spark-test")
                .set("spark.ui.enabled", "false")
                // DL4J's recommended serializer setup (needs the profile's --add-opens flags on Java 17)
                .set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .set("spark.kryo.registrator", "org.nd4j.kryo.Nd4jRegistrator")
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1");
        sc = new JavaSparkContext(conf);
        examples = SparkSample.irisExamples();
        iris = sc.parallelize(examples, 2).cache();
    }

    @AfterAll
    static void stopSpark() {
        if (sc != null) {
            sc.stop();
        }
    }

    private static ParameterAveragingTrainingMaster trainingMaster() {
        return new ParameterAveragingTrainingMaster.Builder(1).batchSizePerWorker(16).averagingFrequency(2)
                .workerPrefetchNumBatches(0).rngSeed(12345).build();
    }

    private static NeuralNetConfiguration.Builder base() {
        return new NeuralNetConfiguration.Builder().seed(12345).dataType(DataType.FLOAT)
                .weightInit(WeightInit.XAVIER).updater(new Adam(0.05));
    }

    /** Fits EPOCHS epochs on the Iris RDD; the score on it before and after each epoch is finite and falls. */
    private static void assertTrainingLowersTheScore(Consumer<JavaRDD<DataSet>> fit,
            ToDoubleFunction<JavaRDD<DataSet>> score) {
        List<Double> scores = new ArrayList<>();
        scores.add(score.applyAsDouble(iris));
        for (int epoch = 0; epoch < EPOCHS; epoch++) {
            fit.accept(iris);
            scores.add(score.applyAsDouble(iris));
        }
        for (int i = 0; i < scores.size(); i++) {
            assertTrue(Double.isFinite(scores.get(i)), "score not finite: " + scores);
            assertTrue(i == 0 || scores.get(i) < scores.get(i - 1), "score not falling: " + scores);
        }
    }

    private static void assertSmoothed(ILossFunction loss) {
        assertEquals(SMOOTHING, assertInstanceOf(LossLabelSmoothing.class, loss).getSmoothing());
    }

    @Test
    void multiLayerNetworkTrainsOnSpark() {
        MultiLayerConfiguration conf = LabelSmoothing.applyTo(base().list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(8).nOut(3).activation(Activation.SOFTMAX).build())
                .build(), SMOOTHING);
        SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(sc, conf, trainingMaster());
        assertTrainingLowersTheScore(sparkNet::fit, rdd -> sparkNet.calculateScore(rdd, true));
        assertSmoothed(((BaseOutputLayer) sparkNet.getNetwork().getLayerWiseConfigurations().getConf(1).getLayer())
                .getLossFn());
        assertSmoothed(((org.deeplearning4j.nn.layers.BaseOutputLayer<?>) sparkNet.getNetwork().getOutputLayer())
                .layerConf().getLossFn());
    }

    @Test
    void computationGraphTrainsOnSpark() {
        ComputationGraphConfiguration conf = LabelSmoothing.applyTo(base().graphBuilder()
                .addInputs("in")
                .addLayer("dense", new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.RELU).build(), "in")
                .addLayer("out", new OutputLayer.Builder(LossFunction.MCXENT).nIn(8).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "dense")
                .setOutputs("out")
                .build(), SMOOTHING);
        SparkComputationGraph sparkNet = new SparkComputationGraph(sc, conf, trainingMaster());
        assertTrainingLowersTheScore(sparkNet::fit, rdd -> sparkNet.calculateScore(rdd, true));
        assertSmoothed(((BaseOutputLayer) ((LayerVertex) sparkNet.getNetwork().getConfiguration().getVertices()
                .get("out")).getLayerConf().getLayer()).getLossFn());
    }

    /**
     * A map over a cached RDD runs on deserialized copies every epoch: apply() smooths the cached original each time
     * (never its own output), so three epochs give the labels of one smoothing, on every executor.
     */
    @Test
    void applyInAMapOverACachedRddDoesNotCompoundAcrossEpochs() {
        LabelSmoothingPreProcessor pre = new LabelSmoothingPreProcessor(SMOOTHING);
        for (int epoch = 0; epoch < EPOCHS; epoch++) {
            List<INDArray> distributed = iris.map(pre::apply).map(DataSet::getLabels).collect();
            assertEquals(examples.size(), distributed.size());
            for (int i = 0; i < examples.size(); i++) {
                assertEquals(LabelSmoothing.smoothLabels(examples.get(i).getLabels(), SMOOTHING), distributed.get(i),
                        "epoch " + epoch + ", example " + i);
            }
        }
    }
}
