package io.github.labelsmoothing;

import static io.github.labelsmoothing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * {@link OnlineLabelSmoothing} at learning rate 0: the learned rows equal the mean softmax output of each class's
 * correctly predicted examples computed independently with {@code net.output}, and the scores equal the hand formula;
 * every test trains under SCOPE_PANIC (the listener reads the head inside DL4J's workspaces) but the ParallelWrapper
 * one, whose expected worker error log stays out of the build log.
 */
@ExtendWith({ScopePanic.class, QuietOutput.class})
class OnlineLabelSmoothingTest {
    private static final double S = 0.5;

    /** Row c: the mean of {@code net.output} over the unmasked examples of class c predicted as c; else uniform. */
    private static double[][] expectedRows(MultiLayerNetwork net, DataSet data, double[] mask) {
        return expectedRows(net.output(data.getFeatures()).toDoubleMatrix(), data.getLabels().toDoubleMatrix(), mask);
    }

    private static double[][] expectedRows(double[][] p, double[][] y, double[] mask) {
        int k = y[0].length;
        double[][] sums = new double[k][k];
        int[] counts = new int[k];
        for (int i = 0; i < p.length; i++) {
            int label = argMax(y[i]);
            if ((mask == null || mask[i] != 0) && argMax(p[i]) == label) {
                counts[label]++;
                for (int j = 0; j < k; j++) {
                    sums[label][j] += p[i][j];
                }
            }
        }
        for (int c = 0; c < k; c++) {
            for (int j = 0; j < k; j++) {
                sums[c][j] = counts[c] == 0 ? 1.0 / k : sums[c][j] / counts[c];
            }
        }
        return sums;
    }

    /** Whether a row is not uniform, so that the test checks learned rows and not only the fallback. */
    private static boolean learnedSomething(double[][] rows) {
        return Arrays.stream(rows).anyMatch(row -> Math.abs(row[0] - 1.0 / row.length) > 1e-6);
    }

    private static int argMax(double[] v) {
        int best = 0;
        for (int j = 1; j < v.length; j++) {
            if (v[j] > v[best]) {
                best = j;
            }
        }
        return best;
    }

    /** Targets {@code (1 - s)·y + s·rows[c]} written out for one-hot labels. */
    private static double[][] targets(double[][] y, double[][] rows) {
        double[][] t = new double[y.length][];
        for (int i = 0; i < y.length; i++) {
            int c = argMax(y[i]);
            t[i] = new double[y[i].length];
            for (int j = 0; j < t[i].length; j++) {
                t[i][j] = (1 - S) * y[i][j] + S * rows[c][j];
            }
        }
        return t;
    }

    private static void assertRows(double[][] expected, double[][] actual) {
        assertEquals(expected.length, actual.length);
        for (int c = 0; c < expected.length; c++) {
            assertClose(expected[c], actual[c], 1e-9, 1e-12, "row " + c);
        }
    }

    private static ILossFunction headLoss(MultiLayerNetwork net) {
        return ((OutputLayer) net.getLayerWiseConfigurations().getConf(1).getLayer()).getLossFn();
    }

    @Test
    void oneEpochLearnsTheMeanSoftmaxOfCorrectPredictionsAndTheNextScoreUsesIt(@TempDir Path dir) throws Exception {
        DataSet data = ListenerNets.data(24, 4);
        List<DataSet> batches = ListenerNets.batches(data);
        MultiLayerNetwork net = ListenerNets.frozenMlp(new LossMCXENT());
        OnlineLabelSmoothing ols = new OnlineLabelSmoothing(S);
        ListenerNets.Scores scores = new ListenerNets.Scores();
        net.setListeners(ols, scores);
        assertNull(ols.softLabels());
        net.fit(ListenerNets.iterator(data), 1);

        // epoch 0: ordinary label smoothing with s
        for (int b = 0; b < batches.size(); b++) {
            assertClose(ListenerNets.meanCrossEntropy(net.output(batches.get(b).getFeatures()).toDoubleMatrix(),
                    ListenerNets.uniformTargets(batches.get(b).getLabels().toDoubleMatrix(), S)),
                    scores.values.get(b), 1e-9, 0, "epoch 0, batch " + b);
        }
        double[][] rows = expectedRows(net, data, null);
        assertTrue(learnedSomething(rows), "some class has correct predictions");
        assertRows(rows, ols.softLabels());
        assertEquals(LossLabelSmoothing.classConditional(S, new LossMCXENT(), ols.softLabels()), headLoss(net));

        // the next iteration's score is the hand formula with the learned rows
        DataSet next = batches.get(1);
        net.fit(next);
        assertClose(ListenerNets.meanCrossEntropy(net.output(next.getFeatures()).toDoubleMatrix(),
                targets(next.getLabels().toDoubleMatrix(), rows)), scores.values.get(batches.size()), 1e-9, 0,
                "first score of epoch 1");

        // saved mid-training (inside epoch 1), restored, continued: the rows in force are kept, then learned again
        File file = dir.resolve("ols.zip").toFile();
        ModelSerializer.writeModel(net, file, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(file, true);
        assertEquals(headLoss(net), headLoss(restored));
        OnlineLabelSmoothing resumed = new OnlineLabelSmoothing(S);
        ListenerNets.Scores resumedScores = new ListenerNets.Scores();
        restored.setListeners(resumed, resumedScores);
        restored.fit(ListenerNets.iterator(data), 1);
        DataSet first = batches.get(0);
        assertClose(ListenerNets.meanCrossEntropy(restored.output(first.getFeatures()).toDoubleMatrix(),
                targets(first.getLabels().toDoubleMatrix(), rows)), resumedScores.values.get(0), 1e-9, 0,
                "first score after the restore");
        assertRows(expectedRows(restored, data, null), resumed.softLabels());
    }

    @Test
    void aHandWrittenLoopEndsEpochsWithEndEpochAndMaskedExamplesAreIgnored() {
        DataSet data = ListenerNets.data(12, 9);
        double[][] y = data.getLabels().toDoubleMatrix();
        double[] mask = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            mask[i] = argMax(y[i]) == 2 ? 0 : 1; // class 2 fully masked: its row must stay uniform
        }
        INDArray maskColumn = Nd4j.createFromArray(mask).reshape(mask.length, 1);
        MultiLayerNetwork net = ListenerNets.frozenMlp(new LossLabelSmoothing(0.1));
        OnlineLabelSmoothing ols = new OnlineLabelSmoothing(S);
        net.setListeners(ols);
        for (int from = 0; from < y.length; from += ListenerNets.BATCH) {
            // built by hand: DataSet.batchBy widens a [N,1] labels mask to [N,K]
            INDArrayIndex rows = NDArrayIndex.interval(from, from + ListenerNets.BATCH);
            net.fit(new DataSet(data.getFeatures().get(rows, NDArrayIndex.all()),
                    data.getLabels().get(rows, NDArrayIndex.all()), null, maskColumn.get(rows, NDArrayIndex.all())));
        }
        assertRows(new double[][] {{1.0 / 3, 1.0 / 3, 1.0 / 3}, {1.0 / 3, 1.0 / 3, 1.0 / 3},
            {1.0 / 3, 1.0 / 3, 1.0 / 3}}, ols.softLabels());
        assertEquals(new LossLabelSmoothing(S), headLoss(net));
        ols.endEpoch(net);
        double[][] rows = expectedRows(net, data, mask);
        assertTrue(learnedSomething(rows), "some unmasked class has correct predictions");
        assertRows(rows, ols.softLabels());
        assertRows(new double[][] {{1.0 / 3, 1.0 / 3, 1.0 / 3}}, new double[][] {ols.softLabels()[2]});
    }

    @Test
    void aNamedGraphHeadLearnsItsRowsToo() {
        ComputationGraph graph = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(3)
                .dataType(DataType.DOUBLE).updater(new Sgd(0)).graphBuilder().addInputs("in")
                .addLayer("hidden", new DenseLayer.Builder().nIn(4).nOut(6).activation(Activation.TANH).build(), "in")
                .addLayer("out", new OutputLayer.Builder().lossFunction(new LossMCXENT()).nIn(6)
                        .nOut(ListenerNets.CLASSES).activation(Activation.SOFTMAX).build(), "hidden")
                .setOutputs("out").build());
        graph.init();
        OnlineLabelSmoothing ols = new OnlineLabelSmoothing(S, "out");
        graph.setListeners(ols);
        DataSet data = ListenerNets.data(16, 6);
        graph.fit(ListenerNets.iterator(data), 1);
        double[][] rows = expectedRows(graph.outputSingle(data.getFeatures()).toDoubleMatrix(),
                data.getLabels().toDoubleMatrix(), null);
        assertTrue(learnedSomething(rows), "some class has correct predictions");
        assertRows(rows, ols.softLabels("out"));
        assertEquals(LossLabelSmoothing.classConditional(S, new LossMCXENT(), rows),
                ((OutputLayer) ((LayerVertex) graph.getConfiguration().getVertices().get("out")).getLayerConf()
                        .getLayer()).getLossFn());
    }

    @Test
    void parallelWrapperIsRefusedItsWorkersTrainCopies() throws Exception {
        Nd4j.getExecutioner().setProfilingMode(OpExecutioner.ProfilingMode.DISABLED); // ParallelWrapper's own arrays
        MultiLayerNetwork net = ListenerNets.frozenMlp(new LossMCXENT());
        net.setListeners(new OnlineLabelSmoothing(S));
        try (ParallelWrapper wrapper = new ParallelWrapper.Builder<>(net).workers(2).prefetchBuffer(2)
                .averagingFrequency(1).build()) {
            RuntimeException thrown = assertThrows(RuntimeException.class, () -> wrapper.fit(
                    new ListDataSetIterator<>(ListenerNets.batches(ListenerNets.data(64, 1)), 1)));
            Throwable cause = thrown;
            while (!(cause instanceof IllegalStateException) && cause.getCause() != null) {
                cause = cause.getCause();
            }
            assertInstanceOf(IllegalStateException.class, cause, () -> "cause of " + thrown);
            assertTrue(cause.getMessage().contains("ParallelWrapper") && cause.getMessage().contains("Spark"),
                    cause.getMessage());
        }
        assertFalse(java.io.Serializable.class.isAssignableFrom(OnlineLabelSmoothing.class), "Spark cannot ship it");
    }

    @Test
    void badArgumentsAreRefused() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new OnlineLabelSmoothing(1.5)).getMessage()
                .contains("1.5"));
        assertThrows(IllegalArgumentException.class, () -> new OnlineLabelSmoothing(0.5, new String[0]));
        MultiLayerNetwork net = ListenerNets.frozenMlp(new LossMCXENT());
        net.setListeners(new OnlineLabelSmoothing(S, "layer0"));
        String notHead = assertThrows(IllegalArgumentException.class, () -> net.fit(ListenerNets.data(4, 1)))
                .getMessage();
        assertTrue(notHead.contains("'layer0'"), notHead);
    }

    @Test
    void aSecondEndEpochWithoutTrainingKeepsTheLearnedRows() {
        DataSet data = ListenerNets.data(12, 9);
        MultiLayerNetwork net = ListenerNets.frozenMlp(new LossMCXENT());
        OnlineLabelSmoothing ols = new OnlineLabelSmoothing(S);
        net.setListeners(ols);
        net.fit(ListenerNets.iterator(data), 1);
        double[][] learned = ols.softLabels();
        assertTrue(learnedSomething(learned), "some class has correct predictions");
        ols.endEpoch(net); // an extra call, or an empty epoch: nothing accumulated since the last end
        assertRows(learned, ols.softLabels());
        assertEquals(LossLabelSmoothing.classConditional(S, new LossMCXENT(), learned), headLoss(net));
    }

    @Test
    void aRefusedBindChangesNoHead() {
        ComputationGraph graph = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(3)
                .dataType(DataType.DOUBLE).updater(new Sgd(0)).graphBuilder().addInputs("in")
                .addLayer("out1", new OutputLayer.Builder().lossFunction(new LossMCXENT()).nIn(4)
                        .nOut(ListenerNets.CLASSES).activation(Activation.SOFTMAX).build(), "in")
                .addLayer("out2", new OutputLayer.Builder().lossFunction(new LossMCXENT()).nIn(4)
                        .nOut(ListenerNets.CLASSES).activation(Activation.SOFTMAX).build(), "in")
                .setOutputs("out1", "out2").build());
        graph.init();
        String before = graph.getConfiguration().toJson();
        graph.setListeners(new OnlineLabelSmoothing(S));
        DataSet data = ListenerNets.data(4, 2);
        String m = assertThrows(IllegalArgumentException.class, () -> graph.fit(new org.nd4j.linalg.dataset.MultiDataSet(
                new INDArray[] {data.getFeatures()}, new INDArray[] {data.getLabels(), data.getLabels()}))).getMessage();
        assertTrue(m.contains("several softmax heads"), m);
        assertEquals(before, graph.getConfiguration().toJson(), "no head was given a smoothing");
    }

    @Test
    void aTimeSeriesHeadIsRefusedBeforeAnythingChanges() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3)
                .dataType(DataType.DOUBLE).updater(new Sgd(0)).list()
                .layer(new org.deeplearning4j.nn.conf.layers.LSTM.Builder().nIn(4).nOut(5).build())
                .layer(new org.deeplearning4j.nn.conf.layers.RnnOutputLayer.Builder(new LossMCXENT()).nIn(5)
                        .nOut(ListenerNets.CLASSES).activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        String before = net.getLayerWiseConfigurations().toJson();
        net.setListeners(new OnlineLabelSmoothing(S));
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, 6, ListenerNets.CLASSES, 7);
        labels.get(NDArrayIndex.all(), NDArrayIndex.point(1), NDArrayIndex.all()).assign(1);
        String m = assertThrows(IllegalArgumentException.class,
                () -> net.fit(new DataSet(Nd4j.rand(DataType.DOUBLE, 6, 4, 7), labels))).getMessage();
        assertTrue(m.contains("2D heads") && m.contains("RnnOutputLayer"), m);
        assertEquals(before, net.getLayerWiseConfigurations().toJson(), "the head's loss is unchanged");
    }
}
