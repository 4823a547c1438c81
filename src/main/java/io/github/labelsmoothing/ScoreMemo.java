package io.github.labelsmoothing;

import java.lang.ref.SoftReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.OptionalDouble;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.LongAdder;

/**
 * A CPU kernel's summed losses of its latest gradient calls, for the score call that follows on the same inputs.
 * DL4J's {@code fit()} asks the output layer for the gradient (backprop) and then for the score of the same batch
 * ({@code MultiLayerNetwork} and {@code ComputationGraph}'s {@code computeGradientAndScore}), two passes of
 * {@code exp} over every logit. A gradient call therefore also sums the loss (a log per row) and keeps it with a byte
 * copy of everything its computation depends on (one-hot labels: their values, below); a score call whose inputs are
 * byte for byte the same (one-hot labels: the same where the computation reads them) takes that sum instead of
 * computing it again. Equal inputs run the same computation (same tiles, chunks and order of the sums), so the score
 * is the very double the score call would have computed. Each kept sum serves one score call.
 *
 * <p>Only calls whose logits and dense labels are contiguous blocks of at most {@link #MAX_ELEMENTS} elements are kept.
 * FLOAT runs are copied from the kernel's staging as its tiles read them (else from the native buffer afterwards); a
 * comparison reads both copies once, and one that fails stops at the first differing byte. Dense labels whose
 * unmasked rows each have at most one non-zero value (one-hot rows, as the tiles' scans find them) are kept as that
 * value and its class per row instead of a copy: a score call checks that its labels are those values there and
 * {@code +-0} everywhere else in unmasked rows, which is what the computation reads of them (a zero's sign and a masked
 * row's labels change no result). A gradient call with no score call after it pays the copy (DL4J's training always
 * scores). Thread-safe: an entry is filled by one call and taken by one; at most {@link #KEPT} are kept and
 * {@link #SPARE} wait for reuse, softly held (at most 96 MB of copies for FLOAT, twice that for DOUBLE).
 */
final class ScoreMemo {
    /** Calls of more elements are not kept: their copies would hold tens of megabytes between calls. */
    static final long MAX_ELEMENTS = 1 << 21;
    /**
     * Entries kept at most: a graph computes all its outputs' gradients before their scores (one with more outputs
     * computes the first ones' scores afresh).
     */
    private static final int KEPT = 4;
    /** Taken entries kept for their arrays: one in steady training, one more for a concurrent caller. */
    private static final int SPARE = 2;

    private final ConcurrentLinkedDeque<SoftReference<Entry>> kept = new ConcurrentLinkedDeque<>();
    /** Score calls served, for the tests. */
    private final LongAdder hits = new LongAdder();
    /** Entries taken, whose arrays the next kept calls reuse (a megabyte's allocation costs as much as its copy). */
    private final ConcurrentLinkedDeque<SoftReference<Entry>> spare = new ConcurrentLinkedDeque<>();

    /** Whether a call of this job can be kept: its logits and dense labels are contiguous blocks, not too large. */
    static boolean fits(CpuSoftmaxXent.Job job) {
        return (long) job.n * job.k <= MAX_ELEMENTS && block(job.z, job) != null
                && (job.y == null || block(job.y, job) != null);
    }

    /**
     * An entry for a gradient call that {@link #fits}, its logits' copy sized; the kernel's reads may
     * {@link Entry#stage} their runs into it.
     */
    Entry prepare(CpuSoftmaxXent.Job job) {
        Entry entry = null;
        for (SoftReference<Entry> ref; entry == null && (ref = spare.pollFirst()) != null; ) {
            entry = ref.get();
        }
        if (entry == null) {
            entry = new Entry();
        }
        entry.prepare(job);
        return entry;
    }

    /** Keeps the entry (from {@link #prepare} for this job) with the job's summed loss, for one later score call. */
    void keep(Entry entry, CpuSoftmaxXent.Job job, double total) {
        entry.fill(job, total);
        kept.addFirst(new SoftReference<>(entry));
        while (kept.size() > KEPT) {
            SoftReference<Entry> unused = kept.pollLast();
            if (unused != null && spare.size() < SPARE) { // a gradient call without a score call: reuse its arrays
                spare.addFirst(unused);
            }
        }
    }

