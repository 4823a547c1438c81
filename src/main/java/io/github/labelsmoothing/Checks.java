package io.github.labelsmoothing;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The validation of values, at the bottom: each public entry point checks its arguments here once, where they enter;
 * what is computed below trusts them. Calls nothing above it. {@link HeadRules} checks heads (losses, activations).
 */
final class Checks {

    private Checks() {
    }

    /**
     * @return s if it is in [0, 1] (-0.0 as 0.0, so that equal losses are equal)
     * @throws IllegalArgumentException otherwise, naming the value (NaN included)
     */
    static double smoothing(double s) {
        if (!(s >= 0 && s <= 1)) {
            throw new IllegalArgumentException("smoothing must be in [0, 1], got " + s);
        }
        return s + 0.0;
    }

    /** @throws IllegalArgumentException if numClasses {@literal <} 2 */
    static int numClasses(int numClasses) {
        if (numClasses < 2) {
            throw new IllegalArgumentException("numClasses must be >= 2, got " + numClasses);
        }
        return numClasses;
    }

    /** @throws IllegalArgumentException if labels are null or have no class axis {@code classAxis} */
    static void labels(INDArray labels, int classAxis) {
        if (labels == null) {
            throw new IllegalArgumentException("labels must not be null");
        }
        if (labels.rank() < 2 || classAxis >= labels.rank()) {
            throw new IllegalArgumentException("labels must have a class axis " + classAxis + " (shape [N,K], [N,K,T] "
                    + "or [N,K,H,W]), got shape " + Arrays.toString(labels.shape()));
        }
    }

    /**
     * The rule for one class index, in one place (the CPU kernel checks each unmasked index with it; the ND4J-op path
     * finds the offending value with whole-array reductions and reports it through it).
     *
     * @return null if {@code value} is a class index in {@code [0, numClasses)}, else the message naming it
     */
    static String classIndexProblem(double value, long numClasses) {
        // the common case first (NaN fails it), small enough to inline in the callers' loops: a CPU kernel read 2048
        // indices in 9.5 us with the whole check called, in 7.8-8.3 with this
        int index = (int) value;
        return index == value && index >= 0 && index < numClasses ? null : problem(value, numClasses);
    }

    private static String problem(double value, long numClasses) {
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
    static void classIndices(INDArray indices, long numClasses) {
        // one copy to the host and a loop over N values: the four reductions this replaced (any non-finite, the
        // largest fraction, min, max), each waited for, took about 5x as long at N = 2048 (115-125 us against 23)
        if (indices.isEmpty()) {
            return;
        }
        for (double value : indices.reshape(indices.length()).toDoubleVector()) {
            reject(value, numClasses);
        }
    }

    private static void reject(double value, long numClasses) {
        String problem = classIndexProblem(value, numClasses);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }
}
