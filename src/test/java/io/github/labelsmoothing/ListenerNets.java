package io.github.labelsmoothing;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * Networks and data for the adaptive-smoothing listeners: a double-precision MLP whose learning rate is 0 (parameters
 * never change, so every iteration's score can be recomputed afterwards from {@code net.output}), and a recorder of
 * the score of every iteration.
 */
final class ListenerNets {
    static final int CLASSES = 3;
    static final int BATCH = 4;

    private ListenerNets() {
    }

    /** 4 features, a tanh layer, a softmax head with the given loss; learning rate 0. */
    static MultiLayerNetwork frozenMlp(ILossFunction headLoss) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(7)
                .dataType(DataType.DOUBLE).updater(new Sgd(0)).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(6).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder().lossFunction(headLoss).nIn(6).nOut(CLASSES)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        return net;
    }

    /** {@code n} examples, 4 features, one-hot labels over 3 classes. */
    static DataSet data(int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray features = Nd4j.randn(DataType.DOUBLE, n, 4).muli(2);
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, n, CLASSES);
        for (int i = 0; i < n; i++) {
            labels.putScalar(i, (i * 7 + (int) seed) % CLASSES, 1);
        }
        return new DataSet(features, labels);
    }

    /** Batches of {@link #BATCH}, in order. */
    static List<DataSet> batches(DataSet data) {
        return data.batchBy(BATCH);
    }

    static DataSetIterator iterator(DataSet data) {
        return new ListDataSetIterator<>(data.asList(), BATCH);
    }

    /** Mean cross-entropy {@code -Σ_k t_ik log p_ik / N} of probabilities against targets, in plain Java. */
    static double meanCrossEntropy(double[][] probabilities, double[][] targets) {
        double total = 0;
        for (int i = 0; i < probabilities.length; i++) {
            for (int k = 0; k < probabilities[i].length; k++) {
                total -= targets[i][k] * Math.log(probabilities[i][k]);
            }
        }
        return total / probabilities.length;
    }

    /** Uniform label smoothing of one-hot rows: {@code (1 - s)·y + s/K}. */
    static double[][] uniformTargets(double[][] y, double s) {
        double[][] t = new double[y.length][];
        for (int i = 0; i < y.length; i++) {
            t[i] = new double[y[i].length];
            for (int k = 0; k < y[i].length; k++) {
                t[i][k] = (1 - s) * y[i][k] + s / y[i].length;
            }
        }
        return t;
    }

    /** Records the score of every training iteration (computed before that iteration's update). */
    static final class Scores extends BaseTrainingListener {
        final List<Double> values = new ArrayList<>();

        @Override
        public void iterationDone(Model model, int iteration, int epoch) {
            values.add(model.score());
        }
    }
}
