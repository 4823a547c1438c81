package io.github.labelsmoothing;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.Cnn3DLossLayer;
import org.deeplearning4j.nn.conf.layers.CnnLossLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.RnnLossLayer;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossKLD;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/** Turns label smoothing on or off in network configurations; behind {@link LabelSmoothing#applyTo}. */
final class ConfigSmoothing {

    private ConfigSmoothing() {
    }

    /** Where a layer type keeps its loss. BaseOutputLayer covers OutputLayer, RnnOutputLayer, CenterLossOutputLayer. */
    private record LossSlot<T extends Layer>(Class<T> type, Function<T, ILossFunction> getter,
            BiConsumer<T, ILossFunction> setter) {

        ILossFunction get(Layer layer) {
            return getter.apply(type.cast(layer));
        }

        void set(Layer layer, ILossFunction loss) {
            setter.accept(type.cast(layer), loss);
        }
    }

    private static final List<LossSlot<?>> SLOTS = List.of(
            new LossSlot<>(BaseOutputLayer.class, BaseOutputLayer::getLossFn, BaseOutputLayer::setLossFn),
            new LossSlot<>(LossLayer.class, LossLayer::getLossFn, LossLayer::setLossFn),
            new LossSlot<>(RnnLossLayer.class, RnnLossLayer::getLossFn, RnnLossLayer::setLossFn),
            new LossSlot<>(CnnLossLayer.class, CnnLossLayer::getLossFn, CnnLossLayer::setLossFn),
            new LossSlot<>(Cnn3DLossLayer.class, Cnn3DLossLayer::getLossFn, Cnn3DLossLayer::setLossFn));

    private static LossSlot<?> slotOf(Layer layer) {
        for (LossSlot<?> slot : SLOTS) {
            if (slot.type().isInstance(layer)) {
                return slot;
            }
        }
        return null;
    }

    /** The loss of a layer configuration, or null if the layer type has none. */
    static ILossFunction lossOf(Layer layer) {
        LossSlot<?> slot = slotOf(layer);
        return slot == null ? null : slot.get(layer);
    }

    /** Sets the loss of a layer configuration that {@link #lossOf} gave a loss for. */
    static void setLoss(Layer layer, ILossFunction loss) {
        slotOf(layer).set(layer, loss);
    }

    /** Classification losses, whose labels are distributions (or indices) that smoothing applies to. */
    static boolean isClassification(ILossFunction loss) {
        return loss instanceof LossMCXENT || loss instanceof LossKLD || loss instanceof LossBinaryXENT;
    }

    /** The head's loss with smoothing s: re-applying replaces the smoothing, s = 0 unwraps, the prior (any kind) is kept. */
    static ILossFunction withSmoothing(ILossFunction loss, double s) {
        if (loss instanceof LossLabelSmoothing smoothed) {
            return s == 0 ? smoothed.getBase() : smoothed.withSmoothing(s);
        }
        return s == 0 ? loss : new LossLabelSmoothing(s, loss);
    }

    /** The loss a layer smooths (unwrapped), or null if it has none or a regression loss. */
    private static ILossFunction classificationLoss(Layer layer) {
        LossSlot<?> slot = slotOf(layer);
        if (slot == null) {
            return null;
        }
        ILossFunction loss = slot.get(layer);
        return isSmoothable(loss) ? loss : null;
    }

    /** A classification loss, or a {@link LossLabelSmoothing} over one. */
    static boolean isSmoothable(ILossFunction loss) {
        return isClassification(loss instanceof LossLabelSmoothing smoothed ? smoothed.getBase() : loss);
    }

    /** Sets smoothing s on a (copied) layer that {@link #classificationLoss} accepted. */
    private static void smooth(Layer layer, double s) {
        LossSlot<?> slot = slotOf(layer);
        slot.set(layer, withSmoothing(slot.get(layer), s));
    }

    static MultiLayerConfiguration apply(MultiLayerConfiguration conf, double s, int[] layerIndices) {
        LabelSmoothing.checkSmoothing(s);
        if (conf == null) {
            throw new IllegalArgumentException("configuration must not be null");
        }
        int n = conf.getConfs().size();
        List<Integer> targets = new ArrayList<>();
        if (layerIndices == null) {
            for (int i = 0; i < n; i++) {
                if (classificationLoss(conf.getConf(i).getLayer()) != null) {
                    targets.add(i);
                }
            }
        } else {
            for (int i : layerIndices) {
                if (i < 0 || i >= n) {
                    throw new IllegalArgumentException("layer index " + i + " is out of range: the network has " + n
                            + " layers");
                }
                requireClassificationHead(conf.getConf(i).getLayer(), "layer " + i);
                targets.add(i);
            }
        }
        return copyWithSmoothing(conf, targets, s);
    }

