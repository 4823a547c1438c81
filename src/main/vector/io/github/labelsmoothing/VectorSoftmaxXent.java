package io.github.labelsmoothing;

import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The CPU kernel on the JDK's {@code jdk.incubator.vector} module (SIMD {@code exp}, one vector op per lane group):
 * column-major tiles (an 'f'-order preOutput, or few classes) are computed across rows, a vector of rows per class;
 * row-major tiles (a 'c'-order preOutput with many classes) along the classes of each row. Doubles throughout, as the
 * scalar kernel, so float32 stays exact. Compiled apart from the other sources (needs {@code --add-modules
 * jdk.incubator.vector}) and loaded by name by {@link SoftmaxXents} only when the JVM has the module; uses only API
 * present from JDK 17 to 25 ({@code fromArray}, {@code intoArray}, {@code lanewise}, {@code reduceLanes}).
 */
final class VectorSoftmaxXent extends CpuSoftmaxXent {
    /** A 'c'-order tile goes row by row from this many vectors per row on (padding costs at most a quarter). */
    private static final int MIN_ROW_VECTORS = 4;
    /**
     * Up to this many classes a column-major tile's sums run a vector of rows across all classes (a cache line per
     * class stays in L1), beyond it class by class through the tile.
     */
    private static final int REGISTER_COLUMNS = 256;

    /** The test-only {@link SoftmaxXents#VECTOR_BITS} (64 to 512 bits), or 0 for the CPU's preferred vectors. */
    private static final int FORCED_BITS = Integer.getInteger(SoftmaxXents.VECTOR_BITS, 0);
    /** Static final, as C2 turns vector operations into SIMD instructions only for a constant species. */
    private static final VectorSpecies<Double> SPECIES = FORCED_BITS == 0 ? DoubleVector.SPECIES_PREFERRED
            : VectorSpecies.of(double.class, VectorShape.forBitSize(FORCED_BITS));
    private static final int LANES = SPECIES.length();
    /** Floats of the same shape (twice the lanes), for conversions to and from FLOAT buffers. */
    private static final VectorSpecies<Float> FLOATS = VectorSpecies.of(float.class, SPECIES.vectorShape());

    private VectorSoftmaxXent() {
    }

    /**
     * The kernel on the CPU's preferred vectors if they are at least 256 bits wide, else null (narrower vectors gain
     * too little over the scalar kernel); on the forced width if {@link SoftmaxXents#VECTOR_BITS} is set.
     */
    static SoftmaxXent create() {
        return FORCED_BITS == 0 && SPECIES.vectorBitSize() < 256 ? null : new VectorSoftmaxXent();
    }

    @Override
    int lanes() {
        return LANES;
    }

    @Override
    long parallelThreshold() {
        return VECTOR_PARALLEL_THRESHOLD;
    }

    @Override
    boolean rowMajor(int k, boolean rowsContiguous) {
        return rowsContiguous && k >= MIN_ROW_VECTORS * LANES;
    }

    @Override
    void sums(Tile t, Job job) {
        if (job.rowMajor) {
            rowSums(t, job);
        } else {
            columnSums(t, job);
        }
    }

    @Override
    void gradient(Tile t, Job job) {
        if (job.rowMajor) {
            rowGradient(t, job);
        } else {
            columnGradient(t, job);
        }
    }

    @Override
    void logSums(Tile t) {
        int whole = SPECIES.loopBound(t.rows);
        for (int r = 0; r < whole; r += LANES) {
            DoubleVector.fromArray(SPECIES, t.sum, r).lanewise(VectorOperators.LOG).intoArray(t.loss, r);
        }
        for (int r = whole; r < t.rows; r++) {
            t.loss[r] = Math.log(t.sum[r]);
        }
    }

    /** Two vectors of doubles per vector of floats (1.9x faster than the loop, which C2 does not vectorise). */
    @Override
    void widen(float[] src, int from, double[] dst, int off, int len) {
        int whole = FLOATS.loopBound(len);
        for (int i = 0; i < whole; i += 2 * LANES) {
            FloatVector v = FloatVector.fromArray(FLOATS, src, from + i);
            ((DoubleVector) v.convertShape(VectorOperators.F2D, SPECIES, 0)).intoArray(dst, off + i);
            ((DoubleVector) v.convertShape(VectorOperators.F2D, SPECIES, 1)).intoArray(dst, off + i + LANES);
        }
        super.widen(src, from + whole, dst, off + whole, len - whole);
    }

