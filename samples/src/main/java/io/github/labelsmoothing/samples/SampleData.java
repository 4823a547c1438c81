package io.github.labelsmoothing.samples;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
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
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.dataset.SplitTestAndTrain;
import org.nd4j.linalg.factory.Nd4j;

/** What the Iris samples share: the data (shipped inside deeplearning4j-core as {@code iris.dat}), the classifier, the loop. */
public final class SampleData {

    /** The iris.dat resource: 150 rows "f1,f2,f3,f4,classIndex". */
    static final String IRIS_RESOURCE = "iris.dat";

    private SampleData() {
    }

    /** Train and test parts of a data set. */
    public record Split(DataSet train, DataSet test) {
    }

    /** Iris: 150 examples, 4 features, one-hot labels over 3 classes, in file order. */
    public static DataSet iris() throws IOException {
        try (InputStream in = SampleData.class.getClassLoader().getResourceAsStream(IRIS_RESOURCE)) {
            if (in == null) {
                throw new IOException("classpath resource " + IRIS_RESOURCE + " not found (it ships in deeplearning4j-core)");
            }
            List<double[]> rows = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines()
                    .filter(line -> !line.isBlank())
                    .map(line -> java.util.Arrays.stream(line.split(",")).mapToDouble(Double::parseDouble).toArray())
                    .toList();
            double[][] features = new double[rows.size()][4];
            double[][] labels = new double[rows.size()][3];
            for (int i = 0; i < rows.size(); i++) {
                System.arraycopy(rows.get(i), 0, features[i], 0, 4);
                labels[i][(int) rows.get(i)[4]] = 1;
            }
            return new DataSet(Nd4j.create(features), Nd4j.create(labels));
        }
    }

    /** The first {@code fraction} of the examples for training, the rest for testing. */
    public static Split split(DataSet data, double fraction) {
        SplitTestAndTrain split = data.splitTestAndTrain(fraction);
        return new Split(split.getTrain(), split.getTest());
    }

    /** Iris shuffled with a fixed seed, 120 flowers for training and 30 for testing. */
    public static Split irisSplit() throws IOException {
        DataSet iris = iris();
        iris.shuffle(42);
        return split(iris, 0.8);
    }

    /** The ordinary Iris classifier of the samples: 4-16-3, ReLU, softmax output with DL4J's plain MCXENT loss. */
    public static MultiLayerConfiguration irisClassifier() {
        return irisClassifier(new LossMCXENT());
    }

    /** The same classifier with the given output loss. */
    public static MultiLayerConfiguration irisClassifier(ILossFunction loss) {
        return new NeuralNetConfiguration.Builder()
                .seed(42)
                .updater(new Adam(0.01))
                .list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder().lossFunction(loss).nIn(16).nOut(3).activation(Activation.SOFTMAX).build())
                .build();
    }

    /** Trains for {@code epochs} epochs on batches of 16, printing the last batch's loss five times, then test accuracy. */
    public static void trainAndEvaluate(MultiLayerNetwork net, Split split, DataSetIterator train, int epochs) {
        for (int epoch = 1; epoch <= epochs; epoch++) {
            net.fit(train);
            if (epoch % Math.max(1, epochs / 5) == 0 || epoch == epochs) {
                System.out.printf("epoch %3d/%d  last batch loss %.4f%n", epoch, epochs, net.score());
            }
        }
        Evaluation eval = net.evaluate(new ListDataSetIterator<>(split.test().asList(), 30)); // the original labels
        System.out.printf("test accuracy %.3f on %d held-out Iris flowers%n", eval.accuracy(), split.test().numExamples());
    }

    /** The training part as an iterator of batches of 16. */
    public static DataSetIterator trainIterator(Split split) {
        return new ListDataSetIterator<>(split.train().asList(), 16);
    }

    /** The first program argument as the number of epochs, or the default. */
    public static int epochs(String[] args, int defaultEpochs) {
        return args.length > 0 ? Integer.parseInt(args[0]) : defaultEpochs;
    }
}
