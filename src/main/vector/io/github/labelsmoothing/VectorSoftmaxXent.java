package io.github.labelsmoothing;

import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The CPU kernel on the JDK's {@code jdk.incubator.vector} module (SIMD {@code exp}, one vector op per lane group):
 * column-major tiles (an 'f'-order preOutput, or few classes) are computed across rows, a vector of rows per class;
 * row-major tiles (a 'c'-order preOutput with many classes) along the classes of each row. Sums in double, as the
 * scalar kernel, so float32 stays exact; float tiles (FLOAT logits read as one block: 'c'-order rows, 'f'-order
 * columns above 256 classes) take {@code e^x} in float arithmetic, twice the lanes (within 1.2e-7, its error scaled
 * down in the log-sum-exp by the share of the terms below the row's largest, whose e^0 = 1 is exact). Its
 * {@code exp} and {@code log} are IEEE operations only (not the JDK's {@code EXP} and {@code LOG}, whose results
 * change when C2 compiles a loop), so a call gives the same bits however far the JIT has got. Compiled apart from the
 * other sources (needs {@code --add-modules jdk.incubator.vector}) and loaded by name by {@link SoftmaxXents} only
 * when the JVM has the module; uses only API present from JDK 17 to 25 ({@code fromArray}, {@code intoArray},
 * {@code lanewise}, {@code reduceLanes}).
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
    /**
     * Floats of the same shape (twice the lanes): conversions to and from FLOAT buffers, and a float tile's blocks of
     * rows.
     */
    private static final VectorSpecies<Float> FLOATS = VectorSpecies.of(float.class, SPECIES.vectorShape());
    private static final int FLOAT_LANES = FLOATS.length();
    /** Floats of half the shape (as many lanes as the doubles; from 128-bit vectors on): their conversions are plain. */
    private static final VectorSpecies<Float> HALF = SPECIES.vectorBitSize() < 128 ? null
            : VectorSpecies.of(float.class, VectorShape.forBitSize(SPECIES.vectorBitSize() / 2));

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

    /**
     * From 128-bit vectors on: row-major tiles, and column-major ones too large for the register sums (K above
     * {@link #REGISTER_COLUMNS}; a [128,1000] tile of doubles was half a gradient call's time in traffic beyond the L2
     * cache; at K = 10 the float tile's passes made a call 2x slower than the register sums).
     */
    @Override
    boolean floatTiles(int k, boolean rowMajor) {
        return HALF != null && (rowMajor || k > REGISTER_COLUMNS);
    }

    /**
     * Below {@link #ENTRY_CLASSES}: an entry's scalar terms cost more than the label tile's vector terms ([2048,10]
     * class-index calls 1.08-1.17x faster with the tile; the scalar kernel's were 1.02-1.08x slower, so it keeps the
     * entries).
     */
    @Override
    boolean classIndexTile(int k) {
        return k < ENTRY_CLASSES;
    }

    @Override
    boolean rowMajor(int k, boolean rowsContiguous) {
        return rowsContiguous && k >= MIN_ROW_VECTORS * LANES;
    }

    @Override
    void sums(Tile t, Job job) {
        if (job.rowMajor && t.zf != null) {
            floatRowSums(t, job);
        } else if (job.rowMajor) {
            rowSums(t, job);
        } else if (t.zf != null) {
            floatColumnSums(t, job);
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

    /**
     * A vector of rows at a time by {@link #log}, those with a sum outside [1, Double.MAX_VALUE] (NaN from a NaN or
     * +inf logit) by {@link Math#log}; the tail rows too.
     */
    @Override
    void logSums(Tile t) {
        int whole = SPECIES.loopBound(t.rows);
        for (int r = 0; r < whole; r += LANES) {
            DoubleVector sum = DoubleVector.fromArray(SPECIES, t.sum, r);
            if (sum.compare(VectorOperators.GE, 1.0).and(sum.compare(VectorOperators.LE, Double.MAX_VALUE)).allTrue()) {
                log(sum).intoArray(t.loss, r);
            } else {
                for (int i = r; i < r + LANES; i++) {
                    t.loss[i] = Math.log(t.sum[i]);
                }
            }
        }
        for (int r = whole; r < t.rows; r++) {
            t.loss[r] = Math.log(t.sum[r]);
        }
    }

    /** fdlibm's {@code log}: ln 2 in two parts, and the coefficients of its polynomial in {@code s^2}. */
    private static final double LN2_HI = 6.93147180369123816490e-01;
    private static final double LN2_LO = 1.90821492927058770002e-10;
    private static final double[] LG = {6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
        2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01, 1.479819860511658591e-01};

    /**
     * {@code log x} for finite {@code x >= 1} (a row's {@code Σ e^(z - M)}), fdlibm's algorithm a vector at a time
     * (within 1 ulp): {@code x = 2^k·m} with m in [√2/2, √2), {@code f = m - 1}, {@code s = f/(2 + f)},
     * {@code log m = f - f²/2 + s·(f²/2 + R(s²))}. IEEE operations only, so the same bits before and after C2 compiles
     * it (the JDK's {@code LOG} is SVML compiled and {@link Math#log} per lane before: an ulp apart on 1-2% of sums
     * near 1), and a vector of logs where {@link Math#log} row by row made a [2048,10] call 10% slower.
     */
    private static DoubleVector log(DoubleVector x) {
        LongVector bits = x.reinterpretAsLongs();
        LongVector k = bits.lanewise(VectorOperators.LSHR, 52).sub(1023);
        DoubleVector m = bits.and(0x000F_FFFF_FFFF_FFFFL).or(0x3FF0_0000_0000_0000L).reinterpretAsDoubles(); // [1, 2)
        VectorMask<Double> high = m.compare(VectorOperators.GT, Math.sqrt(2));
        m = m.blend(m.mul(0.5), high);
        DoubleVector kd = (DoubleVector) k.convertShape(VectorOperators.L2D, SPECIES, 0);
        kd = kd.blend(kd.add(1), high);
        DoubleVector f = m.sub(1);
        DoubleVector s = f.div(f.add(2));
        DoubleVector z = s.mul(s);
        DoubleVector w = z.mul(z);
        DoubleVector odd = w.fma(w.fma(w.fma(LG[6], LG[4]), DoubleVector.broadcast(SPECIES, LG[2])),
                DoubleVector.broadcast(SPECIES, LG[0])).mul(z);
        DoubleVector even = w.fma(w.fma(LG[5], LG[3]), DoubleVector.broadcast(SPECIES, LG[1])).mul(w);
        DoubleVector r = odd.add(even);
        DoubleVector halfSquare = f.mul(f).mul(0.5);
        return kd.mul(LN2_HI).sub(halfSquare.sub(s.mul(halfSquare.add(r)).add(kd.mul(LN2_LO))).sub(f));
    }

    /** Two vectors of doubles per vector of floats (1.9x faster than the loop, which C2 does not vectorise). */
    @Override
    void widen(float[] src, int from, double[] dst, int off, int len) {
        int whole = FLOATS.loopBound(len);
        for (int i = 0; i < whole; i += FLOAT_LANES) {
            FloatVector v = FloatVector.fromArray(FLOATS, src, from + i);
            half(v, 0).intoArray(dst, off + i);
            half(v, 1).intoArray(dst, off + i + LANES);
        }
        super.widen(src, from + whole, dst, off + whole, len - whole);
    }

    /** Two vectors of doubles into one of floats ({@link #join}); 1.4x faster than the loop. */
    @Override
    void narrow(double[] src, int off, float[] dst, int to, int len) {
        int whole = FLOATS.loopBound(len);
        for (int i = 0; i < whole; i += FLOAT_LANES) {
            join(DoubleVector.fromArray(SPECIES, src, off + i), DoubleVector.fromArray(SPECIES, src, off + i + LANES))
                    .intoArray(dst, to + i);
        }
        super.narrow(src, off + whole, dst, to + whole, len - whole);
    }

    /**
     * A vector of floats' rows at a time, class by class, by gathers (a 'c'-order [2048,10] call's transposes: 0.33
     * against 0.70 ns an element); the rows after the last whole vector one by one.
     */
    @Override
    void transposeIn(float[] src, int srcRow, double[] dst, int dstCol, int from, int rows, int k) {
        int whole = from + FLOATS.loopBound(rows - from);
        int[] rowStarts = rowStarts(srcRow);
        for (int r0 = from; r0 < whole; r0 += FLOAT_LANES) {
            for (int c = 0; c < k; c++) {
                FloatVector v = FloatVector.fromArray(FLOATS, src, r0 * srcRow + c, rowStarts, 0);
                half(v, 0).intoArray(dst, c * dstCol + r0);
                half(v, 1).intoArray(dst, c * dstCol + r0 + LANES);
            }
        }
        super.transposeIn(src, srcRow, dst, dstCol, whole, rows, k);
    }

    /**
     * A column-major tile a vector of floats' rows at a time, class by class, by scatters (0.51 against 0.73 ns an
     * element at K = 10); a row-major tile, and the rows after the last whole vector, as the scalar kernel does.
     */
    @Override
    void placeRounded(double[] src, int srcRow, int srcCol, float[] dst, int from, int rows, int k) {
        int whole = srcRow == 1 ? from + FLOATS.loopBound(rows - from) : from;
        int[] rowStarts = rowStarts(k);
        for (int r0 = from; r0 < whole; r0 += FLOAT_LANES) {
            for (int c = 0; c < k; c++) {
                int at = c * srcCol + r0;
                join(DoubleVector.fromArray(SPECIES, src, at), DoubleVector.fromArray(SPECIES, src, at + LANES))
                        .intoArray(dst, r0 * k + c, rowStarts, 0);
            }
        }
        super.placeRounded(src, srcRow, srcCol, dst, whole, rows, k);
    }

    /** Offsets of a vector of floats' rows in a row-major block of rows {@code step} apart. */
    private static int[] rowStarts(int step) {
        int[] starts = new int[FLOAT_LANES];
        for (int i = 0; i < FLOAT_LANES; i++) {
            starts[i] = i * step;
        }
        return starts;
    }

    /** The low ({@code part} 0) or high (1) half of a vector of floats, widened. */
    private static DoubleVector half(FloatVector v, int part) {
        return (DoubleVector) v.convertShape(VectorOperators.F2D, SPECIES, part);
    }

    /**
     * Two vectors of doubles rounded into one of floats, their halves joined by OR-ing the bits (an add would turn -0
     * into 0).
     */
    private static FloatVector join(DoubleVector low, DoubleVector high) {
        IntVector lowBits = low.convertShape(VectorOperators.D2F, FLOATS, 0).reinterpretAsInts();
        IntVector highBits = high.convertShape(VectorOperators.D2F, FLOATS, -1).reinterpretAsInts();
        return lowBits.or(highBits).reinterpretAsFloats();
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
        boolean single = job.z.floats != null;
        boolean keep = job.g != null; // e^x is the gradient's, not the score's
        Arrays.fill(t.max, Double.NEGATIVE_INFINITY);
        for (int c = 0; c < job.k; c++) {
            for (int r0 = 0, i = c * tileRows; r0 < tileRows; r0 += LANES, i += LANES) {
                DoubleVector.fromArray(SPECIES, t.max, r0).max(DoubleVector.fromArray(SPECIES, z, i))
                        .intoArray(t.max, r0);
            }
        }
        clearSums(t);
        for (int c = 0; c < job.k; c++) {
            for (int r0 = 0, i = c * tileRows; r0 < tileRows; r0 += LANES, i += LANES) {
                DoubleVector x = DoubleVector.fromArray(SPECIES, z, i).sub(DoubleVector.fromArray(SPECIES, t.max, r0));
                DoubleVector e = exp(x, single, false);
                if (keep) {
                    e.intoArray(t.g, i);
                }
                accumulate(t, job, c, r0, i, x, e);
            }
        }
    }

    /**
     * A float tile's sums ({@link Tile#zf}: an 'f'-order FLOAT preOutput), as {@link #streamedColumnSums} a vector of
     * floats' rows at a time: e^x in float arithmetic ({@link #expFloat}: twice the lanes of a double's, the sums 1.7x
     * faster), into {@link Tile#floats} (the gradient's); the sums and {@code x = z - M} in double.
     */
    private void floatColumnSums(Tile t, Job job) {
        int tileRows = t.capacity;
        float[] z = t.zf;
        float[] max = t.maxFloats;
        Arrays.fill(max, Float.NEGATIVE_INFINITY);
        for (int c = 0; c < job.k; c++) {
            for (int r0 = 0, i = c * tileRows; r0 < tileRows; r0 += FLOAT_LANES, i += FLOAT_LANES) {
                FloatVector.fromArray(FLOATS, max, r0).max(FloatVector.fromArray(FLOATS, z, i)).intoArray(max, r0);
            }
        }
        for (int r = 0; r < tileRows; r++) {
            t.max[r] = max[r];
        }
        clearSums(t);
        for (int c = 0; c < job.k; c++) {
            floatExps(z, max, t.floats, c * tileRows, tileRows);
            floatColumnTerms(t, job, c);
        }
    }

    /**
     * {@code e = e^(z - max)} for a column of a float tile from index i, in float arithmetic (a loop of its own, as
     * the next: C2 compiles the vector conversions to SIMD only in a method small enough to inline them).
     */
    private static void floatExps(float[] z, float[] max, float[] e, int i, int rows) {
        for (int r0 = 0; r0 < rows; r0 += FLOAT_LANES) {
            expFloat(FloatVector.fromArray(FLOATS, z, i + r0).sub(FloatVector.fromArray(FLOATS, max, r0)))
                    .intoArray(e, i + r0);
        }
    }

    /** Class c's terms of a float tile's rows added to their sums, from the logits and the e^x of {@link #floatExps}. */
    private static void floatColumnTerms(Tile t, Job job, int c) {
        for (int r0 = 0, i = c * t.capacity; r0 < t.capacity; r0 += LANES, i += LANES) {
            accumulate(t, job, c, r0, i, widened(t.zf, i).sub(DoubleVector.fromArray(SPECIES, t.max, r0)),
                    widened(t.floats, i));
        }
    }

    /** A vector of doubles from floats at i (a conversion of part 0, which C2 compiles to one instruction). */
    private static DoubleVector widened(float[] a, int i) {
        return (DoubleVector) FloatVector.fromArray(HALF, a, i).convertShape(VectorOperators.F2D, SPECIES, 0);
    }

    private static void clearSums(Tile t) {
        Arrays.fill(t.sum, 0);
        Arrays.fill(t.dot, 0);
        Arrays.fill(t.mass, 0);
    }

    /** Adds class c's terms of a vector of rows from r0 (tile index i) to the rows' sums, dots and masses. */
    private static void accumulate(Tile t, Job job, int c, int r0, int i, DoubleVector x, DoubleVector e) {
        double prior = job.priorTerm[c];
        DoubleVector.fromArray(SPECIES, t.sum, r0).add(e).intoArray(t.sum, r0);
        if (t.y == null) {
            if (prior != 0) { // a 0 target at a -inf logit counts for nothing
                DoubleVector.fromArray(SPECIES, t.dot, r0).add(x.mul(prior)).intoArray(t.dot, r0);
            }
        } else {
            DoubleVector labelPart = DoubleVector.fromArray(SPECIES, t.y, i).mul(job.labelScale[c]);
            DoubleVector.fromArray(SPECIES, t.mass, r0).add(labelPart).intoArray(t.mass, r0);
            DoubleVector.fromArray(SPECIES, t.dot, r0).add(targetTimes(x, labelPart.add(prior))).intoArray(t.dot, r0);
        }
    }

    /** A column-major tile's gradient; a float tile's from the floats e^x left in {@link Tile#floats}, there. */
    private void columnGradient(Tile t, Job job) {
        int tileRows = t.capacity;
        for (int c = 0; c < job.k; c++) {
            if (t.zf != null) {
                for (int r0 = 0, i = c * tileRows; r0 < tileRows; r0 += LANES, i += LANES) {
                    ((FloatVector) gradient(t, job, c, r0, i, widened(t.floats, i))
                            .convertShape(VectorOperators.D2F, HALF, 0)).intoArray(t.floats, i);
                }
            } else {
                for (int r0 = 0, i = c * tileRows; r0 < tileRows; r0 += LANES, i += LANES) {
                    gradient(t, job, c, r0, i, DoubleVector.fromArray(SPECIES, t.g, i)).intoArray(t.g, i);
                }
            }
        }
    }

    /** {@code e^x·factor - m·target} of class c for a vector of a column-major tile's rows from r0 (tile index i). */
    private static DoubleVector gradient(Tile t, Job job, int c, int r0, int i, DoubleVector e) {
        double prior = job.priorTerm[c];
        DoubleVector target = t.y == null ? DoubleVector.broadcast(SPECIES, prior)
                : DoubleVector.fromArray(SPECIES, t.y, i).mul(job.labelScale[c]).add(prior);
        return e.mul(DoubleVector.fromArray(SPECIES, t.factor, r0))
                .sub(target.mul(DoubleVector.fromArray(SPECIES, t.m, r0)));
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
            boolean inRange = max - mins.reduceLanes(VectorOperators.MIN) < -EXP_UNDERFLOW;
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
                dot = rowDot(t, job, base, c, x, dot);
                if (t.y != null) {
                    mass = mass.add(labelPart(t, job, base, c));
                }
            }
            t.max[r] = max;
            t.sum[r] = sum.reduceLanes(VectorOperators.ADD);
            t.dot[r] = dot.reduceLanes(VectorOperators.ADD);
            t.mass[r] = mass.reduceLanes(VectorOperators.ADD);
        }
    }

    /**
     * A float tile's row sums ({@link Tile#zf}: a 'c'-order FLOAT block), as {@link #rowSums}: the row's max and
     * e^x in float arithmetic ({@link #expFloat}) into {@link Tile#floats} (the gradient's), then the sums, with
     * {@code x = z - M}, in double ({@link #floatRowTerms}).
     */
    private void floatRowSums(Tile t, Job job) {
        int width = job.paddedK;
        for (int r = 0; r < t.rows; r++) {
            int base = r * width;
            float max = rowMax(t.zf, base, width);
            t.max[r] = max;
            for (int c = 0; c < width; c += FLOAT_LANES) {
                expFloat(FloatVector.fromArray(FLOATS, t.zf, base + c).sub(max)).intoArray(t.floats, base + c);
            }
            floatRowTerms(t, job, r);
        }
    }

    /**
     * The largest of {@code z[base..base+width)} (whole vectors of floats; NaN if there is one), in two running maxima:
     * the lanewise {@code MAX} (Java's, NaN and -0 handled) is a chain of several instructions, and one running
     * maximum waited on it (the pass of a [256,1000] call: 58 against 38 us on one thread; four maxima made the calling
     * method too large for C2 to compile the rest of it as vector code).
     */
    private static float rowMax(float[] z, int base, int width) {
        FloatVector m0 = FloatVector.broadcast(FLOATS, Float.NEGATIVE_INFINITY);
        FloatVector m1 = m0;
        int c = 0;
        for (; c + 2 * FLOAT_LANES <= width; c += 2 * FLOAT_LANES) {
            m0 = m0.max(FloatVector.fromArray(FLOATS, z, base + c));
            m1 = m1.max(FloatVector.fromArray(FLOATS, z, base + c + FLOAT_LANES));
        }
        if (c < width) {
            m0 = m0.max(FloatVector.fromArray(FLOATS, z, base + c));
        }
        return m0.max(m1).reduceLanes(VectorOperators.MAX);
    }

    /**
     * Row r's sums from a float tile's logits and the e^x of {@link #floatRowSums} (a method of its own: see there); a
     * row without a label tile whose classes all have a prior term by {@link #priorRowTerms}.
     */
    private static void floatRowTerms(Tile t, Job job, int r) {
        if (t.y == null && job.priorInEveryClass) {
            priorRowTerms(t, job, r);
            return;
        }
        int base = r * job.paddedK;
        double max = t.max[r];
        DoubleVector sum = DoubleVector.zero(SPECIES);
        DoubleVector dot = sum;
        DoubleVector mass = sum;
        for (int c = 0; c < job.paddedK; c += LANES) {
            DoubleVector x = widened(t.zf, base + c).sub(max);
            sum = sum.add(widened(t.floats, base + c));
            dot = rowDot(t, job, base, c, x, dot);
            if (t.y != null) {
                mass = mass.add(labelPart(t, job, base, c));
            }
        }
        t.sum[r] = sum.reduceLanes(VectorOperators.ADD);
        t.dot[r] = dot.reduceLanes(VectorOperators.ADD);
        t.mass[r] = mass.reduceLanes(VectorOperators.ADD);
    }

    /**
     * {@link #floatRowTerms} of a row whose targets are the prior's terms alone, non-zero in every class: its classes
     * two vectors at a time with two sums of each kind (one running sum waited on its adds; with the loop's other
     * cases in it, the method outgrew what C2 compiles as vector code), the classes after the last pair of vectors
     * one by one.
     */
    private static void priorRowTerms(Tile t, Job job, int r) {
        int base = r * job.paddedK;
        double max = t.max[r];
        DoubleVector sum = DoubleVector.zero(SPECIES);
        DoubleVector dot = sum;
        DoubleVector sum1 = sum;
        DoubleVector dot1 = sum;
        int c = 0;
        for (; c + 2 * LANES <= job.k; c += 2 * LANES) {
            sum = sum.add(widened(t.floats, base + c));
            sum1 = sum1.add(widened(t.floats, base + c + LANES));
            dot = widened(t.zf, base + c).sub(max).fma(DoubleVector.fromArray(SPECIES, job.priorTerm, c), dot);
            dot1 = widened(t.zf, base + c + LANES).sub(max)
                    .fma(DoubleVector.fromArray(SPECIES, job.priorTerm, c + LANES), dot1);
        }
        double tailSum = 0;
        double tailDot = 0;
        for (; c < job.k; c++) { // padding columns are skipped: e^-inf = 0 and a 0 term add nothing
            tailSum += t.floats[base + c];
            tailDot += job.priorTerm[c] * (t.zf[base + c] - max);
        }
        t.sum[r] = sum.add(sum1).reduceLanes(VectorOperators.ADD) + tailSum;
        t.dot[r] = dot.add(dot1).reduceLanes(VectorOperators.ADD) + tailDot;
        t.mass[r] = 0;
    }

    /** {@code (1-s)·w·y} of a row-major tile's row from {@code base}, classes from c (a label tile's). */
    private static DoubleVector labelPart(Tile t, Job job, int base, int c) {
        return DoubleVector.fromArray(SPECIES, t.y, base + c).mul(DoubleVector.fromArray(SPECIES, job.labelScale, c));
    }

    /** The targets {@code w·t} of a row-major tile's row from {@code base}, classes from c. */
    private static DoubleVector rowTarget(Tile t, Job job, int base, int c) {
        DoubleVector prior = DoubleVector.fromArray(SPECIES, job.priorTerm, c);
        return t.y == null ? prior : prior.add(labelPart(t, job, base, c));
    }

    /** {@code dot + target·x} for a row-major tile's row from {@code base}, classes from c. */
    private static DoubleVector rowDot(Tile t, Job job, int base, int c, DoubleVector x, DoubleVector dot) {
        DoubleVector target = rowTarget(t, job, base, c);
        return t.y == null && job.priorInEveryClass && c + LANES <= job.k
                ? x.fma(target, dot) // no 0 target: no guard against 0·-inf
                : dot.add(targetTimes(x, target));
    }

    /** A row-major tile's gradient; a float tile's from the floats e^x left in {@link Tile#floats}, there. */
    private void rowGradient(Tile t, Job job) {
        int width = job.paddedK;
        for (int r = 0; r < t.rows; r++) {
            int base = r * width;
            DoubleVector factor = DoubleVector.broadcast(SPECIES, t.factor[r]);
            double minusM = -t.m[r];
            for (int c = 0; c < width; c += LANES) {
                DoubleVector minusMTarget = rowTarget(t, job, base, c).mul(minusM);
                if (t.zf != null) {
                    ((FloatVector) widened(t.floats, base + c).fma(factor, minusMTarget)
                            .convertShape(VectorOperators.D2F, HALF, 0)).intoArray(t.floats, base + c);
                } else {
                    DoubleVector.fromArray(SPECIES, t.g, base + c).fma(factor, minusMTarget).intoArray(t.g, base + c);
                }
            }
        }
    }

    static final double LOG2_E = 1.4426950408889634;
    /** ln 2 split so that {@code n·LN2_HIGH} is exact for the n that occur (fdlibm's constants). */
    static final double LN2_HIGH = 0.6931471803691238;
    static final double LN2_LOW = 1.9082149292705877e-10;
    /**
     * 1.5·2^52: added to {@code x·log2(e)} it rounds it to the nearest integer n (as {@link Math#rint}), which then
     * sits in the low bits of the sum (two's complement for negative n).
     */
    static final double ROUNDING = 0x1.8p52;
    /** Below this, e^x is subnormal or 0 and counts for nothing next to the row's e^0 = 1. */
    static final double EXP_UNDERFLOW = -708;

    /**
     * {@code e^x} for {@code x <= 0}: {@code x = n·ln2 + r}, {@code |r| <= ln2/2}, e^r by its Taylor polynomial in
     * Estrin's form (for float32 logits, {@code single}, degree 7: within 1e-8 relative; else degree 12: within 3 ulp),
     * times {@code 2^n}. Not the JDK's {@code EXP}: a call around which C2
     * spills the loop's registers (a row's sums 1.2 against 1.5 ns an element), and whose results change by an ulp
     * when C2 compiles the loop (SVML there, {@link Math#exp} per lane before), so that two calls on the same inputs
     * could differ. {@code inRange}: every x is known to be above {@code EXP_UNDERFLOW} (a row whose logits span less
     * than 708), so the result needs no underflow blend.
     */
    private static DoubleVector exp(DoubleVector x, boolean single, boolean inRange) {
        DoubleVector shifted = x.fma(LOG2_E, ROUNDING); // n in the low bits
        DoubleVector n = shifted.sub(ROUNDING);
        DoubleVector r = n.fma(DoubleVector.broadcast(SPECIES, -LN2_LOW),
                n.fma(DoubleVector.broadcast(SPECIES, -LN2_HIGH), x));
        DoubleVector r2 = r.mul(r);
        DoubleVector low = r2.fma(r.fma(1.0 / 6, 0.5), r.add(1));
        DoubleVector middle = r2.fma(r.fma(1.0 / 5_040, 1.0 / 720), r.fma(1.0 / 120, 1.0 / 24));
        DoubleVector twoToN = shifted.reinterpretAsLongs().add(1023).lanewise(VectorOperators.LSHL, 52)
                .reinterpretAsDoubles();
        DoubleVector r4 = r2.mul(r2);
        DoubleVector poly;
        if (single) {
            poly = r4.fma(middle, low);
        } else {
            DoubleVector high = r2.fma(r.fma(1.0 / 39_916_800, 1.0 / 3_628_800), r.fma(1.0 / 362_880, 1.0 / 40_320));
            poly = r4.mul(r4).fma(r4.fma(DoubleVector.broadcast(SPECIES, 1.0 / 479_001_600), high),
                    r4.fma(middle, low));
        }
        DoubleVector e = poly.mul(twoToN);
        return inRange ? e : e.blend(0.0, x.compare(VectorOperators.LE, EXP_UNDERFLOW)); // NaN stays
    }

    /** Cephes' {@code expf}: ln 2 in two parts, and its polynomial's coefficients (highest degree first). */
    private static final float LN2_HIGH_FLOAT = 0.693359375f;
    private static final float LN2_LOW_FLOAT = -2.12194440e-4f;
    private static final float[] EXPF = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f,
        1.6666665459e-1f, 5.0000001201e-1f};
    /** Below this e^x (1.6e-38) is under a float's normal range and taken as 0. */
    static final float EXPF_UNDERFLOW = -87;

    /**
     * {@code e^x} for float {@code x <= 0} in float arithmetic (Cephes' {@code expf}: {@code x = n·ln 2 + r},
     * {@code e^r = 1 + r + r²·P(r)} with a degree-5 minimax P, times {@code 2^n}), within 1.2e-7 relative of
     * {@link Math#exp} (2 ulp), exactly 1 at 0, 0 at or below {@link #EXPF_UNDERFLOW}, NaN for NaN. Its error reaches
     * a row's log-sum-exp scaled by the share of the terms other than the largest (whose e^0 = 1 is exact), so the
     * loss stays within 2.4e-7 relative.
     */
    private static FloatVector expFloat(FloatVector x) {
        FloatVector shifted = x.fma((float) LOG2_E, 0x1.8p23f); // n in the low bits
        FloatVector n = shifted.sub(0x1.8p23f);
        FloatVector r = n.fma(FloatVector.broadcast(FLOATS, -LN2_LOW_FLOAT),
                n.fma(FloatVector.broadcast(FLOATS, -LN2_HIGH_FLOAT), x));
        FloatVector p = FloatVector.broadcast(FLOATS, EXPF[0]);
        for (int d = 1; d < EXPF.length; d++) {
            p = p.fma(r, FloatVector.broadcast(FLOATS, EXPF[d]));
        }
        FloatVector twoToN = shifted.reinterpretAsInts().add(127).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        return p.fma(r.mul(r), r.add(1)).mul(twoToN).blend(0f, x.compare(VectorOperators.LE, EXPF_UNDERFLOW));
    }

    /** {@code out[i] = e^x[i]} by {@link #expFloat}, whole vectors (the tail from a vector padded with 0), for tests. */
    static void expFloatEachLane(float[] x, float[] out) {
        float[] lanes = new float[FLOAT_LANES];
        for (int i = 0; i < x.length; i += FLOAT_LANES) {
            int n = Math.min(FLOAT_LANES, x.length - i);
            System.arraycopy(x, i, lanes, 0, n);
            Arrays.fill(lanes, n, FLOAT_LANES, 0);
            expFloat(FloatVector.fromArray(FLOATS, lanes, 0)).intoArray(lanes, 0);
            System.arraycopy(lanes, 0, out, i, n);
        }
    }

    /** The kernel's double-lane functions, for {@link #eachLane}. */
    enum LaneFunction {
        /** {@link #exp(DoubleVector, boolean, boolean)} for float32 logits, with the underflow blend. */
        EXP_FOR_FLOAT,
        /** {@link #exp(DoubleVector, boolean, boolean)} for float64 logits, with the underflow blend. */
        EXP,
        /** {@link #log}. */
        LOG
    }

    /**
     * {@code out[i] = f(x[i])}, whole vectors (the tail from a vector padded with 1): the tests' entry, so that they
     * check each lane of the kernel's own code.
     */
    static void eachLane(LaneFunction f, double[] x, double[] out) {
        double[] lanes = new double[LANES];
        for (int i = 0; i < x.length; i += LANES) {
            int n = Math.min(LANES, x.length - i);
            System.arraycopy(x, i, lanes, 0, n);
            Arrays.fill(lanes, n, LANES, 1);
            DoubleVector v = DoubleVector.fromArray(SPECIES, lanes, 0);
            (f == LaneFunction.LOG ? log(v) : exp(v, f == LaneFunction.EXP_FOR_FLOAT, false)).intoArray(lanes, 0);
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
