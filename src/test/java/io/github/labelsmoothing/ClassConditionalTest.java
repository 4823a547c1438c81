package io.github.labelsmoothing;

import static io.github.labelsmoothing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossKLD;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

/**
 * The class-conditional prior: every entry point trains against {@code (1 - s)·y + s·(y·P)}, checked against the hand
 * formula (targets built row by row in plain Java) on the CPU kernel and on the ND4J-op path.
 */
class ClassConditionalTest {
    private static final IActivation SOFTMAX = Activation.SOFTMAX.getActivationFunction();
    private static final double S = 0.3;
    private static final double[][] P = {
        {0.6, 0.2, 0.1, 0.1},
        {0.05, 0.7, 0.2, 0.05},
        {0, 0.3, 0.4, 0.3},
        {0.25, 0.25, 0.25, 0.25}};
    private static final double[] WEIGHTS = {1.0, 2.0, 0.5, 1.5};
    private static final double[] CLASSES = {0, 3, 2, 1, 2, 0};
    private static final double[] PADDED = {0, -1, 2, 99, 2, 0};
    private static final double[] MASK = {1, 0, 1, 0, 1, 1};
    private static final double[][] LOGITS = {
        {1.0, -2.0, 0.5, 3.0},
        {0.2, 0.1, -0.3, 0.0},
        {-1.5, 2.5, 1.0, 0.3},
        {4.0, 1.0, -2.0, 0.5},
        {0.0, 0.0, 0.0, 1e4},
        {-3.0, 0.7, 2.2, -0.1}};

    /** Hand target row by row: {@code t_i = (1 - s)·y_i + s·Σ_c y_ic·P[c]}. */
    static double[][] handTarget(double[][] y, double s, double[][] p) {
        double[][] t = new double[y.length][];
        for (int i = 0; i < y.length; i++) {
            int k = y[i].length;
            t[i] = new double[k];
            for (int j = 0; j < k; j++) {
                double mixed = 0;
                for (int c = 0; c < k; c++) {
                    mixed += y[i][c] * p[c][j];
                }
                t[i][j] = (1 - s) * y[i][j] + s * mixed;
            }
        }
        return t;
    }

    static double[][] oneHot(double[] classes, int k) {
        double[][] y = new double[classes.length][k];
        for (int i = 0; i < classes.length; i++) {
            if (classes[i] >= 0 && classes[i] < k) {
                y[i][(int) classes[i]] = 1;
            }
        }
        return y;
    }

    static double[][] softLabels() {
        double[][] y = new double[LOGITS.length][];
        for (int i = 0; i < y.length; i++) {
            double a = (i + 1) / 10.0;
            y[i] = new double[] {a, 0.5 - a / 2, 0.3, 0.2 - a / 2};
        }
        return y;
    }

