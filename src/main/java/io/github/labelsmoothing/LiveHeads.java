package io.github.labelsmoothing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * The heads of a live network whose loss a listener swaps. A live layer reads its loss from its configuration object
 * ({@code layer.conf().getLayer()}, the same object the network's configuration holds) on every score and gradient
 * call, so setting a new loss there takes effect at the next call and is what a save writes.
 */
final class LiveHeads {

    private LiveHeads() {
    }

    /**
     * The live layers of a {@link MultiLayerNetwork} or {@link ComputationGraph}: the named ones (each must pass
     * {@code accept}), or, with {@code names} null, every layer whose loss passes {@code select}.
     *
     * @param what the listener, for messages
     * @throws IllegalArgumentException if the model is neither, a name is not a layer, a named layer's loss is not
     *                                  accepted, or no layer is selected
     */
    static List<Layer> find(Model model, String[] names, Predicate<ILossFunction> select,
            Predicate<ILossFunction> accept, String what) {
        Layer[] layers = layers(model, what);
        List<Layer> heads = new ArrayList<>();
        if (names == null) {
            for (Layer layer : layers) {
                ILossFunction loss = loss(layer);
                if (loss != null && select.test(loss)) {
                    heads.add(layer);
                }
            }
            if (heads.isEmpty()) {
                throw new IllegalArgumentException(what + " found no head to act on in the model: give it the head's "
                        + "layer name, or wrap the head's loss (LabelSmoothing.applyTo, new LossLabelSmoothing(...))");
            }
            return heads;
        }
        for (String name : names) {
            Layer layer = Arrays.stream(layers).filter(l -> name.equals(l.conf().getLayer().getLayerName())).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException(what + ": no layer named '" + name
                            + "' in the model (layers: " + Arrays.stream(layers).map(l -> l.conf().getLayer()
                                    .getLayerName()).toList() + ")"));
            ILossFunction loss = loss(layer);
            if (loss == null || !accept.test(loss)) {
                throw new IllegalArgumentException(what + ": layer '" + name + "' is not a head it can act on (loss "
                        + loss + ")");
            }
            heads.add(layer);
        }
        return heads;
    }

    /** The loss the live layer uses now, or null if its type has none. */
    static ILossFunction loss(Layer layer) {
        return ConfigSmoothing.lossOf(layer.conf().getLayer());
    }

    /** Replaces the live layer's loss, from its next score or gradient call on. */
    static void setLoss(Layer layer, ILossFunction loss) {
        ConfigSmoothing.setLoss(layer.conf().getLayer(), loss);
    }

    /** The layer's name in its network. */
    static String name(Layer layer) {
        return layer.conf().getLayer().getLayerName();
    }

    private static Layer[] layers(Model model, String what) {
        if (model instanceof MultiLayerNetwork net) {
            return net.getLayers();
        }
        if (model instanceof ComputationGraph graph) {
            return graph.getLayers();
        }
        throw new IllegalArgumentException(what + " works on a MultiLayerNetwork or a ComputationGraph, got "
                + (model == null ? "null" : model.getClass().getName()));
    }
}
