package io.github.labelsmoothing.bench;

import io.github.labelsmoothing.LabelSmoothing;
import io.github.labelsmoothing.UnsmoothedLossCalculator;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.earlystopping.scorecalc.DataSetLossCalculator;
import org.deeplearning4j.earlystopping.scorecalc.ScoreCalculator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One validation pass of a smoothed network: {@link UnsmoothedLossCalculator} (which builds an unsmoothed view of the
 * network on the same parameters each call) vs DL4J's {@link DataSetLossCalculator} (the smoothed loss).
 * "mlp": 784-512-10, 1024 examples in batches of 128; "tiny": 4-16-3, one batch of 30 (where the view weighs most).
 */
@State(Scope.Thread)
public class ScoreCalculatorBenchmark {
    @Param({"mlp", "tiny"})
    public String network;

    @Param({"DataSetLossCalculator", "UnsmoothedLossCalculator"})
    public String calculator;

    MultiLayerNetwork net;
    ScoreCalculator<Model> scorer;

    @Setup
    public void setUp() {
        boolean mlp = network.equals("mlp");
        int in = mlp ? 784 : 4;
        int hidden = mlp ? 512 : 16;
        int classes = mlp ? 10 : 3;
        int examples = mlp ? 1024 : 30;
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(1e-3)).list()
                .layer(new DenseLayer.Builder().nIn(in).nOut(hidden).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(hidden).nOut(classes)
                        .activation(Activation.SOFTMAX).build())
                .build();
        net = new MultiLayerNetwork(LabelSmoothing.applyTo(conf, 0.1));
        net.init();
        BenchData data = new BenchData(examples + "x" + classes, 5);
        DataSet all = new DataSet(Nd4j.rand(DataType.FLOAT, examples, in), data.oneHot);
        DataSetIterator validation = new ListDataSetIterator<>(all.asList(), mlp ? 128 : 30);
        scorer = calculator.equals("DataSetLossCalculator")
                ? new DataSetLossCalculator(validation, true)
                : new UnsmoothedLossCalculator(validation, true);
    }

    @Benchmark
    public double validationPass() {
        return scorer.calculateScore(net);
    }
}