    /**
     * Two vectors of doubles into one of floats, their halves joined by OR-ing the bits (an add would turn -0 into
     * 0); 1.4x faster than the loop.
     */
    @Override
    void narrow(double[] src, int off, float[] dst, int to, int len) {
        int whole = FLOATS.loopBound(len);
        for (int i = 0; i < whole; i += 2 * LANES) {
            IntVector low = DoubleVector.fromArray(SPECIES, src, off + i)
                    .convertShape(VectorOperators.D2F, FLOATS, 0).reinterpretAsInts();
            IntVector high = DoubleVector.fromArray(SPECIES, src, off + i + LANES)
                    .convertShape(VectorOperators.D2F, FLOATS, -1).reinterpretAsInts();
            low.or(high).reinterpretAsFloats().intoArray(dst, to + i);
        }
        super.narrow(src, off + whole, dst, to + whole, len - whole);
    }

    /**
     * A column-major tile's sums: {@link #streamedColumnSums} for a tile that outgrows the L1 cache, else a vector of
     * rows at a time across all classes with the sums in registers ({@link #registerColumnSums}).
     */
    private void columnSums(Tile t, Job job) {
        if (job.k > REGISTER_COLUMNS) {
            streamedColumnSums(t, job);
        } else {
            registerColumnSums(t, job);
        }
    }

    /** A vector of rows at a time, class by class; every per-row quantity is a lane held in a register. */
    private void registerColumnSums(Tile t, Job job) {
        int tileRows = t.capacity;
        double[] z = t.z;
        boolean single = job.z.floats != null;
        boolean keep = job.g != null; // e^x is the gradient's, not the score's
        for (int r0 = 0; r0 < tileRows; r0 += LANES) {
            DoubleVector max = DoubleVector.broadcast(SPECIES, Double.NEGATIVE_INFINITY);
            for (int c = 0; c < job.k; c++) {
                max = max.max(DoubleVector.fromArray(SPECIES, z, c * tileRows + r0));
            }
            DoubleVector sum = DoubleVector.zero(SPECIES);
            DoubleVector dot = sum;
            DoubleVector mass = sum;
            for (int c = 0; c < job.k; c++) {
                int i = c * tileRows + r0;
                DoubleVector x = DoubleVector.fromArray(SPECIES, z, i).sub(max);
                DoubleVector e = exp(x, single, false);
                if (keep) {
                    e.intoArray(t.g, i);
                }
                sum = sum.add(e);
                if (t.y == null) {
                    double prior = job.priorTerm[c];
                    if (prior != 0) { // a 0 target at a -inf logit counts for nothing
                        dot = dot.add(x.mul(prior));
                    }
                } else {
                    DoubleVector labelPart = DoubleVector.fromArray(SPECIES, t.y, i).mul(job.labelScale[c]);
                    mass = mass.add(labelPart);
                    dot = dot.add(targetTimes(x, labelPart.add(job.priorTerm[c])));
                }
            }
            max.intoArray(t.max, r0);
            sum.intoArray(t.sum, r0);
            dot.intoArray(t.dot, r0);
            mass.intoArray(t.mass, r0);
        }
    }

