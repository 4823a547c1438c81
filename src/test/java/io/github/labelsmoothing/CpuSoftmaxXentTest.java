package io.github.labelsmoothing;

import static io.github.labelsmoothing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Each CPU kernel (scalar; SIMD at 1, 2, 4 and 8 double lanes) against the plain-double hand formula ({@link Hand}),
 * on every layout and label form it takes.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("kernels")
class CpuSoftmaxXentTest {

    static List<SoftmaxXent> kernels() {
        return Kernels.all();
    }

    @Parameter
    SoftmaxXent kernel;

    private static final double[] WEIGHTS_5 = {0.5, 2, 1, 3, 0.25};
    private static final double[] PRIOR_5 = {0.4, 0.3, 0.1, 0.1, 0.1};

    // ---- helpers ------------------------------------------------------------------------------------------------

    private static INDArray logits(DataType type, int n, int k, double offset, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.DOUBLE, n, k).muli(3).addi(offset).castTo(type);
    }

    /** Class indices 0..k-1 cycling with a stride, as [n,1] of the given type. */
    private static INDArray indices(int n, int k, DataType type) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (i * 7 + 3) % k;
        }
        return Nd4j.createFromArray(v).reshape(n, 1).castTo(type);
    }

    private static INDArray oneHot(INDArray indices, int k, DataType type) {
        double[] idx = indices.castTo(DataType.DOUBLE).reshape(indices.length()).toDoubleVector();
        double[][] out = new double[idx.length][k];
        for (int i = 0; i < idx.length; i++) {
            out[i][(int) idx[i]] = 1;
        }
        return Nd4j.create(out).castTo(type);
    }

    /** Labels as the hand formula reads them: dense as they are, class indices one-hot (masked rows: zeros). */
    private static double[][] denseLabels(INDArray labels, boolean sparse, int n, int k, double[] mask) {
        if (!sparse) {
            return labels.castTo(DataType.DOUBLE).toDoubleMatrix();
        }
        double[] idx = labels.castTo(DataType.DOUBLE).reshape(n).toDoubleVector();
        double[][] out = new double[n][k];
        for (int i = 0; i < n; i++) {
            if (mask == null || mask[i] != 0) {
                out[i][(int) idx[i]] = 1;
            }
        }
        return out;
    }

    private static double[] values(INDArray array) {
        return array.castTo(DataType.DOUBLE).ravel().toDoubleVector();
    }

    private static double rtol(INDArray preOutput) {
        return preOutput.dataType() == DataType.FLOAT ? 1e-6 : 1e-12;
    }

    /**
     * Runs the kernel with and without a gradient and checks the total, the per-row losses and the gradient against
     * the hand formula on the same (float32 or float64) inputs, and that no input changed.
     */
    private void assertMatchesHand(INDArray labels, boolean sparse, INDArray preOutput, INDArray mask,
            double s, double[] weights, double[] prior) {
        int n = (int) preOutput.size(0);
        int k = (int) preOutput.size(1);
        assertTrue(kernel.supports(labels, sparse, preOutput, mask), "supports");
        INDArray labelsBefore = labels.dup();
        INDArray preOutputBefore = preOutput.dup();
        double[] maskValues = mask == null ? null : mask.castTo(DataType.DOUBLE).reshape(n).toDoubleVector();
        double[][] z = preOutput.castTo(DataType.DOUBLE).toDoubleMatrix();
        double[][] y = denseLabels(labels, sparse, n, k, maskValues);
        double[] expectedRows = Hand.rowLosses(z, y, s, weights, prior, maskValues);
        double[][] expectedGradient = Hand.gradient(z, y, s, weights, prior, maskValues);

        SoftmaxXent.Inputs in = new SoftmaxXent.Inputs(labels, sparse, preOutput, mask, s, weights, prior);
        SoftmaxXent.Result both = kernel.run(in, SoftmaxXent.Output.SCORE_AND_GRADIENT);
        double total = both.score();
        INDArray gradient = both.gradient();
        double[] rows = values(kernel.run(in, SoftmaxXent.Output.ROW_LOSSES).rowLosses());
        double scoreOnly = kernel.run(in, SoftmaxXent.Output.SCORE).score();

        double rtol = rtol(preOutput);
        double scale = Math.max(1, Hand.sum(expectedRows));
        assertClose(Hand.sum(expectedRows), total, rtol, rtol * 1e-3 * scale, "total");
        assertEquals(total, scoreOnly, "the score alone is the same sum");
        assertClose(expectedRows, rows, rtol, rtol * 1e-3, "row losses"); // rounded to preOutput's type
        // float: e^(z-M) is kept in the float gradient between passes, and the result is rounded to float
        double gradientAtol = preOutput.dataType() == DataType.FLOAT ? 1e-7 : 1e-14;
        assertClose(Nd4j.create(expectedGradient), gradient, rtol, gradientAtol, "gradient");
        assertArrayEquals(values(labelsBefore), values(labels), "labels untouched"); // NaN padding equals itself
        assertArrayEquals(values(preOutputBefore), values(preOutput), "preOutput untouched");
    }

    // ---- the math on every combination ----------------------------------------------------------------------------

    static Stream<Arguments> combinations() {
        Stream.Builder<Arguments> out = Stream.builder();
        for (DataType type : List.of(DataType.FLOAT, DataType.DOUBLE)) {
            for (boolean sparse : new boolean[] {false, true}) {
                for (boolean masked : new boolean[] {false, true}) {
                    for (boolean weighted : new boolean[] {false, true}) {
                        for (boolean customPrior : new boolean[] {false, true}) {
                            for (double s : new double[] {0, 0.1, 1}) {
                                out.add(Arguments.of(type, sparse, masked, weighted, customPrior, s));
                            }
                        }
                    }
                }
            }
        }
        return out.build();
    }

    @ParameterizedTest(name = "{0} sparse={1} mask={2} weights={3} prior={4} s={5}")
    @MethodSource("combinations")
    void equalsHandFormulaOnEveryCombination(DataType type, boolean sparse, boolean masked, boolean weighted,
            boolean customPrior, double s) {
        int n = 7;
        int k = 5;
        INDArray z = logits(type, n, k, 0, 11);
        INDArray idx = indices(n, k, DataType.INT32);
        INDArray labels = sparse ? idx : oneHot(idx, k, type);
        INDArray mask = masked ? Nd4j.createFromArray(1.0, 0, 1, 1, 0, 1, 0.5).reshape(n, 1).castTo(type) : null;
        assertMatchesHand(labels, sparse, z, mask, s, weighted ? WEIGHTS_5 : null, customPrior ? PRIOR_5 : null);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"FLOAT", "DOUBLE"})
    void softLabelsWhoseMassIsNotOneGivePMinusT(DataType type) {
        INDArray z = logits(type, 4, 3, 0, 12);
        INDArray y = Nd4j.createFromArray(new double[][] {{0.2, 0.3, 0.1}, {1, 1, 0}, {0, 0, 0}, {0.5, 0.25, 0.25}})
                .castTo(type);
        assertMatchesHand(y, false, z, null, 0.1, null, null);
        assertMatchesHand(y, false, z, null, 0.1, new double[] {1, 2, 3}, new double[] {0.5, 0.25, 0.25});
    }

    /**
     * Label forms in turn on one geometry, each call on the scratch the previous one left (the kernels keep it between
     * calls): one-hot rows (kept as entries from K = 64), class indices, soft rows (too dense for entries: laid out
     * as a tile), a few non-zero values per row, and masked rows holding NaN; then one-hot again.
     */
    @ParameterizedTest(name = "{0} [{1},{2}] {3}")
    @MethodSource("reusedGeometries")
    void eachLabelFormIsRightOnScratchAnotherCallUsed(DataType type, int n, int k, char order) {
        INDArray z = logits(type, n, k, 2, 31).dup(order);
        INDArray idx = indices(n, k, DataType.INT32);
        INDArray oneHot = oneHot(idx, k, type);
        Nd4j.getRandom().setSeed(32);
        INDArray soft = Nd4j.rand(type, n, k);
        INDArray few = oneHot.mul(0.7).addi(oneHot(indices(n, k, DataType.INT32).addi(1).fmodi(k), k, type).muli(0.3));
        INDArray mask = Nd4j.ones(type, n, 1);
        INDArray dirty = oneHot.dup();
        for (int r = 1; r < n; r += 3) {
            mask.putScalar(r, 0);
            dirty.putScalar(r, r % k, Double.NaN);
        }
        assertMatchesHand(oneHot, false, z, null, 0.1, null, null);
        assertMatchesHand(idx, true, z, null, 0.1, null, null);
        assertMatchesHand(soft, false, z, null, 0.1, null, null);
        assertMatchesHand(few.dup('f'), false, z, null, 0.2, null, null);
        assertMatchesHand(dirty, false, z, mask, 0.1, null, null);
        assertMatchesHand(oneHot, false, z, null, 0.1, null, null);
    }

    /**
     * A -inf logit in rows of many classes ('c' order at K = 64: the SIMD kernel's row-major tiles; 'f' order at K =
     * 300: its float tiles, e^x in float arithmetic). Under the uniform prior
     * every target is positive, so that row scores +inf with a finite gradient; under a prior with a 0 at that class
     * (unlabelled) it counts for nothing and the row stays finite. Another row's logits span more than 708 (its
     * {@code e^x} underflows to 0 there). Labels as class indices and as one-hot rows.
     */
    @ParameterizedTest(name = "{0} sparse={1} {2}")
    @MethodSource("typesLabelFormsAndOrders")
    void minusInfinityInWideRows(DataType type, boolean sparse, char order) {
        int n = 3;
        int k = order == 'c' ? 64 : 300;
        INDArray z = logits(type, n, k, 0, 41).dup(order);
        z.putScalar(0, 5, Double.NEGATIVE_INFINITY);
        z.putScalar(1, 9, -800);
        INDArray idx = Nd4j.createFromArray(1, 2, 3).reshape(n, 1);
        INDArray labels = sparse ? idx : oneHot(idx, k, type);
        double[][] zs = z.castTo(DataType.DOUBLE).toDoubleMatrix();
        double[][] y = denseLabels(idx, true, n, k, null);

        SoftmaxXent.Inputs uniform = new SoftmaxXent.Inputs(labels, sparse, z, null, 0.1, null, null);
        double[] expectedRows = Hand.rowLosses(zs, y, 0.1, null, null, null);
        double[] rows = values(kernel.run(uniform, SoftmaxXent.Output.ROW_LOSSES).rowLosses());
        assertEquals(Double.POSITIVE_INFINITY, expectedRows[0], "the reference");
        assertEquals(Double.POSITIVE_INFINITY, rows[0], "the row with -inf under a positive target");
        assertClose(new double[] {expectedRows[1], expectedRows[2]}, new double[] {rows[1], rows[2]}, rtol(z), 0,
                "the other rows");
        assertEquals(Double.POSITIVE_INFINITY, kernel.run(uniform, SoftmaxXent.Output.SCORE).score(), "score");
        assertClose(Nd4j.create(Hand.gradient(zs, y, 0.1, null, null, null)),
                kernel.run(uniform, SoftmaxXent.Output.GRADIENT).gradient(), rtol(z), 1e-7, "gradient");

        double[] prior = new double[k];
        Arrays.fill(prior, 1.0 / (k - 1));
        prior[5] = 0;
        assertMatchesHand(labels, sparse, z, null, 0.1, null, prior);
    }

    /**
     * Rows whose largest logit, 900 above the rest, is in their last class or their first: a shift by anything less
     * than the true max overflows e^x (softmax is shift-invariant, so a max a little off would go unseen). Every tile
     * layout: K = 10 and 1000, 'c' and 'f' order, 130 rows (bulk column reads).
     */
    @ParameterizedTest(name = "{0} sparse={1} {2}")
    @MethodSource("typesLabelFormsAndOrders")
    void theLargestLogitInTheFirstOrLastClassSetsTheShift(DataType type, boolean sparse, char order) {
        for (int k : new int[] {10, 1000}) {
            int n = 130;
            INDArray z = logits(type, n, k, 0, 42);
            for (int r = 0; r < n; r += 2) {
                int c = r % 4 == 0 ? k - 1 : 0;
                z.putScalar(r, c, z.getDouble(r, c) + 900);
            }
            INDArray idx = indices(n, k, DataType.INT32);
            assertMatchesHand(sparse ? idx : oneHot(idx, k, type), sparse, z.dup(order), null, 0.1, null, null);
        }
    }

    static Stream<Arguments> typesLabelFormsAndOrders() {
        return Stream.of(DataType.FLOAT, DataType.DOUBLE).flatMap(type -> Stream.of(true, false).flatMap(
                sparse -> Stream.of(Arguments.of(type, sparse, 'c'), Arguments.of(type, sparse, 'f'))));
    }

    static Stream<Arguments> reusedGeometries() {
        return Stream.of(DataType.FLOAT, DataType.DOUBLE).flatMap(type -> Stream.of(
                Arguments.of(type, 300, 1000, 'f'), Arguments.of(type, 300, 1000, 'c'), Arguments.of(type, 200, 70, 'c'),
                Arguments.of(type, 200, 70, 'f'), Arguments.of(type, 150, 10, 'c'), Arguments.of(type, 150, 10, 'f')));
    }

    // ---- sizes and extremes ---------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} K={1} N={2}")
    @MethodSource("sizes")
    void binaryAndLargeClassCountsAndSingleExamples(DataType type, int k, int n) {
        INDArray z = logits(type, n, k, 0, 13);
        INDArray idx = indices(n, k, DataType.INT64);
        assertMatchesHand(idx, true, z, null, 0.1, null, null);
        assertMatchesHand(oneHot(idx, k, type), false, z, null, 0.1, null, null);
    }

    static Stream<Arguments> sizes() {
        return Stream.of(DataType.FLOAT, DataType.DOUBLE).flatMap(type -> Stream.of(
                Arguments.of(type, 2, 9), Arguments.of(type, 1000, 3), Arguments.of(type, 2, 1),
                Arguments.of(type, 1000, 1), Arguments.of(type, 10, 1)));
    }

    @ParameterizedTest(name = "{0} offset {1} {2}")
    @MethodSource("offsets")
    void hugeLogitsAreExactInBothPrecisions(DataType type, double offset, char order) {
        INDArray z = logits(type, order == 'c' ? 6 : 130, 1000, offset, 14).dup(order); // 'f': float tiles, bulk reads
        int n = (int) z.size(0);
        INDArray idx = indices(n, 1000, DataType.INT32);
        assertMatchesHand(idx, true, z, null, 0.1, null, null);
        assertMatchesHand(oneHot(idx, 1000, type), false, z, null, 0.1, null, null);
        INDArray small = logits(type, 5, 5, -offset, 15);
        assertMatchesHand(oneHot(indices(5, 5, DataType.INT32), 5, type), false, small, null, 0.1, WEIGHTS_5, PRIOR_5);
    }

    static Stream<Arguments> offsets() {
        return Stream.of(DataType.FLOAT, DataType.DOUBLE).flatMap(type -> Stream.of(1e3, 1e4).flatMap(
                offset -> Stream.of(Arguments.of(type, offset, 'c'), Arguments.of(type, offset, 'f'))));
    }

    @Test
    void largeLogitsKeepTheLossExactToFloatPrecisionWhereTheDoubleReferenceIsTiny() {
        // confident rows: loss ~ 1e-4; the shift by the row max keeps it exact relative to itself
        INDArray z = Nd4j.createFromArray(new float[][] {{10_000f, 9_990f, 9_985f}, {-10_000f, -10_012f, -10_020f}});
        assertMatchesHand(oneHot(Nd4j.createFromArray(0, 0).reshape(2, 1), 3, DataType.FLOAT), false, z, null, 0,
                null, null);
    }

    /**
     * The same for the SIMD kernel's float tiles (K = 300 in 'c' order, row-major, and 'f' order, column-major; e^x in
     * float arithmetic): confident rows whose loss is 1e-5 to 1e-4 stay within 1e-6 of it, as the float exp's error
     * scales with the terms below the row's largest.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(chars = {'c', 'f'})
    void confidentRowsOfManyClassesKeepTheirTinyLossExactInFloatTiles(char order) {
        int n = 140;
        int k = 300;
        Nd4j.getRandom().setSeed(43);
        INDArray z = Nd4j.rand(DataType.DOUBLE, n, k).muli(-8).subi(14).addi(10_000).castTo(DataType.FLOAT).dup(order);
        INDArray idx = indices(n, k, DataType.INT32);
        for (int r = 0; r < n; r++) {
            z.putScalar(r, idx.getInt(r, 0), 10_000f);
        }
        assertMatchesHand(oneHot(idx, k, DataType.FLOAT), false, z, null, 0, null, null);
        assertMatchesHand(idx, true, z, null, 0, null, null);
    }

    /**
     * Scratch tiles are kept between calls by geometry: at K = 1 a row-major tile steps rows by 1 as a column-major one
     * does, and a call of one layout must not take the other's (a column-major call took a row-major tile without its
     * column scratch and failed). A 'c' call, then a column of an 'f' array (strides [1, 10]), then 'c' again.
     */
    @Test
    void aTileKeptFromOneLayoutServesNoCallOfTheOtherAtOneClass() {
        Nd4j.getRandom().setSeed(47);
        INDArray labels = Nd4j.ones(DataType.DOUBLE, 10, 1);
        INDArray rowMajor = Nd4j.rand(DataType.DOUBLE, 10, 1).muli(6).subi(3);
        INDArray column = Nd4j.rand(DataType.DOUBLE, 10, 10).dup('f').get(all(), interval(3, 4));
        assertEquals(10, column.stride(1), "a column of an 'f' array: rows contiguous, a class 10 elements apart");
        for (INDArray z : List.of(rowMajor, column, rowMajor)) {
            assertMatchesHand(labels, false, z, null, 0.1, null, null);
        }
    }

    /**
     * Scratch tiles are kept in one pool for both kernels: a float tile the SIMD kernel kept (no double scratch: its
     * e^x is in float) must not serve the scalar kernel's call of the same geometry (whose float tiles hold e^x in
     * double; it failed with a NullPointerException). FLOAT [256,1008] (K used by no other test, so the other kernel
     * makes its own tiles; a whole number of vectors, so 'c' tiles match at every width) in 'f' and 'c' order: the
     * other kernels first, then this one.
     */
    @Test
    void aTileKeptByOneKernelServesAnotherOnlyWithTheScratchItNeeds() {
        for (char order : new char[] {'f', 'c'}) {
            INDArray z = logits(DataType.FLOAT, 256, 1008, 0, 48).dup(order);
            INDArray idx = indices(256, 1008, DataType.INT32);
            SoftmaxXent.Inputs in = new SoftmaxXent.Inputs(idx, true, z, null, 0.1, null, null);
            for (SoftmaxXent other : Kernels.all()) {
                if (other != kernel) {
                    other.run(in, SoftmaxXent.Output.SCORE_AND_GRADIENT);
                }
            }
            assertMatchesHand(idx, true, z, null, 0.1, null, null);
        }
    }

    // ---- layouts ------------------------------------------------------------------------------------------------

    static Stream<Arguments> layouts() {
        return Stream.of(DataType.FLOAT, DataType.DOUBLE).flatMap(type -> Stream.of("c", "f", "rows", "columns",
                "fColumns").map(layout -> Arguments.of(type, layout)));
    }

    /** A [n,k] array of the given layout holding the values of {@code values}: 'c', 'f', or a view into a bigger one. */
    private static INDArray laidOut(INDArray values, String layout) {
        long n = values.size(0);
        long k = values.size(1);
        return switch (layout) {
            case "c" -> values.dup('c');
            case "f" -> values.dup('f');
            case "rows" -> {
                INDArray big = Nd4j.valueArrayOf(new long[] {n + 5, k}, Double.NaN, values.dataType());
                INDArray view = big.get(interval(3, 3 + n), all());
                view.assign(values);
                yield view;
            }
            case "columns" -> {
                INDArray big = Nd4j.valueArrayOf(new long[] {n, k + 4}, Double.NaN, values.dataType());
                INDArray view = big.get(all(), interval(2, 2 + k));
                view.assign(values);
                yield view;
            }
            case "fColumns" -> {
                INDArray big = Nd4j.createUninitialized(values.dataType(), new long[] {n + 3, k + 4}, 'f')
                        .assign(Double.NaN);
                INDArray view = big.get(interval(1, 1 + n), interval(2, 2 + k));
                view.assign(values);
                yield view;
            }
            default -> throw new IllegalArgumentException(layout);
        };
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("layouts")
    void anyLayoutOfLogitsAndLabelsGivesTheSameNumbers(DataType type, String layout) {
        for (int[] nk : new int[][] {{9, 5}, {40, 3}, {3, 70}}) {
            int n = nk[0];
            int k = nk[1];
            INDArray z = laidOut(logits(type, n, k, 5, 16), layout);
            INDArray idx = indices(n, k, DataType.INT32);
            INDArray mask = Nd4j.ones(type, n, 1).putScalar(1, 0);
            double[] weights = k == 5 ? WEIGHTS_5 : null;
            assertMatchesHand(laidOut(oneHot(idx, k, type), layout), false, z, mask, 0.1, weights, null);
            assertMatchesHand(idx, true, z, mask, 0.1, weights, null);
            assertMatchesHand(oneHot(idx, k, type).dup('f'), false, z, null, 0.2, null, null);
        }
    }

    @Test
    void indexLabelsAsAViewOfABiggerArray() {
        INDArray z = logits(DataType.FLOAT, 6, 4, 0, 17);
        INDArray big = Nd4j.createFromArray(new int[][] {{9, 0}, {9, 3}, {9, 1}, {9, 2}, {9, 0}, {9, 1}});
        assertMatchesHand(big.getColumn(1, true), true, z, null, 0.1, null, null);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"INT", "LONG", "FLOAT", "DOUBLE", "SHORT", "BYTE", "UBYTE"})
    void indexLabelsOfAnyNumericTypeAsColumnOrVector(DataType indexType) {
        INDArray z = logits(DataType.FLOAT, 8, 6, 0, 18);
        INDArray idx = indices(8, 6, indexType);
        assertMatchesHand(idx, true, z, null, 0.1, null, null);
        assertMatchesHand(idx.reshape(8), true, z, null, 0.1, null, null);
        INDArray mask = Nd4j.createFromArray(1, 1, 0, 1, 0, 1, 1, 1).castTo(indexType);
        assertMatchesHand(idx, true, z, mask, 0.1, null, null);
    }

    // ---- masks --------------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} padding {1}")
    @MethodSource("paddings")
    void maskedClassIndicesAreNeverRead(DataType indexType, double padding) {
        INDArray z = logits(DataType.FLOAT, 5, 4, 0, 19);
        INDArray idx = Nd4j.createFromArray(2.0, padding, 1, padding, 3).reshape(5, 1).castTo(indexType);
        INDArray mask = Nd4j.createFromArray(1f, 0, 1, 0, 1).reshape(5, 1);
        assertMatchesHand(idx, true, z, mask, 0.1, null, null);
        assertMatchesHand(idx, true, z, mask.reshape(5), 0.1, null, null);
    }

    static Stream<Arguments> paddings() {
        return Stream.of(Arguments.of(DataType.FLOAT, -1.0), Arguments.of(DataType.FLOAT, Double.NaN),
                Arguments.of(DataType.DOUBLE, 1e9), Arguments.of(DataType.INT32, -1.0),
                Arguments.of(DataType.INT64, -100.0));
    }

    @Test
    void maskedDenseLabelsAreNeverRead() {
        INDArray z = logits(DataType.DOUBLE, 3, 4, 0, 20);
        INDArray y = Nd4j.createFromArray(new double[][] {{0, 1, 0, 0}, {Double.NaN, -1, Double.NaN, 5}, {0, 0, 0, 1}});
        INDArray mask = Nd4j.createFromArray(1.0, 0, 1).reshape(3, 1);
        assertMatchesHand(y, false, z, mask, 0.1, new double[] {1, 2, 3, 4}, null);
    }

    @ParameterizedTest(name = "sparse={0}")
    @ValueSource(booleans = {false, true})
    void fullyMaskedBatchScoresZeroWithAZeroGradient(boolean sparse) {
        INDArray z = logits(DataType.FLOAT, 4, 3, 0, 21);
        INDArray labels = sparse ? Nd4j.createFromArray(-1, -1, -1, -1).reshape(4, 1)
                : Nd4j.valueArrayOf(new long[] {4, 3}, Float.NaN, DataType.FLOAT);
        INDArray mask = Nd4j.zeros(DataType.FLOAT, 4, 1);
        SoftmaxXent.Inputs in = new SoftmaxXent.Inputs(labels, sparse, z, mask, 0.1, null, null);
        SoftmaxXent.Result both = kernel.run(in, SoftmaxXent.Output.SCORE_AND_GRADIENT);
        assertEquals(0.0, both.score());
        assertArrayEquals(new double[4], values(kernel.run(in, SoftmaxXent.Output.ROW_LOSSES).rowLosses()));
        assertEquals(Nd4j.zeros(DataType.FLOAT, 4, 3), both.gradient());
    }

    // ---- column blocks ----------------------------------------------------------------------------------------------

    static Stream<Arguments> blockCases() {
        Stream.Builder<Arguments> out = Stream.builder();
        for (String form : List.of("indices", "one-hot", "one-hot 'f'", "soft")) {
            for (boolean masked : new boolean[] {false, true}) {
                for (boolean weighted : new boolean[] {false, true}) {
                    out.add(Arguments.of(form, masked, weighted, !weighted));
                }
            }
        }
        return out.build();
    }

    /**
     * FLOAT 'f'-order logits of 1000 classes run in two column blocks whose row sums are merged: rows whose largest
     * logit is 900 above the rest in one block (the other block's terms vanish), rows 5 above (both blocks count),
     * offset by 1e4; every label form, mask, class weights and a prior.
     */
    @ParameterizedTest(name = "{0} mask={1} weights={2} prior={3}")
    @MethodSource("blockCases")
    void columnBlocksMergeTheRowsExactly(String form, boolean masked, boolean weighted, boolean customPrior) {
        int n = 300;
        int k = 1000;
        INDArray z = logits(DataType.FLOAT, n, k, 1e4, 51);
        for (int r = 0; r < n; r++) {
            int c = r % 2 == 0 ? k - 1 : r % 7;
            z.putScalar(r, c, z.getDouble(r, c) + (r % 3 == 0 ? 900 : r % 3 == 1 ? 5 : 0));
        }
        z = z.dup('f');
        INDArray idx = indices(n, k, DataType.INT32);
        INDArray oneHot = oneHot(idx, k, DataType.FLOAT);
        INDArray labels = switch (form) {
            case "indices" -> idx;
            case "one-hot" -> oneHot;
            case "one-hot 'f'" -> oneHot.dup('f');
            default -> oneHot.mul(0.7).addi(0.3 / k); // no zero: laid out as label tiles
        };
        INDArray mask = masked ? Nd4j.ones(DataType.FLOAT, n, 1).putScalar(4, 0).putScalar(n - 1, 0) : null;
        double[] weights = weighted ? new double[k] : null;
        double[] prior = customPrior ? new double[k] : null;
        for (int c = 0; c < k; c++) {
            if (weighted) {
                weights[c] = 0.5 + (c % 5) * 0.25;
            }
            if (customPrior) {
                prior[c] = (1 + c % 3) / (2.0 * k);
            }
        }
        long before = ((CpuSoftmaxXent) kernel).blockCalls();
        assertMatchesHand(labels, form.equals("indices"), z, mask, 0.1, weights, prior);
        assertEquals(inBlocks(k), ((CpuSoftmaxXent) kernel).blockCalls() > before, "ran in column blocks");
    }

    /**
     * Whether the kernel runs FLOAT 'f'-order logits of K classes in column blocks: where it keeps blocks of K/2 as
     * float tiles (the SIMD kernel at 64-bit vectors does not).
     */
    private boolean inBlocks(int k) {
        return ((CpuSoftmaxXent) kernel).floatTiles(k / CpuSoftmaxXent.BLOCKS, false);
    }

    /**
     * Blocks of 500 and 501 classes (K = 1001) over 100 rows (the SIMD kernel reads such short columns element by
     * element, unstaged), with class weights and a prior together and a masked row.
     */
    @ParameterizedTest(name = "sparse={0}")
    @ValueSource(booleans = {true, false})
    void columnBlocksOfUnequalWidthOverFewRows(boolean sparse) {
        int n = 100;
        int k = 1001;
        INDArray z = logits(DataType.FLOAT, n, k, 1e3, 54).dup('f');
        INDArray idx = indices(n, k, DataType.INT32);
        double[] weights = new double[k];
        double[] prior = new double[k];
        for (int c = 0; c < k; c++) {
            weights[c] = 0.25 + (c % 4) * 0.5;
            prior[c] = (1 + c % 5) / (3.0 * k);
        }
        INDArray mask = Nd4j.ones(DataType.FLOAT, n, 1).putScalar(17, 0);
        long before = ((CpuSoftmaxXent) kernel).blockCalls();
        assertMatchesHand(sparse ? idx : oneHot(idx, k, DataType.FLOAT), sparse, z, mask, 0.2, weights, prior);
        assertEquals(inBlocks(k), ((CpuSoftmaxXent) kernel).blockCalls() > before, "ran in column blocks");
    }

    /** Two threads calling at once share the kept tiles' pool: every call gives the bits of a call alone. */
    @Test
    void concurrentCallsInColumnBlocksGiveTheBitsOfACallAlone() throws InterruptedException, ExecutionException {
        int n = 256;
        int k = 1000;
        INDArray z = logits(DataType.FLOAT, n, k, 0, 55).dup('f');
        INDArray labels = oneHot(indices(n, k, DataType.INT32), k, DataType.FLOAT);
        SoftmaxXent.Inputs in = new SoftmaxXent.Inputs(labels, false, z, null, 0.1, null, null);
        SoftmaxXent.Result alone = kernel.run(in, SoftmaxXent.Output.SCORE_AND_GRADIENT);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            List<Future<SoftmaxXent.Result>> results = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                results.add(threads.submit(() -> kernel.run(in, SoftmaxXent.Output.SCORE_AND_GRADIENT)));
            }
            for (Future<SoftmaxXent.Result> result : results) {
                assertEquals(alone.score(), result.get().score(), "total");
                assertEquals(alone.gradient(), result.get().gradient(), "gradient");
            }
        } finally {
            threads.shutdown();
        }
    }

    /**
     * A row with a -inf logit under a positive target (the prior's) has an infinite loss: the blocks' sums cannot be
     * merged, and the call runs in row chunks, which compute that row term by term. Its gradient call, staged again by
     * the row chunks, still keeps its sum for the score call that follows: the same double as a score afresh.
     */
    @Test
    void aRowWithAnInfiniteLogitSendsTheCallToRowChunks() {
        int n = 300;
        int k = 1000;
        INDArray z = logits(DataType.FLOAT, n, k, 0, 52).dup('f');
        z.putScalar(7, 600, Double.NEGATIVE_INFINITY);
        INDArray idx = indices(n, k, DataType.INT32);
        double[][] zs = z.castTo(DataType.DOUBLE).toDoubleMatrix();
        double[][] y = denseLabels(idx, true, n, k, null);
        long before = ((CpuSoftmaxXent) kernel).blockFallbacks();
        SoftmaxXent.Inputs in = new SoftmaxXent.Inputs(idx, true, z, null, 0.1, null, null);
        double[] rows = values(kernel.run(in, SoftmaxXent.Output.ROW_LOSSES).rowLosses());
        assertEquals(inBlocks(k), ((CpuSoftmaxXent) kernel).blockFallbacks() > before, "sent to row chunks");
        double[] expectedRows = Hand.rowLosses(zs, y, 0.1, null, null, null);
        assertEquals(Double.POSITIVE_INFINITY, rows[7], "the row with -inf under a positive target");
        rows[7] = 0;
        expectedRows[7] = 0;
        assertClose(expectedRows, rows, 1e-6, 0, "the other rows");
        long hits = ((CpuSoftmaxXent) kernel).memo().hits();
        assertClose(Nd4j.create(Hand.gradient(zs, y, 0.1, null, null, null)),
                kernel.run(in, SoftmaxXent.Output.GRADIENT).gradient(), 1e-6, 1e-7, "gradient");
        double kept = kernel.run(in, SoftmaxXent.Output.SCORE).score();
        assertEquals(hits + 1, ((CpuSoftmaxXent) kernel).memo().hits(), "the score call took the kept sum");
        assertEquals(kernel.run(in, SoftmaxXent.Output.SCORE).score(), kept, "the same double as a fresh score");
        assertEquals(Double.POSITIVE_INFINITY, kept, "the row with -inf under a positive target");
    }

    /**
     * In column blocks a gradient call keeps its sum for the score call (one-hot labels recorded row by row from
     * whichever block holds each row's entry), the same double a score call computes afresh; a label moved to the
     * other block is computed afresh.
     */
    @Test
    void aScoreAfterAGradientInColumnBlocksTakesItsKeptSum() {
        int n = 256;
        int k = 1000;
        INDArray z = logits(DataType.FLOAT, n, k, 0, 53).dup('f');
        INDArray labels = oneHot(indices(n, k, DataType.INT32), k, DataType.FLOAT);
        CpuSoftmaxXent cpu = (CpuSoftmaxXent) kernel;
        SoftmaxXent.Inputs in = new SoftmaxXent.Inputs(labels, false, z, null, 0.1, null, null);
        long hits = cpu.memo().hits();
        long blocks = cpu.blockCalls();
        kernel.run(in, SoftmaxXent.Output.GRADIENT);
        assertTrue(cpu.memo().latestOneHot(), "one-hot rows recorded");
        double kept = kernel.run(in, SoftmaxXent.Output.SCORE).score();
        assertEquals(hits + 1, cpu.memo().hits(), "the score call took the kept sum");
        double fresh = kernel.run(in, SoftmaxXent.Output.SCORE).score();
        assertEquals(hits + 1, cpu.memo().hits(), "nothing kept for a second score call");
        assertEquals(fresh, kept, "the same double");
        assertEquals(inBlocks(k) ? blocks + 2 : blocks, cpu.blockCalls(), "the gradient and the fresh score call");

        INDArray moved = labels.dup();
        int row = 3;
        int from = (int) indices(n, k, DataType.INT32).getDouble(row, 0);
        moved.putScalar(row, from, 0).putScalar(row, from < k / 2 ? k - 1 : 0, 1);
        kernel.run(in, SoftmaxXent.Output.GRADIENT);
        SoftmaxXent.Inputs other = new SoftmaxXent.Inputs(moved, false, z, null, 0.1, null, null);
        double changed = kernel.run(other, SoftmaxXent.Output.SCORE).score();
        assertEquals(hits + 1, cpu.memo().hits(), "a moved label is not the kept one");
        assertEquals(kernel.run(other, SoftmaxXent.Output.SCORE).score(), changed, "computed afresh");
        assertFalse(changed == kept, "a different score");
    }

    // ---- parallel ---------------------------------------------------------------------------------------------------

    static Stream<Arguments> largeShapes() {
        return Stream.of(Arguments.of(600, 1000, false), Arguments.of(600, 1000, true),
                Arguments.of(20_000, 10, false), Arguments.of(20_000, 10, true), Arguments.of(70, 3000, true),
                Arguments.of(300, 3000, false), // K > 2048: the SIMD kernel's 'f'-order tiles stay 16 rows deep
                Arguments.of(300, 1000, false), Arguments.of(300, 1000, true)); // column blocks
    }

    @ParameterizedTest(name = "[{0},{1}] sparse={2}")
    @MethodSource("largeShapes")
    void largeBatchesGiveTheSameBitsWhateverTheThreadCount(int n, int k, boolean sparse)
            throws InterruptedException, ExecutionException {
        INDArray z = logits(DataType.FLOAT, n, k, 0, 22).dup('f');
        INDArray idx = indices(n, k, DataType.INT32);
        INDArray labels = sparse ? idx : oneHot(idx, k, DataType.FLOAT);
        INDArray mask = Nd4j.ones(DataType.FLOAT, n, 1).putScalar(n / 2, 0);
        assertMatchesHand(labels, sparse, z, mask, 0.1, null, null);

        SoftmaxXent.Inputs in = new SoftmaxXent.Inputs(labels, sparse, z, mask, 0.1, null, null);
        SoftmaxXent.Result common = kernel.run(in, SoftmaxXent.Output.SCORE_AND_GRADIENT);
        INDArray commonRows = kernel.run(in, SoftmaxXent.Output.ROW_LOSSES).rowLosses();
        for (int threads : new int[] {1, 3}) {
            ForkJoinPool pool = new ForkJoinPool(threads); // a parallel stream runs in the pool it is called from
            try {
                SoftmaxXent.Result both = pool.submit(() -> kernel.run(in, SoftmaxXent.Output.SCORE_AND_GRADIENT))
                        .get();
                INDArray rows = pool.submit(() -> kernel.run(in, SoftmaxXent.Output.ROW_LOSSES).rowLosses()).get();
                assertEquals(common.score(), both.score(), threads + " threads: total");
                assertEquals(commonRows, rows, threads + " threads: rows");
                assertEquals(common.gradient(), both.gradient(), threads + " threads: gradient");
            } finally {
                pool.shutdown();
            }
        }
    }

    // ---- bad input ----------------------------------------------------------------------------------------------

    static Stream<Arguments> badIndices() {
        return Stream.of(Arguments.of(DataType.FLOAT, 5.0, "must be < numClasses = 3, got 5.0"),
                Arguments.of(DataType.INT32, 3.0, "must be < numClasses = 3, got 3.0"),
                Arguments.of(DataType.INT64, -1.0, "must be >= 0, got -1.0"),
                Arguments.of(DataType.DOUBLE, 1.5, "must be whole numbers, got 1.5"),
                Arguments.of(DataType.FLOAT, Double.NaN, "must be finite, got NaN"),
                Arguments.of(DataType.DOUBLE, Double.POSITIVE_INFINITY, "must be finite, got Infinity"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("badIndices")
    void badUnmaskedIndexIsNamed(DataType type, double bad, String message) {
        INDArray z = logits(DataType.FLOAT, 4, 3, 0, 23);
        INDArray idx = Nd4j.createFromArray(0.0, 2, bad, 1).reshape(4, 1).castTo(type);
        for (SoftmaxXent.Output output : SoftmaxXent.Output.values()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> kernel.run(new SoftmaxXent.Inputs(idx, true, z, null, 0.1, null, null), output));
            assertTrue(e.getMessage().contains("class indices " + message), e.getMessage());
        }
    }

    @Test
    void wrongVectorLengthsAreRefused() {
        INDArray z = logits(DataType.FLOAT, 4, 3, 0, 24);
        INDArray idx = indices(4, 3, DataType.INT32);
        assertThrows(IllegalArgumentException.class, () -> kernel.run(
                new SoftmaxXent.Inputs(idx, true, z, null, 0.1, new double[2], null), SoftmaxXent.Output.SCORE));
        assertThrows(IllegalArgumentException.class, () -> kernel.run(
                new SoftmaxXent.Inputs(idx, true, z, null, 0.1, null, new double[4]), SoftmaxXent.Output.SCORE));
    }

    @Test
    void supportsOnlyWhatTheKernelReads() {
        INDArray z = logits(DataType.FLOAT, 4, 3, 0, 25);
        INDArray y = oneHot(indices(4, 3, DataType.INT32), 3, DataType.FLOAT);
        INDArray idx = indices(4, 3, DataType.INT32);
        assertTrue(kernel.supports(y, false, z, null));
        assertTrue(kernel.supports(idx, true, z, Nd4j.ones(DataType.INT32, 4)));
        assertTrue(kernel.supports(y.castTo(DataType.DOUBLE), false, z.castTo(DataType.DOUBLE), null));

        assertFalse(kernel.supports(y.castTo(DataType.HALF), false, z.castTo(DataType.HALF), null), "HALF");
        assertFalse(kernel.supports(y.castTo(DataType.BFLOAT16), false, z.castTo(DataType.BFLOAT16), null),
                "BFLOAT16");
        assertFalse(kernel.supports(idx, true, z.castTo(DataType.HALF), null), "HALF logits, index labels");
        assertFalse(kernel.supports(y, false, z, Nd4j.ones(DataType.FLOAT, 4, 3)), "per-output mask");
        assertFalse(kernel.supports(y.castTo(DataType.DOUBLE), false, z, null), "label type differs");
        assertFalse(kernel.supports(y.castTo(DataType.INT32), false, z, null), "integer one-hot labels");
        assertFalse(kernel.supports(y, true, z, null), "dense labels as indices");
        assertFalse(kernel.supports(idx, false, z, null), "indices as dense labels");
        assertFalse(kernel.supports(idx.castTo(DataType.HALF), true, z, null), "HALF indices");
        assertFalse(kernel.supports(idx, true, z, Nd4j.ones(DataType.BOOL, 4, 1)), "BOOL mask");
        assertFalse(kernel.supports(y.reshape(4, 3, 1), false, z.reshape(4, 3, 1), null), "rank 3");
        assertFalse(kernel.supports(y.getRows(0, 1), false, z, null), "shape differs");
        assertFalse(kernel.supports(Nd4j.create(DataType.FLOAT, 0, 3), false,
                Nd4j.create(DataType.FLOAT, 0, 3), null), "empty");
    }
}
