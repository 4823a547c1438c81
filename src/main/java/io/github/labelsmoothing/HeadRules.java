package io.github.labelsmoothing;

import org.deeplearning4j.exception.DL4JInvalidConfigException;
import org.deeplearning4j.util.OutputLayerUtil;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
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
     * @param where       the layer, for the message
     * @param nOut        the layer's number of outputs (K), or -1 if not known
     * @param isLossLayer true for loss layers (no parameters: identity may pass probabilities through)
     * @throws IllegalArgumentException if DL4J would refuse the plain base with this activation
     */
    static void checkActivation(String where, long nOut, boolean isLossLayer, IActivation activation,
            ILossFunction base) {
        if (nOut == 1 && activation instanceof ActivationSoftmax && base instanceof LossMCXENT) {
            throw new IllegalArgumentException("Invalid output layer configuration for " + where + ": softmax over "
                    + "nOut=1 output is always exactly 1.0 regardless of the input, so " + base + " learns nothing; "
                    + "use 2 outputs with softmax, or one sigmoid output with LossBinaryXENT");
        }
        try {
            OutputLayerUtil.validateOutputLayerConfiguration(where, -1, isLossLayer, activation, base);
        } catch (DL4JInvalidConfigException e) {
            // DL4J's wording after its 'for layer "<name>": ', without its hint (validateOutputLayerConfig(false)),
            // which does not switch this check off
            String message = e.getMessage();
            int start = message.indexOf("\": ");
            int hint = message.indexOf('\n');
            String reason = message.substring(start < 0 ? 0 : start + 3, hint < 0 ? message.length() : hint).strip();
            throw new IllegalArgumentException("Invalid output layer configuration for " + where + ": " + reason, e);
        }
    }

    /**
     * The checks of {@link #checkActivation} at a call, where the layer type is not known: identity passes only
     * probabilities (the input of a loss layer after a softmax layer), which is read off preOutput.
     *
     * @throws IllegalArgumentException if DL4J would refuse the plain base with this activation, or identity gets
     *                                  values outside [0, 1]
     */
    static void checkCall(LossLabelSmoothing loss, IActivation activation, INDArray preOutput) {
        ILossFunction base = loss.getBase();
        if (!(base instanceof LossMCXENT || base instanceof LossBinaryXENT)) {
            return;
        }
        String where = "a layer with " + loss;
        checkActivation(where, preOutput.size(1), true, activation, base);
        if (activation instanceof ActivationIdentity) {
            double min = preOutput.minNumber().doubleValue();
            double max = preOutput.maxNumber().doubleValue();
            if (!(min >= 0 && max <= 1)) {
                throw new IllegalArgumentException("Invalid output layer configuration for " + where + ": identity "
                        + "activation passes values in [" + min + ", " + max + "] to " + base + ", which expects "
                        + "probabilities in [0, 1]: use softmax on an output layer (identity only on a loss layer "
                        + "after a softmax layer)");
            }
        }
    }
}
