package io.github.labelsmoothing;

import org.deeplearning4j.earlystopping.scorecalc.DataSetLossCalculator;
import org.deeplearning4j.earlystopping.scorecalc.ScoreCalculator;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;

/**
 * Early stopping and validation on the loss <em>without</em> label smoothing: the drop-in replacement for DL4J's
 * {@link DataSetLossCalculator} for networks trained with smoothing.
 *
 * <pre>{@code
 * new EarlyStoppingConfiguration.Builder<MultiLayerNetwork>()
 *         .scoreCalculator(new UnsmoothedLossCalculator(validationIterator, true))
 *         ...
 * }</pre>
 *
 * <p>A smoothed network's own score ({@code net.score(ds)}, {@code DataSetLossCalculator}) is the smoothed loss, which
 * is not the model's negative log-likelihood and is not comparable across smoothing values. This calculator scores the
 * same network with every {@link LossLabelSmoothing} head replaced by its base loss (MCXENT, NLL, ...), on the
 * iterator's original labels: exactly the number {@code DataSetLossCalculator} gives for an unsmoothed copy of the
 * network (the same label and feature masks, the same {@code average} semantics, regularization terms included as
 * DL4J includes them). For a network without smoothed heads it is {@code DataSetLossCalculator}.
 *
 * <p>How: each call builds the network once more from the unsmoothed configuration, on the argument's own parameter
 * array (a view, not a copy), and hands it to {@code DataSetLossCalculator}. Nothing of the argument is written: its
 * configuration, parameters, updater and layer state stay as they are (DL4J's own calculator sets the layers' inputs
 * and labels), and no shared configuration is switched back and forth, so a listener or a save on another thread never
 * sees the unsmoothed loss. The cost over {@code DataSetLossCalculator} is building that network once per call: a
 * configuration copy and the layer objects, no parameter or updater array.
 *
 * <p>Like {@code DataSetLossCalculator}: the iterator is reset when it has no next element, scored to its end, and is
 * not safe to share between threads; {@link #minimizeScore()} is true; works for {@code MultiLayerNetwork} and
 * {@code ComputationGraph} with either iterator type.
 */
public final class UnsmoothedLossCalculator implements ScoreCalculator<Model> {

    private static final long serialVersionUID = 1L;

    private static final String FIX = "remove the LabelSmoothingPreProcessor from the validation iterator (smooth the "
            + "training iterator only)";

    private final DataSetLossCalculator loss;
    private final boolean average;

    /**
     * @param iterator the validation data, with its original (unsmoothed) labels
     * @param average  true: the mean loss per example; false: the sum over the examples
     * @throws IllegalArgumentException if iterator is null or smooths its labels with a
     *                                  {@link LabelSmoothingPreProcessor} (s &gt; 0)
     */
    public UnsmoothedLossCalculator(DataSetIterator iterator, boolean average) {
        this.loss = new Refusing(requireIterator(iterator, iterator == null ? null : iterator.getPreProcessor()),
                average);
        this.average = average;
    }

    /** As {@link #UnsmoothedLossCalculator(DataSetIterator, boolean)}, for multi-input/output data. */
    public UnsmoothedLossCalculator(MultiDataSetIterator iterator, boolean average) {
        this.loss = new Refusing(requireIterator(iterator, iterator == null ? null : iterator.getPreProcessor()),
                average);
        this.average = average;
    }

    private static <T> T requireIterator(T iterator, Object preProcessor) {
        if (iterator == null) {
            throw new IllegalArgumentException("iterator must not be null");
        }
        if (preProcessor instanceof LabelSmoothingPreProcessor p && p.getSmoothing() > 0) {
            throw new IllegalArgumentException("the validation iterator smooths its labels with " + p
                    + ", so the unsmoothed loss cannot be computed: " + FIX);
        }
        return iterator;
    }

    /**
     * DL4J's calculator, refusing labels a {@link LabelSmoothingPreProcessor} wrote (a preprocessor set on the
     * iterator later, or one inside an async or composite iterator): their loss is not the unsmoothed loss.
     */
    private static final class Refusing extends DataSetLossCalculator {
        private static final long serialVersionUID = 1L;

        Refusing(DataSetIterator iterator, boolean average) {
            super(iterator, average);
        }

        Refusing(MultiDataSetIterator iterator, boolean average) {
            super(iterator, average);
        }

        @Override
        protected double scoreMinibatch(Model network, INDArray[] features, INDArray[] labels, INDArray[] fMask,
                INDArray[] lMask, INDArray[] output) {
            for (INDArray l : labels) {
                if (l != null && SmoothedLabels.isMarked(l)) {
                    throw new IllegalStateException(SmoothedLabels.preprocessedMessage(l,
                            "UnsmoothedLossCalculator scores the original labels", FIX));
                }
            }
            return super.scoreMinibatch(network, features, labels, fMask, lMask, output);
        }
    }

    /**
     * The loss of {@code network} with smoothing removed on the iterator's data: the mean per example if
     * {@code average}, else the sum.
     *
     * @param network an initialized {@code MultiLayerNetwork} or {@code ComputationGraph}; not changed
     * @throws IllegalArgumentException if network is null, not initialized, or of another type
     * @throws IllegalStateException    if the iterator hands out labels a {@link LabelSmoothingPreProcessor} smoothed
     */
    @Override
    public double calculateScore(Model network) {
        return loss.calculateScore(NetworkSmoothing.unsmoothedView(network));
    }

    /** @return true: a lower loss is better */
    @Override
    public boolean minimizeScore() {
        return true;
    }

    @Override
    public String toString() {
        return "UnsmoothedLossCalculator(average=" + average + ")";
    }
}
