package io.github.labelsmoothing.samples;

import io.github.labelsmoothing.LabelSmoothing;
import java.io.IOException;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The one-line route: an ordinary DL4J configuration, and {@code LabelSmoothing.applyTo(conf, 0.1)} before building
 * the network. The original configuration is left as it was; the copy's output layer shows the smoothed loss.
 *
 * <pre>mvn -q test-compile exec:java -Dsamples.main=ApplyToSample</pre>
 */
public final class ApplyToSample {

    private ApplyToSample() {
    }

    /** Optional argument: the number of epochs (default 100). */
    public static void main(String[] args) throws IOException {
        SampleData.Split split = SampleData.irisSplit();
        MultiLayerConfiguration plain = SampleData.irisClassifier(); // any configuration with a softmax/MCXENT head

        MultiLayerConfiguration smoothed = LabelSmoothing.applyTo(plain, 0.1); // <- the one line

        System.out.println("output layer loss: " + ((OutputLayer) smoothed.getConf(1).getLayer()).getLossFn());
        MultiLayerNetwork net = new MultiLayerNetwork(smoothed);
        net.init();
        SampleData.trainAndEvaluate(net, split, SampleData.trainIterator(split), SampleData.epochs(args, 100));
    }
}
