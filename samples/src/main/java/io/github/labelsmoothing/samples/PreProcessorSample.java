package io.github.labelsmoothing.samples;

import io.github.labelsmoothing.LabelSmoothingPreProcessor;
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
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * The preprocessor route: an unchanged network with DL4J's plain MCXENT loss, trained on an iterator whose labels
 * {@link LabelSmoothingPreProcessor} smooths. Set it on the training iterator only: evaluation needs the true labels.
 *
 * <pre>mvn -q test-compile exec:java -Dsamples.main=io.github.labelsmoothing.samples.PreProcessorSample</pre>
 */
public final class PreProcessorSample {

    private PreProcessorSample() {
    }

    /** Optional argument: the number of epochs (default 100). */
    public static void main(String[] args) throws IOException {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        DataSet iris = SampleData.iris();
        iris.shuffle(42);
        SampleData.Split split = SampleData.split(iris, 0.8);

        DataSetIterator train = new ListDataSetIterator<>(split.train().asList(), 16);
        train.setPreProcessor(new LabelSmoothingPreProcessor(0.1)); // <- training iterator only
        DataSetIterator test = new ListDataSetIterator<>(split.test().asList(), 30); // raw labels for evaluation

        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(42)
                .updater(new Adam(0.01))
                .list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(16).nOut(3).activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        for (int epoch = 1; epoch <= epochs; epoch++) {
            net.fit(train);
            if (epoch % Math.max(1, epochs / 5) == 0 || epoch == epochs) {
                System.out.printf("epoch %3d/%d  training loss (on smoothed labels) %.4f%n", epoch, epochs, net.score());
            }
        }
        Evaluation eval = net.evaluate(test);
        System.out.printf("test accuracy %.3f on %d held-out Iris flowers%n", eval.accuracy(), split.test().numExamples());
    }
}
