package io.github.labelsmoothing.bench;

import io.github.labelsmoothing.LabelSmoothing;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One {@code fit()} step of an MLP 784-512-K on a minibatch of N (128 x 10 by default): {@code applyTo(conf, 0.1)} vs the
 * plain configuration.
 */
@State(Scope.Thread)
public class FitBenchmark {
    /** 0 = the plain configuration, 0.1 = the same configuration through applyTo. */
    @Param({"0", "0.1"})
    public double smoothing;

    /** Minibatch x classes. */
    @Param("128x10")
    public String shape;

    /**
     * Not a JMH parameter: labels smoothed by this before training ({@link PairedFitSteps}' baseline, the plain network
     * on the targets the smoothed one trains towards, so both follow the same trajectory).
     */
    double labelsSmoothedBeforehand;
    MultiLayerNetwork net;
    DataSet batch;

    @Setup
    public void setUp() {
        BenchData data = new BenchData(shape, 5);
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(1e-3)).list()
                .layer(new DenseLayer.Builder().nIn(784).nOut(512).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(512).nOut(data.k).activation(Activation.SOFTMAX).build())
                .build();
        net = new MultiLayerNetwork(smoothing == 0 ? conf : LabelSmoothing.applyTo(conf, smoothing));
        net.init();
        INDArray labels = labelsSmoothedBeforehand == 0 ? data.oneHot
                : LabelSmoothing.smoothLabels(data.oneHot, labelsSmoothedBeforehand);
        batch = new DataSet(Nd4j.rand(DataType.FLOAT, data.n, 784), labels);
    }

    @Benchmark
    public MultiLayerNetwork fitStep() {
        net.fit(batch);
        return net;
    }
}
