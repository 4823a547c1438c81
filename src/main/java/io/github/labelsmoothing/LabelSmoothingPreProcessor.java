package io.github.labelsmoothing;

import java.util.Arrays;
import java.util.Objects;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;
import org.nd4j.linalg.factory.Broadcast;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Smooths the labels of a training iterator: every labels array becomes {@code (1 - s) * labels + s * prior} along
 * its class axis, so any loss (including DL4J's plain {@code LossMCXENT}) trains against smoothed targets.
 *
 * <pre>{@code
 * trainIterator.setPreProcessor(new LabelSmoothingPreProcessor(0.1));   // training iterator only, never evaluation
 * }</pre>
 *
 * <p>Labels may be dense ({@code [N,K]}, {@code [N,K,T]}, {@code [N,K,H,W]}; one-hot or soft) or, when numClasses is
 * given, class indices ({@code [N]}, {@code [N,1]}, {@code [N,1,T]}), which become dense smoothed labels. Labels of shape
 * {@code [N,1]} without numClasses are one sigmoid output and are smoothed towards 0.5. Masked label positions stay
 * all-zero, and class indices there may be anything (padding such as -1 is ignored, as DL4J's own losses do). Each
 * call writes new labels arrays, allocated outside any workspace, into the data set and never writes into the caller's
 * arrays; {@link #apply(DataSet)} leaves the data set itself untouched too.
 *
 * <p>Not compounding: labels written by any {@code LabelSmoothingPreProcessor} in this JVM are remembered with their
 * original labels. A preprocessor with the same settings leaves them as they are; one with other settings computes its
 * own labels from the originals. So an iterator that hands out the same cached {@code DataSet} objects every epoch gets
 * smoothed labels once, and a sweep over s on cached data (a new preprocessor per value) gets each value exactly. At
 * s = 0 labels are left as they are (class indices become one-hot rows) and nothing is marked. A serialized copy (a
 * Spark task's) is new data: use {@link #apply(DataSet)} in a map there. Such labels reaching a
 * {@link LossLabelSmoothing} with s &gt; 0 (double smoothing) or an {@link UnsmoothedLossCalculator} are refused.
 * Thread-safe (one instance may serve an {@code AsyncDataSetIterator}); serializable; chains in
 * {@code CompositeDataSetPreProcessor}.
 */
public final class LabelSmoothingPreProcessor implements DataSetPreProcessor, MultiDataSetPreProcessor {
    private static final long serialVersionUID = 1L;

    private final double smoothing;
    private final int numClasses;
    private final boolean channelsLast;
    private final Prior prior;
    private final int[] labelsArrays;

    /**
     * Smooths dense labels towards the uniform prior.
     *
     * @throws IllegalArgumentException if s is outside [0, 1] or NaN
     */
    public LabelSmoothingPreProcessor(double smoothing) {
        this(builder(smoothing));
    }

    /**
     * Smooths dense labels, or turns class-index labels into dense smoothed labels over {@code numClasses} classes.
     *
     * @throws IllegalArgumentException if s is outside [0, 1] or NaN, or numClasses {@literal <} 2
     */
    public LabelSmoothingPreProcessor(double smoothing, int numClasses) {
        this(builder(smoothing).numClasses(numClasses));
    }

    private LabelSmoothingPreProcessor(Builder b) {
        this.smoothing = b.smoothing;
        this.numClasses = b.numClasses;
        this.channelsLast = b.channelsLast;
        this.prior = b.prior;
        this.labelsArrays = b.labelsArrays;
    }

    /**
     * A builder for the options: class indices, channels-last data, Bernoulli or custom prior, which labels arrays of
     * a MultiDataSet.
     *
     * @throws IllegalArgumentException if s is outside [0, 1] or NaN
     */
    public static Builder builder(double smoothing) {
        return new Builder(smoothing);
    }

    /** Options of a {@link LabelSmoothingPreProcessor}; each setter validates its value at once. */
    public static final class Builder {
        private final double smoothing;
        private int numClasses;
        private boolean channelsLast;
        private Prior prior = Prior.UNIFORM;
        private int[] labelsArrays;

        private Builder(double smoothing) {
            this.smoothing = Checks.smoothing(smoothing);
        }

        /** Labels of class indices have this many classes (>= 2). */
        public Builder numClasses(int numClasses) {
            this.numClasses = Checks.numClasses(numClasses);
            return this;
        }

        /** The class axis is the last one ({@code [N,T,K]}, {@code [N,H,W,K]}: NWC/NHWC data), not axis 1. */
        public Builder channelsLast(boolean channelsLast) {
            this.channelsLast = channelsLast;
            return this;
        }

        /** Multi-label (sigmoid) targets: each output is smoothed towards 0.5, {@code (1 - s) * y + s / 2}. */
        public Builder bernoulli() {
            this.prior = Prior.BERNOULLI;
            return this;
        }

        /**
         * Smooth towards this distribution over the K classes instead of the uniform one: K entries, each >= 0, summing
         * to 1 within 1e-6, e.g. class frequencies (class counts divided by their total).
         *
         * @throws IllegalArgumentException if it is not a distribution (negative entry, sum off 1, fewer than 2)
         */
        public Builder prior(double[] distribution) {
            this.prior = Prior.categorical(Objects.requireNonNull(distribution, "prior"));
            return this;
        }

        /**
         * Smooth towards a class-conditional prior: labels y become {@code (1 - s)·y + s·(y·P)}, so class c gets
         * {@code (1 - s)·y + s·P[c]} (the targets of {@link LossLabelSmoothing#classConditional}).
         *
         * @param classPriors a K×K matrix, row c a distribution over the K classes (each >= 0, summing to 1 within
         *                    1e-6); copied
         * @throws IllegalArgumentException if it is null, not K×K or a row is not a distribution (naming the row)
         */
        public Builder classPriors(double[][] classPriors) {
            this.prior = Prior.classConditional(classPriors);
            return this;
        }

        /**
         * Only these labels arrays of a MultiDataSet are smoothed (default: all), e.g. the classification heads of a
         * graph that also has a regression output.
         *
         * @throws IllegalArgumentException if none is given, or an index is negative or repeated
         */
        public Builder labelsArrays(int... indices) {
            if (indices == null || indices.length == 0) {
                throw new IllegalArgumentException("labelsArrays must name at least one labels array");
            }
            int[] sorted = indices.clone();
            Arrays.sort(sorted);
            for (int i = 0; i < sorted.length; i++) {
                if (sorted[i] < 0 || i > 0 && sorted[i] == sorted[i - 1]) {
                    throw new IllegalArgumentException("labelsArrays must be distinct indices >= 0, got "
                            + Arrays.toString(indices));
                }
            }
            this.labelsArrays = sorted;
            return this;
        }

        /** The preprocessor. */
        public LabelSmoothingPreProcessor build() {
            return new LabelSmoothingPreProcessor(this);
        }
    }

    /** The smoothing s in [0, 1]. */
    public double getSmoothing() {
        return smoothing;
    }

    /** The number of classes for class-index labels, or 0 if not given. */
    public int getNumClasses() {
        return numClasses;
    }

    // ---------------------------------------------------------------------------------------------------------------

    /**
     * Replaces the data set's labels with smoothed ones (from the original labels where a preprocessor with other
     * settings wrote them; left alone where one with these settings did), in a new array that lives outside any
     * workspace (an async iterator's workspace is reused for the next batch).
     *
     * @throws IllegalArgumentException if the data set has no labels or its labels or mask do not fit the options;
     *                                  the data set is then unchanged
     */
    @Override
    public void preProcess(DataSet dataSet) {
        INDArray smoothed = smoothedLabels(dataSet);
        if (smoothed != null) {
            dataSet.setLabels(smoothed);
        }
    }

    /**
     * The non-mutating form: a new data set with smoothed labels, sharing the features, masks, label names and
     * metadata; the argument is untouched. For Spark maps ({@code rdd.map(pre::apply)}) and functional pipelines,
     * where a cached data set must stay as it is so that the next epoch smooths the original labels again.
     * Labels a preprocessor with these settings wrote are shared as they are.
     *
     * @throws IllegalArgumentException as {@link #preProcess(DataSet)}
     */
    public org.nd4j.linalg.dataset.DataSet apply(DataSet dataSet) {
        INDArray smoothed = smoothedLabels(dataSet);
        org.nd4j.linalg.dataset.DataSet out = new org.nd4j.linalg.dataset.DataSet(dataSet.getFeatures(),
                smoothed == null ? dataSet.getLabels() : smoothed, dataSet.getFeaturesMaskArray(),
                dataSet.getLabelsMaskArray());
        out.setLabelNames(dataSet.getLabelNamesList());
        out.setExampleMetaData(dataSet.getExampleMetaData());
        return out;
    }

    /**
     * Replaces the selected labels arrays with smoothed ones, as {@link #preProcess(DataSet)}; null arrays are skipped.
     * All arrays are computed before any is set, so a rejected call leaves the MultiDataSet unchanged.
     *
     * @throws IllegalArgumentException if the MultiDataSet has no labels, labelsArrays selects an array it does not
     *                                  have, or a selected labels array does not fit the options
     */
    @Override
    public void preProcess(MultiDataSet multiDataSet) {
        INDArray[] smoothed = smoothedLabels(multiDataSet);
        for (int i = 0; i < smoothed.length; i++) {
            if (smoothed[i] != null) {
                multiDataSet.setLabels(i, smoothed[i]);
            }
        }
    }

    /**
     * The non-mutating form for a MultiDataSet: a new one with the selected labels arrays smoothed, sharing every
     * other array and the metadata; the argument is untouched.
     *
     * @throws IllegalArgumentException as {@link #preProcess(MultiDataSet)}
     */
    public org.nd4j.linalg.dataset.MultiDataSet apply(MultiDataSet multiDataSet) {
        INDArray[] smoothed = smoothedLabels(multiDataSet);
        INDArray[] labels = multiDataSet.getLabels().clone();
        for (int i = 0; i < smoothed.length; i++) {
            if (smoothed[i] != null) {
                labels[i] = smoothed[i];
            }
        }
        org.nd4j.linalg.dataset.MultiDataSet out = new org.nd4j.linalg.dataset.MultiDataSet(
                multiDataSet.getFeatures(), labels, multiDataSet.getFeaturesMaskArrays(),
                multiDataSet.getLabelsMaskArrays());
        out.setExampleMetaData(multiDataSet.getExampleMetaData());
        return out;
    }

    /** The data set's labels as this preprocessor makes them, or null where they already are. */
    private INDArray smoothedLabels(DataSet dataSet) {
        INDArray labels = dataSet.getLabels();
        if (labels == null) {
            throw new IllegalArgumentException("DataSet has no labels to smooth");
        }
        return smoothed(labels, dataSet.getLabelsMaskArray());
    }

    /** The selected labels arrays as this preprocessor makes them (null where not selected, null, or already so). */
    private INDArray[] smoothedLabels(MultiDataSet multiDataSet) {
        INDArray[] labels = multiDataSet.getLabels();
        if (labels == null || labels.length == 0) {
            throw new IllegalArgumentException("MultiDataSet has no labels to smooth");
        }
        if (labelsArrays != null && labelsArrays[labelsArrays.length - 1] >= labels.length) {
            throw new IllegalArgumentException("labelsArrays " + Arrays.toString(labelsArrays) + " selects an array "
                    + "the MultiDataSet does not have (it has " + labels.length + ")");
        }
        INDArray[] masks = multiDataSet.getLabelsMaskArrays();
        INDArray[] smoothed = new INDArray[labels.length];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] != null && selected(i)) {
                smoothed[i] = smoothed(labels[i], masks == null ? null : masks[i]);
            }
        }
        return smoothed;
    }

    private boolean selected(int index) {
        return labelsArrays == null || Arrays.binarySearch(labelsArrays, index) >= 0;
    }

    /**
     * One labels array as this preprocessor makes it, or null where it already is: labels a preprocessor wrote are
     * recomputed from their original labels (never smoothed again), unless this one's settings wrote them; s = 0 gives
     * the original labels back (class indices become one-hot rows) and marks nothing.
     *
     * @throws IllegalArgumentException if the labels are a part of an array a preprocessor with other settings wrote
     *                                  (a row slice, a sub-batch): its original labels cannot be told apart
     */
    private INDArray smoothed(INDArray labels, INDArray mask) {
        SmoothedLabels.Origin origin = SmoothedLabels.originOf(labels);
        if (origin == null) {
            INDArray out = smooth(labels, mask);
            return out == labels ? null : out;
        }
        LabelSmoothingPreProcessor writer = (LabelSmoothingPreProcessor) origin.writer();
        if (writer.smoothsLike(this)) {
            return null;
        }
        if (!origin.isWhole(labels)) {
            throw new IllegalArgumentException("labels " + Arrays.toString(labels.shape()) + " are a part of labels "
                    + writer + " wrote, whose original labels cannot be recovered for " + this
                    + ": preprocess the original data set instead of a slice of a preprocessed one");
        }
        if (!writer.compute(origin.original(), mask).equals(labels)) {
            throw new IllegalArgumentException("labels " + Arrays.toString(labels.shape()) + " changed after " + writer
                    + " wrote them (DataSet.shuffle or sortByLabel reorder them in place, but not the original labels "
                    + "they came from), so " + this + " cannot recompute them: preprocess before reordering, or "
                    + "start from the data set's original labels");
        }
        return smooth(origin.original(), mask);
    }

    /**
     * The smoothed copy of one labels array, masked positions zero, allocated outside any workspace (it is stored in
     * the caller's data set, which outlives an async iterator's workspace cycle) and remembered as smoothed from
     * {@code labels}; at s = 0 the labels themselves, or one-hot rows for class indices, unmarked.
     */
    @SuppressWarnings("try") // the scope is the point: allocations in it happen outside workspaces
    private INDArray smooth(INDArray labels, INDArray mask) {
        if (smoothing == 0 && !isIndexShaped(labels)) {
            return labels;
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray out = compute(labels, mask);
            return smoothing == 0 ? out : SmoothedLabels.mark(out, labels, this);
        }
    }

    /** The labels this preprocessor writes for {@code labels}: smoothed, masked positions zero. */
    private INDArray compute(INDArray labels, INDArray mask) {
        INDArray out = smoothUnmasked(labels, mask);
        return mask == null ? out : applyMask(out, mask, classAxis(out));
    }

    /** Whether two preprocessors write the same labels from the same labels array. */
    private boolean smoothsLike(LabelSmoothingPreProcessor other) {
        return Double.compare(smoothing, other.smoothing) == 0 && numClasses == other.numClasses
                && channelsLast == other.channelsLast && prior.equals(other.prior);
    }

    private int classAxis(INDArray labels) {
        return channelsLast ? labels.rank() - 1 : 1;
    }

    /** Class indices this preprocessor turns into dense labels: numClasses given, a size-1 (or no) class axis. */
    private boolean isIndexShaped(INDArray labels) {
        return numClasses > 0 && !prior.isBernoulli() && (labels.rank() == 1 || labels.size(classAxis(labels)) == 1);
    }

    /** Smoothed labels before masking; index labels under a 0 mask may hold anything (padding such as -1). */
    private INDArray smoothUnmasked(INDArray labels, INDArray mask) {
        int classAxis = classAxis(labels);
        boolean indexShaped = labels.rank() == 1 || labels.size(classAxis) == 1;
        if (isIndexShaped(labels)) {
            return Targets.fromIndices(Targets.unmaskedIndices(labels, mask), numClasses, smoothing,
                    prior, channelsLast);
        }
        if (labels.rank() == 1) {
            throw new IllegalArgumentException("labels of shape " + Arrays.toString(labels.shape()) + (prior.isBernoulli()
                    ? " have no output axis: binary targets must be [N,1] or [N,K]"
                    : " look like class indices: pass numClasses to LabelSmoothingPreProcessor"));
        }
        if (indexShaped || prior.isBernoulli()) {
            checkBernoulliValues(labels);
            return Targets.dense(labels, smoothing, Prior.BERNOULLI, classAxis);
        }
        if (numClasses > 0 && labels.size(classAxis) != numClasses) {
            throw new IllegalArgumentException("labels have " + labels.size(classAxis) + " classes on axis "
                    + classAxis + " but numClasses is " + numClasses + " (shape " + Arrays.toString(labels.shape())
                    + ")");
        }
        return Targets.dense(labels, smoothing, prior, classAxis);
    }

    /** A single output without numClasses is a Bernoulli target; values outside [0, 1] mean indices were meant. */
    private static void checkBernoulliValues(INDArray labels) {
        double min = labels.minNumber().doubleValue();
        double max = labels.maxNumber().doubleValue();
        if (!(min >= 0 && max <= 1)) {
            throw new IllegalArgumentException("labels of shape " + Arrays.toString(labels.shape()) + " have values in ["
                    + min + ", " + max + "], not [0, 1] as binary targets: if they are class indices, pass numClasses "
                    + "to LabelSmoothingPreProcessor");
        }
    }

    /** Zeroes masked positions: a mask of the labels' shape, or one without the class axis ({@code [N,T]} etc.). */
    private static INDArray applyMask(INDArray labels, INDArray mask, int classAxis) {
        INDArray m = mask.castTo(labels.dataType());
        if (Arrays.equals(m.shape(), labels.shape())) {
            return labels.muli(m);
        }
        long[] withoutClass = new long[labels.rank() - 1];
        int[] dims = new int[labels.rank() - 1];
        for (int d = 0, j = 0; d < labels.rank(); d++) {
            if (d != classAxis) {
                withoutClass[j] = labels.size(d);
                dims[j++] = d;
            }
        }
        if (m.length() != Arrays.stream(withoutClass).reduce(1, (a, b) -> a * b)
                || m.size(0) != labels.size(0)) {
            throw new IllegalArgumentException("labels mask must have the labels' shape " + Arrays.toString(labels.shape())
                    + " or " + Arrays.toString(withoutClass) + " (one value per example or time step), got mask "
                    + Arrays.toString(mask.shape()));
        }
        return Broadcast.mul(labels, m.reshape(withoutClass), labels, dims);
    }

    // ---------------------------------------------------------------------------------------------------------------

    @Override
    public boolean equals(Object o) {
        return o instanceof LabelSmoothingPreProcessor other && Double.compare(smoothing, other.smoothing) == 0
                && numClasses == other.numClasses && channelsLast == other.channelsLast && prior.equals(other.prior)
                && Arrays.equals(labelsArrays, other.labelsArrays);
    }

    @Override
    public int hashCode() {
        return Objects.hash(smoothing, numClasses, channelsLast, prior, Arrays.hashCode(labelsArrays));
    }

    @Override
    public String toString() {
        return "LabelSmoothingPreProcessor(smoothing=" + smoothing + (numClasses > 0 ? ", numClasses=" + numClasses : "")
                + (channelsLast ? ", channelsLast" : "") + ", prior=" + prior
                + (labelsArrays == null ? "" : ", labelsArrays=" + Arrays.toString(labelsArrays)) + ")";
    }
}
