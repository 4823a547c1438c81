package io.github.labelsmoothing;

import java.util.Arrays;

/**
 * The CPU kernel in plain Java, written for C2's auto-vectorizer (SuperWord): loops of element-wise arithmetic on
 * arrays, with an {@link #exp} of multiplies and fused multiply-adds only, which C2 compiles to SIMD instructions on
 * any JDK from 17 (AVX-512 here: 8 doubles at a time). A 'c'-order preOutput is read into row-major tiles, an 'f'-order
 * one into column-major tiles (no transposes; every per-row quantity is then an array updated column by column). Runs
 * on every JVM; the SIMD kernel replaces it where the {@code jdk.incubator.vector} module is readable.
 *
 * <p>Rows with an infinite or NaN logit (where {@code x = -inf} meets a 0 target, whose term counts for nothing) are
 * computed again one element at a time ({@link #exactRow}): the vectorized loops have no branches.
 */
final class ScalarSoftmaxXent extends CpuSoftmaxXent {

    @Override
    int lanes() {
        return 1;
    }

    /** A row-major float tile's rows need no padding: C2's vectors take any length. */
    @Override
    int floatLanes() {
        return 1;
    }

    /**
     * Tiles of FLOAT logits keep them as floats ({@link Job#floatTile}): C2 (JDK 17) does not vectorize a conversion
     * between float and double (0.34 ns an element), so each conversion is folded into a pass that is needed anyway.
     * A row-major tile's rows are widened into the scratch for x as their max is found (0.44 ns an element against
     * 0.34 + 0.41 in two passes); a column-major tile's maxima are found in float and its columns widened into the
     * column scratch in place of a copy. e^x stays in double in {@code g} ({@link #floatTileExps}); the gradient is
     * rounded into {@link Tile#floats} as it is computed.
     */
    @Override
    boolean floatTiles(int k, boolean rowMajor) {
        return true;
    }

    @Override
    boolean floatTileExps() {
        return true;
    }

    /**
     * The preOutput's own layout, read without a transpose. Measured as score-and-gradient pairs: an 'f'-order
     * preOutput's columns transposed into rows were 1.1-1.35x slower at K = 40 to 1000; a 'c'-order one's rows into
     * columns (whose tiles are then a few rows deep) 1.1-2.4x slower from K = 40, and within 10% at K = 10.
     */
    @Override
    boolean rowMajor(int k, boolean rowsContiguous) {
        return rowsContiguous;
    }

    @Override
    void sums(Tile t, Job job) {
        if (job.rowMajor) {
            rowSums(t, job);
        } else {
            columnSums(t, job);
        }
        for (int r = 0; r < t.rows; r++) {
            // an infinite or NaN logit makes the row's max or dot so (0·-inf is NaN): its terms one by one
            if (!(Double.isFinite(t.max[r]) && Double.isFinite(t.dot[r]))) {
                exactRow(t, job, r);
            }
        }
    }

    /**
     * Row by row: the max and {@code x = z - M} into the tile's scratch ({@link Tile#doubles}), with a label tile the
     * labels' share of the row's dot and its mass; then e^x into {@code g} over the whole tile in one loop (rows of
     * K = 10 are too short for vectors); then each row's sum and the prior's share of its dot in one loop
     * ({@link #priorTermsAndSum}).
     */
    private static void rowSums(Tile t, Job job) {
        int k = job.k;
        double[] x = t.doubles();
        double[] z = t.zf == null ? t.z : x; // a float tile's rows are widened into x
        for (int r = 0; r < t.rows; r++) {
            int base = r * k;
            double max = t.zf == null ? max(z, base, k) : widenedMax(t.zf, x, base, k);
            for (int i = base; i < base + k; i++) {
                x[i] = z[i] - max;
            }
            t.max[r] = max;
            if (t.y != null) {
                labelTerms(t, job, x, base, r);
            } else {
                t.dot[r] = 0;
                t.mass[r] = 0;
            }
        }
        exp(x, t.g, t.rows * k, job.z.floats != null);
        for (int r = 0; r < t.rows; r++) {
            priorTermsAndSum(t, job.priorTerm, x, r * k, r);
        }
    }

