package io.github.labelsmoothing.bench;

import io.github.labelsmoothing.LabelSmoothing;
import io.github.labelsmoothing.LossLabelSmoothing;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.loss.LossReduce;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Score plus gradient of a softmax output, called as DL4J layers call them ({@code computeScore}, then
 * {@code computeGradient}), inside a training-style workspace: ours vs DL4J's {@code LossMCXENT} on labels smoothed
 * beforehand (the smoothing itself not timed) vs ND4J's SameDiff {@code softmaxCrossEntropy(..., labelSmoothing)}
 * with its gradient; and our {@code computeGradientAndScore}.
 */
@State(Scope.Thread)
public class LossBenchmark {
    static final double S = 0.1;
    static final IActivation SOFTMAX = Activation.SOFTMAX.getActivationFunction();

    /** Minibatch x classes (as in every benchmark of the suite, so one JMH {@code -p shape=...} resizes all). */
    @Param({"256x1000", "2048x10"})
    public String shape;

    BenchData data;
    INDArray smoothedLabels;
    final LossLabelSmoothing ours = new LossLabelSmoothing(S);
    final LossMCXENT mcxent = new LossMCXENT();
    SameDiff sameDiff;

    @Setup
    public void setUp() {
        data = new BenchData(shape, 42);
        smoothedLabels = LabelSmoothing.smoothLabels(data.oneHot, S);
        sameDiff = SameDiff.create();
        SDVariable labels = sameDiff.placeHolder("labels", DataType.FLOAT, -1, data.k);
        SDVariable logits = sameDiff.var("logits", data.logits.dup());
        sameDiff.loss().softmaxCrossEntropy("loss", labels, logits, null, LossReduce.SUM, S);
        sameDiff.setLossVariables("loss");
    }

    @Benchmark
    public void ours(Blackhole bh) {
        try (MemoryWorkspace ws = BenchData.workspace()) {
            bh.consume(ours.computeScore(data.oneHot, data.logits, SOFTMAX, null, true));
            bh.consume(ours.computeGradient(data.oneHot, data.logits, SOFTMAX, null));
        }
    }

    @Benchmark
    public void oursGradientAndScore(Blackhole bh) {
        try (MemoryWorkspace ws = BenchData.workspace()) {
            bh.consume(ours.computeGradientAndScore(data.oneHot, data.logits, SOFTMAX, null, true));
        }
    }

    @Benchmark
    public void mcxentOnSmoothedLabels(Blackhole bh) {
        try (MemoryWorkspace ws = BenchData.workspace()) {
            bh.consume(mcxent.computeScore(smoothedLabels, data.logits, SOFTMAX, null, true));
            bh.consume(mcxent.computeGradient(smoothedLabels, data.logits, SOFTMAX, null));
        }
    }

    @Benchmark
    public void sameDiffSoftmaxCrossEntropy(Blackhole bh) {
        Object result = sameDiff.calculateGradientsAndOutputs(Map.of("labels", data.oneHot),
                List.of("loss"), List.of("logits"));
        bh.consume(result);
    }
}
