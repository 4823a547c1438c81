package io.github.labelsmoothing;

import static io.github.labelsmoothing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossNegativeLogLikelihood;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

/**
 * The CPU kernel and the whole-array ND4J-op path (what CUDA, HALF and BFLOAT16 run) give the same score, score array,
 * gradient and joint result on every case the kernel takes, so the path that runs on a GPU stays checked without one.
 */
class KernelVersusOpsTest {
    private static final IActivation SOFTMAX = Activation.SOFTMAX.getActivationFunction();
    private static final double[] WEIGHTS = {1.0, 2.0, 0.5, 1.5, 0.7};
    private static final double[] PRIOR = {0.3, 0.25, 0.2, 0.15, 0.1};
    private static final double[][] CLASS_PRIORS = {
        {0.6, 0.1, 0.1, 0.1, 0.1}, {0.05, 0.8, 0.05, 0.05, 0.05}, {0, 0.25, 0.5, 0.25, 0}, PRIOR, {0.2, 0.2, 0.2, 0.2, 0.2}};

    /** One comparison: the loss, its inputs (labels as the caller gives them) and a tolerance for the type. */
    record Case(String name, LossLabelSmoothing loss, INDArray labels, INDArray logits, INDArray mask) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        List<Case> cases = new ArrayList<>();
        int n = 7;
        int k = 5;
        double[] indices = {0, 4, 2, 1, 3, 4, 0};
        double[] padded = {0, -1, 2, 99, 3, -1, 0};
        double[] mask = {1, 0, 1, 0, 1, 0, 1};
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            for (double offset : new double[] {0, 1e4}) {
                for (char order : new char[] {'c', 'f'}) {
                    Nd4j.getRandom().setSeed(17);
                    INDArray z = Nd4j.randn(type, n, k).muli(4).addi(offset).dup(order);
                    INDArray oneHot = Nd4j.zeros(type, n, k);
                    for (int i = 0; i < n; i++) {
                        oneHot.putScalar(i, (int) indices[i], 1);
                    }
                    INDArray idx = Nd4j.createFromArray(indices).reshape(n, 1).castTo(type);
                    INDArray pad = Nd4j.createFromArray(padded).reshape(n, 1);
                    INDArray m = Nd4j.createFromArray(mask).reshape(n, 1).castTo(type);
                    INDArray w = Nd4j.createFromArray(WEIGHTS).castTo(type);
                    String at = type + " " + order + " offset " + offset + ": ";
                    for (double s : new double[] {0.1, 1.0}) {
                        cases.add(new Case(at + "dense s=" + s, new LossLabelSmoothing(s), oneHot, z, null));
                        cases.add(new Case(at + "NLL s=" + s,
                                new LossLabelSmoothing(s, new LossNegativeLogLikelihood()), oneHot, z, null));
                        cases.add(new Case(at + "sparse s=" + s, new LossLabelSmoothing(s, new LossSparseMCXENT()),
                                idx, z, null));
                    }
                    cases.add(new Case(at + "dense, masked", new LossLabelSmoothing(0.1), oneHot, z, m));
                    cases.add(new Case(at + "weighted", new LossLabelSmoothing(0.1, new LossMCXENT(w)), oneHot, z, m));
                    cases.add(new Case(at + "custom prior", new LossLabelSmoothing(0.1, new LossMCXENT(), PRIOR), oneHot,
                            z, m));
                    cases.add(new Case(at + "class-conditional, weighted",
                            LossLabelSmoothing.classConditional(0.1, new LossMCXENT(w), CLASS_PRIORS), oneHot, z, m));
                    cases.add(new Case(at + "class-conditional sparse, padding under the mask",
                            LossLabelSmoothing.classConditional(0.1, new LossSparseMCXENT(), CLASS_PRIORS), pad, z, m));
                    cases.add(new Case(at + "sparse, padding under the mask",
                            new LossLabelSmoothing(0.1, new LossSparseMCXENT()), pad, z, m));
                    cases.add(new Case(at + "weighted sparse, padding under the mask",
                            new LossLabelSmoothing(0.1, new LossSparseMCXENT(w), PRIOR), pad, z, m));
                    cases.add(new Case(at + "fully masked", new LossLabelSmoothing(0.1, new LossSparseMCXENT()), pad, z,
                            Nd4j.zeros(type, n, 1)));
                    // masked rows holding NaN labels and infinite logits contribute nothing on either path
                    INDArray dirtyZ = z.dup(order);
                    INDArray dirtyY = oneHot.dup();
                    dirtyZ.putScalar(1, 0, Double.POSITIVE_INFINITY);
                    dirtyZ.putScalar(3, 2, Double.NaN);
                    dirtyY.getRow(1).assign(Double.NaN);
                    cases.add(new Case(at + "NaN and infinity in masked rows", new LossLabelSmoothing(0.1), dirtyY,
                            dirtyZ, m));
                    cases.add(new Case(at + "NaN and infinity in masked rows, weighted, prior",
                            new LossLabelSmoothing(0.1, new LossMCXENT(w), PRIOR), dirtyY, dirtyZ, m));
                    cases.add(new Case(at + "infinity in masked rows, sparse", new LossLabelSmoothing(0.1,
                            new LossSparseMCXENT()), pad, dirtyZ, m));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false) // cases share arrays
    @MethodSource("cases")
    void kernelAndNd4jOpsAgree(Case c) {
        boolean sparse = c.loss().getBase() instanceof LossSparseMCXENT;
        assertTrue(CpuSoftmaxXent.supports(c.labels(), sparse, c.logits(), c.mask()), "the kernel takes this case");
        assertFalse(CpuSoftmaxXent.withoutKernel(() -> CpuSoftmaxXent.supports(c.labels(), sparse, c.logits(),
                c.mask())), "and is off in withoutKernel");

        Results kernel = Results.of(c);
        Results ops = CpuSoftmaxXent.withoutKernel(() -> Results.of(c));
        // float32: the ops path rounds its softmax and shifted logits to float; the kernel accumulates in double
        double rtol = c.logits().dataType() == DataType.FLOAT ? 2e-6 : 1e-10;
        double atol = c.logits().dataType() == DataType.FLOAT ? 1e-6 : 1e-12;
        assertTrue(Double.isFinite(kernel.score) && Double.isFinite(ops.score), kernel.score + " / " + ops.score);
        assertClose(ops.score, kernel.score, rtol, atol, "score");
        assertClose(ops.scoreArray, kernel.scoreArray, rtol, atol, "score array");
        assertClose(ops.gradient, kernel.gradient, rtol, atol, "gradient");
        assertClose(ops.joint.getFirst(), kernel.joint.getFirst(), rtol, atol, "joint score");
        assertClose(ops.joint.getSecond(), kernel.joint.getSecond(), rtol, atol, "joint gradient");
    }

    /** Every entry point's result on one case. */
    private record Results(double score, INDArray scoreArray, INDArray gradient, Pair<Double, INDArray> joint) {
        static Results of(Case c) {
            ILossFunction loss = c.loss();
            return new Results(loss.computeScore(c.labels(), c.logits(), SOFTMAX, c.mask(), true),
                    loss.computeScoreArray(c.labels(), c.logits(), SOFTMAX, c.mask()),
                    loss.computeGradient(c.labels(), c.logits(), SOFTMAX, c.mask()),
                    loss.computeGradientAndScore(c.labels(), c.logits(), SOFTMAX, c.mask(), false));
        }
    }
}
