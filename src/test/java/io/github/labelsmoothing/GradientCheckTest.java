package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.CnnLossLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnLossLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

/** DL4J's own numerical gradient check, in double precision, through whole networks using the smoothed loss. */
class GradientCheckTest {
    private static DataType previousType;

    @BeforeAll
    static void doublePrecision() {
        previousType = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    }

    @AfterAll
    static void restorePrecision() {
        Nd4j.setDefaultDataTypes(previousType, previousType);
    }

    private static NeuralNetConfiguration.ListBuilder builder() {
        return new NeuralNetConfiguration.Builder().seed(12345).dataType(DataType.DOUBLE).updater(new NoOp())
                .weightInit(WeightInit.XAVIER).list();
    }

    private static boolean check(MultiLayerConfiguration conf, INDArray input, INDArray labels, INDArray labelMask) {
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(net).input(input)
                .labels(labels).labelMask(labelMask).epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-9));
    }

    private static INDArray oneHot(int n, int k, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, n, k);
        for (int i = 0; i < n; i++) {
            labels.putScalar(i, Nd4j.getRandom().nextInt(k), 1);
        }
        return labels;
    }

    @Test
    void denseNetwork() {
        MultiLayerConfiguration conf = builder()
                .layer(new DenseLayer.Builder().nIn(4).nOut(6).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder().lossFunction(new LossLabelSmoothing(0.2)).nIn(6).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        Nd4j.getRandom().setSeed(1);
        assertTrue(check(conf, Nd4j.rand(DataType.DOUBLE, 5, 4), oneHot(5, 3, 2), null));
    }

    @Test
    void denseNetworkWithWeightsAndCustomPrior() {
        MultiLayerConfiguration conf = builder()
                .layer(new DenseLayer.Builder().nIn(4).nOut(6).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder().lossFunction(new LossLabelSmoothing(0.3,
                                new LossMCXENT(Nd4j.createFromArray(1.0, 2.0, 0.5)), new double[] {0.5, 0.3, 0.2}))
                        .nIn(6).nOut(3).activation(Activation.SOFTMAX).build())
                .build();
        Nd4j.getRandom().setSeed(3);
        assertTrue(check(conf, Nd4j.rand(DataType.DOUBLE, 5, 4), oneHot(5, 3, 4), null));
    }

    @Test
    void denseNetworkWithSparseLabels() {
        MultiLayerConfiguration conf = builder()
                .layer(new DenseLayer.Builder().nIn(4).nOut(6).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder().lossFunction(new LossLabelSmoothing(0.2, new LossSparseMCXENT()))
                        .nIn(6).nOut(4).activation(Activation.SOFTMAX).build())
                .build();
        Nd4j.getRandom().setSeed(5);
        INDArray indices = Nd4j.createFromArray(new double[][] {{0}, {3}, {1}, {2}, {3}});
        assertTrue(check(conf, Nd4j.rand(DataType.DOUBLE, 5, 4), indices, null));
    }

    @Test
    void recurrentOutputLayerWithLabelMask() {
        int n = 3;
        int k = 3;
        int t = 4;
        MultiLayerConfiguration conf = builder()
                .layer(new LSTM.Builder().nIn(2).nOut(4).activation(Activation.TANH).build())
                .layer(new RnnOutputLayer.Builder().lossFunction(new LossLabelSmoothing(0.1)).nIn(4).nOut(k)
                        .activation(Activation.SOFTMAX).build())
                .build();
        Nd4j.getRandom().setSeed(7);
        INDArray input = Nd4j.rand(DataType.DOUBLE, n, 2, t);
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, n, k, t);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < t; j++) {
                labels.putScalar(new int[] {i, (i + j) % k, j}, 1);
            }
        }
        INDArray mask = Nd4j.createFromArray(new double[][] {{1, 1, 1, 1}, {1, 1, 0, 0}, {1, 0, 0, 0}});
        assertTrue(check(conf, input, labels, mask));
    }

    /** RnnLossLayer hands the loss a column-major [N*T, K] preOutput; sparse [N,1,T] labels with a label mask. */
    @Test
    void rnnLossLayerWithSparseLabelsAndALabelMask() {
        MultiLayerConfiguration conf = builder()
                .layer(new LSTM.Builder().nIn(2).nOut(3).activation(Activation.TANH).build())
                .layer(new RnnLossLayer.Builder().lossFunction(new LossLabelSmoothing(0.2, new LossSparseMCXENT()))
                        .activation(Activation.SOFTMAX).build())
                .build();
        Nd4j.getRandom().setSeed(11);
        INDArray input = Nd4j.rand(DataType.DOUBLE, 2, 2, 4);
        INDArray indices = Nd4j.createFromArray(new double[][][] {{{0, 2, 1, 2}}, {{1, 1, 0, 2}}});
        INDArray mask = Nd4j.createFromArray(new double[][] {{1, 1, 1, 1}, {1, 1, 1, 0}});
        assertTrue(check(conf, input, indices, mask));
    }

    @Test
    void cnnLossLayer() {
        int k = 3;
        MultiLayerConfiguration conf = builder()
                .layer(new ConvolutionLayer.Builder().kernelSize(2, 2).stride(1, 1).nIn(2).nOut(k)
                        .convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY).build())
                .layer(new CnnLossLayer.Builder().lossFunction(new LossLabelSmoothing(0.15))
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(3, 3, 2, CNN2DFormat.NCHW))
                .build();
        Nd4j.getRandom().setSeed(9);
        INDArray input = Nd4j.rand(DataType.DOUBLE, 2, 2, 3, 3);
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, 2, k, 3, 3);
        for (int i = 0; i < 2; i++) {
            for (int h = 0; h < 3; h++) {
                for (int w = 0; w < 3; w++) {
                    labels.putScalar(new int[] {i, (i + h + w) % k, h, w}, 1);
                }
            }
        }
        assertTrue(check(conf, input, labels, null));
    }
}
