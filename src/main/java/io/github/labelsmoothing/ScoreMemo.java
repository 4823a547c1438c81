package io.github.labelsmoothing;

import java.lang.ref.SoftReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;
import java.util.OptionalDouble;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.LongAdder;

/**
 * A CPU kernel's summed losses of its latest gradient calls, for the score call that follows on the same inputs.
 * DL4J's {@code fit()} asks the output layer for the gradient (backprop) and then for the score of the same batch
 * ({@code MultiLayerNetwork} and {@code ComputationGraph}'s {@code computeGradientAndScore}), two passes of
 * {@code exp} over every logit. A gradient call therefore also sums the loss (a log per row) and keeps it with a byte
 * copy of everything its computation depends on; a score call whose inputs are byte for byte the same takes that sum
 * instead of computing it again. Equal inputs run the same computation (same tiles, chunks and order of the sums), so
 * the score is the very double the score call would have computed. Each kept sum serves one score call.
 *
 * <p>Only calls whose logits and dense labels are contiguous blocks of at most {@link #MAX_ELEMENTS} elements are kept.
 * FLOAT runs are copied from the kernel's staging as its tiles read them (else from the native buffer afterwards); a
 * comparison reads both copies once, and one that fails stops at the first differing byte. A gradient call with no
 * score call after it pays the copy (DL4J's training always scores). Thread-safe: an entry is filled by one call and
 * taken by one; at most {@link #KEPT} are kept and {@link #SPARE} wait for reuse, softly held (at most 96 MB of
 * copies for FLOAT, twice that for DOUBLE).
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
        /** FLOAT dense labels: {@link #y} as their bits, for {@link #stageLabels}; and how many were staged. */
        private IntBuffer yBits;
        private final LongAdder stagedLabels = new LongAdder();
        /** Whether the labels are dense: their bytes in their strides' order (and those strides); else class indices. */
        boolean dense;
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
            if (job.y != null) {
                yLength = block(job.y, job).remaining();
                if (y == null || y.length < yLength) {
                    y = new byte[yLength];
                }
                yBits = ByteBuffer.wrap(y).order(ByteOrder.nativeOrder()).asIntBuffer();
            }
            stagedLabels.reset();
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

        /** As {@link #stage}, for a run of FLOAT dense labels' bits read by a tile's scan for their entries. */
        void stageLabels(int index, int[] bits, int len) {
            yBits.put(index, bits, 0, len);
        }

        /**
         * Adds a finished run's count of staged logits and labels (once per run: an add per staged column from two
         * threads at once cost 5% of an 'f'-order call).
         */
        void countStaged(long logits, long labels) {
            staged.add(logits);
            stagedLabels.add(labels);
        }

        void fill(CpuSoftmaxXent.Job job, double sum) {
            floats = job.z.floats != null;
            n = job.n;
            k = job.k;
            rowStride = job.z.rowStride;
            colStride = job.z.colStride;
            copyUnstaged(block(job.z, job), z, staged);
            dense = job.y != null;
            if (dense) {
                copyUnstaged(block(job.y, job), y, stagedLabels);
                yRowStride = job.y.rowStride;
                yColStride = job.y.colStride;
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
            if (floats != (job.z.floats != null) || n != job.n || k != job.k || rowStride != job.z.rowStride
                    || colStride != job.z.colStride || weighted != job.weighted || denseLabels != (job.y != null)
                    || denseLabels && (labels == null || yRowStride != job.y.rowStride || yColStride != job.y.colStride)
                    || !Arrays.equals(classes, job.classes) || !Arrays.equals(mask, job.mask)
                    || !Arrays.equals(labelScale, job.labelScale) || !Arrays.equals(priorTerm, job.priorTerm)) {
                return false;
            }
            return same(z, zLength, block(job.z, job)) && (!denseLabels || same(labels, yLength, block(job.y, job)));
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
