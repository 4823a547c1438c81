package io.github.labelsmoothing.samples;

import io.github.labelsmoothing.LossLabelSmoothing;
import java.io.IOException;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The drop-in loss: an ordinary DL4J classifier whose output layer uses {@code new LossLabelSmoothing(0.1)} instead of
 * {@code LossFunction.MCXENT}, trained on the Iris data shipped inside deeplearning4j-core.
 *
 * <pre>mvn -q test-compile exec:java -Dsamples.main=LossDropInSample</pre>
 */
public final class LossDropInSample {

    private LossDropInSample() {
    }

    /** Optional argument: the number of epochs (default 100). */
    public static void main(String[] args) throws IOException {
        SampleData.Split split = SampleData.irisSplit();
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(42)
                .updater(new Adam(0.01))
                .list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder()
                        .lossFunction(new LossLabelSmoothing(0.1)) // <- the one change
                        .nIn(16).nOut(3).activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        SampleData.trainAndEvaluate(net, split, SampleData.trainIterator(split), SampleData.epochs(args, 100));
    }
}
