package io.github.labelsmoothing.bench;

import io.github.labelsmoothing.LossLabelSmoothing;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

/**
 * How close a gradient-then-score pair of the loss is to the machine's memory traffic: the loss ({@link
 * LossBenchmark#ours}, float32, in a workspace) against skeletons on the same arrays that move the bytes an exact pair
 * must move and compute nothing, on the same two threads (the caller and one pool thread). Each call's skeleton reads
 * the logits, scans one-hot labels for their non-zero entries (the JDK's {@code mismatch} against zeros, as the
 * kernels do) and, in a gradient call, writes the logits' bytes as the gradient:
 * <ul>
 *   <li><b>memo</b>, the kernels' design: the gradient call also keeps a copy of the logits; the score call compares
 *   the logits with the copy and scans the labels, on the caller (as {@code ScoreMemo}); the softmax is computed
 *   once.</li>
 *   <li><b>fresh</b>, the fewest bytes: no copy; the score call reads the logits and labels again on both threads; its
 *   softmax would have to be computed a second time.</li>
 *   <li><b>memo, 'f' tiles</b> ('f'-order logits only): memo, with the logits read and the gradient written as the
 *   kernels do for 'f' order: each thread half the rows, column by column (runs of N/2 floats) into a tile of N/2
 *   rows.</li>
 * </ul>
 * The halves are fixed, not shared as the kernels' chunks are. Rounds rotate the loss and the skeletons; each prints
 * the median per pair. A loss pair can be no faster than the skeleton of its design plus the time of its arithmetic.
 * Meant for K >= 64, where the kernels scan one-hot labels and split a call over two threads (at [2048,10] they lay
 * labels out as tiles and the SIMD kernel runs on the caller alone). {@code java ... TrafficFloor [shape] [order]
 * [pairs]}, e.g. {@code 256x1000 f 2000}.
 */
public final class TrafficFloor {
    private static final int TILE = 2_048;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(TILE * Float.BYTES);

    private final int n;
    private final int k;
    private final FloatBuffer logits;
    private final FloatBuffer copy;
    private final FloatBuffer oneHot;
    /** Each thread's scratch: a tile of {@link #TILE} floats, or half the rows of every column ('f' tiles). */
    private final float[][] tiles;
    private final boolean columnTiles;

