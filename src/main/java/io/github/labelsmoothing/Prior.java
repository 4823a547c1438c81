package io.github.labelsmoothing;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Broadcast;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The distribution label smoothing mixes into the targets: uniform over the K classes (1/K each), Bernoulli (0.5 per
 * output, for sigmoid/multi-label outputs), a user-given distribution over the K classes, or class-conditional (a K×K
 * matrix P whose row c is the target of class c, mixed by the labels: {@code y·P}). Immutable.
 */
final class Prior implements Serializable {
    private static final long serialVersionUID = 1L;
    /** How far a custom prior's sum may be from 1 (float32 class frequencies written as text round to ~1e-7). */
    private static final double SUM_TOLERANCE = 1e-6;

    static final Prior UNIFORM = new Prior(null, null, false);
    static final Prior BERNOULLI = new Prior(null, null, true);

    private final double[] distribution;
    /** The class-conditional matrix P (row c: the target of class c), or null. */
    private final double[][] rows;
    /** P as arrays by data type, made on first use; not serialized. */
    private transient volatile Map<DataType, INDArray> matrices;
    private final boolean bernoulli;

    private Prior(double[] distribution, double[][] rows, boolean bernoulli) {
        this.distribution = distribution;
        this.rows = rows;
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
        return new Prior(withoutNegativeZeros(distribution), null, false);
    }

    /**
     * A class-conditional prior: a K×K matrix whose row c is a distribution over the K classes (the smoothing target
     * of class c). Copied.
     *
     * @throws IllegalArgumentException if it is null, not K×K with K >= 2, or a row has an entry negative or not finite
     *                                  or a sum off 1 (naming the row)
     */
    static Prior classConditional(double[][] classPriors) {
        if (classPriors == null) {
            throw new IllegalArgumentException("classPriors must not be null");
        }
        int k = classPriors.length;
        if (k < 2) {
            throw new IllegalArgumentException("classPriors must be K×K with K >= 2, got " + k + " rows");
        }
        double[][] copy = new double[k][];
        for (int c = 0; c < k; c++) {
            double[] row = classPriors[c];
            if (row == null || row.length != k) {
                throw new IllegalArgumentException("classPriors must be K×K: row " + c + " has "
                        + (row == null ? "no entries (null)" : row.length + " entries") + ", expected " + k);
            }
            double sum = 0;
            for (int j = 0; j < k; j++) {
                if (!(row[j] >= 0) || Double.isInfinite(row[j])) {
                    throw new IllegalArgumentException("classPriors row " + c + " must be a distribution: entry " + j
                            + " must be finite and >= 0, got " + row[j]);
                }
                sum += row[j];
            }
            if (Math.abs(sum - 1) > SUM_TOLERANCE) {
                throw new IllegalArgumentException("classPriors row " + c + " must sum to 1, got sum " + sum + " for "
                        + Arrays.toString(row));
            }
            copy[c] = withoutNegativeZeros(row);
        }
        return new Prior(null, copy, false);
    }

    /** A copy with -0.0 as 0.0: equal priors must be equal (and hash alike) however their zeros were written. */
    private static double[] withoutNegativeZeros(double[] values) {
        return Arrays.stream(values).map(v -> v + 0.0).toArray();
    }

    boolean isUniform() {
        return distribution == null && rows == null && !bernoulli;
    }

    /** A user-given prior: a distribution, or class-conditional. */
    boolean isCustom() {
        return distribution != null || rows != null;
    }

    boolean isClassConditional() {
        return rows != null;
    }

    boolean isBernoulli() {
        return bernoulli;
    }

    /** The custom distribution (a copy), or null for the uniform and Bernoulli priors. */
    double[] distribution() {
        return distribution == null ? null : distribution.clone();
    }

