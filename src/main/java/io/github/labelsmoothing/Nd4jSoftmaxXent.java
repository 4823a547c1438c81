package io.github.labelsmoothing;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.reduce3.Dot;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.Axpy;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Conditions;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * {@link SoftmaxXent} as whole-array ND4J ops: any backend (what CUDA runs), any floating type, no element loops.
 * Class indices become one-hot rows (one op: ND4J's gather and scatter_sub, which used them directly, cost 5-7x
 * LossMCXENT at [2048,10]). Masked rows of labels and logits are set to 0 in new arrays first, so that padding, NaN or
 * infinities there never reach the result (0 × NaN is NaN). Its cost on a GPU is its op count: the score is 8 ops
 * over {@code [N,K]} arrays, the gradient 3 (plus the one-hot op for class indices).
 */
final class Nd4jSoftmaxXent implements SoftmaxXent {

    /** Every call (the fallback of the CPU kernels). */
    @Override
    public boolean supports(INDArray labels, boolean sparse, INDArray preOutput, INDArray mask) {
        return true;
    }

    @Override
    public Result run(Inputs in, Output output) {
        INDArray mask = in.mask();
        INDArray logits = in.preOutput();
        INDArray labels = in.labels();
        if (in.sparse()) { // validated where not masked, masked ones set to 0: padding may be anything
            labels = Targets.unmaskedIndices(labels, mask);
            Checks.classIndices(labels, logits.size(1));
        }
        if (mask != null) {
            logits = zeroMaskedRows(logits, mask);
            labels = in.sparse() ? labels : zeroMaskedRows(labels, mask);
        }
        Terms terms = new Terms(in, labels, logits.size(1));
        INDArray column = output == Output.GRADIENT ? null : lossColumn(terms, logits, mask);
        double score = column == null ? Double.NaN : column.sumNumber().doubleValue();
        if (Double.isNaN(score) && column != null) { // 0 × -inf somewhere (or NaN logits, which stay NaN)
            column = infiniteLossColumn(terms, logits, mask);
            score = column.sumNumber().doubleValue();
        }
        INDArray gradient = output.gradient() ? gradient(terms, softmax(logits), mask) : null;
        return new Result(score, output == Output.ROW_LOSSES ? column : null, gradient);
    }

    /** One call's smoothing terms in the logits' type. */
    private static final class Terms {
        final double s;
        final Prior prior;
        /** Dense labels in the logits' type (one-hot rows for class indices). */
        final INDArray y;
        /** Class weights as a vector, or null. */
        final INDArray weights;

        Terms(Inputs in, INDArray labels, long numClasses) {
            s = in.s();
            prior = Prior.categorical(in.prior());
            DataType type = in.preOutput().dataType();
            weights = in.classWeights() == null ? null : Nd4j.createFromArray(in.classWeights()).castTo(type);
            y = in.sparse() ? Targets.oneHotRows(labels, (int) numClasses, type) : labels.castTo(type);
        }

        /**
         * Per-example mass of the weighted smoothed target, {@code Σ_k w_k t_k = (1-s)·Σ_k w_k y_k + s·Σ_k w_k
         * prior_k} as {@code [N,1]} (w = 1 without class weights). The score multiplies it by lse; the weighted
         * gradient by p.
         */
        INDArray targetMass() {
            INDArray labelMass = weights == null ? y.sum(true, 1) : y.mmul(weights.reshape(weights.length(), 1));
            double priorMass = weights == null ? 1
                    : prior.vector(weights.length(), y.dataType()).muli(weights).sumNumber().doubleValue();
            return labelMass.muli(1 - s).addi(s * priorMass);
        }
    }

    /**
     * Per-example loss {@code -Σ_k w_k t_k log p_k} with {@code t = (1-s)·y + s·prior} (w = 1 unweighted), as
     * {@code [N,1]}, masked. Computed without a log-probability array from the shifted logits {@code x = z - max_k z_k}:
     * {@code log p_k = x_k - lse}, so {@code loss = lse·Σ_k w_k t_k - Σ_k w_k t_k x_k}. Both keep float32 exact: the
     * shift keeps every term as small as the logits' spread (with unshifted logits of 1e4 the two terms would cancel),
     * and {@code lse = log1p(Σ_k exp(x_k) - 1)} with the sum and the log in double keeps the max's {@code exp(0) = 1}
     * from rounding away the rest of a confident row (whose loss at small s is that rest).
     */
    private static INDArray lossColumn(Terms terms, INDArray z, INDArray mask) {
        INDArray shifted = z.subColumnVector(z.max(true, 1));
        return lossColumn(terms, shifted, shifted, mask);
    }

