package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.DoubleSupplier;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * A CPU kernel's gradient call keeps its summed loss for the score call that follows on the same inputs
 * ({@link ScoreMemo}): the kept score is the very double a fresh score call computes, any changed input is computed
 * afresh, and DL4J's {@code fit()} (gradient, then score) takes it.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("kernels")
class ScoreMemoTest {

    static List<SoftmaxXent> kernels() {
        return Kernels.all();
    }

    @Parameter
    SoftmaxXent kernel;

    private ScoreMemo memo() {
        return ((CpuSoftmaxXent) kernel).memo();
    }

    private SoftmaxXents.Path path() {
        return kernel instanceof ScalarSoftmaxXent ? SoftmaxXents.Path.SCALAR : SoftmaxXents.Path.VECTOR;
    }

    private static INDArray logits(int n, int k, char order, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.DOUBLE, n, k).muli(3).addi(50).castTo(DataType.FLOAT).dup(order);
    }

    private static INDArray indices(int n, int k) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (i * 7 + 3) % k;
        }
        return Nd4j.createFromArray(v).reshape(n, 1).castTo(DataType.INT);
    }

    private static INDArray oneHot(int n, int k) {
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, k);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, (i * 7 + 3) % k, 1);
        }
        return y;
    }

    private static SoftmaxXent.Inputs inputs(INDArray labels, boolean sparse, INDArray preOutput, INDArray mask,
            double s, double[] weights, double[] prior) {
        return new SoftmaxXent.Inputs(labels, sparse, preOutput, mask, s, weights, prior);
    }

    private double score(SoftmaxXent.Inputs in) {
        return kernel.run(in, SoftmaxXent.Output.SCORE).score();
    }

    /** The gradient call, then the score call: returns the score, asserting that it came from the memo. */
    private double scoreAfterGradient(SoftmaxXent.Inputs in) {
        long hits = memo().hits();
        kernel.run(in, SoftmaxXent.Output.GRADIENT);
        double score = score(in);
        assertEquals(hits + 1, memo().hits(), "the score call takes the gradient call's sum");
        return score;
    }

    /** Every shape, order and label form: the kept score is the fresh score's double, and matches the ND4J ops. */
    @Test
    void keptScoreIsTheFreshScore() {
        int[][] shapes = {{7, 5}, {300, 40}, {64, 1000}, {1, 12}, {2048, 10}};
        for (int[] shape : shapes) {
            int n = shape[0];
            int k = shape[1];
            for (char order : new char[] {'c', 'f'}) {
                INDArray z = logits(n, k, order, n + k);
                INDArray mask = Nd4j.ones(DataType.FLOAT, n, 1);
                mask.putScalar(0, 0);
                double[] weights = new double[k];
                double[] prior = new double[k];
                for (int c = 0; c < k; c++) {
                    weights[c] = 0.5 + c % 3;
                    prior[c] = (1.0 + c % 4) / 2.5 / k;
                }
                double total = 0;
                for (double p : prior) {
                    total += p;
                }
                for (int c = 0; c < k; c++) {
                    prior[c] /= total;
                }
                List<SoftmaxXent.Inputs> cases = List.of(
                        inputs(oneHot(n, k), false, z, null, 0.1, null, null),
                        inputs(indices(n, k), true, z, null, 0.1, null, null),
                        inputs(indices(n, k), true, z, mask, 0.2, weights, prior),
                        inputs(oneHot(n, k).muli(0.5).addi(0.5 / k), false, z, mask, 0.1, weights, null));
                for (SoftmaxXent.Inputs in : cases) {
                    String what = n + "x" + k + " " + order + (in.sparse() ? " indices" : " dense")
                            + (in.mask() != null ? " masked" : "");
                    double fresh = score(in);
                    assertEquals(fresh, scoreAfterGradient(in), 0, what);
                    double ops = SoftmaxXents.implementation(SoftmaxXents.Path.ND4J_OPS).run(in,
                            SoftmaxXent.Output.SCORE).score();
                    assertEquals(ops, fresh, 1e-6 * Math.abs(ops), what + " against the ND4J ops");
                }
            }
        }
    }

    /**
     * After a gradient call, a score call on inputs changed in any one way is computed afresh, the kept sum left; also
     * when the arrays the gradient call copied its inputs into last held the changed inputs (each byte is rewritten).
     */
    @Test
    void anyChangedInputIsComputedAfresh() {
        int n = 40;
        int k = 70;
        INDArray z = logits(n, k, 'c', 3);
        INDArray y = oneHot(n, k);
        INDArray mask = Nd4j.ones(DataType.FLOAT, n, 1);
        SoftmaxXent.Inputs base = inputs(y, false, z, mask, 0.1, null, null);
        double[] prior = new double[k];
        prior[0] = 0.5;
        for (int c = 1; c < k; c++) {
            prior[c] = 0.5 / (k - 1);
        }
        double[] weights = new double[k];
        java.util.Arrays.fill(weights, 1);
        weights[5] = 2;
        List<UnaryOperator<SoftmaxXent.Inputs>> changes = List.of(
                in -> inputs(in.labels(), false, edited(in.preOutput(), 13, 29, 0.25f), in.mask(), 0.1, null, null),
                in -> inputs(in.labels(), false, edited(in.preOutput(), n - 1, k - 1, -1e-3f), in.mask(), 0.1, null,
                        null),
                in -> inputs(edited(in.labels(), 7, 7, 0.5f), false, in.preOutput(), in.mask(), 0.1, null, null),
                in -> inputs(in.labels(), false, in.preOutput(), edited(in.mask(), 3, 0, -1), 0.1, null, null),
                in -> inputs(in.labels(), false, in.preOutput(), null, 0.1, null, null),
                in -> inputs(in.labels(), false, in.preOutput(), in.mask(), 0.2, null, null),
                in -> inputs(in.labels(), false, in.preOutput(), in.mask(), 0.1, weights, null),
                in -> inputs(in.labels(), false, in.preOutput(), in.mask(), 0.1, null, prior),
                in -> inputs(in.labels(), false, in.preOutput().dup('f'), in.mask(), 0.1, null, null),
                in -> inputs(in.labels().castTo(DataType.DOUBLE), false, in.preOutput().castTo(DataType.DOUBLE),
                        in.mask(), 0.1, null, null));
        for (int i = 0; i < changes.size(); i++) {
            SoftmaxXent.Inputs changed = changes.get(i).apply(base);
            double expected = SoftmaxXents.implementation(SoftmaxXents.Path.ND4J_OPS).run(changed,
                    SoftmaxXent.Output.SCORE).score();
            kernel.run(changed, SoftmaxXent.Output.GRADIENT);
            score(changed); // the changed inputs' copy now sits in the arrays the next kept call reuses
            kernel.run(base, SoftmaxXent.Output.GRADIENT);
            long hits = memo().hits();
            double kept = score(base); // what the memo would give
            kernel.run(base, SoftmaxXent.Output.GRADIENT);
            double got = score(changed);
            assertEquals(hits + 1, memo().hits(), "change " + i + " is not taken from the memo");
            assertEquals(expected, got, 1e-6 * Math.abs(expected), "change " + i);
            if (i != 4 && i != 8 && i != 9) { // no mask for all ones, 'f' order, DOUBLE: other inputs, same values
                assertNotEquals(kept, got, "change " + i + " changes the score");
            }
            assertEquals(kept, score(base), 0, "the kept sum is still there for its own inputs");
        }
        // class indices: a changed index misses
        INDArray classes = indices(n, k);
        SoftmaxXent.Inputs sparse = inputs(classes, true, z, null, 0.1, null, null);
        kernel.run(sparse, SoftmaxXent.Output.GRADIENT);
        long hits = memo().hits();
        SoftmaxXent.Inputs changed = inputs(edited(classes, 2, 0, 11), true, z, null, 0.1, null, null);
        double expected = SoftmaxXents.implementation(SoftmaxXents.Path.ND4J_OPS).run(changed,
                SoftmaxXent.Output.SCORE).score();
        assertEquals(expected, score(changed), 1e-6 * expected);
        assertEquals(hits, memo().hits());
        score(sparse); // takes the kept sum: the memo holds nothing of this test
    }

    private static INDArray edited(INDArray array, int row, int col, float value) {
        return set(array, row, col, array.getDouble(row, col) + value);
    }

    /** A copy of the array (in its order) with one element set. */
    private static INDArray set(INDArray array, int row, int col, double value) {
        INDArray copy = array.dup(array.ordering());
        copy.putScalar(row, col, value);
        return copy;
    }

    /**
     * One-hot labels (K >= 64, at most one non-zero value per unmasked row) are kept as each row's value and class,
     * not copied: a score call whose labels differ only where the computation does not read them (a zero's sign, a
     * masked row) takes the kept sum, which is then its fresh score; one whose labels differ anywhere else (a value
     * moved, changed, added or removed) is computed afresh. FLOAT and DOUBLE, 'c' and 'f'-order labels.
     */
    @Test
    void oneHotLabelsAreKeptAsTheirValues() {
        int n = 50;
        int k = 80;
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            for (char order : new char[] {'c', 'f'}) {
                INDArray z = logits(n, k, 'c', 5).castTo(type);
                INDArray y = set(oneHot(n, k).castTo(type).dup(order), 4, 31 % k, 0); // row 4: zeros
                INDArray mask = Nd4j.ones(type, n, 1);
                mask.putScalar(9, 0);
                SoftmaxXent.Inputs base = inputs(y, false, z, mask, 0.1, null, null);
                double baseScore = score(base);
                List<INDArray> unread = List.of(set(y, 0, 0, -0.0), set(y, 4, 7, -0.0), set(y, 9, 1, 5),
                        set(y, 9, 66 % k, 0));
                for (int i = 0; i < unread.size(); i++) {
                    SoftmaxXent.Inputs same = inputs(unread.get(i), false, z, mask, 0.1, null, null);
                    String what = type + " " + order + " unread change " + i;
                    double fresh = score(same);
                    assertEquals(baseScore, fresh, 0, what + ": the computation does not read it");
                    kernel.run(base, SoftmaxXent.Output.GRADIENT);
                    assertTrue(memo().latestOneHot(), what + ": kept as values");
                    long hits = memo().hits();
                    assertEquals(fresh, score(same), 0, what);
                    assertEquals(hits + 1, memo().hits(), what + ": taken from the memo");
                }
                List<INDArray> read = List.of(set(y, 2, 17 % k, 0.9), set(set(y, 3, 24 % k, 0), 3, 25 % k, 1),
                        set(y, 4, 0, 1), set(y, 5, 38 % k, 0), set(y, 6, 0, 0.25), set(y, n - 1, k - 1, 1e-4));
                for (int i = 0; i < read.size(); i++) {
                    SoftmaxXent.Inputs changed = inputs(read.get(i), false, z, mask, 0.1, null, null);
                    String what = type + " " + order + " read change " + i;
                    double expected = SoftmaxXents.implementation(SoftmaxXents.Path.ND4J_OPS).run(changed,
                            SoftmaxXent.Output.SCORE).score();
                    kernel.run(base, SoftmaxXent.Output.GRADIENT);
                    assertTrue(memo().latestOneHot(), what + ": kept as values");
                    long hits = memo().hits();
                    double got = score(changed);
                    assertEquals(hits, memo().hits(), what + ": not taken from the memo");
                    assertEquals(expected, got, 1e-6 * Math.abs(expected), what);
                    assertNotEquals(baseScore, got, what + " changes the score");
                    assertEquals(baseScore, score(base), 0, what + ": the kept sum is still there");
                }
            }
        }
    }

    /** Concurrent gradient-then-score pairs on different inputs each get their own fresh score. */
    @Test
    void concurrentCallersGetTheirOwnScores() throws Exception {
        int callers = 4;
        List<SoftmaxXent.Inputs> cases = new ArrayList<>();
        List<Double> fresh = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            SoftmaxXent.Inputs in = inputs(indices(128, 300), true, logits(128, 300, 'c', 100 + i), null, 0.1, null,
                    null);
            cases.add(in);
            fresh.add(score(in));
            double ops = SoftmaxXents.implementation(SoftmaxXents.Path.ND4J_OPS).run(in, SoftmaxXent.Output.SCORE)
                    .score();
            assertEquals(ops, fresh.get(i), 1e-6 * Math.abs(ops), "caller " + i + " against the ND4J ops");
        }
        ExecutorService pool = Executors.newFixedThreadPool(callers);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < callers; i++) {
                SoftmaxXent.Inputs in = cases.get(i);
                double expected = fresh.get(i);
                Callable<Boolean> pairs = () -> {
                    for (int round = 0; round < 40; round++) {
                        kernel.run(in, SoftmaxXent.Output.GRADIENT);
                        if (score(in) != expected) {
                            return false;
                        }
                    }
                    return true;
                };
                results.add(pool.submit(pairs));
            }
            for (Future<Boolean> result : results) {
                assertTrue(result.get(), "a caller got another's or a wrong score");
            }
        } finally {
            pool.shutdown();
        }
    }

    /**
     * DL4J's {@code fit()} computes the gradient and then the score of the same batch (from a preOutput computed
     * again): each step's score comes from the memo, and is the score a twin network computes afresh.
     */
    @Test
    void fitTakesTheGradientCallsScore() {
        MultiLayerConfiguration conf = LabelSmoothing.applyTo(new NeuralNetConfiguration.Builder().seed(5)
                .updater(new Sgd(0.1)).list()
                .layer(new DenseLayer.Builder().nIn(6).nOut(20).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder().nIn(20).nOut(30).activation(Activation.SOFTMAX).build())
                .build(), 0.1);
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        Nd4j.getRandom().setSeed(8);
        DataSet batch = new DataSet(Nd4j.rand(DataType.FLOAT, 64, 6), oneHot(64, 30));
        assertStepsTakeTheScore(1, () -> net.clone().score(batch, true), () -> net.fit(batch), net::score);

        ComputationGraph graph = new ComputationGraph(LabelSmoothing.applyTo(new NeuralNetConfiguration.Builder()
                .seed(5).updater(new Sgd(0.1)).graphBuilder().addInputs("in")
                .addLayer("hidden", new DenseLayer.Builder().nIn(6).nOut(20).activation(Activation.TANH).build(), "in")
                .addLayer("a", new OutputLayer.Builder().nIn(20).nOut(30).activation(Activation.SOFTMAX).build(),
                        "hidden")
                .addVertex("both", new MergeVertex(), "hidden", "in")
                .addLayer("b", new OutputLayer.Builder().nIn(26).nOut(30).activation(Activation.SOFTMAX).build(),
                        "both")
                .setOutputs("a", "b").build(), 0.1));
        graph.init();
        MultiDataSet data = new MultiDataSet(new INDArray[] {batch.getFeatures()},
                new INDArray[] {batch.getLabels(), batch.getLabels()});
        assertStepsTakeTheScore(2, () -> graph.clone().score(data, true), () -> graph.fit(data), graph::score);
    }

    /**
     * Three training steps: each takes {@code outputs} scores from the memo, and the step's score is the one a twin
     * network (a clone before the step) computes afresh, on this kernel exactly and on the ND4J ops within 1e-6.
     */
    private void assertStepsTakeTheScore(int outputs, DoubleSupplier fresh, Runnable fit, DoubleSupplier score) {
        SoftmaxXents.forcing(path(), () -> {
            for (int step = 0; step < 3; step++) {
                double expected = fresh.getAsDouble();
                double ops = SoftmaxXents.forcing(SoftmaxXents.Path.ND4J_OPS, fresh::getAsDouble);
                long hits = memo().hits();
                fit.run();
                assertEquals(hits + outputs, memo().hits(), "step " + step + ": each output's score from the memo");
                assertEquals(expected, score.getAsDouble(), 0, "step " + step);
                assertEquals(ops, score.getAsDouble(), 1e-6 * Math.abs(ops), "step " + step + " against the ND4J ops");
            }
            return null;
        });
    }
}
