package io.github.labelsmoothing;

import static io.github.labelsmoothing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.datasets.iterator.AsyncDataSetIterator;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.api.preprocessor.CompositeDataSetPreProcessor;
import org.nd4j.linalg.dataset.api.preprocessor.NormalizerStandardize;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

class LabelSmoothingPreProcessorTest {

    private static DataSet dataSet(INDArray labels) {
        return new DataSet(Nd4j.zeros(DataType.DOUBLE, labels.size(0), 2), labels);
    }

    @Test
    void denseTwoDimensionalLabels() {
        INDArray labels = Nd4j.createFromArray(new double[][] {{0, 0, 1, 0}, {1, 0, 0, 0}});
        DataSet ds = dataSet(labels);
        new LabelSmoothingPreProcessor(0.2).preProcess(ds);
        // s/K = 0.05, hot: 0.8 + 0.05
        assertArrayEquals(new double[] {0.05, 0.05, 0.85, 0.05, 0.85, 0.05, 0.05, 0.05},
                ds.getLabels().ravel().toDoubleVector(), 1e-15);
        assertEquals(Nd4j.createFromArray(new double[][] {{0, 0, 1, 0}, {1, 0, 0, 0}}), labels,
                "the caller's array is not written");
        assertNotSame(labels, ds.getLabels());
    }

    @Test
    void timeSeriesWithALabelMaskKeepPaddingZero() {
        // [N=1, K=2, T=3], last step masked
        INDArray labels = Nd4j.createFromArray(new double[][][] {{{1, 0, 0}, {0, 1, 0}}});
        DataSet ds = new DataSet(Nd4j.zeros(DataType.DOUBLE, 1, 2, 3), labels, null,
                Nd4j.createFromArray(new double[][] {{1, 1, 0}}));
        new LabelSmoothingPreProcessor(0.2).preProcess(ds);
        INDArray expected = Nd4j.createFromArray(new double[][][] {{{0.9, 0.1, 0}, {0.1, 0.9, 0}}});
        assertTrue(expected.equalsWithEps(ds.getLabels(), 1e-15), ds.getLabels().toString());
    }

