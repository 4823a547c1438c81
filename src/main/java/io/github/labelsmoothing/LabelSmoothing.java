package io.github.labelsmoothing;

import java.util.Arrays;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.shape.OneHot;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Condition;
import org.nd4j.linalg.indexing.conditions.Conditions;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Label smoothing for Deeplearning4j: the formula, and the one-line switch for a network configuration or a trained
 * network.
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
        return smoothDense(labels, smoothing, Prior.UNIFORM, 1);
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
        return smoothDense(labels, smoothing, Prior.categorical(prior), 1);
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
        return smoothDense(labels, smoothing, Prior.classConditional(classPriors), 1);
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
        return smoothDense(labels, smoothing, Prior.BERNOULLI, 1);
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
        return smoothIndices(classIndices, numClasses, smoothing, Prior.UNIFORM);
    }

    /**
     * As {@link #smoothLabels(INDArray, int, double)}, towards a custom prior over the {@code numClasses} classes.
     *
     * @param prior a distribution over the K classes, as in {@link #smoothLabels(INDArray, double, double[])}; null =
     *              uniform
     */
    public static INDArray smoothLabels(INDArray classIndices, int numClasses, double smoothing, double[] prior) {
        return smoothIndices(classIndices, numClasses, smoothing, Prior.categorical(prior));
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
        return ConfigSmoothing.apply(conf, smoothing, checkSelection(layerIndices, "layerIndices").clone(), false);
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
        return ConfigSmoothing.apply(conf, smoothing, checkSelection(layerNames, "layerNames").clone(), false);
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
        return NetworkSmoothing.apply(net, smoothing, checkSelection(layerIndices, "layerIndices").clone());
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
        return NetworkSmoothing.apply(graph, smoothing, checkSelection(layerNames, "layerNames").clone());
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The one implementation of the formula and of its validation; the loss and the preprocessor call these.

    /**
     * @return s if it is in [0, 1] (-0.0 as 0.0, so that equal losses are equal)
     * @throws IllegalArgumentException otherwise, naming the value (NaN included)
     */
    static double checkSmoothing(double s) {
        if (!(s >= 0 && s <= 1)) {
            throw new IllegalArgumentException("smoothing must be in [0, 1], got " + s);
        }
        return s + 0.0;
    }

    /** @throws IllegalArgumentException if the layer selection of a per-head {@code applyTo} is null */
    private static <T> T checkSelection(T selection, String name) {
        if (selection == null) {
            throw new IllegalArgumentException(name + " must not be null (use applyTo(..., s) for every head)");
        }
        return selection;
    }

    /** @throws IllegalArgumentException if numClasses {@literal <} 2 */
    static int checkNumClasses(int numClasses) {
        if (numClasses < 2) {
            throw new IllegalArgumentException("numClasses must be >= 2, got " + numClasses);
        }
        return numClasses;
    }

    /** The floating point type labels are computed in: their own, or the default one for integer labels. */
    static DataType floatType(INDArray array) {
        return array.dataType().isFPType() ? array.dataType() : Nd4j.defaultFloatingPointType();
    }

    /** {@code (1 - s) * labels + s * prior} along {@code classAxis}, as a new array; validates everything first. */
    static INDArray smoothDense(INDArray labels, double s, Prior prior, int classAxis) {
        checkSmoothing(s);
        checkLabels(labels, classAxis);
        prior.checkClasses(labels.size(classAxis));
        DataType type = floatType(labels);
        return prior.smooth(labels.dataType() == type ? labels.dup() : labels.castTo(type), s, classAxis);
    }

    /** Dense smoothed labels {@code [N,K,...]} from class indices {@code [N]} or {@code [N,1,...]}. */
    static INDArray smoothIndices(INDArray classIndices, int numClasses, double s, Prior prior) {
        return smoothIndices(classIndices, numClasses, s, prior, false);
    }

    /**
     * Dense smoothed labels from class indices with a size-1 class axis: axis 1 ({@code [N,1,T]} to {@code [N,K,T]}),
     * or the last axis when {@code channelsLast} ({@code [N,T,1]} to {@code [N,T,K]}); {@code [N]} gives {@code [N,K]}.
     */
    static INDArray smoothIndices(INDArray classIndices, int numClasses, double s, Prior prior, boolean channelsLast) {
        checkSmoothing(s);
        checkNumClasses(numClasses);
        prior.checkClasses(numClasses);
        if (classIndices == null) {
            throw new IllegalArgumentException("class indices must not be null");
        }
        int rank = classIndices.rank();
        int classAxis = rank == 1 ? 1 : channelsLast ? rank - 1 : 1;
        if (rank > 1 && classIndices.size(classAxis) != 1) {
            throw new IllegalArgumentException("class indices must have size 1 on the class axis " + classAxis
                    + " (shape [N], [N,1], " + (channelsLast ? "[N,T,1]" : "[N,1,T]") + "), got "
                    + Arrays.toString(classIndices.shape()));
        }
        long[] shape = classIndices.shape();
        long[] squeezed = rank == 1 ? shape : new long[rank - 1];
        if (rank > 1) {
            for (int d = 0, j = 0; d < rank; d++) {
                if (d != classAxis) {
                    squeezed[j++] = shape[d];
                }
            }
        }
        INDArray indices = rank == 1 ? classIndices : classIndices.reshape(squeezed);
        checkClassIndices(indices, numClasses);
        long[] outShape = rank == 1 ? new long[] {shape[0], numClasses} : shape.clone();
        outShape[classAxis] = numClasses;
        INDArray out = Nd4j.createUninitialized(floatType(classIndices), outShape);
        // One-hot, then smoothed in place by the same formula as dense labels.
        Nd4j.exec(new OneHot(indices, out, numClasses, classAxis == outShape.length - 1 ? -1 : classAxis, 1, 0));
        return prior.smooth(out, s, classAxis);
    }

    /**
     * Class indices with the entries under a 0 mask set to 0, so that padding there (-1, anything) is neither
     * validated nor used, as DL4J's own sparse loss and PyTorch's {@code ignore_index} ignore it; the masked positions
     * are zeroed afterwards by the caller. A new array, or the indices themselves without a mask.
     *
     * @param mask one value per index (any shape of the same length, e.g. {@code [N,T]} for {@code [N,1,T]}), or null
     * @throws IllegalArgumentException if the mask's length is not the number of indices
     */
    static INDArray unmaskedIndices(INDArray indices, INDArray mask) {
        if (mask == null) {
            return indices;
        }
        if (mask.length() != indices.length()) {
            throw new IllegalArgumentException("labels mask must have one value per class index: indices "
                    + Arrays.toString(indices.shape()) + ", mask " + Arrays.toString(mask.shape()));
        }
        return select(mask.reshape(indices.shape()).neq(0), indices);
    }

    /**
     * {@code keep ? values : 0} as a new array: element by element for a BOOL {@code keep} of the values' shape, row by
     * row for a BOOL vector over the first axis.
     */
    static INDArray select(INDArray keep, INDArray values) {
        INDArray out = Nd4j.createUninitialized(values.dataType(), values.shape());
        // ND4J's select op; its where_np picks the other way round in 1.0.0-M2.1
        Nd4j.exec(DynamicCustomOp.builder("select").addInputs(keep, values, Nd4j.zerosLike(values)).addOutputs(out)
                .build());
        return out;
    }

    /**
     * The rule for one class index, in one place (the CPU kernel checks each unmasked index with it; the ND4J-op path
     * finds the offending value with whole-array reductions and reports it through it).
     *
     * @return null if {@code value} is a class index in {@code [0, numClasses)}, else the message naming it
     */
    static String classIndexProblem(double value, long numClasses) {
        if (!Double.isFinite(value)) {
            return "class indices must be finite, got " + value;
        }
        if (value != Math.floor(value)) {
            return "class indices must be whole numbers, got " + value;
        }
        if (value < 0) {
            return "class indices must be >= 0, got " + value;
        }
        if (value >= numClasses) {
            return "class indices must be < numClasses = " + numClasses + ", got " + value;
        }
        return null;
    }

    /**
     * @throws IllegalArgumentException if an index is negative, fractional, not finite or >= numClasses, naming it
     */
    static void checkClassIndices(INDArray indices, long numClasses) {
        if (indices.isEmpty()) {
            return;
        }
        if (indices.dataType().isFPType()) {
            if (BooleanIndexing.or(indices, Conditions.notFinite())) {
                reject(valueWhere(indices, indices, Conditions.notFinite()), numClasses);
            }
            INDArray fraction = Transforms.floor(indices, true).rsubi(indices); // one new array
            if (fraction.amaxNumber().doubleValue() > 0) {
                reject(valueWhere(indices, fraction, Conditions.notEquals(0)), numClasses);
            }
        }
        reject(indices.minNumber().doubleValue(), numClasses);
        reject(indices.maxNumber().doubleValue(), numClasses);
    }

    private static void reject(double value, long numClasses) {
        String problem = classIndexProblem(value, numClasses);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    /** The first value of {@code values} where {@code test} meets the condition (error messages only). */
    private static double valueWhere(INDArray values, INDArray test, Condition condition) {
        long at = BooleanIndexing.firstIndex(test.reshape(test.length()), condition).getLong(0);
        return values.reshape(values.length()).getDouble(at);
    }

    private static void checkLabels(INDArray labels, int classAxis) {
        if (labels == null) {
            throw new IllegalArgumentException("labels must not be null");
        }
        if (labels.rank() < 2 || classAxis >= labels.rank()) {
            throw new IllegalArgumentException("labels must have a class axis " + classAxis + " (shape [N,K], [N,K,T] "
                    + "or [N,K,H,W]), got shape " + Arrays.toString(labels.shape()));
        }
    }
}