    /** The summed loss kept for inputs byte for byte equal to the job's, taken out of the memo; else empty. */
    OptionalDouble take(CpuSoftmaxXent.Job job) {
        if (!fits(job)) {
            return OptionalDouble.empty();
        }
        for (SoftReference<Entry> ref : kept) {
            Entry entry = ref.get();
            if (entry != null && entry.matches(job) && kept.removeFirstOccurrence(ref)) {
                double total = entry.total;
                hits.increment();
                if (spare.size() < SPARE) {
                    spare.addFirst(ref);
                }
                return OptionalDouble.of(total);
            }
        }
        return OptionalDouble.empty();
    }

    /** Test-only: how many score calls took a kept sum so far. */
    long hits() {
        return hits.sum();
    }

    /** Test-only: whether the latest kept entry holds its dense labels as one value per row ({@link Entry#oneHot}). */
    boolean latestOneHot() {
        SoftReference<Entry> ref = kept.peekFirst();
        Entry entry = ref == null ? null : ref.get();
        return entry != null && entry.oneHot;
    }

    /**
     * The array's n·k elements as a slice of its native buffer, if they are one block with the strides of a 'c' or an
     * 'f'-order array; else null.
     */
    private static ByteBuffer block(CpuSoftmaxXent.Array a, CpuSoftmaxXent.Job job) {
        boolean c = a.colStride == 1 && (a.rowStride == job.k || job.n == 1);
        boolean f = a.rowStride == 1 && (a.colStride == job.n || job.k == 1);
        if (!c && !f) {
            return null;
        }
        int size = a.floats != null ? Float.BYTES : Double.BYTES;
        return a.bytes.slice(a.offset * size, job.n * job.k * size);
    }

    /** One kept call: what its computation depends on, and its sum. */
    static final class Entry {
        boolean floats;
        int n;
        int k;
        /** The logits' strides: they fix the tiles' layout, so the order of the sums. */
        int rowStride;
        int colStride;
        byte[] z = new byte[0];
        int zLength;
        /** FLOAT logits: {@link #z} as floats, for {@link #stage}; and how many elements were staged. */
        private FloatBuffer zFloats;
        private final LongAdder staged = new LongAdder();
        /** Whether the labels are dense (else class indices): as {@link #rowClass} or as bytes in {@link #y}. */
        boolean dense;
        /**
         * Dense labels as each row's one non-zero value: its class in {@link #rowClass} (-1 for a row of zeros or a
         * masked row) and its bits in {@link #rowBits} (as {@link CpuSoftmaxXent.Array#bits} reads them),
         * {@link #rowEntries} rows of them; else their bytes in their strides' order, in {@link #y}.
         */
        boolean oneHot;
        int[] rowClass = new int[0];
        long[] rowBits = new long[0];
        int rowEntries;
        /** Rows whose label entry the tiles recorded: all of them make the labels {@link #oneHot}. */
        private final LongAdder recordedRows = new LongAdder();
        byte[] y;
        int yLength;
        int yRowStride;
        int yColStride;
        int[] classes;
        double[] mask;
        double[] labelScale;
        double[] priorTerm;
        boolean weighted;
        double total;

        void prepare(CpuSoftmaxXent.Job job) {
            zLength = block(job.z, job).remaining();
            if (z.length < zLength) {
                z = new byte[zLength];
            }
            zFloats = ByteBuffer.wrap(z).order(ByteOrder.nativeOrder()).asFloatBuffer();
            staged.reset();
            if (job.y != null && rowClass.length < job.n) {
                rowClass = new int[job.n];
                rowBits = new long[job.n];
            }
            recordedRows.reset();
        }

        /**
         * Copies a run of FLOAT logits that a tile has just read into its staging: elements {@code [index, index +
         * len)} of the block, in memory order, from {@code values[from..]}. The runs of one call are disjoint; the copy
         * costs a write of data in the cache instead of a second read of the native buffer (a 2 MB copy from it took
         * 140 us). The tile counts its runs for {@link #countStaged}.
         */
        void stage(int index, float[] values, int from, int len) {
            zFloats.put(index, values, from, len);
        }

        /**
         * Records row {@code row}'s dense label: its one non-zero value's class and bits, or class -1 (a row of zeros,
         * or masked). The tile counts its recorded rows for {@link #countStaged}.
         */
        void recordLabel(int row, int cls, long bits) {
            rowClass[row] = cls;
            rowBits[row] = bits;
        }

        /**
         * Adds a finished run's count of staged logits and recorded label rows (once per run: an add per staged column
         * from two threads at once cost 5% of an 'f'-order call).
         */
        void countStaged(long logits, long labelRows) {
            staged.add(logits);
            recordedRows.add(labelRows);
        }