    /** The class-conditional matrix (a deep copy), or null for the other kinds. */
    double[][] classPriors() {
        if (rows == null) {
            return null;
        }
        double[][] copy = new double[rows.length][];
        for (int c = 0; c < rows.length; c++) {
            copy[c] = rows[c].clone();
        }
        return copy;
    }

    /** @throws IllegalArgumentException if a custom prior's length is not the number of classes */
    void checkClasses(long numClasses) {
        if (distribution != null && distribution.length != numClasses) {
            throw new IllegalArgumentException("prior has " + distribution.length + " entries but the labels have "
                    + numClasses + " classes");
        }
        if (rows != null && rows.length != numClasses) {
            throw new IllegalArgumentException("classPriors is " + rows.length + "×" + rows.length
                    + " but the labels have " + numClasses + " classes");
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
     * The smoothing formula, in place on labels {@code y} the caller owns (a floating point copy): {@code (1 - s)·y +
     * s·prior} along {@code classAxis}, or {@code (1 - s)·y + s·(y·P)} for a class-conditional prior (for one-hot y of
     * class c: {@code (1 - s)·y + s·P[c]}). Every entry point (loss, preprocessor, {@code smoothLabels}) builds its
     * targets here.
     */
    INDArray smooth(INDArray y, double s, int classAxis) {
        if (s == 0) {
            return y;
        }
        if (rows == null) {
            return addScaled(y.muli(1 - s), s, classAxis);
        }
        INDArray mixed = mix(y, classAxis).muli(s); // from y before it is scaled
        return y.muli(1 - s).addi(mixed);
    }

    /** {@code y·P} along {@code classAxis}: a new array of y's shape and type (one matrix product over all rows). */
    private INDArray mix(INDArray y, int classAxis) {
        int rank = y.rank();
        int k = rows.length;
        INDArray p = matrix(y.dataType());
        if (classAxis == rank - 1) {
            return y.reshape('c', y.length() / k, k).mmul(p).reshape('c', y.shape());
        }
        // move the class axis last, mix the rows, move it back
        int[] toLast = new int[rank];
        int[] back = new int[rank];
        for (int d = 0, j = 0; d < rank; d++) {
            if (d != classAxis) {
                toLast[j++] = d;
            }
        }
        toLast[rank - 1] = classAxis;
        for (int d = 0; d < rank; d++) {
            back[toLast[d]] = d;
        }
        return mix(y.permute(toLast).dup('c'), rank - 1).permute(back);
    }

    /**
     * P as a K×K array of the given type, made once per type (a K = 1000 matrix took 85 ms to build from the Java
     * arrays, on every call) outside any workspace, since it outlives the call that first needs it.
     */
    @SuppressWarnings("try") // the scope is the point: the allocation in it happens outside workspaces
    private INDArray matrix(DataType type) {
        Map<DataType, INDArray> cache = matrices;
        if (cache == null) {
            synchronized (this) {
                if (matrices == null) {
                    matrices = new ConcurrentHashMap<>();
                }
                cache = matrices;
            }
        }
        return cache.computeIfAbsent(type, t -> {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                return Nd4j.createFromArray(rows).castTo(t);
            }
        });
    }

    /**
     * {@code target += s * prior} along {@code classAxis}, in place on an array the caller owns (not for a
     * class-conditional prior, whose term depends on the labels: {@link #smooth}).
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
        return o instanceof Prior p && bernoulli == p.bernoulli && Arrays.equals(distribution, p.distribution)
                && Arrays.deepEquals(rows, p.rows);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(distribution) + Arrays.deepHashCode(rows)) + Boolean.hashCode(bernoulli);
    }

    @Override
    public String toString() {
        // a large K×K matrix would make every message (and every check that builds one) megabytes long
        return bernoulli ? "bernoulli(0.5)" : rows != null ? (rows.length <= 8 ? Arrays.deepToString(rows)
                : "class-conditional " + rows.length + "×" + rows.length)
                : distribution == null ? "uniform" : Arrays.toString(distribution);
    }
}
