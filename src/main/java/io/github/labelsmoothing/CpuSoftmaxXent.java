package io.github.labelsmoothing;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Label-smoothed softmax cross-entropy in one pass over the native buffers of the CPU backend (nd4j-native): per row
 * {@code loss = m·(log Σ_k e^(z_k - M)·Σ_k w_k t_k - Σ_k w_k t_k (z_k - M))} with {@code M = max_k z_k} and
 * {@code t = (1-s)·y + s·prior}, and its gradient {@code m·(p - t)} (class weights: {@code m·(p·Σ_k w_k t_k - w·t)}),
 * computed tile of rows by tile of rows straight from and into the arrays' {@code asNio()} buffers: each tile is read
 * from memory once and swept three times while in cache (row max; exp, sum and label terms; gradient), with one
 * {@code exp} per element (kept in the gradient buffer between the sweeps) and no temporaries beyond per-row scratch.
 *
 * <p>Takes FLOAT and DOUBLE preOutput in any 2D layout (DL4J's dense layers hand the loss an 'f'-order one: rows are
 * then read column by column in tiles of rows, a cache line of each column at a time). Large batches run in parallel
 * over fixed row chunks whose partial sums are added in chunk order, so the result does not depend on the thread count.
 * Stateless and thread-safe. The ND4J-op path of {@link LossLabelSmoothing} takes whatever {@link #supports} refuses.
 */
final class CpuSoftmaxXent {
    /**
     * Elements per parallel chunk (rows rounded up to whole tiles): small enough that a batch at the threshold splits
     * into several chunks ([2048,10]: 5) to balance 2 threads. Fixed by the shape alone, never by the thread count,
     * so the chunks' partial sums, added in order, give the same total sequentially and in parallel.
     */
    private static final int CHUNK_ELEMENTS = 4_096;
    /**
     * Below this many elements a call runs on the caller's thread. Measured on 2 shared, busy cores (300-400 calls of
     * the gradient): at 5K elements the parallel minimum was slower (113 vs 87 us), from 10-20K it was 1.2-1.5x
     * faster ([2048,10]: 210 vs 261 us) with equal medians, the second core being mostly taken by other work.
     */
    private static final long PARALLEL_THRESHOLD = 16_384;
    private static final int MAX_TILE_ROWS = 64;
    /** Elements of a tile, up to the limits below: three such tiles (z, labels, gradient) stay in the L1 cache. */
    private static final int TILE_ELEMENTS = 2_048;
    /** Rows of a tile swept column by column: 16 floats are one cache line of an 'f'-order column. */
    private static final int MIN_COLUMN_MAJOR_TILE_ROWS = 16;

    /** The system property that turns the kernel off ({@code false}): ND4J ops only, the path CUDA runs. */
    static final String SWITCH = "io.github.labelsmoothing.cpuKernel";
    private static final boolean ENABLED = !"false".equalsIgnoreCase(System.getProperty(SWITCH));
    /** Set by {@link #withoutKernel}: the tests compare both paths on the same inputs in one JVM. */
    private static final ThreadLocal<Boolean> OFF_IN_THIS_THREAD = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private CpuSoftmaxXent() {
    }

    /** Runs {@code call} on this thread with the kernel off, so every loss call in it takes the ND4J-op path. */
    static <T> T withoutKernel(Supplier<T> call) {
        OFF_IN_THIS_THREAD.set(Boolean.TRUE);
        try {
            return call.get();
        } finally {
            OFF_IN_THIS_THREAD.set(Boolean.FALSE);
        }
    }

    /**
     * Whether {@link #run} takes these arrays: the CPU backend; preOutput {@code [N,K]}, FLOAT or DOUBLE, in direct
     * memory, non-negative strides; dense labels of preOutput's shape and type (any strides); class-index labels
     * {@code [N,1]} or {@code [N]} of an integer or FLOAT/DOUBLE type; mask null or per example ({@code [N,1]} or
     * {@code [N]}) of such a type. Not HALF/BFLOAT16, per-output masks, empty arrays or CUDA.
     */
    static boolean supports(INDArray labels, boolean sparse, INDArray preOutput, INDArray mask) {
        if (!ENABLED || OFF_IN_THIS_THREAD.get() || !Nd4j.getEnvironment().isCPU() || labels == null || preOutput == null || preOutput.rank() != 2
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
     * The summed loss {@code Σ_i loss_i} (see the class comment), per-example losses into {@code rowLoss} and the
     * gradient into {@code gradient}, both if non-null. A row whose mask is 0 scores 0 with a zero gradient and its
     * label is not read (padding such as -1 or NaN is fine).
     *
     * @param labels       dense labels {@code [N,K]}, or class indices {@code [N,1]}/{@code [N]} if {@code sparse}
     * @param mask         per-example mask, or null
     * @param s            smoothing in [0, 1]
     * @param classWeights LossMCXENT's weights, length K, or null
     * @param prior        the prior over the K classes, or null for uniform (1/K)
     * @param rowLoss      length N, receives each example's loss; or null
     * @param gradient     a c-order {@code [N,K]} array of preOutput's type, written fully; or null for the score only
     * @throws IllegalArgumentException if {@link #supports} refuses the arrays, a vector or the gradient has the wrong
     *                                  size, or an unmasked class index is not finite, not whole, negative or >= K
     *                                  (naming it); then nothing has been written
     */
    static double run(INDArray labels, boolean sparse, INDArray preOutput, INDArray mask, double s,
            double[] classWeights, double[] prior, double[] rowLoss, INDArray gradient) {
        if (!supports(labels, sparse, preOutput, mask)) {
            throw new IllegalArgumentException("the CPU kernel does not take labels " + describe(labels) + ", preOutput "
                    + describe(preOutput) + ", mask " + describe(mask));
        }
        int n = (int) preOutput.size(0);
        int k = (int) preOutput.size(1);
        checkLength("classWeights", classWeights, k);
        checkLength("prior", prior, k);
        checkLength("rowLoss", rowLoss, n);
        if (gradient != null && !isContiguousLike(gradient, preOutput)) {
            throw new IllegalArgumentException("gradient must be a c-order " + describe(preOutput) + " array, got "
                    + describe(gradient) + " with strides " + Arrays.toString(gradient.stride()));
        }
        double[] maskValues = mask == null ? null : numbers(mask, n);
        int[] classes = sparse ? classIndices(labels, n, k, maskValues) : null;
        Job job = new Job(preOutput, sparse ? null : labels, classes, maskValues, s, classWeights, prior, rowLoss,
                gradient);

        int chunkRows = roundUp(Math.max(1, CHUNK_ELEMENTS / k), job.tileRows);
        int chunks = (n + chunkRows - 1) / chunkRows;
        double[] partial = new double[chunks];
        if ((long) n * k >= PARALLEL_THRESHOLD && chunks > 1) {
            IntStream.range(0, chunks).parallel()
                    .forEach(c -> partial[c] = job.chunk(c * chunkRows, Math.min(n, (c + 1) * chunkRows)));
        } else {
            for (int c = 0; c < chunks; c++) {
                partial[c] = job.chunk(c * chunkRows, Math.min(n, (c + 1) * chunkRows));
            }
        }
        double total = 0;
        for (double p : partial) {
            total += p;
        }
        return total;
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** One call's inputs as buffers and element offsets; immutable, shared by the chunks. */
    private static final class Job {
        final int k;
        final Reals z;
        final int zOffset;
        final int zRowStride;
        final int zColStride;
        /** Dense labels, or null with {@link #classes}. */
        final Reals y;
        final int yOffset;
        final int yRowStride;
        final int yColStride;
        final int[] classes;
        final double[] mask;
        /** {@code (1-s)·w_k}: the label's share of {@code w_k t_k}. */
        final double[] labelScale;
        /** {@code s·w_k·prior_k}: the prior's share of {@code w_k t_k}. */
        final double[] priorTerm;
        /** {@code Σ_k s·w_k·prior_k}. */
        final double priorMass;
        final boolean weighted;
        final double[] rowLoss;
        /** The c-order gradient, or null; holds {@code e^(z - M)} between the exp pass and the gradient pass. */
        final Reals g;
        final int gOffset;
        /** Sweep a tile row by row (row-major logits) or column by column (any other layout, DL4J's 'f'). */
        final boolean rowByRow;
        final int tileRows;

        Job(INDArray preOutput, INDArray labels, int[] classes, double[] mask, double s, double[] classWeights,
                double[] prior, double[] rowLoss, INDArray gradient) {
            k = (int) preOutput.size(1);
            z = Reals.of(preOutput);
            zOffset = (int) preOutput.offset();
            zRowStride = preOutput.stride(0);
            zColStride = preOutput.stride(1);
            y = labels == null ? null : Reals.of(labels);
            yOffset = labels == null ? 0 : (int) labels.offset();
            yRowStride = labels == null ? 0 : labels.stride(0);
            yColStride = labels == null ? 0 : labels.stride(1);
            this.classes = classes;
            this.mask = mask;
            labelScale = new double[k];
            priorTerm = new double[k];
            double mass = 0;
            for (int c = 0; c < k; c++) {
                double w = classWeights == null ? 1 : classWeights[c];
                labelScale[c] = (1 - s) * w;
                priorTerm[c] = s * w * (prior == null ? 1.0 / k : prior[c]);
                mass += priorTerm[c];
            }
            priorMass = mass;
            weighted = classWeights != null;
            this.rowLoss = rowLoss;
            g = gradient == null ? null : Reals.of(gradient);
            gOffset = gradient == null ? 0 : (int) gradient.offset();
            // Row-major logits: row by row, a few rows per tile. Otherwise column by column over a cache line of rows.
            rowByRow = zColStride == 1;
            tileRows = rowByRow ? Math.max(1, Math.min(MAX_TILE_ROWS, TILE_ELEMENTS / k))
                    : Math.max(MIN_COLUMN_MAJOR_TILE_ROWS, Math.min(MAX_TILE_ROWS, TILE_ELEMENTS / k));
        }

        /** Rows [from, to): their summed loss, added tile by tile in row order. */
        double chunk(int from, int to) {
            Tile t = new Tile(tileRows);
            double total = 0;
            for (int start = from; start < to; start += tileRows) {
                total += tile(t, start, Math.min(to, start + tileRows));
            }
            return total;
        }

        /** Rows [start, end), over the tile's unmasked rows: max, then exp-sum, then gradient. */
        private double tile(Tile t, int start, int end) {
            int rows = 0;
            for (int i = start; i < end; i++) {
                double m = mask == null ? 1 : mask[i];
                if (m == 0) {
                    if (rowLoss != null) {
                        rowLoss[i] = 0;
                    }
                    if (g != null) {
                        for (int c = 0; c < k; c++) {
                            g.set(gOffset + i * k + c, 0);
                        }
                    }
                    continue;
                }
                t.row[rows] = i;
                t.m[rows] = m;
                t.z[rows] = zOffset + i * zRowStride;
                t.y[rows] = y == null ? classes[i] : yOffset + i * yRowStride;
                t.g[rows] = gOffset + i * k;
                t.max[rows] = Double.NEGATIVE_INFINITY;
                t.sum[rows] = 0;
                t.dot[rows] = 0;
                t.mass[rows] = 0;
                rows++;
            }
            if (rows == 0) {
                return 0;
            }
            if (rowByRow) {
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < k; c++) {
                        t.max[r] = Math.max(t.max[r], z.get(t.z[r] + c * zColStride));
                    }
                }
            } else {
                for (int c = 0; c < k; c++) {
                    for (int r = 0; r < rows; r++) {
                        t.max[r] = Math.max(t.max[r], z.get(t.z[r] + c * zColStride));
                    }
                }
            }
            expPass(t, rows);
            double total = 0;
            for (int r = 0; r < rows; r++) {
                if (y == null) { // the labelled class's share of Σ w t (z - M), and of Σ w t
                    int label = t.y[r];
                    t.dot[r] += labelScale[label] * (z.get(t.z[r] + label * zColStride) - t.max[r]);
                    t.mass[r] = labelScale[label];
                }
                t.mass[r] += priorMass;
                double loss = t.m[r] * (Math.log(t.sum[r]) * t.mass[r] - t.dot[r]);
                if (rowLoss != null) {
                    rowLoss[t.row[r]] = loss;
                }
                total += loss;
            }
            if (g != null) {
                gradientPass(t, rows);
            }
            return total;
        }

        /**
         * {@code e = e^(z - M)} once per element: summed per row, kept in the gradient buffer for the gradient pass,
         * with {@code Σ w t (z - M)} and the labels' part of {@code Σ w t} on the way.
         */
        private void expPass(Tile t, int rows) {
            if (rowByRow) {
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < k; c++) {
                        expElement(t, r, c);
                    }
                }
            } else {
                for (int c = 0; c < k; c++) {
                    for (int r = 0; r < rows; r++) {
                        expElement(t, r, c);
                    }
                }
            }
        }

        private void expElement(Tile t, int r, int c) {
            double d = z.get(t.z[r] + c * zColStride) - t.max[r];
            double e = exp(d);
            t.sum[r] += e;
            if (g != null) {
                g.set(t.g[r] + c, e);
            }
            if (y == null) {
                t.dot[r] += priorTerm[c] * d;
            } else {
                double labelPart = labelScale[c] * y.get(t.y[r] + c * yColStride);
                t.dot[r] += (labelPart + priorTerm[c]) * d;
                t.mass[r] += labelPart;
            }
        }

        /** {@code m·(p·scale - w t)} over the stored exps, {@code p = e / S}; scale is 1, or Σ w t with weights. */
        private void gradientPass(Tile t, int rows) {
            for (int r = 0; r < rows; r++) {
                t.sum[r] = t.m[r] * (weighted ? t.mass[r] : 1) / t.sum[r]; // sum now holds p's factor on e
            }
            if (rowByRow) {
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < k; c++) {
                        gradientElement(t, r, c);
                    }
                }
            } else {
                for (int c = 0; c < k; c++) {
                    for (int r = 0; r < rows; r++) {
                        gradientElement(t, r, c);
                    }
                }
            }
        }

        private void gradientElement(Tile t, int r, int c) {
            int at = t.g[r] + c;
            double target = y == null ? (t.y[r] == c ? labelScale[c] + priorTerm[c] : priorTerm[c])
                    : labelScale[c] * y.get(t.y[r] + c * yColStride) + priorTerm[c];
            g.set(at, g.get(at) * t.sum[r] - t.m[r] * target);
        }
    }

    /** Per-row scratch of one tile (reused tile after tile by one chunk). */
    private static final class Tile {
        final int[] row;
        /** Element offsets of each row in z, in the labels (dense) or the class index (sparse), in the gradient. */
        final int[] z;
        final int[] y;
        final int[] g;
        final double[] m;
        final double[] max;
        final double[] sum;
        /** {@code Σ_k w_k t_k (z_k - M)}. */
        final double[] dot;
        /** {@code Σ_k w_k t_k}. */
        final double[] mass;

        Tile(int rows) {
            row = new int[rows];
            z = new int[rows];
            y = new int[rows];
            g = new int[rows];
            m = new double[rows];
            max = new double[rows];
            sum = new double[rows];
            dot = new double[rows];
            mass = new double[rows];
        }
    }

    /** FLOAT or DOUBLE elements of a native buffer, by absolute element index. */
    private abstract static sealed class Reals permits Floats, Doubles {
        abstract double get(int i);

        abstract void set(int i, double v);

        static Reals of(INDArray array) {
            ByteBuffer bytes = nio(array);
            return array.dataType() == DataType.FLOAT ? new Floats(bytes.asFloatBuffer())
                    : new Doubles(bytes.asDoubleBuffer());
        }
    }

    private static final class Floats extends Reals {
        private final FloatBuffer buffer;

        Floats(FloatBuffer buffer) {
            this.buffer = buffer;
        }

        @Override
        double get(int i) {
            return buffer.get(i);
        }

        @Override
        void set(int i, double v) {
            buffer.put(i, (float) v);
        }
    }

    private static final class Doubles extends Reals {
        private final DoubleBuffer buffer;

        Doubles(DoubleBuffer buffer) {
            this.buffer = buffer;
        }

        @Override
        double get(int i) {
            return buffer.get(i);
        }

        @Override
        void set(int i, double v) {
            buffer.put(i, v);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    private static final double LOG2_E = 1.4426950408889634;
    /** ln 2 split so that {@code n·LN2_HIGH} is exact for the n that occur (fdlibm's constants). */
    private static final double LN2_HIGH = 0.6931471803691238;
    private static final double LN2_LOW = 1.9082149292705877e-10;
    /** Below this, e^x is subnormal or 0 and counts for nothing next to the row's e^0 = 1. */
    private static final double EXP_UNDERFLOW = -708;

    /**
     * {@code e^x} for {@code x <= 0} (NaN stays NaN) within 3 ulp of {@link Math#exp}: {@code x = n·ln2 + r},
     * {@code |r| <= ln2/2}, {@code e^r} by its degree-12 Taylor polynomial (truncation < 2e-16) in Estrin's form,
     * times {@code 2^n}. Inlined in the element loops it measured about 1.6x faster than the {@code Math.exp}
     * intrinsic, a call the JIT cannot overlap with the neighbouring iterations; exp is most of the kernel's time.
     */
    static double exp(double x) {
        if (!(x > EXP_UNDERFLOW)) {
            return x == x ? 0 : x;
        }
        double n = Math.rint(x * LOG2_E);
        double r = Math.fma(-n, LN2_LOW, Math.fma(-n, LN2_HIGH, x));
        double r2 = r * r;
        double r4 = r2 * r2;
        double low = Math.fma(r2, Math.fma(r, 1.0 / 6, 0.5), 1 + r);
        double middle = Math.fma(r2, Math.fma(r, 1.0 / 5_040, 1.0 / 720), Math.fma(r, 1.0 / 120, 1.0 / 24));
        double high = Math.fma(r2, Math.fma(r, 1.0 / 39_916_800, 1.0 / 3_628_800),
                Math.fma(r, 1.0 / 362_880, 1.0 / 40_320));
        double poly = Math.fma(r4 * r4, Math.fma(r4, 1.0 / 479_001_600, high), Math.fma(r4, middle, low));
        return poly * Double.longBitsToDouble(((long) n + 1023) << 52);
    }

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

    /** Same shape and type as {@code like}, rows of K consecutive elements one after the other, in direct memory. */
    private static boolean isContiguousLike(INDArray gradient, INDArray like) {
        return gradient.dataType() == like.dataType() && gradient.equalShapes(like) && reachable(gradient)
                && (gradient.size(1) == 1 || gradient.stride(1) == 1)
                && (gradient.size(0) == 1 || gradient.stride(0) == gradient.size(1));
    }

    private static int roundUp(int value, int multiple) {
        return (value + multiple - 1) / multiple * multiple;
    }

    private static String describe(INDArray array) {
        return array == null ? "null" : array.dataType() + Arrays.toString(array.shape());
    }
}