        void fill(CpuSoftmaxXent.Job job, double sum) {
            floats = job.z.floats != null;
            n = job.n;
            k = job.k;
            rowStride = job.z.rowStride;
            colStride = job.z.colStride;
            copyUnstaged(block(job.z, job), z, staged);
            dense = job.y != null;
            oneHot = dense && recordedRows.sum() == n;
            if (dense) {
                yRowStride = job.y.rowStride;
                yColStride = job.y.colStride;
            }
            if (oneHot) {
                rowEntries = 0;
                for (int r = 0; r < n; r++) {
                    rowEntries += rowClass[r] >= 0 ? 1 : 0;
                }
            } else if (dense) { // labels the tiles did not all record: their bytes, from the native buffer
                ByteBuffer labels = block(job.y, job);
                yLength = labels.remaining();
                if (y == null || y.length < yLength) {
                    y = new byte[yLength];
                }
                labels.duplicate().get(y, 0, yLength);
            }
            classes = job.classes == null ? null : job.classes.clone();
            mask = job.mask == null ? null : job.mask.clone();
            labelScale = job.labelScale.clone();
            priorTerm = job.priorTerm.clone();
            weighted = job.weighted;
            total = sum;
        }

        /**
         * Whether the job computes exactly what this entry did: the cheap fields first, then the blocks' bytes. Each
         * field is read once: an entry taken and refilled by another thread meanwhile may give a false answer, which
         * {@link #take} then discards (it uses only an entry it removed itself), but must not throw.
         */
        boolean matches(CpuSoftmaxXent.Job job) {
            byte[] labels = y;
            boolean denseLabels = dense;
            boolean rows = oneHot;
            int[] labelClasses = rowClass;
            long[] bits = rowBits;
            int entries = rowEntries;
            if (floats != (job.z.floats != null) || n != job.n || k != job.k || rowStride != job.z.rowStride
                    || colStride != job.z.colStride || weighted != job.weighted || denseLabels != (job.y != null)
                    || denseLabels && (yRowStride != job.y.rowStride || yColStride != job.y.colStride)
                    || denseLabels && (rows ? labelClasses.length < n || bits.length < n : labels == null)
                    || !Arrays.equals(classes, job.classes) || !Arrays.equals(mask, job.mask)
                    || !Arrays.equals(labelScale, job.labelScale) || !Arrays.equals(priorTerm, job.priorTerm)) {
                return false;
            }
            return same(z, zLength, block(job.z, job)) && (!denseLabels || (rows ? oneHot(job, labelClasses, bits, entries)
                    : same(labels, yLength, block(job.y, job))));
        }

        /**
         * Whether the job's dense labels are, in every unmasked row r, {@code bits[r]} at class {@code classes[r]} and
         * {@code +-0} elsewhere ({@code entries}: the rows with a class). The block is scanned in memory order for its
         * non-zero values ({@link CpuSoftmaxXent.Array#nonZero}), each checked against its row.
         */
        private static boolean oneHot(CpuSoftmaxXent.Job job, int[] classes, long[] bits, int entries) {
            CpuSoftmaxXent.Array a = job.y;
            int n = job.n;
            int k = job.k;
            boolean rowsFirst = a.colStride == 1 && (a.rowStride == k || n == 1); // a 'c' block, as block() takes it
            int found = 0;
            for (int end = a.offset + n * k, i = a.nonZero(a.offset, end); i < end; i = a.nonZero(i + 1, end)) {
                int at = i - a.offset;
                int r = rowsFirst ? at / k : at % n;
                if (job.mask != null && job.mask[r] == 0) {
                    continue;
                }
                if (classes[r] != (rowsFirst ? at % k : at / n) || bits[r] != a.bits(i)) {
                    return false;
                }
                found++;
            }
            return found == entries;
        }

        /**
         * {@code from}'s bytes into the start of {@code to} (sized by {@link #prepare}), unless the tiles staged all of
         * them (4 bytes each; DOUBLE arrays and runs read element by element are not staged).
         */
        private static void copyUnstaged(ByteBuffer from, byte[] to, LongAdder staged) {
            if (Float.BYTES * staged.sum() != from.remaining()) {
                from.duplicate().get(to, 0, from.remaining());
            }
        }

        private static boolean same(byte[] kept, int length, ByteBuffer now) {
            return now.remaining() == length && length <= kept.length
                    && ByteBuffer.wrap(kept, 0, length).mismatch(now) == -1;
        }
    }
}
