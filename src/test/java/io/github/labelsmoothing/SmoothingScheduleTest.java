package io.github.labelsmoothing;

import static io.github.labelsmoothing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.schedule.MapSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

/** {@link SmoothingSchedule}: each iteration's score is the score at the scheduled s, recomputed by hand (under SCOPE_PANIC). */
@ExtendWith(ScopePanic.class)
class SmoothingScheduleTest {

    /** The hand score of one batch at uniform smoothing s, from the network's output (its parameters are fixed). */
    private static double handScore(MultiLayerNetwork net, DataSet batch, double s) {
        return ListenerNets.meanCrossEntropy(net.output(batch.getFeatures()).toDoubleMatrix(),
                ListenerNets.uniformTargets(batch.getLabels().toDoubleMatrix(), s));
    }

    @Test
    void twoStageEpochScheduleScoresEachEpochAtItsSmoothingAndSurvivesASave(@TempDir Path dir) throws Exception {
        DataSet data = ListenerNets.data(12, 3);
        List<DataSet> batches = ListenerNets.batches(data);
        MultiLayerNetwork net = ListenerNets.frozenMlp(new LossLabelSmoothing(0.05));
        ListenerNets.Scores scores = new ListenerNets.Scores();
        SmoothingSchedule schedule = new SmoothingSchedule(new MapSchedule(ScheduleType.EPOCH, Map.of(0, 0.2, 1, 0.0)));
        net.setListeners(schedule, scores);
        net.fit(ListenerNets.iterator(data), 2);

        assertEquals(2 * batches.size(), scores.values.size());
        for (int b = 0; b < batches.size(); b++) {
            assertClose(handScore(net, batches.get(b), 0.2), scores.values.get(b), 1e-9, 0, "epoch 0, batch " + b);
            assertClose(handScore(net, batches.get(b), 0), scores.values.get(batches.size() + b), 1e-9, 0,
                    "epoch 1, batch " + b);
        }
        assertEquals(new LossLabelSmoothing(0, new LossMCXENT()),
                ((OutputLayer) net.getLayerWiseConfigurations().getConf(1).getLayer()).getLossFn());

        // mid-training save after epoch 0: the configuration holds the smoothing in force, and training continues
        MultiLayerNetwork fresh = ListenerNets.frozenMlp(new LossLabelSmoothing(0.05));
        fresh.setListeners(schedule);
        fresh.fit(ListenerNets.iterator(data), 1);
        File file = dir.resolve("mid.zip").toFile();
        ModelSerializer.writeModel(fresh, file, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(file, true);
        assertEquals(new LossLabelSmoothing(0.2),
                ((OutputLayer) restored.getLayerWiseConfigurations().getConf(1).getLayer()).getLossFn());
        assertEquals(1, restored.getEpochCount());
        ListenerNets.Scores after = new ListenerNets.Scores();
        restored.setListeners(schedule, after);
        restored.fit(ListenerNets.iterator(data), 1);
        for (int b = 0; b < batches.size(); b++) {
            assertClose(handScore(restored, batches.get(b), 0), after.values.get(b), 1e-9, 0, "restored, batch " + b);
        }
    }

    @Test
    void iterationScheduleOnANamedGraphHeadAppliesFromTheFirstIterationOfAHandWrittenLoop() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.DOUBLE)
                .updater(new Sgd(0)).graphBuilder().addInputs("in")
                .addLayer("hidden", new DenseLayer.Builder().nIn(4).nOut(5).activation(Activation.TANH).build(), "in")
                .addLayer("out", new OutputLayer.Builder().lossFunction(new LossMCXENT()).nIn(5)
                        .nOut(ListenerNets.CLASSES).activation(Activation.SOFTMAX).build(), "hidden")
                .setOutputs("out").build();
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        ListenerNets.Scores scores = new ListenerNets.Scores();
        graph.setListeners(new SmoothingSchedule(new MapSchedule(ScheduleType.ITERATION, Map.of(0, 0.4, 2, 0.1)),
                "out"), scores);
        List<DataSet> batches = ListenerNets.batches(ListenerNets.data(12, 8));
        double[] expected = {0.4, 0.4, 0.1};
        for (DataSet batch : batches) {
            graph.fit(batch);
        }
        for (int i = 0; i < batches.size(); i++) {
            double hand = ListenerNets.meanCrossEntropy(graph.outputSingle(batches.get(i).getFeatures())
                    .toDoubleMatrix(), ListenerNets.uniformTargets(batches.get(i).getLabels().toDoubleMatrix(),
                    expected[i]));
            assertClose(hand, scores.values.get(i), 1e-9, 0, "iteration " + i);
        }
    }

    @Test
    void aScheduledValueOutsideZeroOneIsRefusedWhenItOccurs() {
        List<DataSet> batches = ListenerNets.batches(ListenerNets.data(8, 1));
        MultiLayerNetwork net = ListenerNets.frozenMlp(new LossLabelSmoothing(0.1));
        net.setListeners(new SmoothingSchedule(new MapSchedule(ScheduleType.ITERATION, Map.of(0, 0.1, 1, 1.5))));
        net.fit(batches.get(0));
        String message = assertThrows(IllegalArgumentException.class, () -> net.fit(batches.get(1))).getMessage();
        assertTrue(message.contains("1.5") && message.contains("iteration 1"), message);
    }

    @Test
    void aModelWithoutASmoothedHeadOrANamedLayerIsRefused() {
        DataSet batch = ListenerNets.data(4, 2);
        MultiLayerNetwork plain = ListenerNets.frozenMlp(new LossMCXENT());
        plain.setListeners(new SmoothingSchedule(new MapSchedule(ScheduleType.EPOCH, Map.of(0, 0.1))));
        String none = assertThrows(IllegalArgumentException.class, () -> plain.fit(batch)).getMessage();
        assertTrue(none.contains("no head"), none);
        plain.setListeners(new SmoothingSchedule(new MapSchedule(ScheduleType.EPOCH, Map.of(0, 0.1)), "head"));
        String unknown = assertThrows(IllegalArgumentException.class, () -> plain.fit(batch)).getMessage();
        assertTrue(unknown.contains("'head'") && unknown.contains("layer1"), unknown);
        plain.setListeners(new SmoothingSchedule(new MapSchedule(ScheduleType.EPOCH, Map.of(0, 0.1)), "layer0"));
        String notHead = assertThrows(IllegalArgumentException.class, () -> plain.fit(batch)).getMessage();
        assertTrue(notHead.contains("'layer0'"), notHead);
        assertThrows(IllegalArgumentException.class, () -> new SmoothingSchedule(null));
    }
}
