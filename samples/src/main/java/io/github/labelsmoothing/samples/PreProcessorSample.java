package io.github.labelsmoothing.samples;

import io.github.labelsmoothing.LabelSmoothingPreProcessor;
import java.io.IOException;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * The preprocessor route: an unchanged network with DL4J's plain MCXENT loss, trained on an iterator whose labels
 * {@link LabelSmoothingPreProcessor} smooths (the printed training loss is on smoothed labels). Set it on the training
 * iterator only: evaluation needs the true labels.
 *
 * <pre>mvn -q test-compile exec:java -Dsamples.main=PreProcessorSample</pre>
 */
public final class PreProcessorSample {

    private PreProcessorSample() {
    }

    /** Optional argument: the number of epochs (default 100). */
    public static void main(String[] args) throws IOException {
        SampleData.Split split = SampleData.irisSplit();
        DataSetIterator train = SampleData.trainIterator(split);
        train.setPreProcessor(new LabelSmoothingPreProcessor(0.1)); // <- training iterator only

        MultiLayerNetwork net = new MultiLayerNetwork(SampleData.irisClassifier());
        net.init();
        SampleData.trainAndEvaluate(net, split, train, SampleData.epochs(args, 100));
    }
}
