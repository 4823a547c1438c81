package io.github.labelsmoothing;

import java.io.Serializable;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Broadcast;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The distribution label smoothing mixes into the targets: uniform over the K classes (1/K each), Bernoulli (0.5 per
 * output, for sigmoid/multi-label outputs) or a user-given distribution over the K classes. Immutable.
 */
final class Prior implements Serializable {
    private static final long serialVersionUID = 1L;
    /** How far a custom prior's sum may be from 1 (float32 class frequencies written as text round to ~1e-7). */
    private static final double SUM_TOLERANCE = 1e-6;

    static final Prior UNIFORM = new Prior(null, false);
    static final Prior BERNOULLI = new Prior(null, true);

    private final double[] distribution;
    private final boolean bernoulli;

    private Prior(double[] distribution, boolean bernoulli) {
        this.distribution = distribution;
        this.bernoulli = bernoulli;
    }

    /**
     * A categorical prior over K classes; null means uniform.
     *
     * @throws IllegalArgumentException if it has fewer than 2 entries, an entry negative or not finite, or a sum off 1
     */
    static Prior categorical(double[] distribution) {
        if (distribution == null) {
            return UNIFORM;
        }
        if (distribution.length < 2) {
            throw new IllegalArgumentException("prior must have at least 2 classes, got length " + distribution.length);
        }
        double sum = 0;
        for (int k = 0; k < distribution.length; k++) {
            double p = distribution[k];
            if (!(p >= 0) || Double.isInfinite(p)) {
                throw new IllegalArgumentException("prior[" + k + "] must be finite and >= 0, got " + p);
            }
            sum += p;
        }
        if (Math.abs(sum - 1) > SUM_TOLERANCE) {
            throw new IllegalArgumentException("prior must sum to 1, got sum " + sum + " for " + Arrays.toString(distribution));
        }
        return new Prior(distribution.clone(), false);
    }

    boolean isUniform() {
        return distribution == null && !bernoulli;
    }

    boolean isCustom() {
        return distribution != null;
    }

    boolean isBernoulli() {
        return bernoulli;
    }

    /** The custom distribution (a copy), or null for the uniform and Bernoulli priors. */
    double[] distribution() {
        return distribution == null ? null : distribution.clone();
    }

    /** @throws IllegalArgumentException if a custom prior's length is not the number of classes */
    void checkClasses(long numClasses) {
        if (distribution != null && distribution.length != numClasses) {
            throw new IllegalArgumentException("prior has " + distribution.length + " entries but the labels have "
                    + numClasses + " classes");
        }
        if (isUniform() && numClasses < 2) {
            throw new IllegalArgumentException("a uniform prior needs at least 2 classes on the class axis, got "
                    + numClasses + " (a single sigmoid output needs the Bernoulli prior)");
        }
    }

    /** The prior as a length-K vector of the given type (for weighted losses and custom priors). */
    INDArray vector(long numClasses, DataType type) {
        if (distribution != null) {
            return Nd4j.createFromArray(distribution).castTo(type);
        }
        return Nd4j.valueArrayOf(new long[] {numClasses}, bernoulli ? 0.5 : 1.0 / numClasses, type);
    }

    /**
     * {@code target += s * prior} along {@code classAxis}, in place on an array the caller owns. Together with the
     * {@code (1 - s)} scaling of the labels this is the smoothing formula; every entry point goes through here.
     */
    INDArray addScaled(INDArray target, double s, int classAxis) {
        if (s == 0) {
            return target;
        }
        long numClasses = target.size(classAxis);
        if (distribution == null) {
            return target.addi(s * (bernoulli ? 0.5 : 1.0 / numClasses));
        }
        INDArray scaled = vector(numClasses, target.dataType()).muli(s);
        return Broadcast.add(target, scaled, target, classAxis);
    }

    /** {@code E_prior[x] = sum_k prior_k * x_k} over axis 1 of a 2D array, as an {@code [N,1]} column. */
    INDArray expectation(INDArray x) {
        return isUniform() ? x.mean(true, 1) : x.mmul(vector(x.size(1), x.dataType()).reshape(x.size(1), 1));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Prior p && bernoulli == p.bernoulli && Arrays.equals(distribution, p.distribution);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(distribution) + Boolean.hashCode(bernoulli);
    }

    @Override
    public String toString() {
        return bernoulli ? "bernoulli(0.5)" : distribution == null ? "uniform" : Arrays.toString(distribution);
    }
}
