package io.github.labelsmoothing;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.Cnn3DLossLayer;
import org.deeplearning4j.nn.conf.layers.CnnLossLayer;
import org.deeplearning4j.nn.conf.layers.RnnLossLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Online label smoothing (Zhang et al. 2021, "Delving Deep into Label Smoothing", IEEE TIP): each class's smoothing
 * target is learned, epoch by epoch, from the model's own correct predictions.
 *
 * <pre>{@code
 * OnlineLabelSmoothing ols = new OnlineLabelSmoothing(0.5);
 * net.setListeners(ols);
 * net.fit(trainIterator, 30);         // fit(iterator) ends each epoch through onEpochEnd
 * double[][] rows = ols.softLabels();  // row c: the mean softmax output of the correct predictions of class c
 * }</pre>
 *
 * <p>During an epoch, every training example whose predicted class (argmax of the head's softmax output in that
 * iteration) equals its label c (a class index, or the argmax of one-hot or soft labels), and whose label mask is not
 * 0, adds its softmax output to an accumulator for row c.
 * At the end of the epoch row c becomes the mean of its accumulated outputs (a class without a correct prediction gets
 * the uniform row 1/K), and the head's loss becomes
 * {@link LossLabelSmoothing#classConditional(double, ILossFunction, double[][]) classConditional(s, base, rows)}:
 * the target of class c is {@code (1 - s)·y + s·row_c}. s = 0.5 is the paper's {@code 0.5·CE + 0.5·soft-target} loss.
 * The first epoch smooths towards the uniform prior (ordinary label smoothing with s).
 *
 * <p>The head's output is taken after each iteration's backward pass and before the update ({@link #onBackwardPass}):
 * the head layer still holds that iteration's input (the forward pass's activations, dropout included, its own too:
 * it was applied to the stored input), labels and label mask, and its parameters are not yet updated; the head is
 * evaluated on that input. ({@code onForwardPass} receives only the activations up to the head's input, and no
 * labels.) The epoch boundary is {@code onEpochEnd}, which DL4J's {@code fit(iterator)} calls; a hand-written loop over
 * {@code fit(DataSet)} calls {@link #endEpoch(Model)} after each epoch.
 *
 * <p>It acts on the one head with a softmax activation and an MCXENT, NLL or sparse MCXENT loss (wrapped in a
 * {@link LossLabelSmoothing} or not), or on the named heads, each with its own rows. On its first training iteration
 * it puts the smoothing on the heads (the configuration always holds the smoothing in force, so a save keeps it); a
 * head that already has a class-conditional loss (a model restored mid-training) keeps its rows as the ones in force.
 *
 * <p>An instance belongs to one network: its accumulators are that network's. {@code ParallelWrapper} and Spark train
 * copies of the network (ParallelWrapper hands every worker's copy this same listener); their accumulators are not
 * merged, so a call from a second network is refused with an {@code IllegalStateException}, and the listener is not
 * {@code Serializable} (Spark cannot ship it to executors). Use one network, or {@link SmoothingSchedule}, which is
 * stateless, for distributed training. Calls are synchronized.
 */
public final class OnlineLabelSmoothing extends BeforeLossListener {
    private final double smoothing;
    private final String[] headNames;
    /** The network this listener learns from; null until its first call. */
    private Model model;
    /** Per head (by layer name): the accumulators of the epoch and the rows in force. */
    private final Map<String, Head> heads = new LinkedHashMap<>();

    /** One head's state: the live layer, the loss it smooths, the rows in force, this epoch's sums and counts. */
    private static final class Head {
        final Layer layer;
        final ILossFunction base;
        double[][] rows;
        double[][] sums;
        double[] counts;

        Head(Layer layer, ILossFunction base, double[][] rows) {
            this.layer = layer;
            this.base = base;
            this.rows = rows;
        }
    }

    /**
     * Online label smoothing with smoothing s on the model's single softmax cross-entropy head.
     *
     * @throws IllegalArgumentException if s is outside [0, 1] or NaN
     */
    public OnlineLabelSmoothing(double smoothing) {
        this(smoothing, (String[]) null);
    }

    /**
     * Online label smoothing on the named heads (layer names), each learning its own rows.
     *
     * @throws IllegalArgumentException if s is outside [0, 1] or NaN, or heads is given but empty
     */
    public OnlineLabelSmoothing(double smoothing, String... heads) {
        this.smoothing = Checks.smoothing(smoothing);
        if (heads != null && heads.length == 0) {
            throw new IllegalArgumentException("heads must name at least one layer (or use new OnlineLabelSmoothing(s) "
                    + "for the single softmax head)");
        }
        this.headNames = heads == null ? null : heads.clone();
    }

    /** The smoothing s: the weight of the learned rows in each target. */
    public double getSmoothing() {
        return smoothing;
    }

    /**
     * The K×K rows in force on the single head (a copy; row c is the smoothing target of class c): uniform during the
     * first epoch, then the rows learned in the last completed epoch. Null before the first training iteration.
     *
     * @throws IllegalStateException if the listener acts on several heads (use {@link #softLabels(String)})
     */
    public synchronized double[][] softLabels() {
        if (heads.size() > 1) {
            throw new IllegalStateException("this OnlineLabelSmoothing acts on the heads " + heads.keySet()
                    + ": use softLabels(name)");
        }
        return heads.isEmpty() ? null : copy(heads.values().iterator().next().rows);
    }

    /**
     * As {@link #softLabels()}, for one of the named heads.
     *
     * @throws IllegalArgumentException if the listener does not act on a head of that name
     */
    public synchronized double[][] softLabels(String head) {
        Head state = heads.get(head);
        if (state == null) {
            throw new IllegalArgumentException("no head '" + head + "' (heads: " + heads.keySet() + ")");
        }
        return copy(state.rows);
    }

    /** Puts the smoothing on the heads before the first iteration's loss. */
    @Override
    void beforeLoss(Model model) {
        bind(model);
    }

    /**
     * Adds the iteration's correctly predicted examples to the accumulators: for each example i not masked with
     * {@code argmax p_i = c_i}, {@code sums[c_i] += p_i} and {@code counts[c_i] += 1}.
     */
    @Override
    public synchronized void onBackwardPass(Model model) {
        bind(model);
        for (Head head : heads.values()) {
            accumulate(head);
        }
    }

    /** Ends the epoch: {@link #endEpoch(Model)}, called by DL4J's {@code fit(iterator)}. */
    @Override
    public void onEpochEnd(Model model) {
        endEpoch(model);
    }

    /**
     * Ends an epoch: each head's row c becomes the mean softmax output of the epoch's correct predictions of class c
     * (uniform 1/K without one), the accumulators restart, and the head's loss becomes
     * {@code LossLabelSmoothing.classConditional(s, base, rows)}. Call it after each epoch of a hand-written loop over
     * {@code fit(DataSet)}; {@code fit(iterator)} calls it itself. A head that has not trained since the last epoch end
     * (an extra call, an empty epoch) keeps the rows in force.
     *
     * @throws IllegalArgumentException if model is not a MultiLayerNetwork or ComputationGraph with such a head
     * @throws IllegalStateException    if the listener belongs to another network
     */
    public synchronized void endEpoch(Model model) {
        bind(model);
        for (Head head : heads.values()) {
            if (head.sums == null) { // no training iteration since the last epoch end: the rows in force stay
                continue;
            }
            int k = head.counts.length;
            double[][] rows = new double[k][];
            for (int c = 0; c < k; c++) {
                rows[c] = head.counts[c] == 0 ? uniformRow(k) : normalized(head.sums[c]);
            }
            head.rows = rows;
            head.sums = null; // the next iteration starts new accumulators
            head.counts = null;
            LiveHeads.setLoss(head.layer, LossLabelSmoothing.classConditional(smoothing, head.base, rows));
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** Binds the listener to its network on the first call, putting the smoothing on the heads; refuses another. */
    private synchronized void bind(Model model) {
        if (this.model == model) {
            return;
        }
        if (this.model != null) {
            throw new IllegalStateException("this OnlineLabelSmoothing learns from one network and was called from "
                    + "another (a copy from applyTo or a restore, or ParallelWrapper's and Spark's copies, whose "
                    + "accumulators it does not merge): use one instance per network");
        }
        List<Layer> found = LiveHeads.find(model, headNames, OnlineLabelSmoothing::isSoftmaxCrossEntropy,
                OnlineLabelSmoothing::isSoftmaxCrossEntropy, "OnlineLabelSmoothing");
        if (headNames == null && found.size() > 1) {
            throw new IllegalArgumentException("OnlineLabelSmoothing found several softmax heads "
                    + found.stream().map(LiveHeads::name).toList() + ": name the ones to smooth");
        }
        for (Layer layer : found) { // every head checked before any is changed: a refused bind changes nothing
            org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
            if (!(conf instanceof BaseLayer b && b.getActivationFn() instanceof ActivationSoftmax)) {
                throw new IllegalArgumentException("OnlineLabelSmoothing needs a softmax head; layer '"
                        + LiveHeads.name(layer) + "' has activation "
                        + (conf instanceof BaseLayer b ? b.getActivationFn() : "none"));
            }
            if (conf instanceof RnnOutputLayer || conf instanceof RnnLossLayer || conf instanceof CnnLossLayer
                    || conf instanceof Cnn3DLossLayer) {
                throw new IllegalArgumentException("OnlineLabelSmoothing learns from 2D heads (one prediction per "
                        + "example: OutputLayer, LossLayer); layer '" + LiveHeads.name(layer) + "' is a "
                        + conf.getClass().getSimpleName());
            }
        }
        for (Layer layer : found) {
            heads.put(LiveHeads.name(layer), install(layer));
        }
        this.model = model;
    }

    /** Puts s on a head, keeping the rows of a class-conditional loss already in force (a restored model). */
    private Head install(Layer layer) {
        ILossFunction loss = LiveHeads.loss(layer);
        LossLabelSmoothing smoothed = loss instanceof LossLabelSmoothing l ? l : null;
        ILossFunction base = smoothed == null ? loss : smoothed.getBase();
        double[][] rows = smoothed == null ? null : smoothed.getClassPriors();
        LiveHeads.setLoss(layer, rows == null ? LossLabelSmoothing.wrapping(base, smoothing)
                : LossLabelSmoothing.classConditional(smoothing, base, rows));
        return new Head(layer, base, rows);
    }

    private static boolean isSoftmaxCrossEntropy(ILossFunction loss) {
        return (loss instanceof LossLabelSmoothing smoothed ? smoothed.getBase() : loss) instanceof LossMCXENT;
    }

    /** One iteration's correct predictions into the head's sums and counts, from its output on the iteration's input. */
    private static void accumulate(Head head) {
        INDArray p = head.layer.activate(false, LayerWorkspaceMgr.noWorkspaces()).castTo(DataType.DOUBLE);
        int k = (int) p.size(1);
        if (head.sums == null) {
            head.sums = new double[k][k];
            head.counts = new double[k];
            if (head.rows == null) {
                head.rows = uniformRows(k);
            }
        }
        INDArray labels = ((IOutputLayer) head.layer).getLabels();
        INDArray mask = head.layer.getMaskArray();
        INDArray exampleMask = mask == null ? null : mask.castTo(DataType.DOUBLE).reshape(p.size(0), -1).amax(1);
        // class of each example: an index column (padding under a 0 mask allowed), or the argmax of dense labels
        INDArray classes = labels.size(1) == 1 && k > 1 ? Targets.unmaskedIndices(labels, exampleMask)
                .reshape(p.size(0)) : labels.argMax(1);
        INDArray oneHot = Targets.oneHotRows(classes, k, DataType.DOUBLE);
        INDArray correct = p.argMax(1).eq(classes.castTo(DataType.INT64)).castTo(DataType.DOUBLE);
        if (exampleMask != null) {
            correct.muli(exampleMask.neq(0).castTo(DataType.DOUBLE));
        }
        INDArray selected = oneHot.muliColumnVector(correct.reshape(p.size(0), 1));
        double[][] sums = selected.transpose().mmul(p).toDoubleMatrix();
        double[] counts = selected.sum(0).toDoubleVector();
        for (int c = 0; c < k; c++) {
            head.counts[c] += counts[c];
            for (int j = 0; j < k; j++) {
                head.sums[c][j] += sums[c][j];
            }
        }
    }

    /** A row of sums divided by its total: the mean of softmax outputs, summing to 1 exactly as a prior must. */
    private static double[] normalized(double[] sum) {
        double total = Arrays.stream(sum).sum();
        return Arrays.stream(sum).map(v -> v / total).toArray();
    }

    private static double[] uniformRow(int k) {
        double[] row = new double[k];
        Arrays.fill(row, 1.0 / k);
        return row;
    }

    private static double[][] uniformRows(int k) {
        double[][] rows = new double[k][];
        for (int c = 0; c < k; c++) {
            rows[c] = uniformRow(k);
        }
        return rows;
    }

    private static double[][] copy(double[][] rows) {
        return rows == null ? null : Arrays.stream(rows).map(double[]::clone).toArray(double[][]::new);
    }

    @Override
    public String toString() {
        return "OnlineLabelSmoothing(smoothing=" + smoothing
                + (headNames == null ? "" : ", heads=" + String.join(",", headNames)) + ")";
    }
}
