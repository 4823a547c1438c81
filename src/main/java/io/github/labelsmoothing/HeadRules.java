package io.github.labelsmoothing;

import java.util.function.Supplier;
import org.deeplearning4j.exception.DL4JInvalidConfigException;
import org.deeplearning4j.util.OutputLayerUtil;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossKLD;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Which losses label smoothing applies to, and which activations they need: the rules DL4J's own configuration check
 * ({@link OutputLayerUtil#validateOutputLayerConfiguration}) enforces for a plain loss, which cannot see through a
 * {@link LossLabelSmoothing}. One place, used by the loss (constructor and every call) and by {@code applyTo}.
 */
final class HeadRules {
    /** DL4J's own losses live here; the ones of it that are not {@link #isClassification} are refused as bases. */
    private static final String DL4J_LOSSES = LossMCXENT.class.getPackageName();
    private static final String CLASSIFICATION = "MCXENT, NLL, sparse MCXENT, KLD or binary XENT";
    /** How far from 1 a row of probabilities passed through identity may sum (a softmax layer's rounding). */
    private static final double ROW_SUM_TOLERANCE = 1e-3;

    private HeadRules() {
    }

    /** Classification losses, whose labels are distributions (or class indices) that smoothing applies to. */
    static boolean isClassification(ILossFunction loss) {
        return loss instanceof LossMCXENT || loss instanceof LossKLD || loss instanceof LossBinaryXENT;
    }

    /**
     * @throws IllegalArgumentException if base is one of DL4J's losses other than the classification ones (MSE, L1,
     *                                  hinge, Poisson, cosine proximity, ...): their targets are values, not
     *                                  distributions, and smoothing them towards 1/K changes the regression. A loss of
     *                                  the user's own is taken as it is.
     */
    static void checkBase(ILossFunction base) {
        if (isClassification(base)) {
            return;
        }
        for (Class<?> c = base.getClass(); c != null; c = c.getSuperclass()) {
            if (DL4J_LOSSES.equals(c.getPackageName())) {
                throw new IllegalArgumentException("label smoothing applies to classification losses (" + CLASSIFICATION
                        + "), not to " + base + ": its targets are not class distributions");
            }
        }
    }

    /** The message naming a layer's loss that is not a classification loss (for {@code applyTo}'s errors). */
    static String notClassification(ILossFunction loss) {
        return "its loss " + loss + " is not one of " + CLASSIFICATION;
    }

    /**
     * DL4J's output layer checks for a softmax cross-entropy base (MCXENT, NLL, sparse MCXENT) or binary XENT, with
     * DL4J's wording: sigmoid with MCXENT, softmax with binary XENT, an activation not bounded to [0, 1] (identity
     * only in a loss layer, whose input may already be probabilities), softmax over one output.
     *
     * @param where       the layer, for the message (built only when a check fails)
     * @param nOut        the layer's number of outputs (K), or -1 if not known
     * @param isLossLayer true for loss layers (no parameters: identity may pass probabilities through)
     * @throws IllegalArgumentException if DL4J would refuse the plain base with this activation
     */
    static void checkActivation(Supplier<String> where, long nOut, boolean isLossLayer, IActivation activation,
            ILossFunction base) {
        if (nOut == 1 && activation instanceof ActivationSoftmax && base instanceof LossMCXENT) {
            throw invalid(where, "softmax over nOut=1 output is always exactly 1.0 regardless of the input, so " + base
                    + " learns nothing; use 2 outputs with softmax, or one sigmoid output with LossBinaryXENT", null);
        }
        try {
            OutputLayerUtil.validateOutputLayerConfiguration("", -1, isLossLayer, activation, base);
        } catch (DL4JInvalidConfigException e) {
            // DL4J's wording after its 'for layer "<name>": ', without its hint (validateOutputLayerConfig(false)),
            // which does not switch this check off
            String message = e.getMessage();
            int start = message.indexOf("\": ");
            int hint = message.indexOf('\n');
            throw invalid(where, message.substring(start < 0 ? 0 : start + 3, hint < 0 ? message.length() : hint)
                    .strip(), e);
        }
    }

    /**
     * The checks of {@link #checkActivation} at a call, where the layer type is not known: identity passes only
     * probabilities (the input of a loss layer after a softmax layer), which is read off preOutput: values in [0, 1],
     * and for a softmax cross-entropy base rows that sum to 1.
     *
     * @throws IllegalArgumentException if DL4J would refuse the plain base with this activation, or identity gets
     *                                  values that are not such probabilities
     */
    static void checkCall(LossLabelSmoothing loss, IActivation activation, INDArray preOutput) {
        ILossFunction base = loss.getBase();
        if (!(base instanceof LossMCXENT || base instanceof LossBinaryXENT)) {
            return;
        }
        Supplier<String> where = () -> "a layer with " + loss;
        checkActivation(where, preOutput.size(1), true, activation, base);
        if (activation instanceof ActivationIdentity) {
            double min = preOutput.minNumber().doubleValue();
            double max = preOutput.maxNumber().doubleValue();
            // a softmax layer's rows sum to 1 up to rounding: float32 over K classes stays far inside this
            double offOne = base instanceof LossMCXENT
                    ? preOutput.sum(1).castTo(DataType.DOUBLE).subi(1).amaxNumber().doubleValue() : 0;
            if (!(min >= 0 && max <= 1 && offOne <= ROW_SUM_TOLERANCE)) {
                throw invalid(where, "identity activation passes values in [" + min + ", " + max + "]"
                        + (offOne > 0 ? " with row sums off 1 by up to " + offOne : "") + " to " + base
                        + ", which expects probabilities" + (base instanceof LossMCXENT ? " (rows summing to 1)" : "")
                        + ": use softmax on an output layer (identity only on a loss layer after a softmax layer)",
                        null);
            }
        }
    }

    private static IllegalArgumentException invalid(Supplier<String> where, String reason, Throwable cause) {
        return new IllegalArgumentException("Invalid output layer configuration for " + where.get() + ": " + reason,
                cause);
    }
}