    private TrafficFloor(INDArray logits, INDArray oneHot, boolean columnTiles) {
        n = (int) logits.rows();
        k = (int) logits.columns();
        this.logits = floats(logits);
        this.oneHot = oneHot == null ? null : floats(oneHot);
        this.columnTiles = columnTiles;
        copy = ByteBuffer.allocateDirect(n * k * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        int scratch = columnTiles ? (n + 1) / 2 * k : TILE;
        tiles = new float[][] {new float[scratch], new float[scratch]};
    }

    public static void main(String[] args) {
        String shape = args.length > 0 ? args[0] : "256x1000";
        char order = args.length > 1 ? args[1].charAt(0) : 'c';
        int pairs = args.length > 2 ? Integer.parseInt(args[2]) : 2_000;
        BenchData data = new BenchData(shape, 42);
        INDArray logits = data.logits.dup(order);
        LossLabelSmoothing dense = new LossLabelSmoothing(LossBenchmark.S);
        LossLabelSmoothing sparse = new LossLabelSmoothing(LossBenchmark.S, new LossSparseMCXENT());
        String[] names = {"loss", "memo", "fresh", "memo, 'f' tiles"};
        for (INDArray oneHot : new INDArray[] {data.oneHot, null}) {
            LossLabelSmoothing loss = oneHot == null ? sparse : dense;
            INDArray labels = oneHot == null ? data.indices : oneHot;
            List<Runnable> runs = new ArrayList<>(List.of(() -> pair(loss, labels, logits),
                    memo(new TrafficFloor(logits, oneHot, false)), fresh(new TrafficFloor(logits, oneHot, false))));
            if (order == 'f') {
                runs.add(memo(new TrafficFloor(logits, oneHot, true)));
            }
            for (int round = 0; round < 6; round++) {
                double[] medians = new double[runs.size()];
                for (int i = 0; i < runs.size(); i++) {
                    int at = (round + i) % runs.size();
                    medians[at] = median(runs.get(at), round < 2 ? pairs / 4 : pairs);
                }
                if (round >= 2) { // the first two rounds warm up
                    StringBuilder line = new StringBuilder(String.format("%s '%c' %s: loss %.1f us", shape, order,
                            oneHot == null ? "class indices" : "one-hot", medians[0]));
                    for (int i = 1; i < medians.length; i++) {
                        line.append(String.format("; %s %.1f us (loss / it %.2f)", names[i], medians[i],
                                medians[0] / medians[i]));
                    }
                    System.out.println(line);
                }
            }
        }
    }

    private static void pair(LossLabelSmoothing loss, INDArray labels, INDArray logits) {
        try (MemoryWorkspace ws = BenchData.workspace()) {
            loss.computeGradient(labels, logits, LossBenchmark.SOFTMAX, null);
            loss.computeScore(labels, logits, LossBenchmark.SOFTMAX, null, true);
        }
    }

    private static Runnable memo(TrafficFloor f) {
        return () -> {
            try (MemoryWorkspace ws = BenchData.workspace()) {
                f.twoThreads(f.gradient(), true);
                int found = f.oneHot == null ? f.n : f.scan(0, f.n * f.k);
                if (f.logits.mismatch(f.copy) >= 0 || found != f.n) {
                    throw new IllegalStateException("the copy or the labels are not what the gradient call saw");
                }
            }
        };
    }

    private static Runnable fresh(TrafficFloor f) {
        return () -> {
            try (MemoryWorkspace ws = BenchData.workspace()) {
                f.twoThreads(f.gradient(), false);
                f.twoThreads(null, false);
            }
        };
    }

    /** The gradient's output, allocated as the loss allocates it. */
    private FloatBuffer gradient() {
        return floats(Nd4j.createUninitialized(DataType.FLOAT, new long[] {n, k}, columnTiles ? 'f' : 'c'));
    }

    /** Half the work on the caller, half on a pool thread; the gradient written into {@code g} if not null. */
    private void twoThreads(FloatBuffer g, boolean keepCopy) {
        ForkJoinTask<?> helper = ForkJoinPool.commonPool().submit(() -> half(1, g, keepCopy));
        half(0, g, keepCopy);
        helper.join();
    }

    private void half(int part, FloatBuffer g, boolean keepCopy) {
        float[] tile = tiles[part];
        int elements = n * k;
        int from = elements / 2 * part;
        int to = part == 0 ? elements / 2 : elements;
        int found = oneHot == null ? 0 : scan(from, to);
        if (columnTiles) { // rows [r0, r1) of an 'f'-order array, column by column
            int r0 = n / 2 * part;
            int rows = (part == 0 ? n / 2 : n) - r0;
            for (int c = 0; c < k; c++) {
                logits.get(c * n + r0, tile, c * rows, rows);
                if (keepCopy) {
                    copy.put(c * n + r0, tile, c * rows, rows);
                }
            }
            for (int c = 0; g != null && c < k; c++) {
                g.put(c * n + r0, tile, c * rows, rows);
            }
        } else {
            for (int i = from; i < to; i += TILE) {
                int len = Math.min(TILE, to - i);
                logits.get(i, tile, 0, len);
                if (keepCopy) {
                    copy.put(i, tile, 0, len);
                }
                if (g != null) {
                    g.put(i, tile, 0, len);
                }
            }
        }
        tile[0] += found; // keeps the scan
    }

    /** Non-zero entries of the labels' elements [from, to) in memory order, found as the kernels find them. */
    private int scan(int from, int to) {
        FloatBuffer zeros = ZEROS.order(ByteOrder.nativeOrder()).asFloatBuffer();
        int found = 0;
        for (int at = from; at < to; ) {
            int len = Math.min(TILE, to - at);
            int m = oneHot.slice(at, len).mismatch(zeros.slice(0, len));
            at += m < 0 ? len : m + 1;
            found += m < 0 ? 0 : 1;
        }
        return found;
    }

    private static FloatBuffer floats(INDArray array) {
        return array.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private static double median(Runnable pair, int pairs) {
        long[] times = new long[pairs];
        for (int i = 0; i < pairs; i++) {
            long start = System.nanoTime();
            pair.run();
            times[i] = System.nanoTime() - start;
        }
        Arrays.sort(times);
        return times[pairs / 2] / 1e3;
    }
}
