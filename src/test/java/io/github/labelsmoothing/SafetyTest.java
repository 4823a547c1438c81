package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.deeplearning4j.datasets.iterator.AsyncDataSetIterator;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.CnnLossLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

/** Safe inside DL4J: workspaces under SCOPE_PANIC, threads, ParallelWrapper, and no dense target for sparse labels. */
@ExtendWith(ScopePanic.class)
class SafetyTest {

    private static NeuralNetConfiguration.ListBuilder list() {
        return new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(0.01))
                .trainingWorkspaceMode(WorkspaceMode.ENABLED).inferenceWorkspaceMode(WorkspaceMode.ENABLED).list();
    }

    private static INDArray oneHot(long n, int k) {
        INDArray labels = Nd4j.zeros(DataType.FLOAT, n, k);
        for (int i = 0; i < n; i++) {
            labels.putScalar(i, i % k, 1);
        }
        return labels;
    }

    private static double train(MultiLayerNetwork net, DataSet data) {
        double first = Double.NaN;
        for (int i = 0; i < 10; i++) {
            net.fit(data);
            first = i == 0 ? net.score() : first;
            assertTrue(Double.isFinite(net.score()), "score " + net.score());
        }
        net.output(data.getFeatures()); // inference workspace too
        return first - net.score();
    }

    @Test
    void denseNetworkTrainsUnderScopePanic() {
        MultiLayerNetwork net = new MultiLayerNetwork(LabelSmoothing.applyTo(list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(8).nOut(3).activation(Activation.SOFTMAX).build())
                .build(), 0.1));
        net.init();
        assertTrue(train(net, new DataSet(Nd4j.rand(DataType.FLOAT, 12, 4), oneHot(12, 3))) > 0, "score falls");
    }

    @Test
    void sparseLabelsTrainUnderScopePanic() {
        MultiLayerNetwork net = new MultiLayerNetwork(list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(new LossLabelSmoothing(0.1, new LossSparseMCXENT())).nIn(8).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        INDArray indices = Nd4j.createFromArray(new float[][] {{0}, {1}, {2}, {0}, {1}, {2}});
        assertTrue(train(net, new DataSet(Nd4j.rand(DataType.FLOAT, 6, 4), indices)) > 0, "score falls");
    }

    @Test
    void recurrentNetworkWithLabelMasksTrainsUnderScopePanic() {
        MultiLayerNetwork net = new MultiLayerNetwork(LabelSmoothing.applyTo(list()
                .layer(new LSTM.Builder().nIn(3).nOut(6).build())
                .layer(new RnnOutputLayer.Builder(LossFunction.MCXENT).nIn(6).nOut(4).activation(Activation.SOFTMAX).build())
                .build(), 0.1));
        net.init();
        INDArray labels = Nd4j.zeros(DataType.FLOAT, 4, 4, 5);
        for (int i = 0; i < 4; i++) {
            for (int t = 0; t < 5; t++) {
                labels.putScalar(new int[] {i, (i + t) % 4, t}, 1);
            }
        }
        INDArray mask = Nd4j.ones(DataType.FLOAT, 4, 5);
        mask.putScalar(1, 4, 0);
        mask.putScalar(2, 3, 0);
        mask.putScalar(2, 4, 0);
        DataSet data = new DataSet(Nd4j.rand(DataType.FLOAT, 4, 3, 5), labels, mask, mask);
        assertTrue(train(net, data) > 0, "score falls");
    }

    @Test
    void cnnLossLayerTrainsUnderScopePanic() {
        MultiLayerNetwork net = new MultiLayerNetwork(LabelSmoothing.applyTo(list()
                .layer(new ConvolutionLayer.Builder(3, 3).nIn(2).nOut(3)
                        .convolutionMode(org.deeplearning4j.nn.conf.ConvolutionMode.Same).build())
                .layer(new CnnLossLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(5, 5, 2)).build(), 0.1));
        net.init();
        INDArray labels = Nd4j.zeros(DataType.FLOAT, 2, 3, 5, 5);
        labels.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(1),
                org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all()).assign(1);
        assertTrue(train(net, new DataSet(Nd4j.rand(DataType.FLOAT, 2, 2, 5, 5), labels)) > 0, "score falls");
    }

    @Test
    void graphWithTwoOutputsTrainsUnderScopePanic() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(0.01))
                .trainingWorkspaceMode(WorkspaceMode.ENABLED).inferenceWorkspaceMode(WorkspaceMode.ENABLED)
                .graphBuilder().addInputs("in")
                .addLayer("h", new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).build(), "in")
                .addLayer("a", new OutputLayer.Builder(LossFunction.MCXENT).nIn(8).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "h")
                .addLayer("b", new OutputLayer.Builder(LossFunction.XENT).nIn(8).nOut(2)
                        .activation(Activation.SIGMOID).build(), "h")
                .setOutputs("a", "b").build();
        ComputationGraph graph = new ComputationGraph(LabelSmoothing.applyTo(conf, 0.1));
        graph.init();
        MultiDataSet data = new MultiDataSet(new INDArray[] {Nd4j.rand(DataType.FLOAT, 6, 4)},
                new INDArray[] {oneHot(6, 3), oneHot(6, 2)});
        double first = Double.NaN;
        for (int i = 0; i < 10; i++) {
            graph.fit(data);
            first = i == 0 ? graph.score() : first;
            assertTrue(Double.isFinite(graph.score()));
        }
        assertTrue(graph.score() < first, first + " -> " + graph.score());
    }

    @Test
    void preProcessorBehindAnAsyncIteratorTrainsUnderScopePanic() {
        List<DataSet> batches = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            batches.add(new DataSet(Nd4j.rand(DataType.FLOAT, 8, 4), oneHot(8, 3)));
        }
        DataSetIterator base = new ListDataSetIterator<>(batches, 1);
        base.setPreProcessor(new LabelSmoothingPreProcessor(0.1));
        MultiLayerNetwork net = new MultiLayerNetwork(list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(8).nOut(3).activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        for (int epoch = 0; epoch < 3; epoch++) {
            net.fit(new AsyncDataSetIterator(base, 2));
            assertTrue(Double.isFinite(net.score()));
        }
        base.reset();
        AsyncDataSetIterator async = new AsyncDataSetIterator(base, 2);
        assertTrue(async.hasNext());
        assertEquals(0.1 / 3, async.next().getLabels().minNumber().doubleValue(), 1e-6, "labels arrive smoothed");
        async.shutdown();
    }

    @Test
    void oneInstanceSharedByFourThreadsGivesTheSingleThreadResults() throws Exception {
        Nd4j.getExecutioner().setProfilingMode(OpExecutioner.ProfilingMode.DISABLED);
        LossLabelSmoothing shared = new LossLabelSmoothing(0.1);
        IActivation softmax = Activation.SOFTMAX.getActivationFunction();
        int tasks = 16;
        List<INDArray[]> inputs = new ArrayList<>();
        List<INDArray> expected = new ArrayList<>();
        for (int i = 0; i < tasks; i++) {
            Nd4j.getRandom().setSeed(i);
            INDArray logits = Nd4j.randn(DataType.DOUBLE, 32, 10);
            INDArray labels = oneHot(32, 10).castTo(DataType.DOUBLE);
            inputs.add(new INDArray[] {labels, logits});
            expected.add(shared.computeGradient(labels, logits, softmax, null));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<INDArray>> results = new ArrayList<>();
            for (int round = 0; round < 5; round++) {
                for (int i = 0; i < tasks; i++) {
                    INDArray[] in = inputs.get(i);
                    results.add(pool.submit(() -> shared.computeGradient(in[0], in[1], softmax, null)));
                }
            }
            for (int j = 0; j < results.size(); j++) {
                assertEquals(expected.get(j % tasks), results.get(j).get(), "task " + j);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void parallelWrapperWithTwoWorkersTrainsASmoothedNetwork() throws Exception {
        Nd4j.getExecutioner().setProfilingMode(OpExecutioner.ProfilingMode.DISABLED);
        MultiLayerConfiguration conf = LabelSmoothing.applyTo(list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(8).nOut(3).activation(Activation.SOFTMAX).build())
                .build(), 0.1);
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        INDArray before = net.params().dup();
        List<DataSet> batches = new ArrayList<>();
        Nd4j.getRandom().setSeed(5);
        for (int i = 0; i < 8; i++) {
            batches.add(new DataSet(Nd4j.rand(DataType.FLOAT, 16, 4), oneHot(16, 3)));
        }
        try (ParallelWrapper wrapper = new ParallelWrapper.Builder<>(net).workers(2).prefetchBuffer(2)
                .averagingFrequency(1).build()) {
            wrapper.fit(new ListDataSetIterator<>(batches, 1));
        }
        assertTrue(net.params().sub(before).amaxNumber().doubleValue() > 0, "parameters moved");
        assertTrue(Double.isFinite(net.score(batches.get(0))));
        assertEquals(new LossLabelSmoothing(0.1, new LossMCXENT()),
                ((OutputLayer) net.getLayerWiseConfigurations().getConf(1).getLayer()).getLossFn());
    }

    /**
     * Sparse labels over a large vocabulary allocate no dense [N,K] target: the whole gradient call fits in the
     * workspace bytes of one [N,K] array (the probabilities it returns) plus a little, where DL4J's LossSparseMCXENT
     * needs a one-hot target and more.
     */
    @Test
    void sparseGradientAllocatesNoDenseTarget() {
        Nd4j.getExecutioner().setProfilingMode(OpExecutioner.ProfilingMode.DISABLED);
        int n = 64;
        int k = 32000;
        Nd4j.getRandom().setSeed(1);
        INDArray logits = Nd4j.randn(DataType.FLOAT, n, k);
        INDArray indices = Transforms.floor(Nd4j.rand(DataType.FLOAT, n, 1).muli(k), false);
        IActivation softmax = Activation.SOFTMAX.getActivationFunction();
        long oneArray = (long) n * k * 4;
        long ours = workspaceBytes(() -> new LossLabelSmoothing(0.1, new LossSparseMCXENT())
                .computeGradient(indices, logits, softmax, null));
        long oursScore = workspaceBytes(() -> new LossLabelSmoothing(0.1, new LossSparseMCXENT())
                .computeScoreArray(indices, logits, softmax, null));
        long dl4j = workspaceBytes(() -> new LossSparseMCXENT().computeGradient(indices, logits, softmax, null));
        assertTrue(ours < oneArray * 1.1, "gradient used " + ours + " bytes, one [N,K] array is " + oneArray);
        assertTrue(oursScore < oneArray * 1.1, "score used " + oursScore + " bytes");
        assertTrue(dl4j >= oneArray * 2, "DL4J's sparse loss (one-hot target + probabilities) used " + dl4j + " bytes");
    }

    private static long workspaceBytes(Runnable call) {
        WorkspaceConfiguration config = WorkspaceConfiguration.builder().initialSize(64L << 20)
                .policyLearning(LearningPolicy.NONE).policyAllocation(AllocationPolicy.STRICT).build();
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(config, "ALLOC_CHECK")) {
            long start = ws.getPrimaryOffset();
            call.run();
            return ws.getPrimaryOffset() - start;
        } finally {
            Nd4j.getWorkspaceManager().destroyWorkspace(Nd4j.getWorkspaceManager().getWorkspaceForCurrentThread("ALLOC_CHECK"));
        }
    }
}