    /**
     * Class by class, a vector of rows at a time, the per-row quantities in the tile's per-row arrays: the tile is read
     * in its memory order (a tile of an 'f'-order preOutput is 128 rows deep, megabytes at K = 1000; walking a vector
     * of rows across all its classes fetched every class's cache line from L2 again, 1.3x slower).
     */
    private void streamedColumnSums(Tile t, Job job) {
        int tileRows = t.capacity;
        double[] z = t.z;
        double[] y = t.y;
        boolean single = job.z.floats != null;
        boolean keep = job.g != null; // e^x is the gradient's, not the score's
        Arrays.fill(t.max, Double.NEGATIVE_INFINITY);
        for (int c = 0; c < job.k; c++) {
            for (int r0 = 0, i = c * tileRows; r0 < tileRows; r0 += LANES, i += LANES) {
                DoubleVector.fromArray(SPECIES, t.max, r0).max(DoubleVector.fromArray(SPECIES, z, i))
                        .intoArray(t.max, r0);
            }
        }
        Arrays.fill(t.sum, 0);
        Arrays.fill(t.dot, 0);
        Arrays.fill(t.mass, 0);
        for (int c = 0; c < job.k; c++) {
            double prior = job.priorTerm[c];
            double labelScale = job.labelScale[c];
            for (int r0 = 0, i = c * tileRows; r0 < tileRows; r0 += LANES, i += LANES) {
                DoubleVector x = DoubleVector.fromArray(SPECIES, z, i).sub(DoubleVector.fromArray(SPECIES, t.max, r0));
                DoubleVector e = exp(x, single, false);
                if (keep) {
                    e.intoArray(t.g, i);
                }
                DoubleVector.fromArray(SPECIES, t.sum, r0).add(e).intoArray(t.sum, r0);
                if (y == null) {
                    if (prior != 0) { // a 0 target at a -inf logit counts for nothing
                        DoubleVector.fromArray(SPECIES, t.dot, r0).add(x.mul(prior)).intoArray(t.dot, r0);
                    }
                } else {
                    DoubleVector labelPart = DoubleVector.fromArray(SPECIES, y, i).mul(labelScale);
                    DoubleVector.fromArray(SPECIES, t.mass, r0).add(labelPart).intoArray(t.mass, r0);
                    DoubleVector.fromArray(SPECIES, t.dot, r0).add(targetTimes(x, labelPart.add(prior)))
                            .intoArray(t.dot, r0);
                }
            }
        }
    }

    private void columnGradient(Tile t, Job job) {
        int tileRows = t.capacity;
        for (int c = 0; c < job.k; c++) {
            double prior = job.priorTerm[c];
            double labelScale = job.labelScale[c];
            for (int r0 = 0, i = c * tileRows; r0 < tileRows; r0 += LANES, i += LANES) {
                DoubleVector m = DoubleVector.fromArray(SPECIES, t.m, r0);
                DoubleVector target = t.y == null ? DoubleVector.broadcast(SPECIES, prior)
                        : DoubleVector.fromArray(SPECIES, t.y, i).mul(labelScale).add(prior);
                DoubleVector.fromArray(SPECIES, t.g, i).mul(DoubleVector.fromArray(SPECIES, t.factor, r0))
                        .sub(target.mul(m)).intoArray(t.g, i);
            }
        }
    }

    /** Row by row, a vector of classes at a time (padding columns: -inf logits, 0 targets). */
    private void rowSums(Tile t, Job job) {
        int width = job.paddedK;
        double[] z = t.z;
        boolean single = job.z.floats != null;
        boolean keep = job.g != null; // e^x is the gradient's, not the score's
        for (int r = 0; r < t.rows; r++) {
            int base = r * width;
            DoubleVector maxes = DoubleVector.broadcast(SPECIES, Double.NEGATIVE_INFINITY);
            DoubleVector mins = DoubleVector.broadcast(SPECIES, Double.POSITIVE_INFINITY);
            for (int c = 0; c < width; c += LANES) {
                DoubleVector v = DoubleVector.fromArray(SPECIES, z, base + c);
                maxes = maxes.max(v);
                mins = mins.min(v);
            }
            double max = maxes.reduceLanes(VectorOperators.MAX);
            // false for a NaN, an infinity or padding (-inf) in the row: those take the blend
            boolean inRange = max - mins.reduceLanes(VectorOperators.MIN) < -ScalarSoftmaxXent.EXP_UNDERFLOW;
            DoubleVector sum = DoubleVector.zero(SPECIES);
            DoubleVector dot = sum;
            DoubleVector mass = sum;
            for (int c = 0; c < width; c += LANES) {
                DoubleVector x = DoubleVector.fromArray(SPECIES, z, base + c).sub(max);
                DoubleVector e = exp(x, single, inRange);
                if (keep) {
                    e.intoArray(t.g, base + c);
                }
                sum = sum.add(e);
                DoubleVector target = DoubleVector.fromArray(SPECIES, job.priorTerm, c);
                if (t.y != null) {
                    DoubleVector labelPart = DoubleVector.fromArray(SPECIES, t.y, base + c)
                            .mul(DoubleVector.fromArray(SPECIES, job.labelScale, c));
                    mass = mass.add(labelPart);
                    dot = dot.add(targetTimes(x, target.add(labelPart)));
                } else if (job.priorEverywhere) { // no 0 target: one fma instead of a guarded product
                    dot = x.fma(target, dot);
                } else {
                    dot = dot.add(targetTimes(x, target));
                }
            }
            t.max[r] = max;
            t.sum[r] = sum.reduceLanes(VectorOperators.ADD);
            t.dot[r] = dot.reduceLanes(VectorOperators.ADD);
            t.mass[r] = mass.reduceLanes(VectorOperators.ADD);
        }
    }

