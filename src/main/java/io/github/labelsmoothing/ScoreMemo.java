package io.github.labelsmoothing;

import java.lang.ref.SoftReference;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Iterator;
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
 * <p>Only calls whose logits and dense labels are contiguous blocks of at most {@link #MAX_ELEMENTS} elements are kept
 * (the copy costs a bulk read of each; a comparison that fails does so at the first differing byte). Thread-safe:
 * entries are never shared, and at most {@link #KEPT} are kept, softly held.
 */
final class ScoreMemo {
    /** Calls of more elements are not kept: their copies would hold tens of megabytes between calls. */
    static final long MAX_ELEMENTS = 1 << 22;
    /** Entries kept at most: enough for a graph's several output layers, whose gradients all come before the scores. */
    private static final int KEPT = 8;

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

    /** Keeps the summed loss of the job's inputs (which {@link #fits}) for one later score call. */
    void keep(CpuSoftmaxXent.Job job, double total) {
        Entry entry = null;
        for (SoftReference<Entry> ref; entry == null && (ref = spare.pollFirst()) != null; ) {
            entry = ref.get();
        }
        if (entry == null) {
            entry = new Entry();
        }
        entry.fill(job, total);
        kept.addFirst(new SoftReference<>(entry));
        while (kept.size() > KEPT) {
            kept.pollLast();
        }
    }

    /** The summed loss kept for inputs byte for byte equal to the job's, taken out of the memo; else empty. */
    OptionalDouble take(CpuSoftmaxXent.Job job) {
        if (!fits(job)) {
            return OptionalDouble.empty();
        }
        for (Iterator<SoftReference<Entry>> it = kept.iterator(); it.hasNext(); ) {
            SoftReference<Entry> ref = it.next();
            Entry entry = ref.get();
            if (entry != null && entry.matches(job) && kept.removeFirstOccurrence(ref)) {
                double total = entry.total;
                hits.increment();
                if (spare.size() < KEPT) {
                    spare.addFirst(ref);
                }
                return OptionalDouble.of(total);
            }
        }
        return OptionalDouble.empty();
    }

    /** Test-only: how many sums are kept now. */
    int size() {
        return kept.size();
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
    private static final class Entry {
        boolean floats;
        int n;
        int k;
        /** The logits' strides: they fix the tiles' layout, so the order of the sums. */
        int rowStride;
        int colStride;
        byte[] z = new byte[0];
        int zLength;
        /** Dense labels' bytes in their strides' order (and those strides), or null with class indices. */
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

        void fill(CpuSoftmaxXent.Job job, double sum) {
            floats = job.z.floats != null;
            n = job.n;
            k = job.k;
            rowStride = job.z.rowStride;
            colStride = job.z.colStride;
            ByteBuffer logits = block(job.z, job);
            zLength = logits.remaining();
            z = copy(logits, z);
            if (job.y != null) {
                ByteBuffer labels = block(job.y, job);
                yLength = labels.remaining();
                y = copy(labels, y);
                yRowStride = job.y.rowStride;
                yColStride = job.y.colStride;
            } else {
                y = null;
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
            if (floats != (job.z.floats != null) || n != job.n || k != job.k || rowStride != job.z.rowStride
                    || colStride != job.z.colStride || weighted != job.weighted || (labels == null) != (job.y == null)
                    || labels != null && (yRowStride != job.y.rowStride || yColStride != job.y.colStride)
                    || !Arrays.equals(classes, job.classes) || !Arrays.equals(mask, job.mask)
                    || !Arrays.equals(labelScale, job.labelScale) || !Arrays.equals(priorTerm, job.priorTerm)) {
                return false;
            }
            return same(z, zLength, block(job.z, job)) && (labels == null || same(labels, yLength, block(job.y, job)));
        }

        private static byte[] copy(ByteBuffer from, byte[] into) {
            byte[] to = into != null && into.length >= from.remaining() ? into : new byte[from.remaining()];
            from.duplicate().get(to, 0, from.remaining());
            return to;
        }

        private static boolean same(byte[] kept, int length, ByteBuffer now) {
            return now.remaining() == length && length <= kept.length
                    && ByteBuffer.wrap(kept, 0, length).mismatch(now) == -1;
        }
    }
}
