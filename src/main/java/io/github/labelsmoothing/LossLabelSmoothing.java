package io.github.labelsmoothing;

import java.util.Arrays;
import java.util.Objects;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.reduce3.Dot;
import org.nd4j.linalg.api.ops.impl.shape.Gather;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.Axpy;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonIgnore;
import org.nd4j.shade.jackson.annotation.JsonInclude;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * A label-smoothing loss for any DL4J output layer: {@code base} evaluated against
 * {@code (1 - s) * labels + s * prior}, drop-in wherever an {@link ILossFunction} goes.
 *
 * <pre>{@code
 * new OutputLayer.Builder().lossFunction(new LossLabelSmoothing(0.1)).activation(Activation.SOFTMAX)...
 * }</pre>
 *
 * <p>With a softmax activation and {@link LossMCXENT} (with or without weights) or
 * {@link org.nd4j.linalg.lossfunctions.impl.LossNegativeLogLikelihood} as base, score and gradient are computed in fused
 * form, exact for any logits, without clipping and without a dense smoothed target:
 * {@code loss = -(1-s)·Σ y·log p - s·Σ prior·log p}, {@code d loss/dz = p - (1-s)·y - s·prior} (weighted: what
 * {@code LossMCXENT(weights)} gives on smoothed labels). With {@link LossSparseMCXENT} the labels are class indices
 * {@code [N,1]} and no {@code [N,K]} target is built. With {@link LossBinaryXENT} the prior is 0.5 per output (Keras
 * and ND4J sigmoid semantics). Any other base is called with the smoothed labels. At {@code s = 0} the base is called
 * as it is. On the CPU backend the fused form runs as one pass over the arrays' buffers (a SIMD kernel on the JDK's
 * {@code jdk.incubator.vector} module when the JVM has it, else a scalar one); elsewhere (CUDA, HALF/BFLOAT16) as
 * whole-array ND4J ops; all work with {@code z - max z}, exact in float32 too. On the CPU a score call right after a
 * gradient call on byte-for-byte the same inputs (as {@code fit()} makes them) takes the loss the gradient call summed,
 * the same double. A {@code -inf} logit under a positive
 * target is a score of {@code +Infinity} with a finite gradient.
 * A class-conditional prior ({@link #classConditional}: row c of a K×K matrix is the target of class c) builds the
 * target {@code (1 - s)·y + s·(y·P)} once and takes the same paths with it.
 *
 * <p>Class indices under a 0 mask are ignored (padding such as {@code -1}, as DL4J's {@code LossSparseMCXENT} allows):
 * a masked example contributes nothing, a fully masked batch scores 0 with a zero gradient. Labels written by
 * {@link LabelSmoothingPreProcessor} are refused when s &gt; 0 (they would be smoothed twice) where they reach the loss
 * as they are (2D heads: output layers, loss layers, graph outputs); RNN and CNN layers hand the loss a reshaped copy,
 * which cannot be recognised.
 *
 * <p>Keeps DL4J's semantics: {@code average} divides by the minibatch size, {@code computeScoreArray} is {@code [N,1]},
 * per-example masks {@code [N,1]} zero an example's score and gradient, per-output masks go wherever the base takes
 * them. Never modifies labels, preOutput or mask. Results are in preOutput's data type. Stateless and thread-safe; its own
 * fields are final, and it holds the base by reference: a base changed after wrapping (class weights through
 * {@code setWeights}) changes this loss too, so leave it unchanged. Serializable with Java serialization and DL4J's
 * JSON/YAML configurations.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.NONE, getterVisibility = JsonAutoDetect.Visibility.NONE,
        isGetterVisibility = JsonAutoDetect.Visibility.NONE)
public final class LossLabelSmoothing implements ILossFunction {
    private static final long serialVersionUID = 1L;

    @JsonProperty("smoothing")
    private final double smoothing;
    @JsonProperty("base")
    private final ILossFunction base;
    /** Serialized as "prior" (the custom distribution, or absent) through {@link #getPrior()}. */
    @JsonIgnore
    private final Prior resolvedPrior;

    /** Smoothing {@value LabelSmoothing#DEFAULT_SMOOTHING} over {@link LossMCXENT}. */
    public LossLabelSmoothing() {
        this(LabelSmoothing.DEFAULT_SMOOTHING);
    }

    /**
     * Smoothing {@code s} over {@link LossMCXENT}, towards the uniform prior.
     *
     * @throws IllegalArgumentException if s is outside [0, 1] or NaN
     */
    public LossLabelSmoothing(double smoothing) {
        this(smoothing, new LossMCXENT());
    }

    /**
     * Smoothing {@code s} over any base loss, towards the uniform prior (0.5 per output for {@link LossBinaryXENT}).
     *
     * @throws IllegalArgumentException if s is outside [0, 1] or NaN, base is null or itself a LossLabelSmoothing, or
     *                                  base is one of DL4J's regression losses (MSE, L1, hinge, Poisson, ...)
     */
    public LossLabelSmoothing(double smoothing, ILossFunction base) {
        this(smoothing, base, (double[]) null);
    }

    /**
     * Smoothing {@code s} over any categorical base loss towards a custom prior, e.g. the class frequencies.
     *
     * @param prior a distribution over the K classes (K entries, each >= 0, summing to 1 within 1e-6, e.g. class counts
     *              divided by their total), or null for the default prior
     * @throws IllegalArgumentException as {@link #LossLabelSmoothing(double, ILossFunction)}, or if the prior is not a
     *                                  distribution, or is given for a Bernoulli ({@link LossBinaryXENT}) base
     */
    public LossLabelSmoothing(double smoothing, ILossFunction base, double[] prior) {
        this(smoothing, base, prior, null);
    }

    /**
     * Smoothing {@code s} towards a class-conditional prior: the target of an example is {@code (1 - s)·y + s·(y·P)},
     * so one-hot or class-index labels of class c train against {@code (1 - s)·y + s·P[c]} and soft labels mix the rows.
     * Exact and fused like the uniform prior (softmax with MCXENT, NLL or sparse MCXENT, class weights, masks).
     *
     * @param classPriors a K×K matrix, row c a distribution over the K classes (each >= 0, summing to 1 within 1e-6):
     *                    the smoothing target of class c; copied
     * @throws IllegalArgumentException as {@link #LossLabelSmoothing(double, ILossFunction)}, or if classPriors is null,
     *                                  not K×K, a row is not a distribution (naming the row), or base is
     *                                  {@link LossBinaryXENT}
     */
    public static LossLabelSmoothing classConditional(double smoothing, ILossFunction base, double[][] classPriors) {
        if (classPriors == null) { // the private constructor reads null as "no class-conditional prior"
            throw new IllegalArgumentException("classPriors must not be null (new LossLabelSmoothing(s, base) smooths "
                    + "towards the uniform prior)");
        }
        return new LossLabelSmoothing(smoothing, base, null, classPriors);
    }

    /**
     * Every public constructor ends here, and Jackson creates through it: the one place the arguments are validated
     * (at most one of prior and classPriors).
     */
    @JsonCreator
    private LossLabelSmoothing(@JsonProperty("smoothing") double smoothing, @JsonProperty("base") ILossFunction base,
            @JsonProperty("prior") double[] prior, @JsonProperty("classPriors") double[][] classPriors) {
        this(Checks.smoothing(smoothing), checkedBase(base, prior != null || classPriors != null),
                base instanceof LossBinaryXENT ? Prior.BERNOULLI : priorOf(prior, classPriors));
    }

    /** Takes values validated where they entered. */
    private LossLabelSmoothing(double checkedSmoothing, ILossFunction checkedBase, Prior prior) {
        this.smoothing = checkedSmoothing;
        this.base = checkedBase;
        this.resolvedPrior = prior;
    }

    /**
     * A base loss wrapped with a smoothing already validated where it entered ({@code applyTo}, the listeners).
     *
     * @throws IllegalArgumentException if the base is not one smoothing applies to
     */
    static LossLabelSmoothing wrapping(ILossFunction base, double checkedSmoothing) {
        return new LossLabelSmoothing(checkedSmoothing, checkedBase(base, false),
                base instanceof LossBinaryXENT ? Prior.BERNOULLI : Prior.UNIFORM);
    }

    /** @throws IllegalArgumentException if base is null, a LossLabelSmoothing, a regression loss, or binary with a prior */
    private static ILossFunction checkedBase(ILossFunction base, boolean customPrior) {
        if (base == null) {
            throw new IllegalArgumentException("base loss must not be null");
        }
        if (base instanceof LossLabelSmoothing) {
            throw new IllegalArgumentException("base is already a LossLabelSmoothing (" + base
                    + "); give its base and the smoothing you want instead of smoothing twice");
        }
        HeadRules.checkBase(base);
        if (customPrior && base instanceof LossBinaryXENT) {
            throw new IllegalArgumentException("a custom prior needs a categorical base loss; " + base
                    + " smooths each output towards 0.5");
        }
        return base;
    }

    private static Prior priorOf(double[] prior, double[][] classPriors) {
        if (prior != null && classPriors != null) {
            throw new IllegalArgumentException("give a prior or classPriors, not both: got prior "
                    + Arrays.toString(prior) + " and classPriors " + Arrays.deepToString(classPriors));
        }
        return classPriors != null ? Prior.classConditional(classPriors) : Prior.categorical(prior);
    }

    /** The smoothing s in [0, 1]. */
    public double getSmoothing() {
        return smoothing;
    }

    /**
     * The loss evaluated against the smoothed labels: the instance given to the constructor, held by reference as DL4J
     * layers hold their losses. Changing it (e.g. its class weights) changes this loss, its equals and its hashCode.
     */
    public ILossFunction getBase() {
        return base;
    }

    /** The custom prior over the K classes (a copy), or null for the default (uniform, or 0.5 per binary output). */
    @JsonProperty("prior")
    public double[] getPrior() {
        return resolvedPrior.distribution();
    }

    /**
     * The class-conditional prior P (a copy; row c is the smoothing target of class c), or null for a loss not made by
     * {@link #classConditional}.
     */
    @JsonProperty("classPriors")
    public double[][] getClassPriors() {
        return resolvedPrior.classPriors();
    }

    /**
     * This loss with another smoothing, the same base and prior (the listeners and {@code applyTo} swap with it).
     *
     * @param checkedSmoothing a smoothing already validated where it entered
     */
    LossLabelSmoothing withSmoothing(double checkedSmoothing) {
        return new LossLabelSmoothing(checkedSmoothing, base, resolvedPrior);
    }

    // ---------------------------------------------------------------------------------------------------------------

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
            boolean average) {
        Call call = call(labels, preOutput, activationFn, mask);
        double score = switch (call.path()) {
            case BASE -> base.computeScore(labels, preOutput, activationFn, mask, average);
            case GENERIC -> denseBase().computeScore(smoothedLabels(call.labels(), preOutput), preOutput, activationFn,
                    mask, average);
            case FUSED -> fused(call, preOutput, mask, SoftmaxXent.Output.SCORE).score();
        };
        return average && call.path() == Path.FUSED ? score / preOutput.size(0) : score;
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        Call call = call(labels, preOutput, activationFn, mask);
        return switch (call.path()) {
            case BASE -> base.computeScoreArray(labels, preOutput, activationFn, mask);
            case GENERIC -> denseBase().computeScoreArray(smoothedLabels(call.labels(), preOutput), preOutput,
                    activationFn, mask);
            case FUSED -> fused(call, preOutput, mask, SoftmaxXent.Output.ROW_LOSSES).rowLosses();
        };
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        Call call = call(labels, preOutput, activationFn, mask);
        return switch (call.path()) {
            // DL4J's losses backprop through the activation in place on preOutput (softmax does): give them a copy.
            case BASE -> base.computeGradient(labels, preOutput.dup(), activationFn, mask);
            case GENERIC -> denseBase().computeGradient(smoothedLabels(call.labels(), preOutput), preOutput.dup(),
                    activationFn, mask);
            case FUSED -> fused(call, preOutput, mask, SoftmaxXent.Output.GRADIENT).gradient();
        };
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput,
            IActivation activationFn, INDArray mask, boolean average) {
        Call call = call(labels, preOutput, activationFn, mask);
        switch (call.path()) {
            case BASE:
                return base.computeGradientAndScore(labels, preOutput.dup(), activationFn, mask, average);
            case GENERIC:
                return denseBase().computeGradientAndScore(smoothedLabels(call.labels(), preOutput), preOutput.dup(),
                        activationFn, mask, average);
            default:
                SoftmaxXent.Result both = fused(call, preOutput, mask, SoftmaxXent.Output.SCORE_AND_GRADIENT);
                double score = both.score();
                return new Pair<>(average ? score / preOutput.size(0) : score, both.gradient());
        }
    }

    @Override
    public String name() {
        return toString();
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** How a call is computed; chosen after validating the inputs. */
    private enum Path {
        /** s = 0: the base as it is. */
        BASE,
        /** The base applied to smoothed labels. */
        GENERIC,
        /** Softmax cross-entropy with a softmax activation, fused ({@link SoftmaxXent}; labels dense or indices). */
        FUSED
    }

    /**
     * A validated call: its path and the labels to compute with, and what the fused computation smooths them with.
     * Off the fused path class indices are validated and set to 0 where masked, in a new array; on it they are the
     * caller's (the computation validates them). A class-conditional prior reaches the fused computation as its dense
     * target T with s = 0 (see {@link #call}).
     */
    private record Call(Path path, INDArray labels, boolean sparse, double s, Prior prior) {
    }

    private Call call(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        boolean sparse = isSparse();
        checkShapes(labels, preOutput, mask, sparse);
        HeadRules.checkCall(this, activationFn, preOutput);
        if (smoothing > 0 && SmoothedLabels.isMarked(labels)) {
            throw new IllegalArgumentException(SmoothedLabels.preprocessedMessage(labels, this + " would smooth them "
                    + "twice", "use the preprocessor with the plain base loss, or this loss (or LabelSmoothing.applyTo) "
                    + "with labels that are not preprocessed"));
        }
        Path path;
        if (smoothing == 0) {
            path = Path.BASE;
        } else if (!(base instanceof LossMCXENT && activationFn instanceof ActivationSoftmax
                && (mask == null || isPerExample(mask, preOutput)))) {
            path = Path.GENERIC;
        } else {
            path = Path.FUSED;
        }
        if (path != Path.FUSED) {
            return new Call(path, sparse ? checkedIndices(labels, preOutput, mask) : labels, sparse, smoothing,
                    resolvedPrior);
        }
        if (resolvedPrior.isClassConditional()) {
            // The target T = (1-s)·Y + s·(Y·P) is built once; the fused form with t = T and s = 0 is exactly
            // LossMCXENT(weights) on labels T, from one log-softmax.
            INDArray target = smoothedLabels(sparse ? checkedIndices(labels, preOutput, mask) : labels, preOutput);
            return new Call(path, target.castTo(preOutput.dataType()), false, 0, Prior.UNIFORM);
        }
        // the fused computation validates the unmasked class indices itself (the CPU kernels in their single pass)
        return new Call(path, labels, sparse, smoothing, resolvedPrior);
    }

    /** Validates every input's shape and the custom prior's length. */
    private void checkShapes(INDArray labels, INDArray preOutput, INDArray mask, boolean sparse) {
        if (labels == null || preOutput == null) {
            throw new IllegalArgumentException("labels and preOutput must not be null, got labels " + shapeOf(labels)
                    + " and preOutput " + shapeOf(preOutput));
        }
        if (preOutput.rank() != 2) {
            throw new IllegalArgumentException("preOutput must be 2D [N,K] (DL4J output layers reshape to it), got "
                    + shapeOf(preOutput));
        }
        if (preOutput.isEmpty() || labels.isEmpty()) {
            throw new IllegalArgumentException(this + " got an empty batch: labels " + shapeOf(labels)
                    + ", preOutput " + shapeOf(preOutput) + " (a batch needs at least one example and one output)");
        }
        if (mask != null && !isPerExample(mask, preOutput) && !Arrays.equals(mask.shape(), preOutput.shape())) {
            throw new IllegalArgumentException("mask must have shape [N,1] (per example) or " + shapeOf(preOutput)
                    + " (per output), got mask " + shapeOf(mask));
        }
        if (resolvedPrior.isCustom()) {
            resolvedPrior.checkClasses(preOutput.size(1));
        }
        if (sparse && (labels.rank() == 0 || labels.size(0) != preOutput.size(0) || labels.length() != labels.size(0))) {
            throw new IllegalArgumentException("class-index labels for " + base + " must have shape [N,1] with N = "
                    + preOutput.size(0) + " (preOutput " + shapeOf(preOutput) + "), got labels " + shapeOf(labels));
        }
        if (!sparse && !labels.equalShapes(preOutput)) {
            throw new IllegalArgumentException("labels and preOutput must have the same shape, got labels "
                    + shapeOf(labels) + " and preOutput " + shapeOf(preOutput));
        }
    }

    /**
     * Class indices validated where the example is not masked (a mask row all 0), with the masked ones set to 0:
     * padding there may be anything.
     */
    private static INDArray checkedIndices(INDArray labels, INDArray preOutput, INDArray mask) {
        INDArray exampleMask = mask == null || isPerExample(mask, preOutput) ? mask
                : Transforms.abs(mask, true).max(true, 1);
        INDArray indices = Targets.unmaskedIndices(labels, exampleMask);
        Checks.classIndices(indices, preOutput.size(1));
        return indices;
    }

    private static boolean isPerExample(INDArray mask, INDArray preOutput) {
        return mask.length() == preOutput.size(0) && (mask.rank() == 1 || mask.rank() == 2 && mask.size(1) == 1);
    }

    private static String shapeOf(INDArray array) {
        return array == null ? "null" : Arrays.toString(array.shape());
    }

    /**
     * The smoothed labels (from validated labels) the generic path hands to the base, and the target of a
     * class-conditional fused call: always a new array, never the caller's.
     */
    private INDArray smoothedLabels(INDArray labels, INDArray preOutput) {
        return isSparse() ? Targets.fromIndices(labels, (int) preOutput.size(1), smoothing, resolvedPrior)
                : Targets.dense(labels, smoothing, resolvedPrior, 1);
    }

    /** The loss taking dense labels that the base stands for (sparse MCXENT is MCXENT on one-hot labels). */
    private ILossFunction denseBase() {
        return base instanceof LossSparseMCXENT sparse
                ? new LossMCXENT(sparse.getSoftmaxClipEps(), sparse.getWeights()) : base;
    }

    private boolean isSparse() {
        return base instanceof LossSparseMCXENT;
    }

    /**
     * The fused computation of a softmax cross-entropy call, on the path {@link SoftmaxXents} picks (the CPU kernels,
     * or whole-array ND4J ops): the summed loss, the per-example losses or the gradient, as {@code output} asks.
     */
    private SoftmaxXent.Result fused(Call call, INDArray preOutput, INDArray mask, SoftmaxXent.Output output) {
        double[] weights = hasClassWeights()
                ? ((LossMCXENT) base).getWeights().castTo(DataType.DOUBLE).reshape(-1).toDoubleVector() : null;
        SoftmaxXent.Inputs in = new SoftmaxXent.Inputs(call.labels(), call.sparse(), preOutput, mask, call.s(), weights,
                call.prior().distribution());
        return SoftmaxXents.choose(call.labels(), call.sparse(), preOutput, mask).run(in, output);
    }

    private boolean hasClassWeights() {
        return base instanceof LossMCXENT mcxent && mcxent.getWeights() != null;
    }

    // ---------------------------------------------------------------------------------------------------------------

    @Override
    public boolean equals(Object o) {
        return o instanceof LossLabelSmoothing other && Double.compare(smoothing, other.smoothing) == 0
                && base.equals(other.base) && resolvedPrior.equals(other.resolvedPrior);
    }

    @Override
    public int hashCode() {
        return Objects.hash(smoothing, base, resolvedPrior);
    }

    @Override
    public String toString() {
        return "LossLabelSmoothing(smoothing=" + smoothing + ", base=" + base
                + (resolvedPrior.isCustom() ? (resolvedPrior.isClassConditional() ? ", classPriors=" : ", prior=")
                        + resolvedPrior : "") + ")";
    }
}
