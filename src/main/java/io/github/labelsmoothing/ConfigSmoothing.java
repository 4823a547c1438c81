package io.github.labelsmoothing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
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

    /**
     * A per-head selection given to a public {@code applyTo}, copied.
     *
     * @throws IllegalArgumentException if it is null
     */
    static int[] selection(int[] layerIndices, String name) {
        return requireSelection(layerIndices, name).clone();
    }

    /** As {@link #selection(int[], String)}, for layer names. */
    static String[] selection(String[] layerNames, String name) {
        return requireSelection(layerNames, name).clone();
    }

    private static <T> T requireSelection(T selection, String name) {
        if (selection == null) {
            throw new IllegalArgumentException(name + " must not be null (use applyTo(..., s) for every head)");
        }
        return selection;
    }

    /**
     * The head's loss with smoothing s: re-applying replaces the smoothing, s = 0 unwraps, the prior (any kind) is kept.
     *
     * @param s a smoothing already validated where it entered ({@link #apply})
     */
    static ILossFunction withSmoothing(ILossFunction loss, double s) {
        if (loss instanceof LossLabelSmoothing smoothed) {
            return s == 0 ? smoothed.getBase() : smoothed.withSmoothing(s);
        }
        return s == 0 ? loss : LossLabelSmoothing.wrapping(loss, s);
    }

    /** A head smoothing applies to: a classification loss, or a {@link LossLabelSmoothing} (whatever its base). */
    private static boolean isSmoothable(Layer layer) {
        LossSlot<?> slot = slotOf(layer);
        return slot != null && isSmoothable(slot.get(layer));
    }

    /** A loss smoothing applies to: a classification loss, or a {@link LossLabelSmoothing} (whatever its base). */
    static boolean isSmoothable(ILossFunction loss) {
        return loss instanceof LossLabelSmoothing || HeadRules.isClassification(loss);
    }

    /** Whether a layer's loss is a {@link LossLabelSmoothing}. */
    private static boolean isSmoothed(Layer layer) {
        LossSlot<?> slot = slotOf(layer);
        return slot != null && slot.get(layer) instanceof LossLabelSmoothing;
    }

    /** Sets smoothing s on a (copied) layer that {@link #isSmoothable} accepted. */
    private static void smooth(Layer layer, double s) {
        LossSlot<?> slot = slotOf(layer);
        slot.set(layer, withSmoothing(slot.get(layer), s));
    }

    /**
     * A copy of conf with smoothing s on every classification head, or on the layers at the given indices.
     *
     * @param keepCounters false for a configuration that builds a new network: the copy's iteration and epoch counts
     *                     start at 0, whatever DL4J wrote into conf while training another network with it (Adam's bias
     *                     correction and schedules would otherwise continue that network's run); true for the
     *                     configuration of a trained network's copy, which continues where the network was
     * @throws IllegalArgumentException if s is outside [0, 1] or NaN, conf is null, a selected layer is not a
     *                                  classification head, s &gt; 0 and there is no head to smooth, or a head's
     *                                  activation does not fit its loss
     */
    static MultiLayerConfiguration apply(MultiLayerConfiguration conf, double s, int[] layerIndices,
            boolean keepCounters) {
        Checks.smoothing(s);
        if (conf == null) {
            throw new IllegalArgumentException("configuration must not be null");
        }
        Map<Integer, Layer> layers = new LinkedHashMap<>();
        for (int i = 0; i < conf.getConfs().size(); i++) {
            layers.put(i, conf.getConf(i).getLayer());
        }
        Integer[] selection = layerIndices == null ? null : Arrays.stream(layerIndices).boxed().toArray(Integer[]::new);
        Set<Integer> targets = targets(layers, selection, s, i -> "layer " + i,
                i -> "layer index " + i + " is out of range: the network has " + layers.size() + " layers");
        MultiLayerConfiguration copy = conf.clone();
        copy.getConfs().forEach(c -> ownUpdaters(c.getLayer()));
        for (int i : targets) {
            smooth(copy.getConf(i).getLayer(), s);
        }
        return withCounters(copy, conf, keepCounters);
    }

    /**
     * As {@link #apply(MultiLayerConfiguration, double, int[], boolean)}, for a graph (named layers, or every head).
     * DL4J's {@code clone()} of a graph configuration drops the counters (a multi-layer one keeps them): with
     * {@code keepCounters} they are copied explicitly.
     */
    static ComputationGraphConfiguration apply(ComputationGraphConfiguration conf, double s, String[] layerNames,
            boolean keepCounters) {
        Checks.smoothing(s);
        if (conf == null) {
            throw new IllegalArgumentException("configuration must not be null");
        }
        Map<String, Layer> layers = new LinkedHashMap<>();
        conf.getVertices().forEach((name, vertex) -> {
            if (vertex instanceof LayerVertex v) {
                layers.put(name, v.getLayerConf().getLayer());
            }
        });
        Set<String> targets = targets(layers, layerNames, s, name -> "layer '" + name + "'",
                name -> "no layer named '" + name + "' in the graph (layers: " + conf.getVertices().keySet() + ")");
        ComputationGraphConfiguration copy = conf.clone();
        for (GraphVertex vertex : copy.getVertices().values()) {
            if (vertex instanceof LayerVertex v) {
                ownUpdaters(v.getLayerConf().getLayer());
            }
        }
        for (String name : targets) {
            smooth(((LayerVertex) copy.getVertices().get(name)).getLayerConf().getLayer(), s);
        }
        return withCounters(copy, conf, keepCounters);
    }

    /**
     * The layers to smooth: the selected ones (each must be a head), or every head smoothing applies to. Checks each
     * target's activation against its loss when s &gt; 0, as DL4J checks a plain loss.
     *
     * @throws IllegalArgumentException if a selected layer does not exist or is not a classification head, s &gt; 0
     *                                  and there is no head, or a head's activation does not fit its loss
     */
    private static <K> Set<K> targets(Map<K, Layer> layers, K[] selection, double s, Function<K, String> where,
            Function<K, String> missing) {
        Set<K> targets = new LinkedHashSet<>();
        if (selection == null) {
            layers.forEach((key, layer) -> {
                if (isSmoothable(layer)) {
                    targets.add(key);
                }
            });
            if (s > 0 && targets.isEmpty()) {
                throw new IllegalArgumentException("no classification head to smooth: " + heads(layers, where)
                        + "; label smoothing applies to losses MCXENT, NLL, sparse MCXENT, KLD and binary XENT");
            }
        } else {
            for (K key : selection) {
                Layer layer = layers.get(key);
                if (layer == null) {
                    throw new IllegalArgumentException(missing.apply(key));
                }
                if (!isSmoothable(layer)) {
                    LossSlot<?> slot = slotOf(layer);
                    throw new IllegalArgumentException(where.apply(key) + " (" + layer.getClass().getSimpleName()
                            + ") is not a classification head" + (slot == null ? ""
                            : ": " + HeadRules.notClassification(slot.get(layer))));
                }
                targets.add(key);
            }
        }
        if (s > 0) {
            for (K key : targets) {
                checkActivation(where.apply(key), layers.get(key));
            }
        }
        return targets;
    }

    /** DL4J's output layer checks for a head's base loss and activation (which DL4J cannot see through the wrapper). */
    private static void checkActivation(String where, Layer layer) {
        ILossFunction loss = slotOf(layer).get(layer);
        ILossFunction base = loss instanceof LossLabelSmoothing smoothed ? smoothed.getBase() : loss;
        if (layer instanceof BaseLayer l && l.getActivationFn() != null) {
            boolean isOutputLayer = layer instanceof BaseOutputLayer;
            long nOut = isOutputLayer ? ((BaseOutputLayer) layer).getNOut() : -1;
            HeadRules.checkActivation(() -> where + " (" + layer.getClass().getSimpleName() + ")", nOut,
                    !isOutputLayer, l.getActivationFn(), base);
        }
    }

    /** Every layer that has a loss, with it: "layer 1 (OutputLayer: LossMSE())", or that none has. */
    private static <K> String heads(Map<K, Layer> layers, Function<K, String> where) {
        List<String> heads = new ArrayList<>();
        layers.forEach((key, layer) -> {
            LossSlot<?> slot = slotOf(layer);
            if (slot != null) {
                heads.add(where.apply(key) + " (" + layer.getClass().getSimpleName() + ": " + slot.get(layer) + ")");
            }
        });
        return heads.isEmpty() ? "no layer has a loss" : "the heads are " + String.join(", ", heads);
    }

    private static MultiLayerConfiguration withCounters(MultiLayerConfiguration copy, MultiLayerConfiguration conf,
            boolean keep) {
        copy.setIterationCount(keep ? conf.getIterationCount() : 0);
        copy.setEpochCount(keep ? conf.getEpochCount() : 0);
        return copy;
    }

    private static ComputationGraphConfiguration withCounters(ComputationGraphConfiguration copy,
            ComputationGraphConfiguration conf, boolean keep) {
        copy.setIterationCount(keep ? conf.getIterationCount() : 0);
        copy.setEpochCount(keep ? conf.getEpochCount() : 0);
        return copy;
    }

    /**
     * A copy of conf with every {@link LossLabelSmoothing} head (whatever its base) unwrapped to its base loss, or null
     * if it has none: the network without smoothing, as {@link UnsmoothedLossCalculator} scores it.
     */
    static MultiLayerConfiguration unsmoothed(MultiLayerConfiguration conf) {
        boolean any = conf.getConfs().stream().anyMatch(c -> isSmoothed(c.getLayer()));
        return any ? apply(conf, 0, null, true) : null;
    }

    /** As {@link #unsmoothed(MultiLayerConfiguration)}, for a graph. */
    static ComputationGraphConfiguration unsmoothed(ComputationGraphConfiguration conf) {
        boolean any = conf.getVertices().values().stream()
                .anyMatch(v -> v instanceof LayerVertex l && isSmoothed(l.getLayerConf().getLayer()));
        return any ? apply(conf, 0, null, true) : null;
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
}
