package io.github.labelsmoothing.consumer;

import io.github.labelsmoothing.LossLabelSmoothing;
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

/**
 * README's drop-in example, trained the way a user's application would run it: only the published artifact, its
 * transitive dependencies and a backend on the classpath. Generated data (no download, no deeplearning4j-core): three
 * Gaussian classes in four dimensions. Exits non-zero unless the score is finite and falls.
 */
public final class DropInTraining {
    private static final int EXAMPLES = 150;
    private static final int FEATURES = 4;
    private static final int CLASSES = 3;
    private static final int STEPS = 20;

    private DropInTraining() {
    }

    public static void main(String[] args) {
        Nd4j.getRandom().setSeed(42);
        INDArray classIndices = Nd4j.linspace(DataType.LONG, 0, EXAMPLES, 1).fmodi(CLASSES);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, EXAMPLES, CLASSES);
        INDArray features = Nd4j.randn(DataType.FLOAT, EXAMPLES, FEATURES);
        for (int i = 0; i < EXAMPLES; i++) {
            int c = classIndices.getInt(i);
            labels.putScalar(i, c, 1);
            features.getRow(i).addi(2 * c); // class c centred at (2c, 2c, 2c, 2c): separable, not trivially
        }
        DataSet data = new DataSet(features, labels);

        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(42)
                .updater(new Adam(0.01))
                .list()
                .layer(new DenseLayer.Builder().nIn(FEATURES).nOut(16).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder()
                        .lossFunction(new LossLabelSmoothing(0.1))   // instead of LossFunction.MCXENT
                        .activation(Activation.SOFTMAX).nIn(16).nOut(CLASSES).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();

        double before = net.score(data);
        for (int step = 0; step < STEPS; step++) {
            net.fit(data);
        }
        double after = net.score(data);
        System.out.printf("consumer: LossLabelSmoothing(0.1) on %s, score %.4f -> %.4f after %d steps%n",
                Nd4j.getBackend().getClass().getSimpleName(), before, after, STEPS);
        if (!Double.isFinite(before) || !Double.isFinite(after) || !(after < before)) {
            throw new IllegalStateException("score must be finite and fall: " + before + " -> " + after);
        }
    }
}
