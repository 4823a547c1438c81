package io.github.labelsmoothing.samples;

import io.github.labelsmoothing.LossLabelSmoothing;
import java.io.IOException;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The drop-in loss: an ordinary DL4J classifier whose output layer uses {@code new LossLabelSmoothing(0.1)} instead of
 * {@code LossFunction.MCXENT}, trained on the Iris data shipped inside deeplearning4j-core.
 *
 * <pre>mvn -q test-compile exec:java -Dsamples.main=io.github.labelsmoothing.samples.LossDropInSample</pre>
 */
public final class LossDropInSample {

    private LossDropInSample() {
    }

    public static void main(String[] args) throws IOException {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        DataSet iris = SampleData.iris();
        iris.shuffle(42);
        SampleData.Split split = SampleData.split(iris, 0.8);

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

        DataSetIterator train = new ListDataSetIterator<>(split.train().asList(), 16);
        for (int epoch = 1; epoch <= epochs; epoch++) {
            net.fit(train);
            if (epoch % Math.max(1, epochs / 5) == 0 || epoch == epochs) {
                System.out.printf("epoch %3d/%d  training loss %.4f%n", epoch, epochs, net.score());
            }
        }
        Evaluation eval = net.evaluate(new ListDataSetIterator<>(split.test().asList(), 30));
        System.out.printf("test accuracy %.3f on %d held-out Iris flowers%n", eval.accuracy(), split.test().numExamples());
    }
}
