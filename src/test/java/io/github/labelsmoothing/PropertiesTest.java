package io.github.labelsmoothing;

import static io.github.labelsmoothing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

/** Properties over random shapes, data types and smoothing values (seeded, so a failure names a reproducible case). */
class PropertiesTest {
    private static final IActivation SOFTMAX = Activation.SOFTMAX.getActivationFunction();
    private static final DataType[] TYPES = {DataType.FLOAT, DataType.DOUBLE, DataType.HALF};

    /** A random case: N, K, type, s, and seeds for labels and logits. */
    record Case(long seed, int n, int k, DataType type, double s) {
        @Override
        public String toString() {
            return "seed=" + seed + " N=" + n + " K=" + k + " " + type + " s=" + s;
        }

        /** Soft labels: rows are random distributions with a unique largest entry. */
        INDArray labels() {
            Random r = new Random(seed);
            double[][] rows = new double[n][k];
            for (double[] row : rows) {
                double sum = 0;
                for (int c = 0; c < k; c++) {
                    row[c] = r.nextDouble();
                    sum += row[c];
                }
                int hot = r.nextInt(k);
                row[hot] += sum; // makes the argmax unique
                sum *= 2;
                for (int c = 0; c < k; c++) {
                    row[c] /= sum;
                }
            }
            return Nd4j.createFromArray(rows).castTo(type);
        }

        INDArray logits() {
            Nd4j.getRandom().setSeed(seed + 1);
            return Nd4j.randn(DataType.DOUBLE, n, k).muli(3).castTo(type);
        }

        double tolerance() {
            return type == DataType.HALF ? 5e-3 : type == DataType.FLOAT ? 1e-5 : 1e-12;
        }
    }