    /** One case: the loss, its labels as given to it, the labels the hand formula reads, a mask, class weights. */
    record Case(String name, ILossFunction loss, INDArray labels, double[][] handLabels, double[] mask,
            double[] weights) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        int n = LOGITS.length;
        int k = P.length;
        INDArray oneHot = Nd4j.createFromArray(oneHot(CLASSES, k));
        INDArray indices = Nd4j.createFromArray(CLASSES).reshape(n, 1);
        INDArray padded = Nd4j.createFromArray(PADDED).reshape(n, 1);
        INDArray soft = Nd4j.createFromArray(softLabels());
        INDArray w = Nd4j.createFromArray(WEIGHTS);
        List<Case> cases = new ArrayList<>();
        cases.add(new Case("one-hot", cc(new LossMCXENT()), oneHot, oneHot(CLASSES, k), null, null));
        cases.add(new Case("class indices", cc(new LossSparseMCXENT()), indices, oneHot(CLASSES, k), null, null));
        cases.add(new Case("soft labels", cc(new LossMCXENT()), soft, softLabels(), null, null));
        cases.add(new Case("one-hot, masked", cc(new LossMCXENT()), oneHot, oneHot(CLASSES, k), MASK, null));
        cases.add(new Case("class indices, padding under the mask", cc(new LossSparseMCXENT()), padded,
                oneHot(PADDED, k), MASK, null));
        cases.add(new Case("one-hot, weighted, masked", cc(new LossMCXENT(w)), oneHot, oneHot(CLASSES, k), MASK,
                WEIGHTS));
        cases.add(new Case("class indices, weighted", cc(new LossSparseMCXENT(w)), indices, oneHot(CLASSES, k), null,
                WEIGHTS));
        cases.add(new Case("soft labels, weighted, masked", cc(new LossMCXENT(w)), soft, softLabels(), MASK, WEIGHTS));
        return cases.stream();
    }

    private static LossLabelSmoothing cc(ILossFunction base) {
        return LossLabelSmoothing.classConditional(S, base, P);
    }

    private static INDArray maskOf(double[] mask) {
        return mask == null ? null : Nd4j.createFromArray(mask).reshape(mask.length, 1);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void defaultKernelMatchesTheHandFormula(Case c) { // the SIMD kernel where the JVM has the vector module
        check(c);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void scalarKernelMatchesTheHandFormula(Case c) {
        SoftmaxXents.forcing(SoftmaxXents.Path.SCALAR, () -> check(c));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void ndOpPathMatchesTheHandFormula(Case c) {
        SoftmaxXents.forcing(SoftmaxXents.Path.ND4J_OPS, () -> check(c));
    }

    private static Void check(Case c) {
        double[][] target = handTarget(c.handLabels(), S, P);
        double[] rows = Hand.rowLosses(LOGITS, target, 0, c.weights(), null, c.mask());
        double[][] grad = Hand.gradient(LOGITS, target, 0, c.weights(), null, c.mask());
        INDArray z = Nd4j.createFromArray(LOGITS);
        INDArray mask = maskOf(c.mask());
        assertClose(Hand.sum(rows), c.loss().computeScore(c.labels(), z, SOFTMAX, mask, false), 1e-9, 1e-9, "score");
        assertClose(Hand.sum(rows) / LOGITS.length, c.loss().computeScore(c.labels(), z, SOFTMAX, mask, true), 1e-9,
                1e-9, "average score");
        assertClose(Nd4j.createFromArray(rows).reshape(rows.length, 1),
                c.loss().computeScoreArray(c.labels(), z, SOFTMAX, mask), 1e-9, 1e-9, "score array");
        assertClose(Nd4j.createFromArray(grad), c.loss().computeGradient(c.labels(), z, SOFTMAX, mask), 1e-9, 1e-9,
                "gradient");
        assertClose(Nd4j.createFromArray(grad),
                c.loss().computeGradientAndScore(c.labels(), z, SOFTMAX, mask, false).getSecond(), 1e-9, 1e-9,
                "joint gradient");
        return null;
    }

    @Test
    void otherBasesGetTheClassConditionalTarget() {
        double[][] y = oneHot(CLASSES, P.length);
        INDArray z = Nd4j.createFromArray(LOGITS);
        INDArray target = Nd4j.createFromArray(handTarget(y, S, P));
        LossLabelSmoothing kld = LossLabelSmoothing.classConditional(S, new LossKLD(), P);
        assertClose(new LossKLD().computeScore(target, z, SOFTMAX, null, true),
                kld.computeScore(Nd4j.createFromArray(y), z, SOFTMAX, null, true), 1e-12, 0, "KLD score");
        // a per-output mask takes the generic path too: LossMCXENT on the target
        INDArray outputMask = Nd4j.ones(DataType.DOUBLE, z.shape()).putScalar(0, 1, 0);
        assertClose(new LossMCXENT().computeScoreArray(target, z.dup(), SOFTMAX, outputMask),
                cc(new LossMCXENT()).computeScoreArray(Nd4j.createFromArray(y), z, SOFTMAX, outputMask), 1e-12, 0,
                "per-output mask score array");
    }

    @Test
    void smoothLabelsAndThePreProcessorBuildTheSameTargets() {
        double[][] soft = softLabels();
        INDArray expected = Nd4j.createFromArray(handTarget(soft, S, P));
        assertClose(expected, LabelSmoothing.smoothLabels(Nd4j.createFromArray(soft), S, P), 1e-12, 0, "smoothLabels");

        INDArray indices = Nd4j.createFromArray(CLASSES).reshape(CLASSES.length, 1);
        DataSet ds = new DataSet(Nd4j.zeros(CLASSES.length, 2), indices);
        DataSet out = LabelSmoothingPreProcessor.builder(S).numClasses(P.length).classPriors(P).build().apply(ds);
        assertClose(Nd4j.createFromArray(handTarget(oneHot(CLASSES, P.length), S, P)), out.getLabels(), 1e-12, 0,
                "preprocessor, class indices");

        // time series [N,K,T], class axis 1, with a masked step: every step is its own row of the formula
        INDArray series = Nd4j.createFromArray(soft).reshape(3, 2, 4).permute(0, 2, 1).dup(); // [3,4,2]
        INDArray stepMask = Nd4j.createFromArray(new double[][] {{1, 1}, {1, 0}, {1, 1}});
        DataSet seq = new DataSet(Nd4j.zeros(3, 1, 2), series, null, stepMask);
        INDArray smoothed = LabelSmoothingPreProcessor.builder(S).classPriors(P).build().apply(seq).getLabels();
        for (int i = 0; i < 3; i++) {
            for (int t = 0; t < 2; t++) {
                double[] y = series.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i),
                        org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(t))
                        .toDoubleVector();
                double[] want = stepMask.getDouble(i, t) == 0 ? new double[4] : handTarget(new double[][] {y}, S, P)[0];
                assertClose(want, smoothed.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i),
                        org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(t))
                        .toDoubleVector(), 1e-12, 0, "step " + i + "," + t);
            }
        }
    }

    @Test
    void aMatrixThatIsNotAKByKDistributionIsRefusedNamingTheRow() {
        String shape = assertThrows(IllegalArgumentException.class, () -> cc2(new double[][] {{0.5, 0.5}, {1}}))
                .getMessage();
        assertTrue(shape.contains("row 1") && shape.contains("K×K"), shape);
        String negative = assertThrows(IllegalArgumentException.class,
                () -> cc2(new double[][] {{0.5, 0.5}, {1.5, -0.5}})).getMessage();
        assertTrue(negative.contains("row 1") && negative.contains("-0.5"), negative);
        String sum = assertThrows(IllegalArgumentException.class, () -> cc2(new double[][] {{0.5, 0.6}, {0, 1}}))
                .getMessage();
        assertTrue(sum.contains("row 0") && sum.contains("sum"), sum);
        String nan = assertThrows(IllegalArgumentException.class, () -> cc2(new double[][] {{Double.NaN, 1}, {0, 1}}))
                .getMessage();
        assertTrue(nan.contains("row 0") && nan.contains("NaN"), nan);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> cc2(null)).getMessage().contains("null"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> cc2(new double[][] {{1}})).getMessage()
                .contains("K >= 2"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LossLabelSmoothing.classConditional(0.1, new LossBinaryXENT(), P)).getMessage()
                .contains("categorical"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LabelSmoothingPreProcessor.builder(0.1)
                .classPriors(new double[][] {{1, 0}, {0.5}})).getMessage().contains("row 1"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LabelSmoothing.smoothLabels(Nd4j.eye(2), 0.1, new double[][] {{1, 0}, {0.2, 0.2}})).getMessage()
                .contains("row 1"));
        // K×K, but for other labels than the ones given
        String classes = assertThrows(IllegalArgumentException.class, () -> cc(new LossMCXENT())
                .computeScore(Nd4j.eye(3), Nd4j.zeros(3, 3), SOFTMAX, null, true)).getMessage();
        assertTrue(classes.contains("4×4") && classes.contains("3 classes"), classes);
    }

    private static LossLabelSmoothing cc2(double[][] p) {
        return LossLabelSmoothing.classConditional(0.1, new LossMCXENT(), p);
    }

    @Test
    void applyToReplacesTheSmoothingAndKeepsTheClassPriors() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().list()
                .layer(new OutputLayer.Builder().lossFunction(cc(new LossMCXENT())).nIn(2).nOut(P.length)
                        .activation(Activation.SOFTMAX).build())
                .build();
        assertEquals(LossLabelSmoothing.classConditional(0.05, new LossMCXENT(), P),
                ((OutputLayer) LabelSmoothing.applyTo(conf, 0.05).getConf(0).getLayer()).getLossFn());
    }

    @Test
    void classPriorsAreCopiedAndPartOfEqualityAndText() {
        double[][] p = {{0.9, 0.1}, {0.2, 0.8}};
        LossLabelSmoothing loss = LossLabelSmoothing.classConditional(0.2, new LossMCXENT(), p);
        p[0][0] = 0.5;
        double[][] got = loss.getClassPriors();
        assertEquals(0.9, got[0][0]);
        got[1][1] = 0;
        assertEquals(0.8, loss.getClassPriors()[1][1]);
        assertNull(new LossLabelSmoothing(0.2).getClassPriors());
        assertNull(loss.getPrior());
        LossLabelSmoothing same = LossLabelSmoothing.classConditional(0.2, new LossMCXENT(),
                new double[][] {{0.9, 0.1}, {0.2, 0.8}});
        assertEquals(same, loss);
        assertEquals(same.hashCode(), loss.hashCode());
        assertNotEquals(LossLabelSmoothing.classConditional(0.2, new LossMCXENT(),
                new double[][] {{0.9, 0.1}, {0.3, 0.7}}), loss);
        assertNotEquals(new LossLabelSmoothing(0.2), loss);
        assertTrue(loss.toString().contains("classPriors=[[0.9, 0.1], [0.2, 0.8]]"), loss.toString());
    }

    @Test
    void aLargeMatrixPrintsShortAndNegativeZerosCompareEqual() {
        double[][] big = new double[20][20];
        for (double[] row : big) {
            java.util.Arrays.fill(row, 1.0 / 20);
        }
        String text = LossLabelSmoothing.classConditional(0.1, new LossMCXENT(), big).toString();
        assertTrue(text.contains("class-conditional 20×20") && text.length() < 200, text);
        assertEquals(new LossLabelSmoothing(0.0), new LossLabelSmoothing(-0.0));
        assertEquals(new LossLabelSmoothing(0.0).hashCode(), new LossLabelSmoothing(-0.0).hashCode());
        assertEquals(new LossLabelSmoothing(0.1, new LossMCXENT(), new double[] {0.0, 1.0}),
                new LossLabelSmoothing(0.1, new LossMCXENT(), new double[] {-0.0, 1.0}));
    }
}
