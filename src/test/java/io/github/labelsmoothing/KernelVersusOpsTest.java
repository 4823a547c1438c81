package io.github.labelsmoothing;

import static io.github.labelsmoothing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.labelsmoothing.SoftmaxXents.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
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
 * Every path of the fused computation (the scalar CPU kernel, the SIMD one, the whole-array ND4J ops that CUDA, HALF and
 * BFLOAT16 run) gives the same score, score array, gradient and joint result on every case, each path forced in one
 * JVM, so the path that runs on a GPU stays checked without one; and each agrees with the hand formula on infinities.
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

    /** The kernels this JVM runs: the scalar one, and the SIMD one where the vector module is present. */
    static List<Path> kernelPaths() {
        return Kernels.vectorKernel() ? List.of(Path.SCALAR, Path.VECTOR) : List.of(Path.SCALAR);
    }

    static List<Path> paths() {
        List<Path> paths = new ArrayList<>(kernelPaths());
        paths.add(Path.ND4J_OPS);
        return paths;
    }

    static Stream<Arguments> casesOnKernels() {
        return cases().flatMap(c -> kernelPaths().stream().map(path -> Arguments.of(c, path)));
    }

    @ParameterizedTest(name = "{1}: {0}", autoCloseArguments = false) // cases share arrays
    @MethodSource("casesOnKernels")
    void kernelAndNd4jOpsAgree(Case c, Path path) {
        boolean sparse = c.loss().getBase() instanceof LossSparseMCXENT;
        SoftmaxXent kernel = SoftmaxXents.implementation(path);
        assertTrue(kernel.supports(c.labels(), sparse, c.logits(), c.mask()), "the kernel takes this case");
        assertSame(kernel, SoftmaxXents.forcing(path, () -> SoftmaxXents.choose(c.labels(), sparse, c.logits(),
                c.mask())), "forced, the call takes it");
        assertSame(SoftmaxXents.implementation(Path.ND4J_OPS), SoftmaxXents.forcing(Path.ND4J_OPS,
                () -> SoftmaxXents.choose(c.labels(), sparse, c.logits(), c.mask())), "and ND4J ops when forced");

        Results kernelResults = SoftmaxXents.forcing(path, () -> Results.of(c));
        Results ops = SoftmaxXents.forcing(Path.ND4J_OPS, () -> Results.of(c));
        // float32: the ops path rounds its softmax and shifted logits to float; the kernels accumulate in double
        double rtol = c.logits().dataType() == DataType.FLOAT ? 2e-6 : 1e-10;
        double atol = c.logits().dataType() == DataType.FLOAT ? 1e-6 : 1e-12;
        assertTrue(Double.isFinite(kernelResults.score) && Double.isFinite(ops.score),
                kernelResults.score + " / " + ops.score);
        assertClose(ops.score, kernelResults.score, rtol, atol, "score");
        assertClose(ops.scoreArray, kernelResults.scoreArray, rtol, atol, "score array");
        assertClose(ops.gradient, kernelResults.gradient, rtol, atol, "gradient");
        assertClose(ops.joint.getFirst(), kernelResults.joint.getFirst(), rtol, atol, "joint score");
        assertClose(ops.joint.getSecond(), kernelResults.joint.getSecond(), rtol, atol, "joint gradient");
    }

    // ---- infinities ---------------------------------------------------------------------------------------------

    static Stream<Arguments> pathsTypesAndLabels() {
        return paths().stream().flatMap(path -> Stream.of(DataType.FLOAT, DataType.DOUBLE).flatMap(type -> Stream.of(
                Arguments.of(path, type, false), Arguments.of(path, type, true))));
    }

    /** Logits {0, -inf, 1} labelled 2 (and a finite row labelled 0), in 'f' order as a dense layer hands them. */
    private static final double[][] WITH_MINUS_INFINITY = {{0, Double.NEGATIVE_INFINITY, 1}, {0.5, -1, 2}};
    private static final double[] LABELS = {2, 0};

    private static INDArray labels(boolean sparse, DataType type) {
        INDArray indices = Nd4j.createFromArray(LABELS).reshape(2, 1).castTo(type);
        return sparse ? indices : Nd4j.createFromArray(new double[][] {{0, 0, 1}, {1, 0, 0}}).castTo(type);
    }

    @ParameterizedTest(name = "{0} {1} sparse={2}")
    @MethodSource("pathsTypesAndLabels")
    void minusInfinityUnderAPositiveTargetScoresInfinityWithAFiniteGradient(Path path, DataType type,
            boolean sparse) {
        INDArray z = Nd4j.createFromArray(WITH_MINUS_INFINITY).castTo(type).dup('f');
        LossLabelSmoothing loss = new LossLabelSmoothing(0.1, sparse ? new LossSparseMCXENT() : new LossMCXENT());
        Results got = SoftmaxXents.forcing(path, () -> Results.of(new Case("", loss, labels(sparse, type), z, null)));
        double[][] y = {{0, 0, 1}, {1, 0, 0}};
        double[] rows = Hand.rowLosses(WITH_MINUS_INFINITY, y, 0.1);
        assertTrue(rows[0] == Double.POSITIVE_INFINITY && Double.isFinite(rows[1]), "the reference: " + rows[0]);
        assertTrue(got.score == Double.POSITIVE_INFINITY, "score " + got.score);
        assertTrue(got.joint.getFirst() == Double.POSITIVE_INFINITY, "joint score " + got.joint.getFirst());
        double[] gotRows = got.scoreArray.castTo(DataType.DOUBLE).reshape(2).toDoubleVector();
        assertTrue(gotRows[0] == Double.POSITIVE_INFINITY, "row 0: " + gotRows[0]);
        assertClose(rows[1], gotRows[1], 1e-6, 0, "the finite row");
        INDArray expected = Nd4j.createFromArray(Hand.gradient(WITH_MINUS_INFINITY, y, 0.1));
        assertClose(expected, got.gradient, 1e-6, 1e-7, "gradient");
        assertClose(expected, got.joint.getSecond(), 1e-6, 1e-7, "joint gradient");
    }

    static Stream<Arguments> zeroTargets() {
        return pathsTypesAndLabels().flatMap(a -> Stream.of("prior", "weight").map(how -> Arguments.of(a.get()[0],
                a.get()[1], a.get()[2], how)));
    }

    /** A 0 weighted target at the -inf logit (a custom prior with a 0 entry, or a class weight of 0): finite. */
    @ParameterizedTest(name = "{0} {1} sparse={2} zero {3}")
    @MethodSource("zeroTargets")
    void minusInfinityUnderAZeroTargetCountsForNothing(Path path, DataType type, boolean sparse, String how) {
        INDArray z = Nd4j.createFromArray(WITH_MINUS_INFINITY).castTo(type).dup('f');
        double[] prior = how.equals("prior") ? new double[] {0.5, 0, 0.5} : null;
        double[] weights = how.equals("prior") ? null : new double[] {1, 0, 2};
        INDArray w = weights == null ? null : Nd4j.createFromArray(weights).castTo(type);
        LossLabelSmoothing loss = new LossLabelSmoothing(0.1, sparse ? new LossSparseMCXENT(w) : new LossMCXENT(w),
                prior);
        Results got = SoftmaxXents.forcing(path, () -> Results.of(new Case("", loss, labels(sparse, type), z, null)));
        double[][] y = {{0, 0, 1}, {1, 0, 0}};
        double[] rows = Hand.rowLosses(WITH_MINUS_INFINITY, y, 0.1, weights, prior, null);
        assertClose(Hand.sum(rows) / 2, got.score, 1e-6, 0, "score (averaged)");
        assertClose(Hand.sum(rows), got.joint.getFirst(), 1e-6, 0, "joint score (summed)");
        assertClose(rows, got.scoreArray.castTo(DataType.DOUBLE).reshape(2).toDoubleVector(), 1e-6, 0, "rows");
        assertClose(Nd4j.createFromArray(Hand.gradient(WITH_MINUS_INFINITY, y, 0.1, weights, prior, null)),
                got.gradient, 1e-6, 1e-7, "gradient");
    }

    /** The fused computation at s = 0 on dense targets (a class-conditional prior's form): a 0 target counts for nothing. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("pathsTypesAndLabels")
    void minusInfinityUnderAZeroDenseTargetAtNoSmoothing(Path path, DataType type, boolean sparse) {
        INDArray z = Nd4j.createFromArray(WITH_MINUS_INFINITY).castTo(type).dup('f');
        double[][] target = {{0.1, 0, 0.9}, {0.6, 0.2, 0.2}};
        SoftmaxXent.Inputs in = new SoftmaxXent.Inputs(Nd4j.createFromArray(target).castTo(type), false, z, null, 0,
                null, null);
        SoftmaxXent.Result got = SoftmaxXents.implementation(path).run(in, SoftmaxXent.Output.SCORE_AND_GRADIENT);
        assertClose(Hand.sum(Hand.rowLosses(WITH_MINUS_INFINITY, target, 0)), got.score(), 1e-6, 0, "score");
        assertClose(Nd4j.createFromArray(Hand.gradient(WITH_MINUS_INFINITY, target, 0)), got.gradient(), 1e-6, 1e-7,
                "gradient");
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
