package io.github.labelsmoothing;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.lang.ref.Reference;
import java.lang.ref.SoftReference;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.Arrays;
import java.util.OptionalDouble;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The CPU kernels' common part ({@link SoftmaxXent} on the native buffers of nd4j-native): tiles of rows are copied in
 * bulk from the arrays' {@code asNio()} buffers into {@code double[]} scratch, or {@code float[]} where the kernel
 * keeps FLOAT logits as floats ({@link #floatTiles}) (one {@code exp} per element, sums in double, so float32 stays
 * exact), a subclass computes each row's max, {@code Σ e^x}, {@code Σ w t x} and the
 * gradient on the scratch, and the results are copied back in bulk. A tile is laid out row by row (class index
 * fastest, padded to a whole number of vectors with {@code -inf} logits and 0 targets) or column by column (row index
 * fastest, padded to a whole number of vectors with masked rows), as the subclass asks; 'c'-order arrays are read row
 * by row, 'f'-order ones (what DL4J's dense layers hand the loss) column by column, and the gradient is written in
 * preOutput's order. Labels with few non-zero values per row (class indices and one-hot rows, from K = 64 on) are kept
 * as a list of entries whose share of the sums and of the gradient is added per entry, not laid out as a tile.
 *
 * <p>Takes FLOAT and DOUBLE preOutput in any 2D layout. Large batches run in parallel over fixed row chunks whose
 * partial sums are added in chunk order, or (FLOAT 'f'-order logits of many classes) over two column blocks whose
 * row sums are merged in block order ({@link Job#runBlocks}), so the result does not depend on the thread count.
 * Thread-safe; what it keeps between calls changes no result: finished runs' scratch tiles (never shared by two runs at
 * once), and a gradient call's summed loss for a score call on byte-for-byte the same inputs ({@link ScoreMemo}).
 */
abstract class CpuSoftmaxXent implements SoftmaxXent {
    /**
     * Elements per parallel chunk (rows rounded up to whole tiles): small enough that a batch at the threshold splits
     * into several chunks ([8192,10]: 19) to balance 2 threads. Fixed by the shape alone, never by the thread count,
     * so the chunks' partial sums, added in order, give the same total sequentially and in parallel.
     */
    private static final int CHUNK_ELEMENTS = 4_096;
    /**
     * Below this many elements a call runs on the caller's thread (the scalar kernel, whose elements cost more, splits
     * from {@link #PARALLEL_THRESHOLD} on). Measured on 2 shared, busy cores (JMH, {@code LossBenchmark}, two rounds):
     * at [2048,10] (20K elements) the SIMD kernel's sequential calls were 1.2-1.35x faster than two threads (170-180
     * vs 205-230 us a score-and-gradient pair), waking a pool thread costing more than it saves there. The scalar
     * kernel keeps its own limit (below).
     */
    static final long VECTOR_PARALLEL_THRESHOLD = 65_536;
    /**
     * The scalar kernel's: measured on 2 shared, busy cores (300-400 calls of the gradient), at 5K elements the
     * parallel minimum was slower (113 vs 87 us), from 10-20K it was 1.2-1.5x faster ([2048,10]: 210 vs 261 us).
     * Measured again on the vectorised scalar kernel (score-and-gradient pairs): [2048,10] 1.1-1.3x faster in parallel
     * (149-169 against 164-198 us), [4096,10] 1.2-1.4x.
     */
    static final long PARALLEL_THRESHOLD = 16_384;
    private static final int MAX_TILE_ROWS = 64;
    /**
     * Column blocks of a call that runs in blocks: two, one per thread of a 2-core machine (fixed, so that the result
     * does not depend on the thread count). At [256,1000] four blocks were slower (a pool thread starting late leaves
     * the caller three of them), and so were blocks of 256 classes or fewer in the SIMD kernel, whose tiles of so few
     * classes hold doubles.
     */
    static final int BLOCKS = 2;
    /** Elements of a call run in column blocks at most: all its tiles are held at once, until the rows' sums merge. */
    private static final long MAX_BLOCK_ELEMENTS = 1 << 19;
    /** Elements of a tile, up to the limits below: the tile's scratch arrays stay in the L1/L2 caches. */
    private static final int TILE_ELEMENTS = 2_048;
    /**
     * A tile's dense labels are kept as entries (see {@link Tile#entryStart}) while they have at most one non-zero
     * value in this many; denser ones (soft labels, a class-conditional target) are laid out as a tile.
     */
    private static final int DENSE_LABELS = 8;
    /**
     * Rows of a tile of an 'f'-order preOutput (read column by column, into a column-major tile) at least where
     * {@link Array#BULK_MIN} rows, which make each column one bulk copy straight into place (shorter columns, copied
     * element by element, cost about as much as the rest of the kernel together), would hold more than
     * {@link #MAX_BULK_TILE} elements (a language model's K = 32000 would take 30 MB of scratch per array, kept
     * between calls).
     */
    private static final int MIN_COLUMN_TILE_ROWS = 16;
    /** Elements of a column-major tile of {@link Array#BULK_MIN} rows at most: 2 MB of doubles (K up to 2048). */
    private static final int MAX_BULK_TILE = 1 << 18;
    /**
     * Dense labels of fewer classes are always laid out as a tile: a scan per row then costs more than the vector
     * passes it saves (at K = 10 the scans made a call 1.15-1.2x slower; at K = 1000 entries made it 1.2-1.6x faster).
     */
    static final int ENTRY_CLASSES = 64;

    /** The summed losses of this kernel's latest gradient calls, for the score calls that follow. */
    private final ScoreMemo memo = new ScoreMemo();

    /** Calls run in column blocks, and those a non-finite logit sent to row chunks ({@link Job#runBlocks}). */
    private final LongAdder blockCalls = new LongAdder();
    private final LongAdder blockFallbacks = new LongAdder();

    /** Test-only: the kernel's {@link ScoreMemo}. */
    ScoreMemo memo() {
        return memo;
    }

    /** Test-only: calls run in column blocks so far. */
    long blockCalls() {
        return blockCalls.sum();
    }

    /** Test-only: calls in column blocks whose rows went to row chunks (an infinite or NaN logit) so far. */
    long blockFallbacks() {
        return blockFallbacks.sum();
    }

    /** From this many elements on a call runs in parallel chunks. */
    long parallelThreshold() {
        return PARALLEL_THRESHOLD;
    }

    /**
     * Columns of a row-major tile are padded to a multiple of this (a vector's double lanes), rows of a column-major
     * one to twice as many (a vector of floats of the same width).
     */
    abstract int lanes();

    /**
     * Whether tiles of K classes of a FLOAT preOutput read as one block (a row-major tile of a 'c'-order preOutput, a
     * column-major one of an 'f'-order preOutput) keep the logits as floats ({@link Job#floatTile}); the subclass then
     * computes them from {@link Tile#zf}.
     */
    boolean floatTiles(int k, boolean rowMajor) {
        return false;
    }

    /** Columns of a row-major float tile are padded to a multiple of this (a vector's float lanes). */
    int floatLanes() {
        return 2 * lanes();
    }

    /**
     * Whether the subclass computes a float tile's e^x in double, in {@link Tile#g} (else in float, in
     * {@link Tile#floats}); either way the gradient ends in {@link Tile#floats}.
     */
    boolean floatTileExps() {
        return false;
    }

    /**
     * Whether class indices of K classes are laid out as a label tile, as dense labels are below
     * {@link #ENTRY_CLASSES}; else kept as entries (one per row, its terms added in scalar arithmetic).
     */
    boolean classIndexTile(int k) {
        return false;
    }

    /**
     * The prior's terms as the kernel's loops read them, laid out once per call ({@link Job#priorRows}); none by
     * default.
     */
    double[] priorRows(Job job) {
        return null;
    }

    /** Whether tiles of K classes are laid out row by row; {@code rowsContiguous}: preOutput's rows are. */
    abstract boolean rowMajor(int k, boolean rowsContiguous);

    /**
     * For each row of the tile: {@code max} = its largest logit M, {@code sum} = {@code Σ_k e^(z_k - M)},
     * {@code dot} = {@code Σ_k w_k t_k (z_k - M)} (0 for a term whose target is 0), {@code mass} =
     * {@code Σ_k (1-s)·w_k·y_k}; and {@code e^(z - M)} into {@code g}, needed only for the gradient ({@code job.g} not
     * null: the SIMD kernel skips these writes in a score's call, megabytes through an 'f'-order tile). Without a label
     * tile ({@code t.y} null: class indices, or labels kept as entries) {@code dot} is the prior's part alone and
     * {@code mass} 0; the caller adds the entries' share. Masked and padding rows hold finite values and may be
     * computed.
     */
    abstract void sums(Tile t, Job job);

    /**
     * {@code loss = log(sum)} for the tile's rows {@code [0, rows)} (its caller scales it): a log per row, which the
     * SIMD kernel takes a vector of rows at a time.
     */
    void logSums(Tile t) {
        for (int r = 0; r < t.rows; r++) {
            t.loss[r] = Math.log(t.sum[r]);
        }
    }

    /** {@code dst[off..off+len) = src[from..from+len)}, widened (bulk-read FLOAT values into a tile). */
    void widen(float[] src, int from, double[] dst, int off, int len) {
        for (int i = 0; i < len; i++) {
            dst[off + i] = src[from + i];
        }
    }

    /** {@code dst[to..to+len) = src[off..off+len)}, rounded to float (a tile's values before a FLOAT bulk write). */
    void narrow(double[] src, int off, float[] dst, int to, int len) {
        for (int i = 0; i < len; i++) {
            dst[to + i] = (float) src[off + i];
        }
    }

    /**
     * Rows {@code [from, rows)} of a row-major block of floats (rows {@code srcRow} apart, k classes) into a
     * column-major tile (classes {@code dstCol} apart), widened: a 'c'-order FLOAT array's rows into the SIMD kernel's
     * column-major tiles (K = 10).
     */
    void transposeIn(float[] src, int srcRow, double[] dst, int dstCol, int from, int rows, int k) {
        for (int c = 0; c < k; c++) {
            for (int r = from, at = r * srcRow + c, to = c * dstCol; r < rows; r++, at += srcRow) {
                dst[to + r] = src[at];
            }
        }
    }

    /**
     * A tile (of the given row and class steps) into a row-major rows x k block of floats, rounded; the inner loop
     * along the tile's contiguous axis (a column-major tile read down its columns, the block written k floats
     * apart: its stores 1.07-1.27x faster at K = 10-30 than the other way round). Rows from {@code from}.
     */
    void placeRounded(double[] src, int srcRow, int srcCol, float[] dst, int from, int rows, int k) {
        if (srcRow == 1) {
            for (int c = 0; c < k; c++) {
                for (int r = from, at = c * srcCol, to = r * k + c; r < rows; r++, to += k) {
                    dst[to] = (float) src[at + r];
                }
            }
            return;
        }
        for (int r = from; r < rows; r++) {
            for (int c = 0, at = r * srcRow, to = r * k; c < k; c++, at += srcCol) {
                dst[to + c] = (float) src[at];
            }
        }
    }

    /**
     * {@code g = g·factor - m·((1-s)·w·y + s·w·prior)} for each row (without a label tile the prior's part alone; the
     * caller subtracts the entries' share), with {@code g} holding {@code e^(z - M)} from {@link #sums} and
     * {@code factor} the row's.
     */
    abstract void gradient(Tile t, Job job);

    /**
     * Whether {@link #run} takes these arrays: the CPU backend; preOutput {@code [N,K]}, FLOAT or DOUBLE, in direct
     * memory, non-negative strides; dense labels of preOutput's shape and type (any strides); class-index labels
     * {@code [N,1]} or {@code [N]} of an integer or FLOAT/DOUBLE type; mask null or per example ({@code [N,1]} or
     * {@code [N]}) of such a type. Not HALF/BFLOAT16, per-output masks, empty arrays or CUDA.
     */
    @Override
    public boolean supports(INDArray labels, boolean sparse, INDArray preOutput, INDArray mask) {
        if (!Nd4j.getEnvironment().isCPU() || labels == null || preOutput == null || preOutput.rank() != 2
                || preOutput.isEmpty()) {
            return false;
        }
        DataType type = preOutput.dataType();
        if (type != DataType.FLOAT && type != DataType.DOUBLE || !reachable(preOutput)) {
            return false;
        }
        long n = preOutput.size(0);
        boolean labelsOk = sparse ? isColumn(labels, n) && readableNumbers(labels)
                : labels.dataType() == type && labels.equalShapes(preOutput) && reachable(labels);
        return labelsOk && (mask == null || isColumn(mask, n) && readableNumbers(mask));
    }

    /**
     * {@inheritDoc} The gradient is in preOutput's order ('f' for an 'f'-order preOutput, else 'c'); the summed loss
     * is NaN for the gradient alone (computed, and kept for the next score call on the same inputs, where
     * {@link ScoreMemo#fits}; a score call takes it from there).
     *
     * @throws IllegalArgumentException also if a vector has the wrong length
     */
    @Override
    public Result run(Inputs in, Output output) {
        try {
            return compute(in, output);
        } finally {
            // the tiles reach the arrays' memory through buffers that do not hold the arrays: a caller's temporary
            // array, collected during the call, would free it
            Reference.reachabilityFence(in);
        }
    }

    private Result compute(Inputs in, Output output) {
        if (!supports(in.labels(), in.sparse(), in.preOutput(), in.mask())) {
            throw new IllegalArgumentException("the CPU kernel does not take labels " + describe(in.labels())
                    + ", preOutput " + describe(in.preOutput()) + ", mask " + describe(in.mask()));
        }
        INDArray preOutput = in.preOutput();
        int n = (int) preOutput.size(0);
        int k = (int) preOutput.size(1);
        checkLength("classWeights", in.classWeights(), k);
        checkLength("prior", in.prior(), k);
        double[] maskValues = in.mask() == null ? null : numbers(in.mask(), n);
        int[] classes = in.sparse() ? classIndices(in.labels(), n, k, maskValues) : null;
        Job job = new Job(this, in, classes, maskValues, output);
        if (output == Output.SCORE) {
            OptionalDouble kept = memo.take(job);
            return new Result(kept.isPresent() ? kept.getAsDouble() : job.run(job.startHelpers(), null, null), null,
                    null);
        }
        // woken before the outputs are allocated: a woken pool thread starts tens of microseconds late
        Helper[] helpers = job.startHelpers();
        INDArray gradient;
        INDArray rows;
        try {
            boolean columnsContiguous = preOutput.stride(0) == 1 && k > 1 && n > 1;
            gradient = output.gradient()
                    ? Nd4j.createUninitialized(preOutput.dataType(), preOutput.shape(), columnsContiguous ? 'f' : 'c')
                    : null;
            rows = output == Output.ROW_LOSSES ? Nd4j.createUninitialized(preOutput.dataType(), n, 1) : null;
        } catch (RuntimeException | Error e) {
            Helper.finish(helpers, null);
            throw e;
        }
        double total = job.run(helpers, rows, gradient);
        if (job.kept != null) {
            memo.keep(job.kept, job, total);
        }
        return new Result(output == Output.GRADIENT ? Double.NaN : total, rows, gradient);
    }

    // ---------------------------------------------------------------------------------------------------------------

    /**
     * One call's inputs as buffers, element offsets and per-class terms, shared by the chunks; immutable but for the
     * memo entry its tiles copy runs into (disjoint runs) and the outputs, set by {@link #run} before the chunks start.
     */
    static final class Job {
        final CpuSoftmaxXent kernel;
        final int n;
        final int k;
        /** Classes of a tile row: K, rounded up to whole vectors in a row-major tile. */
        final int paddedK;
        final boolean rowMajor;
        /**
         * Whether the tiles keep FLOAT logits as floats ({@link Tile#zf}), where the kernel takes them
         * ({@link CpuSoftmaxXent#floatTiles}): row-major tiles of a 'c'-order block of rows, column-major ones of an
         * 'f'-order preOutput, read straight into place. A column-major double tile of 128 rows is 1 MB per array at
         * K = 1000: widening the logits into it, writing e^x there and narrowing the gradient from it were half of a
         * gradient call, traffic beyond the L2 cache. A float tile keeps its gradient as floats in {@link Tile#floats},
         * half the size, and its e^x there too, or in double in {@link Tile#g} ({@link CpuSoftmaxXent#floatTileExps}).
         */
        final boolean floatTile;
        final int tileRows;
        final Array z;
        /** Dense labels, or null with {@link #classes}. */
        final Array y;
        final int[] classes;
        final double[] mask;
        /** {@code (1-s)·w_k}: the label's share of {@code w_k t_k} (0 in padding columns). */
        final double[] labelScale;
        /** {@code s·w_k·prior_k}: the prior's share of {@code w_k t_k} (0 in padding columns). */
        final double[] priorTerm;
        /** {@code Σ_k s·w_k·prior_k}. */
        final double priorMass;
        /** {@link #priorTerm} as the kernel lays it out for its loops ({@link CpuSoftmaxXent#priorRows}), or null. */
        final double[] priorRows;
        /**
         * Whether {@link #priorTerm} is non-zero in every class (s > 0, no 0 weight or prior entry): {@code priorTerm·x}
         * then needs no guard against 0·-inf there (padding columns, whose term is 0, still do).
         */
        final boolean priorInEveryClass;
        final boolean weighted;
        /**
         * A gradient call's entry in the {@link ScoreMemo}, for the score call DL4J makes next on the same batch (the
         * call then sums the loss too, and its tiles copy the logits' runs into the entry as they read them); else
         * null.
         */
        final ScoreMemo.Entry kept;
        /** Whether the losses are summed (else only the gradient, without a log per row). */
        final boolean score;
        /** Rows of a chunk (whole tiles), and the chunks. */
        final int chunkRows;
        final int chunks;
        /**
         * Column blocks the call runs in ({@link #runBlocks}), 0 for row chunks; a block's own job (of its columns)
         * has none.
         */
        final int blocks;
        /**
         * The call's job: this one, or the job whose column block this is. A block's job sums its tile only (its
         * gradient waits for the merge of the rows' sums, {@link #runBlocks}), stages the logits into the call's memo
         * entry at the call's offsets and records no labels (the merge does).
         */
        final Job whole;
        /** The first of the call's classes in this job (a column block's; else 0). */
        final int from;
        /** The outputs, set by {@link #run} (its helpers see them through {@link Helper#give}). */
        Array rowLoss;
        Array g;

        Job(CpuSoftmaxXent kernel, Inputs in, int[] classes, double[] mask, Output output) {
            this.kernel = kernel;
            INDArray preOutput = in.preOutput();
            n = (int) preOutput.size(0);
            k = (int) preOutput.size(1);
            z = new Array(preOutput);
            rowMajor = kernel.rowMajor(k, z.colStride == 1);
            floatTile = z.floats != null && kernel.floatTiles(k, rowMajor) && (rowMajor
                    ? z.colStride == 1 && (z.rowStride == k || n == 1) : z.rowStride == 1);
            int lanes = kernel.lanes();
            paddedK = rowMajor ? roundUp(k, floatTile ? kernel.floatLanes() : lanes) : k; // whole vectors
            int fitting = Math.min(MAX_TILE_ROWS, TILE_ELEMENTS / paddedK);
            boolean bulkColumns = !rowMajor && (long) Array.BULK_MIN * k <= MAX_BULK_TILE;
            int rows = z.rowStride == 1 ? Math.max(bulkColumns ? Array.BULK_MIN : MIN_COLUMN_TILE_ROWS, fitting)
                    : Math.max(1, fitting);
            rows = rowMajor ? rows : roundUp(rows, 2 * lanes);
            tileRows = Math.min(rows, rowMajor ? n : roundUp(n, 2 * lanes));
            y = in.sparse() ? null : new Array(in.labels());
            this.classes = classes;
            this.mask = mask;
            labelScale = new double[paddedK];
            priorTerm = new double[paddedK];
            for (int c = 0; c < k; c++) {
                double w = in.classWeights() == null ? 1 : in.classWeights()[c];
                labelScale[c] = (1 - in.s()) * w;
                priorTerm[c] = in.s() * w * (in.prior() == null ? 1.0 / k : in.prior()[c]);
            }
            priorMass = mass(priorTerm, k);
            priorRows = kernel.priorRows(this);
            priorInEveryClass = Arrays.stream(priorTerm, 0, k).allMatch(term -> term != 0);
            weighted = in.classWeights() != null;
            chunkRows = roundUp(Math.max(1, CHUNK_ELEMENTS / k), tileRows);
            chunks = (n + chunkRows - 1) / chunkRows;
            blocks = columnBlocks(kernel, n, k, z, rowMajor);
            kept = output == Output.GRADIENT && ScoreMemo.fits(this) ? kernel.memo.prepare(this) : null;
            score = output != Output.GRADIENT || kept != null;
            whole = this;
            from = 0;
        }

        /**
         * Columns {@code [from, to)} of the parent's call, as one tile of all its rows: the job of a column block
         * ({@link #runBlocks}). It stages the logits it reads into the parent's memo entry, which records the labels
         * itself.
         */
        private Job(Job parent, int from, int to) {
            kernel = parent.kernel;
            n = parent.n;
            k = to - from;
            z = new Array(parent.z, from);
            y = parent.y == null ? null : new Array(parent.y, from);
            rowMajor = false;
            floatTile = z.floats != null && kernel.floatTiles(k, false);
            paddedK = k;
            tileRows = roundUp(n, 2 * kernel.lanes());
            if (parent.classes == null) {
                classes = null;
            } else { // a row whose class is in another block has no entry here
                classes = new int[n];
                for (int r = 0; r < n; r++) {
                    int c = parent.classes[r];
                    classes[r] = c >= from && c < to ? c - from : -1;
                }
            }
            mask = parent.mask;
            labelScale = Arrays.copyOfRange(parent.labelScale, from, to);
            priorTerm = Arrays.copyOfRange(parent.priorTerm, from, to);
            priorMass = mass(priorTerm, k);
            priorRows = kernel.priorRows(this);
            priorInEveryClass = Arrays.stream(priorTerm).allMatch(term -> term != 0);
            weighted = parent.weighted;
            chunkRows = tileRows;
            chunks = 1;
            blocks = 0;
            kept = parent.kept;
            score = false; // the losses are the merged rows'
            whole = parent;
            this.from = from;
            g = parent.g == null ? null : new Array(parent.g, from);
        }

        /** {@code Σ terms[0..k)}, in order. */
        private static double mass(double[] terms, int k) {
            double mass = 0;
            for (int c = 0; c < k; c++) {
                mass += terms[c];
            }
            return mass;
        }

        /**
         * {@link #BLOCKS} for a call run in column blocks, else 0 (row chunks): FLOAT 'f'-order logits, whose columns
         * are contiguous (row chunks read each column's share of a chunk as a run of its own, two threads' runs
         * interleaved: at [256,1000] 125-150 us a pair more than the same bytes in memory order, {@code TrafficFloor}),
         * large enough to split, small enough that a tile of all rows per block stays in the caches
         * ({@link #MAX_BLOCK_ELEMENTS}), and blocks of at least {@link #ENTRY_CLASSES} classes (labels scanned as
         * entries) that the kernel keeps as float tiles. Fixed by the shape alone.
         */
        private static int columnBlocks(CpuSoftmaxXent kernel, int n, int k, Array z, boolean rowMajor) {
            boolean columnsContiguous = z.rowStride == 1 && z.colStride == n;
            long elements = (long) n * k;
            int blockClasses = k / BLOCKS;
            return columnsContiguous && !rowMajor && z.floats != null && elements >= kernel.parallelThreshold()
                    && elements <= MAX_BLOCK_ELEMENTS && blockClasses >= ENTRY_CLASSES
                    && kernel.floatTiles(blockClasses, false) ? BLOCKS : 0;
        }

        /**
         * Pool helpers for the job's chunks, started: one per pool thread (at most one fewer than the chunks) if the
         * job is large enough to split ({@link CpuSoftmaxXent#parallelThreshold}), else none. They wait for
         * {@link #run}.
         */
        Helper[] startHelpers() {
            return startHelpers(blocks > 0 ? blocks : chunks);
        }

        private Helper[] startHelpers(int parts) {
            int runs = (long) n * k >= kernel.parallelThreshold()
                    ? Math.min(parts, ForkJoinPool.getCommonPoolParallelism() + 1) : 1;
            Helper[] helpers = new Helper[runs - 1];
            int started = 0;
            try {
                for (; started < helpers.length; started++) {
                    helpers[started] = new Helper();
                    ForkJoinPool.commonPool().execute(helpers[started]);
                }
            } catch (RuntimeException | Error e) { // the pool refused one: none of those it took is left waiting
                Helper.finish(Arrays.copyOf(helpers, started), e);
            }
            return helpers;
        }

        /**
         * Computes what the job asks for with the helpers from {@link #startHelpers}, into the outputs (either may be
         * null); returns the summed loss (0 if the job does not score).
         */
        double run(Helper[] helpers, INDArray rows, INDArray gradient) {
            double[] partial = null;
            Throwable failed = null;
            try { // whatever fails, the helpers are given work (they wait for it) and finished
                rowLoss = rows == null ? null : new Array(rows);
                g = gradient == null ? null : new Array(gradient);
            } catch (RuntimeException | Error e) {
                Helper.finish(helpers, e);
            }
            if (blocks > 0) {
                OptionalDouble total = runBlocks(helpers);
                if (total.isPresent()) {
                    kernel.blockCalls.increment();
                    return total.getAsDouble();
                }
                kernel.blockFallbacks.increment();
                if (kept != null) { // the row chunks stage the logits again
                    kept.prepare(this);
                }
                helpers = startHelpers(chunks);
            }
            try {
                partial = new double[chunks];
                double[] sums = partial;
                // runs taking the next chunk as they are free, each borrowing a scratch tile at its first chunk (a pool
                // thread woken for a call starts tens of microseconds late: a fixed half of the chunks left the caller
                // waiting for it); the chunks, not the runs, fix the order of the sums
                AtomicInteger next = new AtomicInteger();
                Runnable chunksLeft = () -> {
                    Tile tile = null;
                    for (int c; (c = next.getAndIncrement()) < chunks; ) {
                        tile = tile == null ? Tile.borrow(this) : tile;
                        sums[c] = chunk(tile, c * chunkRows, Math.min(n, (c + 1) * chunkRows));
                    }
                    if (tile != null) {
                        if (kept != null) {
                            kept.countStaged(tile.stagedLogits, tile.recordedLabelRows);
                        }
                        Tile.giveBack(tile);
                    }
                };
                for (Helper helper : helpers) {
                    helper.give(chunksLeft);
                }
                chunksLeft.run();
            } catch (RuntimeException | Error e) {
                failed = e;
            }
            Helper.finish(helpers, failed); // throws what failed
            double total = 0;
            for (double p : partial) {
                total += p;
            }
            return total;
        }

        /** Rows [from, to): their summed loss, added tile by tile in row order. */
        double chunk(Tile t, int from, int to) {
            double total = 0;
            for (int start = from; start < to; start += tileRows) {
                total += tile(t, start, Math.min(to, start + tileRows));
            }
            return total;
        }

        private double tile(Tile t, int start, int end) {
            t.load(start, end - start);
            kernel.sums(t, this);
            if (score) {
                kernel.logSums(t);
            }
            double total = 0;
            for (int r = 0; r < t.rows; r++) {
                double m = t.m[r];
                if (m != 0) { // the label entries' share of Σ w t (z - M) and of Σ w t
                    for (int e = t.entryStart[r]; e < t.entryStart[r + 1]; e++) {
                        int c = t.entryClass[e];
                        double part = labelScale[c] * t.entryValue[e];
                        t.mass[r] += part;
                        if (part != 0) { // a 0 target at a -inf logit contributes nothing
                            t.dot[r] += part * (t.logit(r, c) - t.max[r]);
                        }
                    }
                }
                double mass = t.mass[r] + priorMass;
                // loss() and factor() written out: C2 inlines nothing more into this method (with the calls, or the
                // entries' loop above as a method, [2048,10] calls were 1.15x slower)
                if (score) {
                    double loss = m == 0 ? 0 : m * (t.loss[r] * mass - t.dot[r]);
                    t.loss[r] = loss;
                    total += loss;
                }
                t.factor[r] = m * (weighted ? mass : 1) / t.sum[r]; // p's factor on e^(z - M)
            }
            if (g != null && whole == this) {
                gradient(t, start);
            }
            if (rowLoss != null) {
                t.copyOut(rowLoss, start, t.loss, 0, t.rows);
            }
            return total;
        }

        /** A row's loss {@code m·(log(Σ e^x)·mass - dot)}, 0 where m is (a masked row's values may be anything). */
        private static double loss(double m, double logSum, double mass, double dot) {
            return m == 0 ? 0 : m * (logSum * mass - dot);
        }

        /** A row's factor on e^(z - M) in the gradient: {@code m·(weighted ? mass : 1)/Σ e^x}. */
        private double factor(double m, double mass, double sum) {
            return m * (weighted ? mass : 1) / sum;
        }

        /** The tile's gradient from its rows' factors, into rows {@code [start, start + rows)} of {@link #g}. */
        private void gradient(Tile t, int start) {
            // padding rows of a column-major tile: their factor is finite (their logits are 0) and their m is 0
            Arrays.fill(t.factor, t.rows, t.factor.length, 0);
            kernel.gradient(t, this);
            for (int r = 0; r < t.rows; r++) {
                for (int e = t.entryStart[r]; e < t.entryStart[r + 1]; e++) {
                    int c = t.entryClass[e];
                    int at = t.at(r, c);
                    double entryPart = t.m[r] * labelScale[c] * t.entryValue[e];
                    if (t.zf == null) {
                        t.g[at] -= entryPart;
                    } else { // from e^x in double: the float written has been rounded
                        double ex = kernel.floatTileExps() ? t.g[at]
                                : ScalarSoftmaxXent.exp(t.zf[at] - t.max[r], true);
                        t.floats[at] = (float) (ex * t.factor[r] - t.m[r] * priorTerm[c] - entryPart);
                    }
                }
            }
            if (t.zf == null) {
                t.store(g, t.g, start);
            } else {
                t.storeFloats(g, start);
            }
        }

        /**
         * The call in {@link #blocks} column blocks, each a tile of all rows and its columns: the runs take blocks as
         * they are free and sum them (each row shifted by its max within the block, M_b); once every block is summed,
         * the caller merges each row's sums in block order, {@code M = max M_b}, {@code Σ e^(z - M) = Σ_b
         * S_b·e^(M_b - M)}, {@code dot = Σ_b dot_b + (M_b - M)·mass_b} (mass_b: the block's share of {@code Σ w t}),
         * and each run writes its blocks' gradient with the row's factor times {@code e^(M_b - M)}. Returns the summed
         * loss, or empty (nothing written) if a row has an infinite or NaN logit: the row chunks compute those term by
         * term.
         */
        private OptionalDouble runBlocks(Helper[] helpers) {
            AtomicInteger state = new AtomicInteger(SUMMING);
            double[] total = new double[1];
            Throwable failed = null;
            try { // whatever fails, the helpers are given work (they wait for it) and finished
                Job[] parts = new Job[blocks];
                for (int b = 0; b < blocks; b++) {
                    parts[b] = new Job(this, b * k / blocks, (b + 1) * k / blocks);
                }
                Tile[] tiles = new Tile[blocks];
                AtomicInteger next = new AtomicInteger();
                AtomicInteger summed = new AtomicInteger();
                Runnable helper = () -> blocksRun(parts, tiles, next, summed, state, false);
                for (Helper h : helpers) {
                    h.give(helper);
                }
                total[0] = blocksRun(parts, tiles, next, summed, state, true);
            } catch (RuntimeException | Error e) {
                failed = e;
            }
            Helper.finish(helpers, failed);
            return state.get() == MERGED ? OptionalDouble.of(total[0]) : OptionalDouble.empty();
        }

        private static final int SUMMING = 0;
        private static final int MERGED = 1;
        /** A row's block sums could not be merged: the call runs in row chunks. */
        private static final int UNMERGEABLE = 2;
        /** A run failed: the others stop, and the call throws its failure. */
        private static final int STOPPED = 3;

        /**
         * One run's share of {@link #runBlocks}: sums the blocks it takes, then (the caller) merges the rows or (a
         * helper) waits for the merge, then writes its blocks' gradient. A run that fails stops the others.
         */
        private double blocksRun(Job[] parts, Tile[] tiles, AtomicInteger next, AtomicInteger summed,
                AtomicInteger state, boolean merges) {
            int[] mine = new int[blocks];
            int taken = 0;
            double total = Double.NaN;
            try {
                for (int b; state.get() == SUMMING && (b = next.getAndIncrement()) < blocks; ) {
                    mine[taken++] = b;
                    tiles[b] = Tile.borrow(parts[b]);
                    parts[b].tile(tiles[b], 0, n); // its sums only
                    summed.incrementAndGet();
                }
                if (merges) {
                    for (int spins = 0; summed.get() < blocks && state.get() == SUMMING; spins++) {
                        Helper.pause(spins);
                    }
                    if (state.get() != SUMMING) {
                        return Double.NaN; // a helper failed: finish rethrows its failure
                    }
                    OptionalDouble merged = merge(parts, tiles);
                    total = merged.orElse(Double.NaN);
                    state.set(merged.isPresent() ? MERGED : UNMERGEABLE);
                } else {
                    // the caller merges from this run's tiles: they stay out of the pool until it has
                    for (int spins = 0; taken > 0 && state.get() == SUMMING; spins++) {
                        Helper.pause(spins);
                    }
                }
                if (state.get() == MERGED && g != null) {
                    for (int i = 0; i < taken; i++) {
                        parts[mine[i]].gradient(tiles[mine[i]], 0);
                    }
                }
                return total;
            } catch (RuntimeException | Error e) {
                state.set(STOPPED);
                throw e;
            } finally {
                for (int i = 0; i < taken; i++) {
                    Tile t = tiles[mine[i]];
                    if (t != null) {
                        if (kept != null) {
                            kept.countStaged(t.stagedLogits, 0);
                        }
                        Tile.giveBack(t);
                    }
                }
            }
        }

        /**
         * Merges the blocks' row sums (see {@link #runBlocks}) into each row's loss (summed in row order, the total
         * returned) and each block's gradient factors; records one-hot labels for the memo. Empty, with nothing
         * written, if a row's block sums are not all finite.
         */
        private OptionalDouble merge(Job[] parts, Tile[] tiles) {
            Tile first = tiles[0];
            for (int r = 0; r < n; r++) {
                for (Tile t : tiles) {
                    if (!(Double.isFinite(t.max[r]) && Double.isFinite(t.sum[r]) && Double.isFinite(t.dot[r]))) {
                        return OptionalDouble.empty();
                    }
                }
            }
            double total = 0;
            for (int r = 0; r < n; r++) {
                double max = Double.NEGATIVE_INFINITY;
                for (Tile t : tiles) {
                    max = Math.max(max, t.max[r]);
                }
                double sum = 0;
                double dot = 0;
                double labelMass = 0;
                for (int b = 0; b < blocks; b++) {
                    Tile t = tiles[b];
                    double shift = t.max[r] - max;
                    double scale = shift == 0 ? 1 : Math.exp(shift); // e^(M_b - M), kept in the factor meanwhile
                    t.factor[r] = scale;
                    sum += t.sum[r] * scale;
                    dot += t.dot[r] + shift * (t.mass[r] + parts[b].priorMass);
                    labelMass += t.mass[r];
                }
                double mass = labelMass + priorMass;
                double m = first.m[r];
                double loss = loss(m, Math.log(sum), mass, dot);
                first.loss[r] = loss;
                total += loss;
                double factor = factor(m, mass, sum);
                for (Tile t : tiles) {
                    t.factor[r] *= factor; // 0 for a masked row (m = 0)
                }
            }
            if (rowLoss != null) {
                first.copyOut(rowLoss, 0, first.loss, 0, n);
            }
            if (kept != null && y != null) {
                recordLabels(parts, tiles);
            }
            return OptionalDouble.of(total);
        }

        /**
         * One-hot dense labels into the memo entry, as the row chunks' tiles record them ({@link Tile#recordLabels}):
         * each row's one entry, found in whichever block holds it, or class -1; nothing if a row has more.
         */
        private void recordLabels(Job[] parts, Tile[] tiles) {
            for (Tile t : tiles) {
                if (t.y != null) {
                    return; // a block whose labels were laid out as a tile: too many entries
                }
            }
            for (int r = 0; r < n; r++) {
                int entries = 0;
                for (Tile t : tiles) {
                    entries += t.entryStart[r + 1] - t.entryStart[r];
                }
                if (entries > 1) {
                    return;
                }
            }
            for (int r = 0; r < n; r++) {
                int cls = -1;
                long bits = 0;
                for (int b = 0; b < blocks; b++) {
                    Tile t = tiles[b];
                    if (t.entryStart[r + 1] > t.entryStart[r]) {
                        cls = parts[b].from + t.entryClass[t.entryStart[r]];
                        bits = y.bits(y.offset + r * y.rowStride + cls * y.colStride);
                    }
                }
                kept.recordLabel(r, cls, bits);
            }
            kept.countStaged(0, n);
        }
    }

    /**
     * A pool thread's run of a call's chunks, which the caller waits for by spinning: parking the caller and waking it
     * when the pool thread is done cost tens of microseconds on this project's 2-core machine (two 200 us halves in a
     * parallel {@code forEach} took 320 us; at [256,1000] these helpers made calls 1.07-1.18x faster). Started before
     * the call has its work ready, a helper spins until {@link #give} hands it over, so every helper started must be
     * given work or finished ({@link #finish(Helper[], Throwable)} does both). Runs at most once: a helper the pool has
     * not started when the caller has taken every chunk is closed instead (the caller never waits for a task that has
     * not started, also when it is itself a pool thread).
     */
    static final class Helper implements Runnable {
        private static final int WAITING = 0;
        private static final int STARTED = 1;
        private static final int CLOSED = 2;
        /** Spins (about 200 us) before a waiting thread yields its core to the one it waits for. */
        private static final int SPINS = 1 << 12;
        /** The work of a helper whose call failed before it had any. */
        private static final Runnable NOTHING = () -> { };
        private final AtomicInteger state = new AtomicInteger(WAITING);
        private volatile Runnable work;
        private volatile boolean done;
        private volatile Throwable failure;

        /**
         * Gives the helper its work, which it waits for if started before: it is started before the call's outputs
         * are allocated, so that the pool thread wakes meanwhile.
         */
        void give(Runnable work) {
            this.work = work;
        }

        @Override
        public void run() {
            if (!state.compareAndSet(WAITING, STARTED)) {
                return;
            }
            try {
                Runnable w;
                for (int spins = 0; (w = work) == null; spins++) {
                    pause(spins);
                }
                w.run();
            } catch (RuntimeException | Error t) { // a Runnable throws nothing else
                failure = t;
            } finally {
                done = true;
            }
        }

        /**
         * Finishes each helper ({@link #finish()}, giving it nothing to do if it has no work yet), then throws
         * {@code failed} (the caller's own failure) if not null, else the first helper's failure; later failures are
         * added to it as suppressed.
         */
        static void finish(Helper[] helpers, Throwable failed) {
            Throwable first = failed;
            for (Helper helper : helpers) {
                if (helper.work == null) {
                    helper.give(NOTHING);
                }
                try {
                    helper.finish();
                } catch (RuntimeException | Error e) {
                    if (first == null) {
                        first = e;
                    } else if (first != e) {
                        first.addSuppressed(e);
                    }
                }
            }
            rethrow(first);
        }

        /**
         * Closes the helper if it has not started, else waits until it is done (it must have its work); rethrows
         * what it threw.
         */
        void finish() {
            if (state.compareAndSet(WAITING, CLOSED)) {
                return;
            }
            for (int spins = 0; !done; spins++) {
                pause(spins);
            }
            rethrow(failure);
        }

        /** Throws t if not null (a run's failure: a RuntimeException or an Error). */
        private static void rethrow(Throwable t) {
            if (t instanceof RuntimeException e) {
                throw e;
            } else if (t != null) {
                throw (Error) t;
            }
        }

        static void pause(int spins) {
            if (spins < SPINS) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    /** A tile of rows in scratch arrays (reused tile after tile by one run, and kept for later calls). */
    static final class Tile {
        /**
         * Tiles of finished runs, for the next runs of the same geometry: a tile of an 'f'-order preOutput at K = 1000
         * is megabytes of scratch, whose allocation and zeroing took half as long as the computation. (Not a
         * ThreadLocal: the common pool's workers clear theirs after every task.) A tile in use is out of the pool, so
         * concurrent calls never share one; softly held, so the collector may take them back.
         */
        private static final ConcurrentLinkedDeque<SoftReference<Tile>> FREE = new ConcurrentLinkedDeque<>();
        /**
         * Tiles kept at most: one per thread of a parallel call and one for a concurrent caller, or a call's column
         * blocks (of up to two geometries: blocks differ by a class at most).
         */
        private static final int KEPT = ForkJoinPool.getCommonPoolParallelism() + 2 + BLOCKS;

        Job job;
        /** Rows of the tile laid out (a multiple of the lanes in a column-major tile). */
        final int capacity;
        /** Classes, and classes laid out per row (padded with -inf logits to whole vectors in a row-major tile). */
        final int k;
        final int paddedK;
        /** Element steps of a row and a class in the scratch arrays. */
        final int rowStep;
        final int colStep;
        /** Rows of the batch in this tile. */
        int rows;
        /** The logits, or null in a float tile ({@link #zf}). */
        final double[] z;
        /**
         * A {@link Job#floatTile}'s logits, else null; its gradient is computed into {@link #floats}, its e^x there too
         * or into {@link #g}.
         */
        final float[] zf;
        /** A float tile's row maxima, as floats. */
        final float[] maxFloats;
        /** Dense labels in the tile's layout when this tile's labels are dense (else null: they are entries). */
        double[] y;
        /** Scratch for {@link #y}, allocated when first needed. */
        private double[] denseY;
        /** The tile's label rows, row-major, where they are not scanned as read; allocated when first needed. */
        private double[] labelRows;
        /**
         * The label's non-zero entries, row by row ({@code entryStart[r]} to {@code entryStart[r + 1]}): the class
         * index of each unmasked row with value 1, or a dense label's non-zero values where a row has few (a one-hot
         * row has one), so that its share of the sums costs a few scalar terms instead of a transposed copy and a
         * vector pass over every class.
         */
        final int[] entryStart;
        final int[] entryClass;
        final double[] entryValue;
        final double[] m;
        /** e^x and then the gradient; a float tile's e^x only where {@link CpuSoftmaxXent#floatTileExps}, else null. */
        final double[] g;
        final double[] max;
        final double[] sum;
        final double[] dot;
        final double[] mass;
        final double[] loss;
        final double[] factor;
        /**
         * Staging for bulk copies: FLOAT buffers are read into it, transposes go through it; a float tile's gradient in
         * the tile's layout, and before it the SIMD kernel's e^x (the scalar kernel's column maxima's scratch).
         */
        final float[] floats;
        private double[] doubles;
        /**
         * A column-major tile's scratch for one column: its logits (then {@code x = z - M}), e^x and labels, at index
         * 0 (see {@link ScalarSoftmaxXent}).
         */
        final double[] column;
        final double[] columnExp;
        final double[] columnLabels;
        /**
         * Logits this run copied into the call's {@link ScoreMemo.Entry}, and label rows it recorded there; counted
         * there once per run.
         */
        long stagedLogits;
        long recordedLabelRows;
        private Tile(Job job) {
            this.job = job;
            k = job.k;
            paddedK = job.paddedK;
            capacity = job.tileRows;
            rowStep = job.rowMajor ? job.paddedK : 1;
            colStep = job.rowMajor ? 1 : capacity;
            int size = capacity * job.paddedK;
            z = job.floatTile ? null : new double[size];
            zf = job.floatTile ? new float[size] : null;
            maxFloats = job.floatTile ? new float[capacity] : null;
            g = job.floatTile && !job.kernel.floatTileExps() ? null : new double[size];
            if (job.paddedK > job.k) { // padding columns: e^(-inf) = 0 and a 0 target, so they count for nothing
                for (int r = 0; r < capacity; r++) {
                    if (zf != null) {
                        Arrays.fill(zf, r * rowStep + job.k, (r + 1) * rowStep, Float.NEGATIVE_INFINITY);
                    } else {
                        Arrays.fill(z, r * rowStep + job.k, (r + 1) * rowStep, Double.NEGATIVE_INFINITY);
                    }
                }
            }
            entryStart = new int[capacity + 1];
            int entries = Math.max(capacity, capacity * job.k / DENSE_LABELS);
            entryClass = new int[entries];
            entryValue = new double[entries];
            m = new double[capacity];
            max = new double[capacity];
            sum = new double[capacity];
            dot = new double[capacity];
            mass = new double[capacity];
            loss = new double[capacity];
            factor = new double[capacity];
            floats = new float[size];
            column = new double[job.rowMajor ? 0 : capacity];
            columnExp = new double[column.length];
            columnLabels = new double[column.length];
        }

        /** A kept tile of the job's geometry (its scratch is reused as it is), else a new one. */
        static Tile borrow(Job job) {
            for (SoftReference<Tile> ref : FREE) {
                Tile kept = ref.get();
                if (kept == null) {
                    FREE.removeFirstOccurrence(ref);
                } else if (kept.capacity == job.tileRows && kept.k == job.k && kept.paddedK == job.paddedK
                        && kept.rowStep == (job.rowMajor ? job.paddedK : 1)
                        && kept.colStep == (job.rowMajor ? 1 : job.tileRows) // at K = 1 both layouts step rows by 1
                        && (kept.zf != null) == job.floatTile // and the scratch of the job's kernel (they share)
                        && (kept.g != null) == (!job.floatTile || job.kernel.floatTileExps())
                        && FREE.removeFirstOccurrence(ref)) { // not taken by another thread meanwhile
                    kept.job = job;
                    kept.stagedLogits = 0;
                    kept.recordedLabelRows = 0;
                    return kept;
                }
            }
            return new Tile(job);
        }

        /** Keeps the tile for the next runs, the least recently kept dropped beyond {@link #KEPT}. */
        static void giveBack(Tile tile) {
            tile.job = null;
            FREE.addFirst(new SoftReference<>(tile));
            while (FREE.size() > KEPT) {
                FREE.pollLast();
            }
        }

        /** Index of (row, class) in the scratch arrays. */
        int at(int r, int c) {
            return r * rowStep + c * colStep;
        }

        /** The logit at (row, class), from the float or the double tile. */
        double logit(int r, int c) {
            return zf != null ? zf[at(r, c)] : z[at(r, c)];
        }

        /** Reads rows [start, start + rows) of logits, labels and mask; masked rows become 0, unread. */
        void load(int start, int count) {
            rows = count;
            Job j = job;
            for (int r = 0; r < capacity; r++) {
                m[r] = r >= count ? 0 : j.mask == null ? 1 : j.mask[start + r];
            }
            if (zf != null) {
                readFloats(j.z, start);
            } else {
                read(j.z, z, rowStep, colStep, start);
            }
            for (int r = 0; r < capacity; r++) {
                if (m[r] == 0) { // masked or padding: NaN or infinities there never reach the result
                    for (int c = 0; c < job.k; c++) {
                        if (zf != null) {
                            zf[at(r, c)] = 0;
                        } else {
                            z[at(r, c)] = 0;
                        }
                    }
                }
            }
            if (j.classes != null && j.kernel.classIndexTile(j.k)) {
                Arrays.fill(entryStart, 0);
                y = denseY();
                Arrays.fill(y, 0);
                for (int r = 0; r < count; r++) {
                    if (m[r] != 0 && j.classes[start + r] >= 0) { // -1: the class is in another column block
                        y[at(r, j.classes[start + r])] = 1;
                    }
                }
            } else if (j.classes != null) {
                y = null;
                int e = 0;
                for (int r = 0; r < count; r++) {
                    entryStart[r] = e;
                    if (m[r] != 0 && j.classes[start + r] >= 0) { // -1: the class is in another column block
                        entryClass[e] = j.classes[start + r];
                        entryValue[e++] = 1;
                    }
                }
                entryStart[count] = e;
            } else {
                loadLabels(start);
            }
        }

        /**
         * The dense labels of the tile's rows as entries if they have few non-zero values, else laid out as a tile (a
         * masked row's labels are never used).
         */
        private void loadLabels(int start) {
            if (job.k >= ENTRY_CLASSES && scanned(start)) {
                y = null;
                if (job.kept != null && job.whole == job) {
                    recordLabels(start);
                }
                return;
            }
            Arrays.fill(entryStart, 0);
            y = denseY();
            read(job.y, y, rowStep, colStep, start);
            for (int r = 0; r < rows; r++) {
                if (m[r] == 0) {
                    clearRow(y, r);
                }
            }
        }

        /**
         * The tile's label rows, if none has more than one entry, into the call's memo entry (a score call then checks
         * its labels against them instead of a copy, see {@link ScoreMemo}).
         */
        private void recordLabels(int start) {
            for (int r = 0; r < rows; r++) {
                if (entryStart[r + 1] - entryStart[r] > 1) {
                    return;
                }
            }
            Array a = job.y;
            for (int r = 0; r < rows; r++) {
                int e = entryStart[r];
                if (entryStart[r + 1] == e) { // zeros, or masked
                    job.kept.recordLabel(start + r, -1, 0);
                } else {
                    int c = entryClass[e];
                    job.kept.recordLabel(start + r, c, a.bits(a.offset + (start + r) * a.rowStride + c * a.colStride));
                }
            }
            recordedLabelRows += rows;
        }

        /**
         * Whether the tile's label rows fit the entries (then they hold them). Rows of contiguous classes are scanned in
         * the native buffer ({@link Array#nonZero}), others read into {@link #labelRows} first.
         */
        private boolean scanned(int start) {
            Array a = job.y;
            if (a.colStride == 1) {
                return entries(a, null, start);
            }
            read(a, labelRows(), job.k, 1, start);
            return entries(a, labelRows, start);
        }

        /**
         * The non-zero values of the unmasked label rows as entries, from the rows of {@code a} from {@code start} (if
         * {@code doubles} is null) or of {@code doubles} (row-major, rows x k); false if there are more than the
         * entries hold.
         */
        private boolean entries(Array a, double[] doubles, int start) {
            int k = job.k;
            int e = 0;
            for (int r = 0; r < rows; r++) {
                entryStart[r] = e;
                if (m[r] == 0) {
                    continue;
                }
                int base = doubles != null ? r * k : a.offset + (start + r) * a.rowStride;
                int end = base + k;
                for (int i = nonZero(a, doubles, base, end); i < end; i = nonZero(a, doubles, i + 1, end)) {
                    if (e == entryClass.length) {
                        return false;
                    }
                    entryClass[e] = i - base;
                    entryValue[e++] = doubles != null ? doubles[i] : a.get(i);
                }
            }
            entryStart[rows] = e;
            return true;
        }

        /** The first index in [i, end) of a non-zero value of {@code doubles}, or of {@code a} if it is null; else end. */
        private static int nonZero(Array a, double[] doubles, int i, int end) {
            if (doubles == null) {
                return a.nonZero(i, end);
            }
            while (i < end && doubles[i] == 0) {
                i++;
            }
            return i;
        }

        /**
         * Scratch for transposes, allocated when first needed; free between the reads and the write-back, when the
         * scalar kernel keeps {@code x = z - M} there.
         */
        double[] doubles() {
            if (doubles == null) {
                doubles = new double[capacity * paddedK];
            }
            return doubles;
        }

        /** Row-major scratch for the labels, allocated when first needed. */
        private double[] labelRows() {
            if (labelRows == null) {
                labelRows = new double[capacity * job.k];
            }
            return labelRows;
        }

        private double[] denseY() {
            if (denseY == null) {
                denseY = new double[capacity * paddedK];
            }
            return denseY;
        }

        private void clearRow(double[] values, int r) {
            for (int c = 0; c < job.k; c++) {
                values[at(r, c)] = 0;
            }
        }

        /**
         * Rows [start, start + rows) of an [N,K] array into {@code dst} laid out with the given row and class steps,
         * in bulk along the source's contiguous axis.
         */
        private void read(Array a, double[] dst, int dstRow, int dstCol, int start) {
            int k = job.k;
            if (a.colStride == 1 && (a.rowStride == k || rows == 1)) { // one block of whole rows
                int at = a.offset + start * a.rowStride;
                if (dstRow == k && dstCol == 1) {
                    copyIn(a, at, dst, 0, rows * k);
                } else if (a.floats != null && dstRow == 1) { // transposed straight from the staged floats
                    a.floats.get(at, floats, 0, rows * k);
                    staged(a, at, floats, 0, rows * k);
                    job.kernel.transposeIn(floats, k, dst, dstCol, 0, rows, k);
                } else {
                    copyIn(a, at, doubles(), 0, rows * k);
                    place(doubles(), k, 1, dst, dstRow, dstCol, rows, k);
                }
            } else if (a.rowStride == 1) { // column by column
                boolean direct = dstRow == 1;
                for (int c = 0; c < k; c++) {
                    copyIn(a, a.offset + start + c * a.colStride, direct ? dst : doubles(),
                            direct ? c * dstCol : c * rows, rows);
                }
                if (!direct) {
                    place(doubles(), 1, rows, dst, dstRow, dstCol, rows, k);
                }
            } else if (a.colStride == 1) { // row by row (a view of wider rows)
                for (int r = 0; r < rows; r++) {
                    copyIn(a, a.offset + (start + r) * a.rowStride, doubles(), r * k, k);
                }
                place(doubles(), k, 1, dst, dstRow, dstCol, rows, k);
            } else {
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < k; c++) {
                        dst[r * dstRow + c * dstCol] = a.get(a.offset + (start + r) * a.rowStride + c * a.colStride);
                    }
                }
            }
        }

        /** The tile's rows of {@code src} into a 'c' or 'f' (possibly staged) array, in bulk. */
        void store(Array a, double[] src, int start) {
            int k = job.k;
            if (a.colStride == 1) { // 'c': one block of whole rows
                if (rowStep == k && colStep == 1) {
                    copyOut(a, start * k, src, 0, rows * k);
                } else if (a.floats != null) { // transposed and rounded in one pass, then written in bulk
                    job.kernel.placeRounded(src, rowStep, colStep, floats, 0, rows, k);
                    a.floats.put(start * k, floats, 0, rows * k);
                } else {
                    place(src, rowStep, colStep, doubles(), k, 1, rows, k);
                    copyOut(a, start * k, doubles(), 0, rows * k);
                }
            } else { // 'f': column by column
                boolean direct = rowStep == 1;
                if (!direct) {
                    place(src, rowStep, colStep, doubles(), 1, rows, rows, k);
                }
                for (int c = 0; c < k; c++) {
                    copyOut(a, a.offset + start + c * a.colStride, direct ? src : doubles(),
                            direct ? c * colStep : c * rows, rows);
                }
            }
        }

        /**
         * Copies a rows x k block between two layouts given by their row and class steps, the inner loop along the
         * destination's contiguous axis (a transpose written row by row into a column-major tile strides through
         * the whole tile for every element).
         */
        private static void place(double[] src, int srcRow, int srcCol, double[] dst, int dstRow, int dstCol, int rows,
                int k) {
            if (dstRow == 1) {
                for (int c = 0; c < k; c++) {
                    for (int r = 0, from = c * srcCol, to = c * dstCol; r < rows; r++, from += srcRow) {
                        dst[to + r] = src[from];
                    }
                }
                return;
            }
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < k; c++) {
                    dst[r * dstRow + c * dstCol] = src[r * srcRow + c * srcCol];
                }
            }
        }

        /** {@code len} elements of {@code a} from {@code at} into {@code dst[off..]}, FLOAT through the staging. */
        void copyIn(Array a, int at, double[] dst, int off, int len) {
            if (len < Array.BULK_MIN) { // a bulk copy's fixed cost (a native call) outweighs short runs' element reads
                if (a.floats != null) {
                    for (int i = 0; i < len; i++) {
                        dst[off + i] = a.floats.get(at + i);
                    }
                } else {
                    for (int i = 0; i < len; i++) {
                        dst[off + i] = a.doubles.get(at + i);
                    }
                }
                return;
            }
            if (a.floats == null) {
                a.doubles.get(at, dst, off, len);
                return;
            }
            a.floats.get(at, floats, 0, len);
            staged(a, at, floats, 0, len);
            job.kernel.widen(floats, 0, dst, off, len);
        }

        /**
         * The logits' run just read into {@code src[from..from+len)}, copied for the score call that may follow
         * ({@link ScoreMemo}).
         */
        private void staged(Array a, int at, float[] src, int from, int len) {
            if (a == job.z && job.kept != null) {
                job.kept.stage(at - job.whole.z.offset, src, from, len);
                stagedLogits += len;
            }
        }

        /**
         * The tile's rows of a FLOAT preOutput ({@link Job#floatTile}) into {@link #zf}: a 'c'-order block in one
         * bulk read, or row by row straight into a tile that pads its rows (a read of the block and a copy of each row
         * into place was a quarter slower); an 'f'-order preOutput column by column (each column's run in bulk when
         * long enough, see {@link Array#BULK_MIN}). Each bulk run is staged for the memo (a kept call with shorter runs
         * has its logits copied whole instead).
         */
        private void readFloats(Array a, int start) {
            int k = job.k;
            if (job.rowMajor) {
                int at = a.offset + start * a.rowStride;
                if (rowStep == k) { // no padding columns: the block in one read
                    a.floats.get(at, zf, 0, rows * k);
                    staged(a, at, zf, 0, rows * k);
                    return;
                }
                for (int r = 0; r < rows; r++, at += a.rowStride) { // straight into place, row by row
                    a.floats.get(at, zf, r * rowStep, k);
                    staged(a, at, zf, r * rowStep, k);
                }
                return;
            }
            for (int c = 0; c < k; c++) {
                int at = a.offset + start + c * a.colStride;
                int to = c * colStep;
                if (rows < Array.BULK_MIN) {
                    for (int i = 0; i < rows; i++) {
                        zf[to + i] = a.floats.get(at + i);
                    }
                } else {
                    a.floats.get(at, zf, to, rows);
                    staged(a, at, zf, to, rows);
                }
            }
        }

        /**
         * A float tile's gradient ({@link #floats}, in the tile's layout) into the tile's rows of {@code a}, which is
         * in preOutput's order: row by row from a row-major tile, column by column from a column-major one.
         */
        void storeFloats(Array a, int start) {
            int k = job.k;
            if (job.rowMajor) {
                if (rowStep == k) {
                    a.floats.put(a.offset + start * a.rowStride, floats, 0, rows * k);
                } else {
                    for (int r = 0; r < rows; r++) {
                        a.floats.put(a.offset + (start + r) * a.rowStride, floats, r * rowStep, k);
                    }
                }
                return;
            }
            for (int c = 0; c < k; c++) {
                int at = a.offset + start * a.rowStride + c * a.colStride;
                int from = c * colStep;
                if (rows < Array.BULK_MIN) {
                    for (int i = 0; i < rows; i++) {
                        a.floats.put(at + i, floats[from + i]);
                    }
                } else {
                    a.floats.put(at, floats, from, rows);
                }
            }
        }


        /** {@code len} elements of {@code src[off..]} into {@code a} from {@code at}, rounded through the staging. */
        void copyOut(Array a, int at, double[] src, int off, int len) {
            if (len < Array.BULK_MIN) {
                if (a.floats != null) {
                    for (int i = 0; i < len; i++) {
                        a.floats.put(at + i, (float) src[off + i]);
                    }
                } else {
                    for (int i = 0; i < len; i++) {
                        a.doubles.put(at + i, src[off + i]);
                    }
                }
                return;
            }
            if (a.floats == null) {
                a.doubles.put(at, src, off, len);
                return;
            }
            job.kernel.narrow(src, off, floats, 0, len);
            a.floats.put(at, floats, 0, len);
        }
    }

    /** A FLOAT or DOUBLE [N,K] (or [N,1]) array's native buffer, element offset and strides. */
    static final class Array {
        /** Runs shorter than this are copied element by element (a column of a 16-row tile of an 'f'-order array). */
        static final int BULK_MIN = 128;
        /**
         * Zero bytes that {@link #nonZero} compares runs of the buffer with ({@code ByteBuffer.mismatch}, SIMD in the
         * JDK): a one-hot row is almost all zeros, and copying rows into scratch to OR their bits 16 at a time cost
         * about twice as much (the labels' share of a [256,1000] gradient call fell from about 190 to 80 us of thread
         * time, with the memo's copy of them gone too). Never written.
         */
        private static final ByteBuffer ZEROS = ByteBuffer.allocate(16_384);
        final FloatBuffer floats;
        final DoubleBuffer doubles;
        /** The whole native buffer, in native order (views start {@link #offset} elements into it). */
        final ByteBuffer bytes;
        final int offset;
        final int rowStride;
        final int colStride;

        /** Columns from {@code column} on of {@code a} (a column block of an [N,K] array). */
        Array(Array a, int column) {
            bytes = a.bytes;
            floats = a.floats;
            doubles = a.doubles;
            offset = a.offset + column * a.colStride;
            rowStride = a.rowStride;
            colStride = a.colStride;
        }

        Array(INDArray array) {
            bytes = nio(array);
            floats = array.dataType() == DataType.FLOAT ? bytes.asFloatBuffer() : null;
            doubles = floats == null ? bytes.asDoubleBuffer() : null;
            offset = (int) array.offset();
            rowStride = array.rank() == 2 ? array.stride(0) : 1;
            colStride = array.rank() == 2 ? array.stride(1) : 1;
        }

        double get(int i) {
            return floats != null ? floats.get(i) : doubles.get(i);
        }

        /** Element i's bits as stored (a FLOAT's 32, sign-extended). */
        long bits(int i) {
            return floats != null ? bytes.getInt(i * Float.BYTES) : bytes.getLong(i * Double.BYTES);
        }

        /**
         * The first element index in [i, end) of the buffer whose value is not +-0, else end: each run of zeros by one
         * mismatch, a value that follows a value (soft labels, a dense row) by one read.
         */
        int nonZero(int i, int end) {
            int size = floats != null ? Float.BYTES : Double.BYTES;
            while (i < end) {
                long bits = bits(i);
                boolean zero = floats != null ? (int) bits << 1 == 0 : bits << 1 == 0; // the sign bit alone is -0
                if (!zero) {
                    return i;
                }
                int run = Math.min(end - ++i, ZEROS.capacity() / size);
                int differs = bytes.slice(i * size, run * size).mismatch(ZEROS.slice(0, run * size));
                i += differs < 0 ? run : differs / size; // the next differing element (-0 too) is read above
            }
            return end;
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** The whole native buffer of the array (views included: their {@code offset()} counts from its start). */
    private static ByteBuffer nio(INDArray array) {
        return array.data().asNio().order(ByteOrder.nativeOrder());
    }

    /** Direct, non-negative strides, and every element within the buffer at an int index. */
    private static boolean reachable(INDArray array) {
        if (array.isEmpty() || array.data() == null
                || array.data().length() * array.data().getElementSize() > Integer.MAX_VALUE) {
            return false; // a ByteBuffer reaches 2 GB at most: larger arrays stay on the ND4J-op path
        }
        long last = array.offset();
        for (int d = 0; d < array.rank(); d++) {
            if (array.stride(d) < 0) {
                return false;
            }
            last += (array.size(d) - 1) * array.stride(d);
        }
        ByteBuffer bytes = array.data().asNio();
        return bytes != null && bytes.isDirect()
                && (last + 1) * array.data().getElementSize() <= bytes.capacity();
    }

    /** {@code [n,1]} or {@code [n]}. */
    private static boolean isColumn(INDArray array, long n) {
        return array.length() == n && (array.rank() == 1 || array.rank() == 2 && array.size(1) == 1);
    }

    private static boolean readableNumbers(INDArray array) {
        return switch (array.dataType()) {
            case DOUBLE, FLOAT, LONG, INT, SHORT, BYTE, UBYTE, UINT16, UINT32, UINT64 -> reachable(array);
            default -> false;
        };
    }

    /** The n values of an {@code [n,1]}/{@code [n]} array of a {@link #readableNumbers} type, as doubles. */
    private static double[] numbers(INDArray column, int n) {
        ByteBuffer bytes = nio(column);
        int size = column.data().getElementSize();
        long offset = column.offset();
        long stride = column.stride(0);
        DataType type = column.dataType();
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            int at = (int) ((offset + i * stride) * size);
            out[i] = switch (type) {
                case DOUBLE -> bytes.getDouble(at);
                case FLOAT -> bytes.getFloat(at);
                case LONG -> bytes.getLong(at);
                case INT -> bytes.getInt(at);
                case SHORT -> bytes.getShort(at);
                case BYTE -> bytes.get(at);
                case UBYTE -> Byte.toUnsignedInt(bytes.get(at));
                case UINT16 -> Short.toUnsignedInt(bytes.getShort(at));
                case UINT32 -> Integer.toUnsignedLong(bytes.getInt(at));
                case UINT64 -> unsigned(bytes.getLong(at));
                default -> throw new IllegalStateException("unreachable: " + type + " passed readableNumbers");
            };
        }
        return out;
    }

    /**
     * The class indices as ints, each unmasked one checked before anything is written.
     *
     * @throws IllegalArgumentException naming the first bad unmasked value
     */
    private static int[] classIndices(INDArray labels, int n, int k, double[] mask) {
        double[] values = numbers(labels, n);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            if (mask != null && mask[i] == 0) {
                continue; // ignored entirely, as PyTorch's ignore_index: padding may be anything
            }
            double v = values[i];
            String problem = Checks.classIndexProblem(v, k);
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
            out[i] = (int) v;
        }
        return out;
    }

    private static double unsigned(long bits) {
        return bits >= 0 ? bits : (bits >>> 1) * 2.0 + (bits & 1);
    }

    private static void checkLength(String name, double[] values, int expected) {
        if (values != null && values.length != expected) {
            throw new IllegalArgumentException(name + " must have length " + expected + ", got " + values.length);
        }
    }

    static int roundUp(int value, int multiple) {
        return (value + multiple - 1) / multiple * multiple;
    }

    private static String describe(INDArray array) {
        return array == null ? "null" : array.dataType() + Arrays.toString(array.shape());
    }
}