    static Stream<Case> cases() {
        Random r = new Random(20261128);
        return IntStream.range(0, 40).mapToObj(i -> new Case(r.nextLong(), 1 + r.nextInt(20), 2 + r.nextInt(50),
                TYPES[r.nextInt(TYPES.length)], i == 0 ? 0 : i == 1 ? 1 : r.nextDouble()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void smoothedRowsKeepTheirSum(Case c) {
        INDArray labels = c.labels();
        INDArray smoothed = LabelSmoothing.smoothLabels(labels, c.s());
        assertClose(labels.castTo(DataType.DOUBLE).sum(1), smoothed.castTo(DataType.DOUBLE).sum(1), 0, c.tolerance() * 4,
                c + " row sums");
        assertEquals(c.type(), smoothed.dataType());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void smoothingBelowOneKeepsTheArgmax(Case c) {
        if (c.s() < 1) {
            INDArray labels = c.labels().castTo(DataType.DOUBLE);
            INDArray smoothed = LabelSmoothing.smoothLabels(labels, c.s());
            assertEquals(labels.argMax(1), smoothed.argMax(1), c.toString());
        } else {
            INDArray smoothed = LabelSmoothing.smoothLabels(c.labels(), 1);
            assertClose(1.0 / c.k(), smoothed.castTo(DataType.DOUBLE).maxNumber().doubleValue(), 0, c.tolerance(),
                    c + ": s = 1 is the uniform prior");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void zeroSmoothingIsTheIdentity(Case c) {
        INDArray labels = c.labels();
        assertEquals(labels, LabelSmoothing.smoothLabels(labels, 0), c.toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gradientRowsSumToZero(Case c) {
        INDArray gradient = new LossLabelSmoothing(c.s()).computeGradient(c.labels(), c.logits(), SOFTMAX, null);
        assertClose(Nd4j.zeros(DataType.DOUBLE, c.n()), gradient.castTo(DataType.DOUBLE).sum(1), 0,
                c.tolerance() * c.k() * 4, c + " gradient row sums");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void scoreMovesMonotonicallyTowardsTheUniformTargetScore(Case c) {
        // The monotonicity margins are below half precision: half-precision cases run in float here.
        Case d = c.type() == DataType.HALF ? new Case(c.seed(), c.n(), c.k(), DataType.FLOAT, c.s()) : c;
        INDArray labels = d.labels();
        INDArray logits = d.logits();
        double uniform = new LossLabelSmoothing(1).computeScore(labels, logits, SOFTMAX, null, false);
        double previous = Double.POSITIVE_INFINITY;
        for (double s = 0; s <= 1.0001; s += 0.125) {
            double distance = Math.abs(new LossLabelSmoothing(Math.min(s, 1)).computeScore(labels, logits, SOFTMAX, null,
                    false) - uniform);
            assertTrue(distance <= previous + d.tolerance() * 10 * d.n(), d + " at s=" + s + ": " + distance + " > "
                    + previous);
            previous = distance;
        }
        assertTrue(previous < d.tolerance() * 10 * d.n(), d + ": s = 1 is the uniform-target score");
    }

    static Stream<Arguments> extremes() {
        return Stream.of(
                Arguments.of("all-equal logits", 4, 5, 0.0),
                Arguments.of("K=2", 6, 2, 5.0),
                Arguments.of("N=1", 1, 7, 5.0),
                Arguments.of("K=32000", 2, 32000, 10.0),
                Arguments.of("huge logits", 3, 4, 1e4));
    }

    /** Extremes against the hand formula (log-sum-exp in Java), for s = 0, 0.1 and 1, dense and sparse labels. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("extremes")
    void extremesMatchTheHandFormula(String name, int n, int k, double scale) {
        Random r = new Random(n * 31L + k);
        double[][] z = new double[n][k];
        double[][] y = new double[n][k];
        double[][] idx = new double[n][1];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < k; c++) {
                z[i][c] = scale * (2 * r.nextDouble() - 1);
            }
            int hot = i == 0 ? 0 : i == 1 ? k - 1 : r.nextInt(k); // the edges 0 and K-1 included
            y[i][hot] = 1;
            idx[i][0] = hot;
        }
        INDArray logits = Nd4j.createFromArray(z);
        for (double s : new double[] {0, 0.1, 1}) {
            double[] rows = Hand.rowLosses(z, y, s);
            INDArray grad = Nd4j.createFromArray(Hand.gradient(z, y, s));
            LossLabelSmoothing dense = new LossLabelSmoothing(s);
            LossLabelSmoothing sparse = new LossLabelSmoothing(s, new LossSparseMCXENT());
            String what = name + " s=" + s;
            if (s == 0) { // drop-in: exactly the base (which clips probabilities at 1e-10, as DL4J does)
                INDArray labels = Nd4j.createFromArray(y);
                assertEquals(new org.nd4j.linalg.lossfunctions.impl.LossMCXENT().computeScoreArray(labels, logits,
                        SOFTMAX, null), dense.computeScoreArray(labels, logits, SOFTMAX, null), what);
                assertEquals(new LossSparseMCXENT().computeScoreArray(Nd4j.createFromArray(idx), logits, SOFTMAX, null),
                        sparse.computeScoreArray(Nd4j.createFromArray(idx), logits, SOFTMAX, null), what);
                continue;
            }
            assertClose(rows, dense.computeScoreArray(Nd4j.createFromArray(y), logits, SOFTMAX, null)
                    .ravel().toDoubleVector(), 1e-9, 1e-9, what + " dense score");
            assertClose(grad, dense.computeGradient(Nd4j.createFromArray(y), logits, SOFTMAX, null), 1e-9, 1e-12,
                    what + " dense gradient");
            assertClose(rows, sparse.computeScoreArray(Nd4j.createFromArray(idx), logits, SOFTMAX, null)
                    .ravel().toDoubleVector(), 1e-9, 1e-9, what + " sparse score");
            assertClose(grad, sparse.computeGradient(Nd4j.createFromArray(idx), logits, SOFTMAX, null), 1e-9, 1e-12,
                    what + " sparse gradient");
        }
    }
}
