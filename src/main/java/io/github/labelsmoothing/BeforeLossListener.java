package io.github.labelsmoothing;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A listener that acts before each training iteration's loss is computed. DL4J calls {@code onForwardPass} in every
 * iteration after the forward pass and before the score and gradient ({@code MultiLayerNetwork} with the activations
 * as a list, {@code ComputationGraph} as a map; {@code fit(iterator)} and {@code fit(DataSet)} alike, the first
 * iteration included): a loss set on a head there is the loss of that iteration.
 */
abstract class BeforeLossListener extends BaseTrainingListener {

    /** Sets this iteration's loss on the model's heads (DL4J calls it after the forward pass, before the loss). */
    @Override
    public final void onForwardPass(Model model, List<INDArray> activations) {
        beforeLoss(model);
    }

    /** Sets this iteration's loss on the model's heads (DL4J calls it after the forward pass, before the loss). */
    @Override
    public final void onForwardPass(Model model, Map<String, INDArray> activations) {
        beforeLoss(model);
    }

    /** Sets what the iteration's loss needs on the model's heads. */
    abstract void beforeLoss(Model model);
}
