package io.github.labelsmoothing;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.graph.ComputationGraphUpdater;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Turns label smoothing on or off in trained networks; behind {@link LabelSmoothing#applyTo(MultiLayerNetwork, double)}
 * and {@link UnsmoothedLossCalculator}. The configuration work is {@link ConfigSmoothing}'s; this class only moves the
 * network's state (parameters, updater state) to a network built from the new configuration.
 */
final class NetworkSmoothing {

    private NetworkSmoothing() {
    }

    /**
     * A new network with the smoothed configuration, a copy of the parameters and of the updater state. The counters
     * travel in the configuration (its iterationCount/epochCount), which {@code init} hands to the layers.
     */
    static MultiLayerNetwork apply(MultiLayerNetwork net, double s, int[] layerIndices) {
        requireInitialized(net, net != null && net.isInitCalled());
        MultiLayerNetwork copy = new MultiLayerNetwork(
                ConfigSmoothing.apply(net.getLayerWiseConfigurations(), s, layerIndices, true));
        copy.init(net.params().dup(), false);
        Updater updater = net.getUpdater(false); // false: never create an updater on the argument
        INDArray state = updater == null ? null : updater.getStateViewArray();
        if (state != null) {
            copy.getUpdater().setStateViewArray(copy, state, false); // assign(): copies into the copy's own array
        }
        return copy;
    }

    /** As {@link #apply(MultiLayerNetwork, double, int[])}, for a graph (layerNames null = every head). */
    static ComputationGraph apply(ComputationGraph graph, double s, String[] layerNames) {
        requireInitialized(graph, graph != null && isInitialized(graph));
        ComputationGraph copy = new ComputationGraph(
                ConfigSmoothing.apply(graph.getConfiguration(), s, layerNames, true));
        copy.init(graph.params().dup(), false);
        ComputationGraphUpdater updater = graph.getUpdater(false);
        INDArray state = updater == null ? null : updater.getStateViewArray();
        if (state != null) {
            copy.getUpdater().setStateViewArray(state); // assign(): copies into the copy's own array
        }
        return copy;
    }

    /**
     * The same network with every smoothed head unwrapped to its base loss, sharing the argument's parameter array
     * (a view: nothing is copied, nothing of the argument changes, no updater is created); the argument itself when it
     * has no smoothed head. Only for scoring: training the view would train the argument's parameters.
     */
    static Model unsmoothedView(Model model) {
        if (model instanceof MultiLayerNetwork net) {
            requireInitialized(net, net.isInitCalled());
            MultiLayerConfiguration plain = ConfigSmoothing.unsmoothed(net.getLayerWiseConfigurations());
            if (plain == null) {
                return net;
            }
            MultiLayerNetwork view = new MultiLayerNetwork(plain);
            view.init(net.params(), false); // false: the view's parameters are the argument's array, not a copy
            return view;
        } else if (model instanceof ComputationGraph graph) {
            requireInitialized(graph, isInitialized(graph));
            ComputationGraphConfiguration plain = ConfigSmoothing.unsmoothed(graph.getConfiguration());
            if (plain == null) {
                return graph;
            }
            ComputationGraph view = new ComputationGraph(plain);
            view.init(graph.params(), false);
            return view;
        }
        throw new IllegalArgumentException("network must be a MultiLayerNetwork or a ComputationGraph, got "
                + (model == null ? "null" : model.getClass().getName()));
    }

    /** ComputationGraph has no isInitCalled(); its vertices exist from init() on. */
    private static boolean isInitialized(ComputationGraph graph) {
        return graph.getVertices() != null;
    }

    private static void requireInitialized(Model network, boolean initialized) {
        if (network == null) {
            throw new IllegalArgumentException("network must not be null");
        }
        if (!initialized) {
            throw new IllegalArgumentException("network (" + network.getClass().getSimpleName() + ") is not "
                    + "initialized: call init() first, or restore it with ModelSerializer");
        }
    }
}