    /**
     * A copy of conf with every {@link LossLabelSmoothing} head (whatever its base) unwrapped to its base loss, or null
     * if it has none: the network without smoothing, as {@link UnsmoothedLossCalculator} scores it.
     */
    static MultiLayerConfiguration unsmoothed(MultiLayerConfiguration conf) {
        List<Integer> targets = new ArrayList<>();
        for (int i = 0; i < conf.getConfs().size(); i++) {
            if (isSmoothed(conf.getConf(i).getLayer())) {
                targets.add(i);
            }
        }
        return targets.isEmpty() ? null : copyWithSmoothing(conf, targets, 0);
    }

    /** A copy of conf with smoothing s on the layers at the given indices. */
    private static MultiLayerConfiguration copyWithSmoothing(MultiLayerConfiguration conf, List<Integer> targets,
            double s) {
        MultiLayerConfiguration copy = conf.clone();
        copy.getConfs().forEach(c -> ownUpdaters(c.getLayer()));
        for (int i : targets) {
            smooth(copy.getConf(i).getLayer(), s);
        }
        return copy;
    }

    static ComputationGraphConfiguration apply(ComputationGraphConfiguration conf, double s, String[] layerNames) {
        LabelSmoothing.checkSmoothing(s);
        if (conf == null) {
            throw new IllegalArgumentException("configuration must not be null");
        }
        Set<String> targets = new LinkedHashSet<>();
        if (layerNames == null) {
            for (Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet()) {
                if (e.getValue() instanceof LayerVertex v && classificationLoss(v.getLayerConf().getLayer()) != null) {
                    targets.add(e.getKey());
                }
            }
        } else {
            for (String name : layerNames) {
                GraphVertex vertex = conf.getVertices().get(name);
                if (!(vertex instanceof LayerVertex v)) {
                    throw new IllegalArgumentException("no layer named '" + name + "' in the graph (layers: "
                            + conf.getVertices().keySet() + ")");
                }
                requireClassificationHead(v.getLayerConf().getLayer(), "layer '" + name + "'");
                targets.add(name);
            }
        }
        return copyWithSmoothing(conf, targets, s);
    }

    /** As {@link #unsmoothed(MultiLayerConfiguration)}, for a graph. */
    static ComputationGraphConfiguration unsmoothed(ComputationGraphConfiguration conf) {
        Set<String> targets = new LinkedHashSet<>();
        for (Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet()) {
            if (e.getValue() instanceof LayerVertex v && isSmoothed(v.getLayerConf().getLayer())) {
                targets.add(e.getKey());
            }
        }
        return targets.isEmpty() ? null : copyWithSmoothing(conf, targets, 0);
    }

    /**
     * A copy of conf with smoothing s on the named layers. DL4J's {@code clone()} of a graph configuration drops the
     * iteration and epoch counters (a multi-layer one keeps them): they are copied here, so a copy of a trained
     * graph's configuration continues its learning-rate schedule and Adam's bias correction where the original was.
     */
    private static ComputationGraphConfiguration copyWithSmoothing(ComputationGraphConfiguration conf,
            Set<String> targets, double s) {
        ComputationGraphConfiguration copy = conf.clone();
        copy.setIterationCount(conf.getIterationCount());
        copy.setEpochCount(conf.getEpochCount());
        for (GraphVertex vertex : copy.getVertices().values()) {
            if (vertex instanceof LayerVertex v) {
                ownUpdaters(v.getLayerConf().getLayer());
            }
        }
        for (String name : targets) {
            smooth(((LayerVertex) copy.getVertices().get(name)).getLayerConf().getLayer(), s);
        }
        return copy;
    }

    /**
     * Gives a cloned layer its own updater configurations. DL4J's configuration {@code clone()} leaves them shared with
     * the original layer, and {@code setLearningRate} on a network changes them in place: without this, changing the
     * learning rate of a network built from a copy would change the original's.
     */
    private static void ownUpdaters(Layer layer) {
        if (layer instanceof BaseLayer l) {
            if (l.getIUpdater() != null) {
                l.setIUpdater(l.getIUpdater().clone());
            }
            if (l.getBiasUpdater() != null) {
                l.setBiasUpdater(l.getBiasUpdater().clone());
            }
        }
    }

    /** Whether a layer's loss is a {@link LossLabelSmoothing}. */
    private static boolean isSmoothed(Layer layer) {
        LossSlot<?> slot = slotOf(layer);
        return slot != null && slot.get(layer) instanceof LossLabelSmoothing;
    }

    private static void requireClassificationHead(Layer layer, String what) {
        if (classificationLoss(layer) == null) {
            LossSlot<?> slot = slotOf(layer);
            throw new IllegalArgumentException(what + " (" + layer.getClass().getSimpleName() + ") is not a "
                    + "classification head" + (slot == null ? "" : ": its loss " + slot.get(layer) + " is not one of "
                    + "MCXENT, NLL, sparse MCXENT, KLD or binary XENT"));
        }
    }
}