    /** The loss from {@code shifted} (for lse) and {@code x} (the same, or with -inf replaced for the dot terms). */
    private static INDArray lossColumn(Terms terms, INDArray shifted, INDArray x, INDArray mask) {
        DataType type = shifted.dataType();
        INDArray sum = Transforms.exp(shifted, true).castTo(DataType.DOUBLE).sum(true, 1);
        INDArray lse = Transforms.log1p(sum.subi(1), false).castTo(type);
        INDArray wx = terms.weights == null ? x : x.mulRowVector(terms.weights);
        INDArray labelLogits = Nd4j.getExecutioner().exec(new Dot(terms.y, wx, 1));
        INDArray column = lse.muli(terms.targetMass());
        column.subi(labelLogits.reshape(column.shape()).muli(1 - terms.s));
        column.subi(terms.prior.expectation(wx).muli(terms.s));
        return masked(column, mask);
    }

    /**
     * The loss where a logit is {@code -inf}: the terms computed with those logits set to 0, plus {@code +Infinity}
     * in each row where such a logit has a positive weighted target ({@code -log 0}; {@code -log 1 = 0} elsewhere).
     */
    private static INDArray infiniteLossColumn(Terms terms, INDArray z, INDArray mask) {
        INDArray shifted = z.subColumnVector(z.max(true, 1));
        INDArray atMinusInf = shifted.eq(Double.NEGATIVE_INFINITY).castTo(shifted.dataType());
        INDArray finite = shifted.dup();
        BooleanIndexing.replaceWhere(finite, 0.0, Conditions.isInfinite());
        INDArray column = lossColumn(terms, shifted, finite, mask);
        INDArray target = terms.prior.smooth(terms.y.dup(), terms.s, 1);
        if (terms.weights != null) {
            target.muliRowVector(terms.weights);
        }
        INDArray infinite = Nd4j.getExecutioner().exec(new Dot(atMinusInf, target, 1)).reshape(column.shape());
        return column.addi(Transforms.log(infinite.eq(0).castTo(column.dataType()), false).negi());
    }

    /**
     * Gradient w.r.t. preOutput: {@code p - (1-s)·y - s·prior}; weighted, {@code p·Σ_k w_k t_k - w·t} with
     * {@code t = (1-s)·y + s·prior} (LossMCXENT's weighted softmax gradient). Consumes {@code p}.
     */
    private static INDArray gradient(Terms terms, INDArray p, INDArray mask) {
        double s = terms.s;
        if (terms.weights == null) {
            Nd4j.exec(new Axpy(terms.y, p, p, -(1 - s)));
            terms.prior.addScaled(p, -s, 1);
            return masked(p, mask);
        }
        p.muliColumnVector(terms.targetMass());
        p.subi(terms.y.mulRowVector(terms.weights).muli(1 - s));
        p.subiRowVector(terms.prior.vector(p.size(1), p.dataType()).muli(terms.weights).muli(s));
        return masked(p, mask);
    }

    /** Softmax into a new c-order array (whatever preOutput's order), the labels' usual order for the Axpy. */
    private static INDArray softmax(INDArray preOutput) {
        INDArray p = Nd4j.createUninitialized(preOutput.dataType(), preOutput.shape(), 'c');
        return Nd4j.exec((DynamicCustomOp) new SoftMax(preOutput, p, 1))[0];
    }

    /** A copy of {@code values} {@code [N,K]} with the rows whose per-example mask is 0 set to 0. */
    private static INDArray zeroMaskedRows(INDArray values, INDArray mask) {
        return Targets.select(mask.reshape(values.size(0)).neq(0), values);
    }

    private static INDArray masked(INDArray values, INDArray mask) {
        return mask == null ? values
                : values.muliColumnVector(mask.castTo(values.dataType()).reshape(values.size(0), 1));
    }

    @Override
    public String toString() {
        return "ND4J ops";
    }
}