    /** The largest of {@code z[base..base+k)}; a NaN is caught by its NaN x in the dot. */
    private static double max(double[] z, int base, int k) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = base; i < base + k; i++) {
            double v = z[i];
            max = v > max ? v : max;
        }
        return max;
    }

    /** {@link #max} of {@code z[base..base+k)} as it widens them into {@code x} (see {@link #floatTiles}). */
    private static double widenedMax(float[] z, double[] x, int base, int k) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = base; i < base + k; i++) {
            double v = z[i];
            x[i] = v;
            max = v > max ? v : max;
        }
        return max;
    }

    /**
     * Adds {@code Σ_c w[c]·x[base + c]} to row r's dot and sets its {@code sum = Σ_c g[base + c]} (its e^x), in one
     * loop with eight running sums of each: one waits on each add (4 cycles), and C2 keeps a floating-point reduction
     * in order (eight: 0.40 against 0.51 ns an element with four; the two sums in one loop 0.51 against 0.70 in two).
     */
    private static void priorTermsAndSum(Tile t, double[] w, double[] x, int base, int r) {
        double[] e = t.g;
        double d0 = 0;
        double d1 = 0;
        double d2 = 0;
        double d3 = 0;
        double d4 = 0;
        double d5 = 0;
        double d6 = 0;
        double d7 = 0;
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        double s4 = 0;
        double s5 = 0;
        double s6 = 0;
        double s7 = 0;
        int k = t.k;
        int c = 0;
        for (; c + 8 <= k; c += 8) {
            int i = base + c;
            d0 = Math.fma(w[c], x[i], d0);
            d1 = Math.fma(w[c + 1], x[i + 1], d1);
            d2 = Math.fma(w[c + 2], x[i + 2], d2);
            d3 = Math.fma(w[c + 3], x[i + 3], d3);
            d4 = Math.fma(w[c + 4], x[i + 4], d4);
            d5 = Math.fma(w[c + 5], x[i + 5], d5);
            d6 = Math.fma(w[c + 6], x[i + 6], d6);
            d7 = Math.fma(w[c + 7], x[i + 7], d7);
            s0 += e[i];
            s1 += e[i + 1];
            s2 += e[i + 2];
            s3 += e[i + 3];
            s4 += e[i + 4];
            s5 += e[i + 5];
            s6 += e[i + 6];
            s7 += e[i + 7];
        }
        for (; c < k; c++) {
            d0 = Math.fma(w[c], x[base + c], d0);
            s0 += e[base + c];
        }
        t.dot[r] += ((d0 + d1) + (d2 + d3)) + ((d4 + d5) + (d6 + d7));
        t.sum[r] = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /** The labels' share of a row's dot, {@code Σ (1-s)·w·y·x}, and its mass: two running sums of each. */
    private static void labelTerms(Tile t, Job job, double[] x, int base, int r) {
        double[] scale = job.labelScale;
        double d0 = 0;
        double d1 = 0;
        double m0 = 0;
        double m1 = 0;
        int c = 0;
        for (; c + 2 <= job.k; c += 2) {
            double part0 = scale[c] * t.y[base + c];
            double part1 = scale[c + 1] * t.y[base + c + 1];
            m0 += part0;
            m1 += part1;
            d0 = Math.fma(part0, x[base + c], d0);
            d1 = Math.fma(part1, x[base + c + 1], d1);
        }
        if (c < job.k) {
            double part = scale[c] * t.y[base + c];
            m0 += part;
            d0 = Math.fma(part, x[base + c], d0);
        }
        t.dot[r] = d0 + d1;
        t.mass[r] = m0 + m1;
    }

    /**
     * Class by class down the tile's columns, every row's max, sum, dot and mass an array element: loops without a
     * reduction, which C2 vectorizes. Each column is copied to the front of a scratch array first: C2 (JDK 17)
     * vectorizes a loop only if its arrays are indexed alike ({@code max[r]} beside {@code z[c·rows + r]} is not;
     * the loops ran 3-5x slower).
     */
    private void columnSums(Tile t, Job job) {
        int rows = t.capacity;
        double[] x = t.column;
        double[] e = t.columnExp;
        double[] max = t.max;
        boolean single = job.z.floats != null;
        columnMaxima(t, job);
        Arrays.fill(t.sum, 0);
        Arrays.fill(t.dot, 0);
        Arrays.fill(t.mass, 0);
        for (int c = 0; c < job.k; c++) {
            if (t.zf == null) {
                System.arraycopy(t.z, c * rows, x, 0, rows);
            } else {
                widen(t.zf, c * rows, x, 0, rows);
            }
            if (single) {
                for (int r = 0; r < rows; r++) {
                    x[r] -= max[r];
                    e[r] = expClampedSingle(x[r]);
                }
            } else {
                for (int r = 0; r < rows; r++) {
                    x[r] -= max[r];
                    e[r] = expClamped(x[r]);
                }
            }
            if (t.y == null) {
                priorColumn(t, job.priorTerm[c]);
            } else {
                System.arraycopy(t.y, c * rows, t.columnLabels, 0, rows);
                labelColumn(t, job.labelScale[c], job.priorTerm[c]);
            }
            System.arraycopy(e, 0, t.g, c * rows, rows);
        }
    }

    /**
     * Each row's max into {@link Tile#max}, column by column through the column scratch; a float tile's in float
     * arithmetic (its columns copied into the front of {@link Tile#floats}, free until the gradient), which needs no
     * widening. NaN is kept: the row is then computed exactly.
     */
    private void columnMaxima(Tile t, Job job) {
        int rows = t.capacity;
        if (t.zf == null) {
            double[] x = t.column;
            double[] max = t.max;
            Arrays.fill(max, Double.NEGATIVE_INFINITY);
            for (int c = 0; c < job.k; c++) {
                System.arraycopy(t.z, c * rows, x, 0, rows);
                for (int r = 0; r < rows; r++) {
                    max[r] = Math.max(max[r], x[r]);
                }
            }
            return;
        }
        float[] x = t.floats;
        float[] max = t.maxFloats;
        Arrays.fill(max, Float.NEGATIVE_INFINITY);
        for (int c = 0; c < job.k; c++) {
            System.arraycopy(t.zf, c * rows, x, 0, rows);
            for (int r = 0; r < rows; r++) {
                max[r] = Math.max(max[r], x[r]);
            }
        }
        widen(max, 0, t.max, 0, rows);
    }

    /** A column's terms without a label tile (x and e^x in the column scratch): the sums and the prior's dots. */
    private static void priorColumn(Tile t, double prior) {
        double[] x = t.column;
        double[] e = t.columnExp;
        for (int r = 0; r < t.capacity; r++) {
            t.sum[r] += e[r];
            t.dot[r] = Math.fma(prior, x[r], t.dot[r]);
        }
    }

    /** A column's terms with a label tile (its labels in the column scratch). */
    private static void labelColumn(Tile t, double scale, double prior) {
        double[] x = t.column;
        double[] e = t.columnExp;
        double[] y = t.columnLabels;
        for (int r = 0; r < t.capacity; r++) {
            double part = scale * y[r];
            t.sum[r] += e[r];
            t.mass[r] += part;
            t.dot[r] = Math.fma(part + prior, x[r], t.dot[r]);
        }
    }

    /**
     * Row r's sums one term at a time, as in the contract: e^(-inf) = 0, and a 0 target at a -inf logit counts for
     * nothing. Only rows with an infinite or NaN logit come here.
     */
    private static void exactRow(Tile t, Job job, int r) {
        boolean single = job.z.floats != null;
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < job.k; c++) {
            double v = t.logit(r, c);
            max = v > max ? v : max; // a NaN logit gives a NaN x below
        }
        double sum = 0;
        double dot = 0;
        double mass = 0;
        for (int c = 0; c < job.k; c++) {
            int i = t.at(r, c);
            double x = t.logit(r, c) - max;
            double e = exp(x, single);
            t.g[i] = e;
            sum += e;
            double labelPart = t.y == null ? 0 : job.labelScale[c] * t.y[i];
            double target = labelPart + job.priorTerm[c];
            mass += labelPart;
            dot += target == 0 ? 0 : target * x;
        }
        t.max[r] = max;
        t.sum[r] = sum;
        t.dot[r] = dot;
        t.mass[r] = mass;
    }

    /**
     * A row-major tile's prior terms repeated row by row, for the gradient: C2 (JDK 17) vectorizes a loop whose arrays
     * are indexed alike, not {@code g[base + c]} beside {@code priorTerm[c]} (0.09 against 0.43 ns an element at
     * K = 1000).
     */
    @Override
    double[] priorRows(Job job) {
        if (!job.rowMajor) {
            return null;
        }
        double[] rows = new double[job.tileRows * job.k];
        for (int r = 0; r < job.tileRows; r++) {
            System.arraycopy(job.priorTerm, 0, rows, r * job.k, job.k);
        }
        return rows;
    }

    /**
     * {@inheritDoc} A float tile's gradient is rounded into {@link Tile#floats} as it is computed (0.97 against 1.27 ns
     * an element with a pass of its own, column-major, JDK 17), which leaves e^x in {@code g} for the label entries'
     * share.
     */
    @Override
    void gradient(Tile t, Job job) {
        if (job.rowMajor) {
            int k = job.k;
            double[] g = t.g;
            float[] out = t.floats;
            double[] y = t.y;
            double[] scale = job.labelScale;
            double[] prior = job.priorTerm;
            double[] priors = job.priorRows;
            for (int r = 0; r < t.rows; r++) {
                double factor = t.factor[r];
                double m = t.m[r];
                int base = r * k;
                if (y == null && t.zf == null) {
                    for (int i = base; i < base + k; i++) {
                        g[i] = g[i] * factor - m * priors[i];
                    }
                } else if (y == null) {
                    for (int i = base; i < base + k; i++) {
                        out[i] = (float) (g[i] * factor - m * priors[i]);
                    }
                } else if (t.zf == null) {
                    for (int c = 0; c < k; c++) {
                        g[base + c] = g[base + c] * factor - m * (scale[c] * y[base + c] + prior[c]);
                    }
                } else {
                    for (int c = 0; c < k; c++) {
                        out[base + c] = (float) (g[base + c] * factor - m * (scale[c] * y[base + c] + prior[c]));
                    }
                }
            }
            return;
        }
        for (int c = 0; c < job.k; c++) {
            double scale = job.labelScale[c];
            double prior = job.priorTerm[c];
            if (t.zf == null) {
                for (int r = 0, i = c * t.capacity; r < t.capacity; r++, i++) {
                    double target = (t.y == null ? 0 : scale * t.y[i]) + prior;
                    t.g[i] = t.g[i] * t.factor[r] - t.m[r] * target;
                }
            } else {
                for (int r = 0, i = c * t.capacity; r < t.capacity; r++, i++) {
                    double target = (t.y == null ? 0 : scale * t.y[i]) + prior;
                    t.floats[i] = (float) (t.g[i] * t.factor[r] - t.m[r] * target);
                }
            }
        }
    }

    @Override
    public String toString() {
        return "scalar";
    }

    /**
     * {@code e[i] = e^x[i]} for i in [0, n): {@link #expClampedSingle} for FLOAT logits ({@code single}), else
     * {@link #expClamped}.
     */
    private static void exp(double[] x, double[] e, int n, boolean single) {
        if (single) {
            for (int i = 0; i < n; i++) {
                e[i] = expClampedSingle(x[i]);
            }
        } else {
            for (int i = 0; i < n; i++) {
                e[i] = expClamped(x[i]);
            }
        }
    }

    /**
     * Where {@link #expClamped} stops: e^-110 (1.7e-48) is below a float's smallest subnormal and counts for nothing
     * next to a row's e^0 = 1 in a double sum.
     */
    static final double EXP_FLOOR = -110;

    /**
     * {@code e^x} for {@code x <= 0} as {@link #expClampedSingle} for FLOAT logits ({@code single}), else as
     * {@link #expClamped} (so e^-110 = 1.7e-48 below -110: a gradient entry there is off by that times its row's
     * factor, 1e-48 of the row's own scale), but 0 at -inf; NaN for NaN.
     */
    static double exp(double x, boolean single) {
        return x == Double.NEGATIVE_INFINITY ? 0 : single ? expClampedSingle(x) : expClamped(x);
    }

    /**
     * {@code e^max(x, -110)} for {@code x <= 0} (NaN stays NaN), within 2e-13 relative of {@link Math#exp}, exactly 1
     * at 0: {@code (e^(x/256))^256}, e^(x/256) by its degree-13 Taylor polynomial (|x/256| <= 0.43: truncation < 1e-16)
     * in Estrin's form, then eight squarings (which multiply its error by 256). No branch and no bit manipulation
     * (the usual {@code 2^n} scaling), so C2 vectorizes the loops around it: 0.8-1.2 ns an element in a long loop (1.8
     * in a 128-element one, whose last iterations run one at a time) against 2.6 (degree 7, float32) and 3.9 (degree
     * 12, float64) for the {@code 2^n} form, which it does not.
     */
    static double expClamped(double x) {
        double r = Math.max(x, EXP_FLOOR) * (1.0 / 256);
        double r2 = r * r;
        double r4 = r2 * r2;
        double low = Math.fma(r2, Math.fma(r, 1.0 / 6, 0.5), 1 + r);
        double middle = Math.fma(r2, Math.fma(r, 1.0 / 5_040, 1.0 / 720), Math.fma(r, 1.0 / 120, 1.0 / 24));
        double high = Math.fma(r2, Math.fma(r, 1.0 / 39_916_800, 1.0 / 3_628_800),
                Math.fma(r, 1.0 / 362_880, 1.0 / 40_320));
        double top = Math.fma(r, 1.0 / 6_227_020_800.0, 1.0 / 479_001_600);
        double e = Math.fma(r4 * r4, Math.fma(r4, top, high), Math.fma(r4, middle, low));
        e *= e;
        e *= e;
        e *= e;
        e *= e;
        e *= e;
        e *= e;
        e *= e;
        return e * e;
    }

    /**
     * {@link #expClamped} for FLOAT logits, within 1e-9 relative of {@link Math#exp} (5e-10 measured; a float holds
     * 6e-8), exactly 1 at 0: {@code (e^(x/1024))^1024}, e^(x/1024) by its degree-7 Taylor polynomial (|x/1024| <=
     * 0.11: truncation 4.4e-13, times 1024 by the ten squarings). 0.92 against 1.09 ns an element in a long loop.
     */
    static double expClampedSingle(double x) {
        double r = Math.max(x, EXP_FLOOR) * (1.0 / 1024);
        double r2 = r * r;
        double low = Math.fma(r2, Math.fma(r, 1.0 / 6, 0.5), 1 + r);
        double high = Math.fma(r2, Math.fma(r, 1.0 / 5_040, 1.0 / 720), Math.fma(r, 1.0 / 120, 1.0 / 24));
        double e = Math.fma(r2 * r2, high, low);
        e *= e;
        e *= e;
        e *= e;
        e *= e;
        e *= e;
        e *= e;
        e *= e;
        e *= e;
        e *= e;
        return e * e;
    }
}
