package io.github.labelsmoothing;

import java.io.Serializable;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.solvers.BaseOptimizer;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * Label smoothing that follows a DL4J schedule: every training iteration's loss uses
 * {@code s = schedule.valueAt(iteration, epoch)}, e.g. two-stage label smoothing (smoothing, then none) with
 * {@code new SmoothingSchedule(new MapSchedule(ScheduleType.EPOCH, Map.of(0, 0.1, 30, 0.0)))}.
 *
 * <pre>{@code
 * net.setListeners(new SmoothingSchedule(new MapSchedule(ScheduleType.EPOCH, Map.of(0, 0.2, 10, 0.0))));
 * net.fit(trainIterator, 20);
 * }</pre>
 *
 * <p>It acts on every head of a {@code MultiLayerNetwork} or {@code ComputationGraph} whose loss is a
 * {@link LossLabelSmoothing}, or on the named layers (whose loss it wraps if needed). Losses stay immutable: before
 * each iteration's score is computed it sets a new {@code LossLabelSmoothing} (same base and prior, the scheduled s) on
 * the head's layer configuration, where the live layer reads it, so the configuration always holds the smoothing in
 * force and a model saved mid-training keeps it. At s = 0 the head keeps a {@code LossLabelSmoothing} with s = 0,
 * which computes exactly its base.
 *
 * <p>The swap happens in {@code onForwardPass}, which DL4J calls in every training iteration after the forward pass
 * and before the loss ({@code fit(iterator)}, {@code fit(DataSet)} loops, graphs alike); the iteration and epoch are
 * the counts DL4J keeps in the network's configuration. {@code fit(iterator)} counts epochs itself; a hand-written loop
 * over {@code fit(DataSet)}, and {@code ParallelWrapper}'s {@code fit}, do not: call {@code net.incrementEpochCount()}
 * after each epoch there, or an EPOCH schedule stays at epoch 0's value (and under {@code ParallelWrapper} each worker
 * counts its own iterations, so an ITERATION schedule advances per worker). It holds no other state: one instance may
 * serve several networks, and copies of it (Spark, {@code ParallelWrapper} workers) act on their own copies of the
 * network.
 */
public final class SmoothingSchedule extends BeforeLossListener implements Serializable {
    private static final long serialVersionUID = 1L;

    private final ISchedule schedule;
    private final String[] heads;

    /**
     * Schedules the smoothing of every head whose loss is a {@link LossLabelSmoothing}.
     *
     * @param schedule s as a function of (iteration, epoch); its values must be in [0, 1]
     * @throws IllegalArgumentException if schedule is null
     */
    public SmoothingSchedule(ISchedule schedule) {
        this(schedule, (String[]) null);
    }

    /**
     * Schedules the smoothing of the named heads only (layer names; a MultiLayerNetwork's default names are
     * {@code "layer0"}, {@code "layer1"}, ...); a head whose loss is not yet a {@link LossLabelSmoothing} is wrapped.
     *
     * @throws IllegalArgumentException if schedule is null, or heads is given but empty
     */
    public SmoothingSchedule(ISchedule schedule, String... heads) {
        if (schedule == null) {
            throw new IllegalArgumentException("schedule must not be null");
        }
        if (heads != null && heads.length == 0) {
            throw new IllegalArgumentException("heads must name at least one layer (or use new SmoothingSchedule("
                    + "schedule) for every smoothed head)");
        }
        this.schedule = schedule;
        this.heads = heads == null ? null : heads.clone();
    }

    /** The schedule of s. */
    public ISchedule getSchedule() {
        return schedule;
    }

    /**
     * Sets the heads' smoothing to {@code schedule.valueAt(iteration, epoch)} for the iteration about to be scored.
     *
     * @throws IllegalArgumentException if the schedule's value is outside [0, 1] or NaN (naming it, the iteration and
     *                                  the epoch), or the model has no head to act on
     */
    @Override
    void beforeLoss(Model model) {
        int iteration = BaseOptimizer.getIterationCount(model);
        int epoch = BaseOptimizer.getEpochCount(model);
        double s = schedule.valueAt(iteration, epoch);
        if (!(s >= 0 && s <= 1)) {
            throw new IllegalArgumentException("the schedule gave smoothing " + s + " at iteration " + iteration
                    + ", epoch " + epoch + "; smoothing must be in [0, 1] (" + schedule + ")");
        }
        for (Layer head : LiveHeads.find(model, heads, loss -> loss instanceof LossLabelSmoothing,
                ConfigSmoothing::isSmoothable, "SmoothingSchedule")) {
            ILossFunction loss = LiveHeads.loss(head);
            LossLabelSmoothing current = loss instanceof LossLabelSmoothing smoothed ? smoothed
                    : LossLabelSmoothing.wrapping(loss, 0);
            if (current != loss || current.getSmoothing() != s) {
                LiveHeads.setLoss(head, current.withSmoothing(s));
            }
        }
    }

    @Override
    public String toString() {
        return "SmoothingSchedule(" + schedule + (heads == null ? "" : ", heads=" + String.join(",", heads)) + ")";
    }
}
