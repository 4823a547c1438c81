package io.github.labelsmoothing;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Label smoothing for Deeplearning4j: the public entry points of the formula, and the one-line switch for a network
 * configuration or a trained network. Each only delegates (to {@link Targets}, {@code ConfigSmoothing},
 * {@code NetworkSmoothing}) after validating its arguments where they enter.
 *
 * <p>Label smoothing (Szegedy et al. 2015, "Rethinking the Inception Architecture", section 7) trains against
 * {@code smoothed = (1 - s) * labels + s * prior} instead of one-hot targets, with {@code s} in [0, 1] and the prior
 * uniform over the K classes ({@code 1/K} each) unless given. It keeps a classifier from becoming over-confident.
 * {@code s = 0} leaves labels as they are; {@code s = 1} ignores them; {@link #DEFAULT_SMOOTHING} is the usual start.
 *
 * <p>All methods are whole-array ND4J ops (they run on any backend, CPU or CUDA) and never modify their arguments.
 */
public final class LabelSmoothing {

    /** The customary smoothing, 0.1 (Szegedy et al.; the default of {@link LossLabelSmoothing}). */
    public static final double DEFAULT_SMOOTHING = 0.1;

    private LabelSmoothing() {
    }

    /**
     * Smooths dense one-hot or soft labels towards the uniform prior along the class axis 1:
     * {@code (1 - s) * labels + s / K}.
     *
     * @param labels    labels {@code [N,K]}, {@code [N,K,T]} (time series) or {@code [N,K,H,W]} (segmentation), K >= 2;
     *                  an integer type is read as the default floating point type
     * @param smoothing s in [0, 1]
     * @return a new array of the labels' floating point type; rows that summed to 1 still do
     * @throws IllegalArgumentException if s is outside [0, 1] or NaN, labels are null, of rank {@literal <} 2 or K {@literal <} 2
     */
    public static INDArray smoothLabels(INDArray labels, double smoothing) {
        return Targets.dense(labels, Checks.smoothing(smoothing), Prior.UNIFORM, 1);
    }

    /**
     * Smooths dense labels towards a custom prior along the class axis 1: {@code (1 - s) * labels + s * prior}.
     *
     * @param prior a distribution over the K classes: K entries, each >= 0, summing to 1 within 1e-6, e.g. class
     *              frequencies (class counts divided by their total; raw counts are refused); null = uniform
     * @throws IllegalArgumentException as {@link #smoothLabels(INDArray, double)}, or if the prior is not a
     *                                  distribution over K classes
     */
    public static INDArray smoothLabels(INDArray labels, double smoothing, double[] prior) {
        return Targets.dense(labels, Checks.smoothing(smoothing), Prior.categorical(prior), 1);
    }

    /**
     * Smooths dense labels towards a class-conditional prior along the class axis 1: {@code (1 - s)·y + s·(y·P)}, so a
     * one-hot row of class c becomes {@code (1 - s)·y + s·P[c]} and a soft row mixes the rows of P by its weights.
     *
     * @param classPriors a K×K matrix, row c a distribution over the K classes (each >= 0, summing to 1 within 1e-6):
     *                    the smoothing target of class c; copied
     * @throws IllegalArgumentException as {@link #smoothLabels(INDArray, double)}, or if classPriors is null, not
     *                                  K×K for the labels' K, or a row is not a distribution (naming the row)
     */
    public static INDArray smoothLabels(INDArray labels, double smoothing, double[][] classPriors) {
        return Targets.dense(labels, Checks.smoothing(smoothing), Prior.classConditional(classPriors), 1);
    }

    /**
     * Smooths independent binary (sigmoid, multi-label) targets towards 0.5: {@code (1 - s) * labels + s / 2}, the
     * semantics of Keras' {@code BinaryCrossentropy(label_smoothing=s)} and ND4J's {@code sigmoidCrossEntropy}.
     *
     * @param labels targets in [0, 1] of any shape with at least 2 dimensions
     * @return a new array of the labels' floating point type
     * @throws IllegalArgumentException if s is outside [0, 1] or NaN, labels are null or of rank {@literal <} 2
     */
    public static INDArray smoothBinaryLabels(INDArray labels, double smoothing) {
        return Targets.dense(labels, Checks.smoothing(smoothing), Prior.BERNOULLI, 1);
    }

    /**
     * Turns class indices into dense smoothed labels: row i gets {@code 1 - s + s/K} at class {@code idx[i]} and
     * {@code s/K} elsewhere.
     *
     * @param classIndices class indices {@code [N]} or {@code [N,1]} (also {@code [N,1,T]} for sequences, giving
     *                     {@code [N,K,T]}), whole numbers in {@code [0, numClasses)}, of any numeric type
     * @param numClasses   K >= 2
     * @return a new {@code [N,K]} array ({@code [N,K,T]} for {@code [N,1,T]}) of the indices' floating point type (the
     *         default one for integer indices)
     * @throws IllegalArgumentException if s is outside [0, 1] or NaN, numClasses {@literal <} 2, or an index is negative,
     *                                  fractional, not finite or >= numClasses (the bad value is in the message)
     */
    public static INDArray smoothLabels(INDArray classIndices, int numClasses, double smoothing) {
        return Targets.fromIndices(classIndices, Checks.numClasses(numClasses), Checks.smoothing(smoothing),
                Prior.UNIFORM);
    }

    /**
     * As {@link #smoothLabels(INDArray, int, double)}, towards a custom prior over the {@code numClasses} classes.
     *
     * @param prior a distribution over the K classes, as in {@link #smoothLabels(INDArray, double, double[])}; null =
     *              uniform
     */
    public static INDArray smoothLabels(INDArray classIndices, int numClasses, double smoothing, double[] prior) {
        return Targets.fromIndices(classIndices, Checks.numClasses(numClasses), Checks.smoothing(smoothing),
                Prior.categorical(prior));
    }

    /**
     * Turns label smoothing on for a network configuration, in one line:
     * {@code new MultiLayerNetwork(LabelSmoothing.applyTo(conf, 0.1))}. Every classification head (an
     * {@code OutputLayer}, {@code RnnOutputLayer}, {@code CenterLossOutputLayer}, {@code LossLayer},
     * {@code RnnLossLayer}, {@code CnnLossLayer} or {@code Cnn3DLossLayer} whose loss is MCXENT, NLL, sparse MCXENT, KLD
     * or binary XENT) gets its loss wrapped in {@link LossLabelSmoothing} with smoothing s; regression heads are left
     * alone. Re-applying replaces the smoothing (never wraps twice); s = 0 unwraps every {@link LossLabelSmoothing}.
     *
     * <p>The copy is a configuration for a new network: its iteration and epoch counts start at 0, also when
     * {@code conf} trained a network before (DL4J writes the counts into the configuration it trains, and a copy that
     * kept them would start Adam's bias correction and any schedule where that run ended, so a with/without comparison
     * would not compare like with like). To continue a trained network with smoothing, use
     * {@link #applyTo(MultiLayerNetwork, double)}, which keeps them.
     *
     * @return a copy; {@code conf} itself is not changed
     * @throws IllegalArgumentException if s is outside [0, 1] or NaN, conf is null, s &gt; 0 and the network has no
     *                                  classification head (the message lists its heads and their losses), or a head's
     *                                  activation does not fit its loss as DL4J's output layer check requires (sigmoid
     *                                  with MCXENT, softmax over one output, ...)
     */
    public static MultiLayerConfiguration applyTo(MultiLayerConfiguration conf, double smoothing) {
        return ConfigSmoothing.apply(conf, smoothing, null, false);
    }

    /**
     * As {@link #applyTo(MultiLayerConfiguration, double)}, for the given layers only (indices into the layer list).
     *
     * @throws IllegalArgumentException if layerIndices is null, an index is out of range or its layer is not a
     *                                  classification head
     */
    public static MultiLayerConfiguration applyTo(MultiLayerConfiguration conf, double smoothing, int... layerIndices) {
        return ConfigSmoothing.apply(conf, smoothing, ConfigSmoothing.selection(layerIndices, "layerIndices"), false);
    }

    /**
     * As {@link #applyTo(MultiLayerConfiguration, double)}, for every classification head of a graph (every output).
     *
     * @return a copy; {@code conf} itself is not changed
     */
    public static ComputationGraphConfiguration applyTo(ComputationGraphConfiguration conf, double smoothing) {
        return ConfigSmoothing.apply(conf, smoothing, null, false);
    }

    /**
     * As {@link #applyTo(ComputationGraphConfiguration, double)}, for the named layers only (e.g. one head of two).
     *
     * @throws IllegalArgumentException if layerNames is null, a name is not a layer of the graph or not a
     *                                  classification head
     */
    public static ComputationGraphConfiguration applyTo(ComputationGraphConfiguration conf, double smoothing,
            String... layerNames) {
        return ConfigSmoothing.apply(conf, smoothing, ConfigSmoothing.selection(layerNames, "layerNames"), false);
    }

    /**
     * Turns label smoothing on for a trained network, for fine-tuning: a new, initialized network whose configuration
     * is {@link #applyTo(MultiLayerConfiguration, double) applyTo(conf, s)} of the argument's (counts kept), with a copy of its
     * parameters, a copy of its updater state (Adam's moments, momentum, ...) and the same iteration and epoch counts,
     * so the next {@code fit} step is the step the argument would take with the smoothed loss (outputs are the same).
     * {@code applyTo(net, 0)} removes the smoothing of every classification head (the plain network, e.g. before
     * saving it for serving). Works for networks restored with {@code ModelSerializer}. Listeners are not copied.
     *
     * @param net an initialized network; not changed, also not when the copy trains
     * @return a new network; its parameters and updater state are copies, its configuration is a copy
     * @throws IllegalArgumentException if net is null or not initialized, or as
     *                                  {@link #applyTo(MultiLayerConfiguration, double)}
     */
    public static MultiLayerNetwork applyTo(MultiLayerNetwork net, double smoothing) {
        return NetworkSmoothing.apply(net, smoothing, null);
    }

    /**
     * As {@link #applyTo(MultiLayerNetwork, double)}, for the given layers only (indices into the layer list).
     *
     * @throws IllegalArgumentException as {@link #applyTo(MultiLayerConfiguration, double, int...)}, or if net is null
     *                                  or not initialized
     */
    public static MultiLayerNetwork applyTo(MultiLayerNetwork net, double smoothing, int... layerIndices) {
        return NetworkSmoothing.apply(net, smoothing, ConfigSmoothing.selection(layerIndices, "layerIndices"));
    }

    /**
     * As {@link #applyTo(MultiLayerNetwork, double)}, for a graph: every classification head (every output) smoothed,
     * parameters, updater state and counters copied.
     *
     * @param graph an initialized graph; not changed, also not when the copy trains
     */
    public static ComputationGraph applyTo(ComputationGraph graph, double smoothing) {
        return NetworkSmoothing.apply(graph, smoothing, null);
    }

    /**
     * As {@link #applyTo(ComputationGraph, double)}, for the named layers only (e.g. one head of two).
     *
     * @throws IllegalArgumentException as {@link #applyTo(ComputationGraphConfiguration, double, String...)}, or if
     *                                  graph is null or not initialized
     */
    public static ComputationGraph applyTo(ComputationGraph graph, double smoothing, String... layerNames) {
        return NetworkSmoothing.apply(graph, smoothing, ConfigSmoothing.selection(layerNames, "layerNames"));
    }
}
