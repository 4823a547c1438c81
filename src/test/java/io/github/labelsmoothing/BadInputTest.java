package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

/**
 * Every bad input of DESIGN's "Clear errors", through all three entry points: each throws
 * IllegalArgumentException whose message names the problem and the value, and leaves every input unchanged.
 */
class BadInputTest {
    private static final IActivation SOFTMAX = Activation.SOFTMAX.getActivationFunction();

    /** A rejected call and the arrays it was given, with snapshots to compare after. */
    private record Case(String name, Executable call, List<String> fragments, INDArray... inputs) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static INDArray labels() {
        return Nd4j.createFromArray(new double[][] {{0, 1, 0}, {1, 0, 0}});
    }

    private static INDArray logits() {
        return Nd4j.createFromArray(new double[][] {{0.5, -1, 2}, {3, 0, -2}});
    }

    static Stream<Case> cases() {
        List<Case> cases = new ArrayList<>();
        for (double s : new double[] {-0.1, 1.5, Double.NaN, Double.POSITIVE_INFINITY}) {
            String value = String.valueOf(s);
            INDArray l = labels();
            cases.add(new Case("smoothLabels s=" + value, () -> LabelSmoothing.smoothLabels(l, s),
                    List.of("smoothing", value), l));
            INDArray idx = Nd4j.createFromArray(0.0, 2.0);
            cases.add(new Case("smoothLabels(indices) s=" + value, () -> LabelSmoothing.smoothLabels(idx, 3, s),
                    List.of("smoothing", value), idx));
            cases.add(new Case("smoothBinaryLabels s=" + value, () -> LabelSmoothing.smoothBinaryLabels(l, s),
                    List.of("smoothing", value), l));
            cases.add(new Case("LossLabelSmoothing s=" + value, () -> new LossLabelSmoothing(s),
                    List.of("smoothing", value)));
            cases.add(new Case("PreProcessor s=" + value, () -> new LabelSmoothingPreProcessor(s),
                    List.of("smoothing", value)));
            cases.add(new Case("PreProcessor(s, K) s=" + value, () -> new LabelSmoothingPreProcessor(s, 3),
                    List.of("smoothing", value)));
            MultiLayerConfiguration mln = (MultiLayerConfiguration) ApplyToTest.headTypes().findFirst().orElseThrow()
                    .get()[1];
            String mlnJson = mln.toJson();
            cases.add(new Case("applyTo(MLN) s=" + value, () -> {
                try {
                    LabelSmoothing.applyTo(mln, s);
                } finally {
                    assertTrue(mlnJson.equals(mln.toJson()), "configuration changed");
                }
            }, List.of("smoothing", value)));
            ComputationGraphConfiguration cg = ApplyToTest.twoHeadGraph();
            cases.add(new Case("applyTo(CG) s=" + value, () -> LabelSmoothing.applyTo(cg, s),
                    List.of("smoothing", value)));
        }
        cases.add(new Case("null base", () -> new LossLabelSmoothing(0.1, null), List.of("base", "null")));

        INDArray l = labels();
        INDArray wide = Nd4j.zeros(DataType.DOUBLE, 2, 4);
        cases.add(new Case("loss shape mismatch", () -> new LossLabelSmoothing().computeScore(wide, logits(), SOFTMAX,
                null, true), List.of("[2, 4]", "[2, 3]"), wide));
        INDArray z = logits();
        INDArray badMask = Nd4j.ones(DataType.DOUBLE, 3, 1);
        cases.add(new Case("loss mask shape", () -> new LossLabelSmoothing().computeGradient(l, z, SOFTMAX, badMask),
                List.of("mask", "[3, 1]"), l, z, badMask));
        for (double[] bad : new double[][] {{0, -1}, {0, 1.5}, {3, 0}}) {
            INDArray idx = Nd4j.createFromArray(new double[][] {{bad[0]}, {bad[1]}});
            String value = String.valueOf(bad[0] != 0 ? bad[0] : bad[1]);
            cases.add(new Case("functional index " + value, () -> LabelSmoothing.smoothLabels(idx, 3, 0.1),
                    List.of("class indices", value), idx));
            INDArray zz = logits();
            cases.add(new Case("sparse loss index " + value, () -> new LossLabelSmoothing(0.1, new LossSparseMCXENT())
                    .computeGradient(idx, zz, SOFTMAX, null), List.of("class indices", value), idx, zz));
            DataSet ds = new DataSet(Nd4j.zeros(2, 2), idx);
            cases.add(new Case("preprocessor index " + value, () -> new LabelSmoothingPreProcessor(0.1, 3).preProcess(ds),
                    List.of("class indices", value), idx));
        }
        INDArray idx = Nd4j.createFromArray(0.0, 1.0);
        cases.add(new Case("numClasses 1", () -> LabelSmoothing.smoothLabels(idx, 1, 0.1), List.of("numClasses", "1"),
                idx));
        cases.add(new Case("preprocessor numClasses 0", () -> new LabelSmoothingPreProcessor(0.1, 0),
                List.of("numClasses", "0")));
        INDArray indexLabels = Nd4j.createFromArray(new double[][] {{2}, {0}});
        DataSet ds = new DataSet(Nd4j.zeros(2, 2), indexLabels);
        cases.add(new Case("index labels without numClasses", () -> new LabelSmoothingPreProcessor(0.1).preProcess(ds),
                List.of("numClasses", "2.0"), indexLabels));
        INDArray seq = Nd4j.zeros(DataType.DOUBLE, 1, 2, 3);
        INDArray seqMask = Nd4j.ones(DataType.DOUBLE, 1, 4);
        DataSet masked = new DataSet(Nd4j.zeros(1, 2, 3), seq, null, seqMask);
        cases.add(new Case("preprocessor mask shape", () -> new LabelSmoothingPreProcessor(0.1).preProcess(masked),
                List.of("mask", "[1, 4]"), seq, seqMask));
        INDArray ok = labels();
        INDArray bad = Nd4j.createFromArray(new double[][] {{7}, {1}});
        MultiDataSet mds = new MultiDataSet(new INDArray[] {Nd4j.zeros(2, 2)}, new INDArray[] {ok, bad});
        cases.add(new Case("multi data set, second array bad", () -> new LabelSmoothingPreProcessor(0.1).preProcess(mds),
                List.of("numClasses", "7.0"), ok, bad));
        cases.add(new Case("prior not a distribution", () -> new LossLabelSmoothing(0.1, new LossMCXENT(),
                new double[] {0.7, 0.7}), List.of("prior", "sum")));
        MultiLayerConfiguration mln = (MultiLayerConfiguration) ApplyToTest.headTypes().findFirst().orElseThrow().get()[1];
        cases.add(new Case("applyTo layer out of range", () -> LabelSmoothing.applyTo(mln, 0.1, 5),
                List.of("layer index", "5")));
        cases.add(new Case("applyTo null layer indices", () -> LabelSmoothing.applyTo(mln, 0.1, (int[]) null),
                List.of("layerIndices", "null")));
        cases.add(new Case("applyTo null layer names", () -> LabelSmoothing.applyTo(ApplyToTest.twoHeadGraph(), 0.1,
                (String[]) null), List.of("layerNames", "null")));
        INDArray y4 = Nd4j.createFromArray(new double[][] {{0, 1, 0, 0}});
        INDArray z4 = Nd4j.createFromArray(new double[][] {{0.5, -1, 2, 0}});
        for (boolean gradient : new boolean[] {false, true}) {
            LossLabelSmoothing threeClassPrior = new LossLabelSmoothing(0.1, new LossMCXENT(), new double[] {0.5, 0.3, 0.2});
            cases.add(new Case("prior of 3 classes on 4 outputs, " + (gradient ? "gradient" : "score"), () -> {
                if (gradient) {
                    threeClassPrior.computeGradient(y4, z4, SOFTMAX, null);
                } else {
                    threeClassPrior.computeScore(y4, z4, SOFTMAX, null, true);
                }
            }, List.of("prior has 3 entries", "4 classes"), y4, z4));
        }
        cases.add(new Case("empty labelsArrays", () -> LabelSmoothingPreProcessor.builder(0.1).labelsArrays(),
                List.of("labelsArrays", "at least one")));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rejectedWithANamedMessageAndNothingChanged(Case c) {
        double[][] before = new double[c.inputs().length][];
        for (int i = 0; i < before.length; i++) {
            before[i] = c.inputs()[i].dup().castTo(DataType.DOUBLE).ravel().toDoubleVector();
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, c.call(), c.name());
        for (String fragment : c.fragments()) {
            assertTrue(e.getMessage().contains(fragment), c.name() + ": '" + fragment + "' not in: " + e.getMessage());
        }
        for (int i = 0; i < before.length; i++) {
            assertArrayEquals(before[i], c.inputs()[i].castTo(DataType.DOUBLE).ravel().toDoubleVector(),
                    c.name() + ": input " + i + " changed");
        }
    }

}