    private void rowGradient(Tile t, Job job) {
        int width = job.paddedK;
        for (int r = 0; r < t.rows; r++) {
            int base = r * width;
            double factor = t.factor[r];
            double m = t.m[r];
            for (int c = 0; c < width; c += LANES) {
                DoubleVector target = DoubleVector.fromArray(SPECIES, job.priorTerm, c);
                if (t.y != null) {
                    target = target.add(DoubleVector.fromArray(SPECIES, t.y, base + c)
                            .mul(DoubleVector.fromArray(SPECIES, job.labelScale, c)));
                }
                DoubleVector.fromArray(SPECIES, t.g, base + c).mul(factor).sub(target.mul(m)).intoArray(t.g, base + c);
            }
        }
    }

    /**
     * {@code e^x} for {@code x <= 0}: for float32 logits ({@code single}) {@link ScalarSoftmaxXent#expForFloat}'s
     * degree-7 polynomial a vector at a time (within 1e-8 relative; inline, where the JDK's {@code EXP} is a call
     * around which C2 spills the loop's registers: 1.2 against 1.5 ns an element for a row's sums), else the JDK's
     * {@code EXP} (SVML, within 1 ulp). {@code inRange}: every x is known to be above {@code EXP_UNDERFLOW} (a row
     * whose logits span less than 708), so the polynomial's result needs no underflow blend.
     */
    private static DoubleVector exp(DoubleVector x, boolean single, boolean inRange) {
        if (!single) {
            return x.lanewise(VectorOperators.EXP);
        }
        DoubleVector shifted = x.fma(ScalarSoftmaxXent.LOG2_E, ScalarSoftmaxXent.ROUNDING); // n in the low bits
        DoubleVector n = shifted.sub(ScalarSoftmaxXent.ROUNDING);
        DoubleVector r = n.fma(DoubleVector.broadcast(SPECIES, -ScalarSoftmaxXent.LN2_LOW),
                n.fma(DoubleVector.broadcast(SPECIES, -ScalarSoftmaxXent.LN2_HIGH), x));
        DoubleVector r2 = r.mul(r);
        DoubleVector low = r2.fma(r.fma(1.0 / 6, 0.5), r.add(1));
        DoubleVector middle = r2.fma(r.fma(1.0 / 5_040, 1.0 / 720), r.fma(1.0 / 120, 1.0 / 24));
        DoubleVector twoToN = shifted.reinterpretAsLongs().add(1023).lanewise(VectorOperators.LSHL, 52)
                .reinterpretAsDoubles();
        DoubleVector e = r2.mul(r2).fma(middle, low).mul(twoToN);
        return inRange ? e : e.blend(0.0, x.compare(VectorOperators.LE, ScalarSoftmaxXent.EXP_UNDERFLOW)); // NaN stays
    }

    /**
     * {@code out[i] = e^x[i]} by {@link #exp(DoubleVector, boolean, boolean)} (with the underflow blend), whole vectors
     * (the tail from a vector padded with 0): its tests' entry, so that they check each lane of the kernel's own code.
     */
    static void expEachLane(double[] x, double[] out, boolean single) {
        double[] lanes = new double[LANES];
        for (int i = 0; i < x.length; i += LANES) {
            int n = Math.min(LANES, x.length - i);
            System.arraycopy(x, i, lanes, 0, n);
            Arrays.fill(lanes, n, LANES, 0);
            exp(DoubleVector.fromArray(SPECIES, lanes, 0), single, false).intoArray(lanes, 0);
            System.arraycopy(lanes, 0, out, i, n);
        }
    }

    /** {@code target·x}, 0 where the target is 0 (also at a -inf logit, where the product would be NaN). */
    private static DoubleVector targetTimes(DoubleVector x, DoubleVector target) {
        return x.mul(target).blend(0.0, target.eq(0.0));
    }

    @Override
    public String toString() {
        return "SIMD, " + LANES + " double lanes of " + SPECIES.vectorBitSize() + " bits";
    }
}