    @Test
    void segmentationLabelsAreSmoothedPerPixel() {
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, 1, 2, 2, 2);
        labels.putScalar(new int[] {0, 0, 0, 0}, 1);
        labels.putScalar(new int[] {0, 0, 0, 1}, 1);
        labels.putScalar(new int[] {0, 1, 1, 0}, 1);
        labels.putScalar(new int[] {0, 1, 1, 1}, 1);
        DataSet ds = dataSet(labels);
        new LabelSmoothingPreProcessor(0.1).preProcess(ds);
        assertEquals(0.95, ds.getLabels().getDouble(0, 0, 0, 0), 1e-15);
        assertEquals(0.05, ds.getLabels().getDouble(0, 1, 0, 0), 1e-15);
        assertEquals(0.95, ds.getLabels().getDouble(0, 1, 1, 1), 1e-15);
    }

    @Test
    void softLabelsGetTheSameConvexCombination() {
        DataSet ds = dataSet(Nd4j.createFromArray(new double[][] {{0.6, 0.4}}));
        new LabelSmoothingPreProcessor(0.5).preProcess(ds);
        assertArrayEquals(new double[] {0.55, 0.45}, ds.getLabels().ravel().toDoubleVector(), 1e-15);
    }

    @Test
    void classIndicesBecomeDenseSmoothedLabels() {
        DataSet column = dataSet(Nd4j.createFromArray(new double[][] {{2}, {0}}));
        new LabelSmoothingPreProcessor(0.3, 3).preProcess(column);
        assertArrayEquals(new double[] {0.1, 0.1, 0.8, 0.8, 0.1, 0.1}, column.getLabels().ravel().toDoubleVector(),
                1e-15);

        // [N=1, 1, T=2] with the second step masked -> [1, 3, 2]
        INDArray sequence = Nd4j.createFromArray(new double[][][] {{{1, 2}}});
        DataSet ds = new DataSet(Nd4j.zeros(DataType.DOUBLE, 1, 2, 2), sequence, null,
                Nd4j.createFromArray(new double[][] {{1, 0}}));
        new LabelSmoothingPreProcessor(0.3, 3).preProcess(ds);
        assertArrayEquals(new long[] {1, 3, 2}, ds.getLabels().shape());
        assertArrayEquals(new double[] {0.1, 0, 0.8, 0, 0.1, 0}, ds.getLabels().ravel().toDoubleVector(), 1e-15);
    }

    @Test
    void singleOutputWithoutNumClassesIsABernoulliTarget() {
        DataSet ds = dataSet(Nd4j.createFromArray(new double[][] {{1}, {0}}));
        new LabelSmoothingPreProcessor(0.2).preProcess(ds);
        assertArrayEquals(new double[] {0.9, 0.1}, ds.getLabels().ravel().toDoubleVector(), 1e-15);
    }

    @Test
    void bernoulliOptionSmoothsMultiLabelTargetsTowardsOneHalf() {
        DataSet ds = dataSet(Nd4j.createFromArray(new double[][] {{1, 0, 1}}));
        LabelSmoothingPreProcessor.builder(0.2).bernoulli().build().preProcess(ds);
        assertArrayEquals(new double[] {0.9, 0.1, 0.9}, ds.getLabels().ravel().toDoubleVector(), 1e-15);
    }

    @Test
    void channelsLastSmoothsTheLastAxis() {
        // NWC [N=1, T=2, K=2]
        DataSet ds = dataSet(Nd4j.createFromArray(new double[][][] {{{1, 0}, {0, 1}}}));
        LabelSmoothingPreProcessor.builder(0.2).channelsLast(true).build().preProcess(ds);
        assertArrayEquals(new double[] {0.9, 0.1, 0.1, 0.9}, ds.getLabels().ravel().toDoubleVector(), 1e-15);
        // NWC indices [N=1, T=2, 1] -> [1, 2, 3]
        DataSet indices = dataSet(Nd4j.createFromArray(new double[][][] {{{2}, {0}}}));
        LabelSmoothingPreProcessor.builder(0.3).numClasses(3).channelsLast(true).build().preProcess(indices);
        assertArrayEquals(new long[] {1, 2, 3}, indices.getLabels().shape());
        assertArrayEquals(new double[] {0.1, 0.1, 0.8, 0.8, 0.1, 0.1}, indices.getLabels().ravel().toDoubleVector(),
                1e-15);
    }

    @Test
    void customPrior() {
        DataSet ds = dataSet(Nd4j.createFromArray(new double[][] {{1, 0}}));
        LabelSmoothingPreProcessor.builder(0.5).prior(new double[] {0.2, 0.8}).build().preProcess(ds);
        assertArrayEquals(new double[] {0.6, 0.4}, ds.getLabels().ravel().toDoubleVector(), 1e-15);
    }

    @Test
    void multiDataSetArraysOfDifferentRanksAreAllSmoothed() {
        INDArray twoD = Nd4j.createFromArray(new double[][] {{1, 0}});
        INDArray threeD = Nd4j.createFromArray(new double[][][] {{{1, 0}, {0, 1}}}); // [1, K=2, T=2]
        MultiDataSet mds = new MultiDataSet(new INDArray[] {Nd4j.zeros(1, 2)}, new INDArray[] {twoD, threeD});
        new LabelSmoothingPreProcessor(0.2).preProcess(mds);
        assertArrayEquals(new double[] {0.9, 0.1}, mds.getLabels(0).ravel().toDoubleVector(), 1e-15);
        assertArrayEquals(new double[] {0.9, 0.1, 0.1, 0.9}, mds.getLabels(1).ravel().toDoubleVector(), 1e-15);
        assertEquals(Nd4j.createFromArray(new double[][] {{1, 0}}), twoD);
    }

    @Test
    void multiDataSetSelectedArraysOnly() {
        INDArray classes = Nd4j.createFromArray(new double[][] {{1, 0}});
        INDArray regression = Nd4j.createFromArray(new double[][] {{3.5, -2}});
        MultiDataSet mds = new MultiDataSet(new INDArray[] {Nd4j.zeros(1, 2)}, new INDArray[] {classes, regression});
        LabelSmoothingPreProcessor.builder(0.2).labelsArrays(0).build().preProcess(mds);
        assertArrayEquals(new double[] {0.9, 0.1}, mds.getLabels(0).ravel().toDoubleVector(), 1e-15);
        assertSame(regression, mds.getLabels(1));
    }

    @Test
    void repeatedCallsDoNotCompound() {
        DataSet ds = dataSet(Nd4j.createFromArray(new double[][] {{0, 1}}));
        LabelSmoothingPreProcessor pre = new LabelSmoothingPreProcessor(0.2);
        pre.preProcess(ds);
        INDArray first = ds.getLabels().dup();
        pre.preProcess(ds);
        pre.preProcess(ds);
        assertEquals(first, ds.getLabels());
        assertArrayEquals(new double[] {0.1, 0.9}, ds.getLabels().ravel().toDoubleVector(), 1e-15);

        MultiDataSet mds = new MultiDataSet(Nd4j.zeros(1, 2), Nd4j.createFromArray(new double[][] {{0, 1}}));
        pre.preProcess(mds);
        pre.preProcess(mds);
        assertArrayEquals(new double[] {0.1, 0.9}, mds.getLabels(0).ravel().toDoubleVector(), 1e-15);
    }

    @Test
    void cachedDataSetsOverThreeEpochsAreSmoothedOnce() {
        List<DataSet> cached = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            INDArray labels = Nd4j.zeros(DataType.DOUBLE, 2, 3);
            labels.putScalar(0, i % 3, 1);
            labels.putScalar(1, (i + 1) % 3, 1);
            cached.add(dataSet(labels));
        }
        INDArray[] expected = cached.stream().map(ds -> LabelSmoothing.smoothLabels(ds.getLabels(), 0.3))
                .toArray(INDArray[]::new);
        CachedIterators.OfDataSets it = new CachedIterators.OfDataSets(cached, false);
        it.setPreProcessor(new LabelSmoothingPreProcessor(0.3));
        for (int epoch = 0; epoch < 3; epoch++) {
            it.reset();
            while (it.hasNext()) {
                it.next();
            }
            for (int i = 0; i < cached.size(); i++) {
                assertTrue(expected[i].equalsWithEps(cached.get(i).getLabels(), 1e-15), "epoch " + epoch + " data set " + i
                        + ": " + cached.get(i).getLabels());
            }
        }
        assertEquals(12, it.served, "the preprocessor saw every cached data set in every epoch");
    }

    @Test
    void chainsInACompositePreProcessorAndRunsBehindAnAsyncIterator() {
        List<DataSet> data = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            INDArray labels = Nd4j.zeros(DataType.FLOAT, 4, 2);
            labels.getColumn(i % 2).assign(1);
            data.add(new DataSet(Nd4j.rand(DataType.FLOAT, 4, 3), labels));
        }
        NormalizerStandardize norm = new NormalizerStandardize();
        norm.fit(new ListDataSetIterator<>(data, 4));
        DataSetIterator base = new ListDataSetIterator<>(copies(data), 4);
        base.setPreProcessor(new CompositeDataSetPreProcessor(norm, new LabelSmoothingPreProcessor(0.1)));
        AsyncDataSetIterator async = new AsyncDataSetIterator(base, 2);
        int seen = 0;
        while (async.hasNext()) {
            DataSet ds = async.next();
            INDArray labels = ds.getLabels();
            assertEquals(0.95f, labels.maxNumber().floatValue(), 1e-6f);
            assertEquals(0.05f, labels.minNumber().floatValue(), 1e-6f);
            seen += ds.numExamples();
        }
        async.shutdown();
        assertEquals(24, seen);
    }

    private static List<DataSet> copies(List<DataSet> data) {
        return data.stream().map(DataSet::copy).toList();
    }

    @Test
    void trainingWithThePreProcessorTakesTheSameStepAsTheLoss() {
        Nd4j.getRandom().setSeed(3);
        INDArray features = Nd4j.rand(DataType.DOUBLE, 8, 4);
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, 8, 3);
        for (int i = 0; i < 8; i++) {
            labels.putScalar(i, i % 3, 1);
        }
        MultiLayerNetwork viaLoss = net(new LossLabelSmoothing(0.1));
        MultiLayerNetwork viaPre = net(new LossMCXENT());
        viaPre.setParams(viaLoss.params().dup());

        viaLoss.fit(new DataSet(features, labels));
        DataSet pre = new DataSet(features, labels);
        new LabelSmoothingPreProcessor(0.1).preProcess(pre);
        viaPre.fit(pre);
        assertClose(viaLoss.params(), viaPre.params(), 1e-9, 1e-12, "parameters after one step");
        assertTrue(viaLoss.params().sub(net(new LossMCXENT()).params()).amaxNumber().doubleValue() > 1e-4,
                "the step moved the parameters");
    }

    private static MultiLayerNetwork net(ILossFunction loss) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.DOUBLE)
                .updater(new Sgd(0.5)).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(5).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder().lossFunction(loss).nIn(5).nOut(3).activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    @Test
    void javaSerializationKeepsTheOptions() throws Exception {
        LabelSmoothingPreProcessor pre = LabelSmoothingPreProcessor.builder(0.2).numClasses(3).channelsLast(true)
                .prior(new double[] {0.5, 0.25, 0.25}).labelsArrays(0, 2).build();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(pre);
        }
        LabelSmoothingPreProcessor back;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            back = (LabelSmoothingPreProcessor) in.readObject();
        }
        assertEquals(pre, back);
        assertEquals(pre.hashCode(), back.hashCode());
        DataSet ds = dataSet(Nd4j.createFromArray(new double[][][] {{{2}}}));
        back.preProcess(ds);
        back.preProcess(ds);
        assertArrayEquals(new double[] {0.1, 0.05, 0.85}, ds.getLabels().ravel().toDoubleVector(), 1e-15);
    }

    @Test
    void badInputsAreRejectedAndChangeNothing() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new LabelSmoothingPreProcessor(-0.1))
                .getMessage().contains("-0.1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new LabelSmoothingPreProcessor(0.1, 1))
                .getMessage().contains("numClasses"));

        INDArray indices = Nd4j.createFromArray(new double[][] {{2}, {0}});
        DataSet ds = dataSet(indices);
        String message = assertThrows(IllegalArgumentException.class,
                () -> new LabelSmoothingPreProcessor(0.1).preProcess(ds)).getMessage();
        assertTrue(message.contains("numClasses") && message.contains("[0.0, 2.0]"), message);
        assertSame(indices, ds.getLabels());

        DataSet rank1 = dataSet(Nd4j.createFromArray(2.0, 0.0).reshape(2, 1));
        assertThrows(IllegalArgumentException.class, () -> new LabelSmoothingPreProcessor(0.1).preProcess(rank1));

        DataSet outOfRange = dataSet(Nd4j.createFromArray(new double[][] {{5}, {0}}));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new LabelSmoothingPreProcessor(0.1, 3).preProcess(outOfRange)).getMessage().contains("5.0"));

        DataSet wrongK = dataSet(Nd4j.createFromArray(new double[][] {{1, 0}}));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new LabelSmoothingPreProcessor(0.1, 3).preProcess(wrongK)).getMessage().contains("numClasses is 3"));

        DataSet badMask = new DataSet(Nd4j.zeros(1, 2, 3), Nd4j.zeros(DataType.DOUBLE, 1, 2, 3), null,
                Nd4j.ones(1, 4));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new LabelSmoothingPreProcessor(0.1).preProcess(badMask)).getMessage().contains("[1, 4]"));

        INDArray good = Nd4j.createFromArray(new double[][] {{1, 0}});
        INDArray bad = Nd4j.createFromArray(new double[][] {{7}});
        MultiDataSet mds = new MultiDataSet(new INDArray[] {Nd4j.zeros(1, 2)}, new INDArray[] {good, bad});
        assertThrows(IllegalArgumentException.class, () -> new LabelSmoothingPreProcessor(0.1).preProcess(mds));
        assertSame(good, mds.getLabels(0), "a rejected MultiDataSet call changes no array");
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LabelSmoothingPreProcessor.builder(0.1).labelsArrays(3).build().preProcess(mds)).getMessage()
                .contains("[3]"));
        assertThrows(IllegalArgumentException.class, () -> LabelSmoothingPreProcessor.builder(0.1).labelsArrays(1, 1));
        assertThrows(IllegalArgumentException.class,
                () -> new LabelSmoothingPreProcessor(0.1).preProcess(new DataSet(Nd4j.zeros(1, 2), null)));
    }
}
