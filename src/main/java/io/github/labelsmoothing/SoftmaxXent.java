package io.github.labelsmoothing;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One way to compute label-smoothed softmax cross-entropy: per row
 * {@code loss = m·(lse·Σ_k w_k t_k - Σ_k w_k t_k x_k)} with {@code x = z - max_k z_k}, {@code lse = log Σ_k e^(x_k)},
 * {@code t = (1-s)·y + s·prior}, and its gradient {@code m·(p - t)} (class weights: {@code m·(p·Σ_k w_k t_k - w·t)}).
 * A term whose weighted target {@code w_k t_k} is 0 contributes nothing, also at a {@code -inf} logit; one whose target
 * is positive there makes the loss {@code +Infinity} with a finite gradient. A row whose mask is 0 scores 0 with a zero
 * gradient and is not read (padding, NaN or infinities there never reach the result).
 *
 * <p>The implementations ({@link ScalarSoftmaxXent}, the SIMD kernel, {@link Nd4jSoftmaxXent}) give the same numbers
 * within float rounding; {@link SoftmaxXents} picks one per call. Implementations are thread-safe, and a call's
 * result depends on its inputs alone.
 */
interface SoftmaxXent {

    /** What a call asks for: the summed loss, the per-example losses, the gradient, or the summed loss and gradient. */
    enum Output {
        SCORE, ROW_LOSSES, GRADIENT, SCORE_AND_GRADIENT;

        boolean score() {
            return this == SCORE || this == SCORE_AND_GRADIENT;
        }

        boolean gradient() {
            return this == GRADIENT || this == SCORE_AND_GRADIENT;
        }
    }

    /**
     * One call's inputs, validated by the caller except for the class indices (each path checks the unmasked ones).
     *
     * @param labels       dense labels {@code [N,K]}, or class indices {@code [N,1]}/{@code [N]} if {@code sparse}
     * @param preOutput    the logits {@code [N,K]}
     * @param mask         per-example mask {@code [N,1]}/{@code [N]}, or null
     * @param s            smoothing in [0, 1]
     * @param classWeights LossMCXENT's weights, length K, or null
     * @param prior        the prior over the K classes, or null for uniform (1/K)
     */
    record Inputs(INDArray labels, boolean sparse, INDArray preOutput, INDArray mask, double s, double[] classWeights,
            double[] prior) {
    }

    /**
     * What {@link #run} returns; the parts not asked for are NaN or null.
     *
     * @param score     the summed loss {@code Σ_i loss_i}
     * @param rowLosses {@code [N,1]} per-example losses in preOutput's type
     * @param gradient  {@code [N,K]} gradient w.r.t. preOutput, in preOutput's type (a new array)
     */
    record Result(double score, INDArray rowLosses, INDArray gradient) {
    }

    /** Whether this computation takes these arrays (type, layout, backend); the ND4J-op path takes every call. */
    boolean supports(INDArray labels, boolean sparse, INDArray preOutput, INDArray mask);

    /**
     * Computes what {@code output} asks for.
     *
     * @throws IllegalArgumentException if {@link #supports} refuses the arrays, or an unmasked class index is not
     *                                  finite, not whole, negative or >= K (naming it); nothing is written then
     */
    Result run(Inputs in, Output output);
}
