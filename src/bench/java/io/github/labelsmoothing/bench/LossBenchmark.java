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
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Gradient plus score of a softmax output, called as DL4J's {@code fit()} calls them ({@code computeGradient} in
 * backprop, then {@code computeScore} of the same batch), inside a training-style workspace: ours vs DL4J's {@code LossMCXENT} on labels smoothed
 * beforehand (the smoothing itself not timed) vs ND4J's SameDiff {@code softmaxCrossEntropy(..., labelSmoothing)}
 * with its gradient; ours with dense and class-index labels, on the CPU kernel and on the ND4J-op path (a fork with the
 * kernel switched off); our score alone, as evaluation calls it (no gradient call before it, whose summed loss it could
 * take); and our {@code computeGradientAndScore}. preOutput is in 'f' order, as a dense layer gives it,
 * or 'c'. Which CPU kernel runs depends on the JVM: the SIMD one with {@code --add-modules jdk.incubator.vector} (the
 * bench profile's default), the scalar one without ({@code -Dbench.jvmArgs=-Dnone}).
 */
@State(Scope.Thread)
public class LossBenchmark {
    /** SoftmaxXents.SWITCH (package-private there). */
    static final String KERNEL_SWITCH = "io.github.labelsmoothing.cpuKernel";
    static final double S = 0.1;
    static final IActivation SOFTMAX = Activation.SOFTMAX.getActivationFunction();

    /** Minibatch x classes (as in every benchmark of the suite, so one JMH {@code -p shape=...} resizes all). */
    @Param({"256x1000", "2048x10"})
    public String shape;

    BenchData data;
    INDArray smoothedLabels;
    final LossLabelSmoothing ours = new LossLabelSmoothing(S);
    final LossLabelSmoothing oursSparse = new LossLabelSmoothing(S, new LossSparseMCXENT());
    final LossMCXENT mcxent = new LossMCXENT();
    SameDiff sameDiff;
    /** The logits in the layout a layer hands the loss. */
    INDArray logits;

    /** Layout of preOutput: 'f' as DL4J's dense layers hand it to the loss, or 'c'. */
    @Param({"f", "c"})
    public String order;

    @Setup
    public void setUp() {
        data = new BenchData(shape, 42);
        logits = data.logits.dup(order.charAt(0));
        smoothedLabels = LabelSmoothing.smoothLabels(data.oneHot, S);
        sameDiff = SameDiff.create();
        SDVariable labels = sameDiff.placeHolder("labels", DataType.FLOAT, -1, data.k);
        SDVariable z = sameDiff.var("logits", data.logits.dup());
        sameDiff.loss().softmaxCrossEntropy("loss", labels, z, null, LossReduce.SUM, S);
        sameDiff.setLossVariables("loss");
    }

    /** As {@code fit()} calls the loss: the gradient, then the score (the CPU kernel on nd4j-native). */
    @Benchmark
    public void ours(Blackhole bh) {
        gradientThenScore(ours, data.oneHot, bh);
    }

    /** The same with class-index labels {@code [N,1]} over {@code LossSparseMCXENT}. */
    @Benchmark
    public void oursClassIndices(Blackhole bh) {
        gradientThenScore(oursSparse, data.indices, bh);
    }

    /** {@link #ours} on the whole-array ND4J-op path (the kernel switched off), the path CUDA runs. */
    @Benchmark
    @Fork(jvmArgsAppend = "-D" + KERNEL_SWITCH + "=false")
    public void oursNd4jOps(Blackhole bh) {
        gradientThenScore(ours, data.oneHot, bh);
    }

    /** {@link #oursClassIndices} on the ND4J-op path. */
    @Benchmark
    @Fork(jvmArgsAppend = "-D" + KERNEL_SWITCH + "=false")
    public void oursClassIndicesNd4jOps(Blackhole bh) {
        gradientThenScore(oursSparse, data.indices, bh);
    }

    private void gradientThenScore(LossLabelSmoothing loss, INDArray labels, Blackhole bh) {
        try (MemoryWorkspace ws = BenchData.workspace()) {
            bh.consume(loss.computeGradient(labels, logits, SOFTMAX, null));
            bh.consume(loss.computeScore(labels, logits, SOFTMAX, null, true));
        }
    }

    /** The score alone, as {@code score(DataSet)} and evaluation call it: computed in full. */
    @Benchmark
    public void oursScoreAlone(Blackhole bh) {
        try (MemoryWorkspace ws = BenchData.workspace()) {
            bh.consume(ours.computeScore(data.oneHot, logits, SOFTMAX, null, true));
        }
    }

    @Benchmark
    public void oursGradientAndScore(Blackhole bh) {
        try (MemoryWorkspace ws = BenchData.workspace()) {
            bh.consume(ours.computeGradientAndScore(data.oneHot, logits, SOFTMAX, null, true));
        }
    }

    @Benchmark
    public void mcxentOnSmoothedLabels(Blackhole bh) {
        try (MemoryWorkspace ws = BenchData.workspace()) {
            bh.consume(mcxent.computeGradient(smoothedLabels, logits, SOFTMAX, null));
            bh.consume(mcxent.computeScore(smoothedLabels, logits, SOFTMAX, null, true));
        }
    }

    @Benchmark
    public void sameDiffSoftmaxCrossEntropy(Blackhole bh) {
        Object result = sameDiff.calculateGradientsAndOutputs(Map.of("labels", data.oneHot),
                List.of("loss"), List.of("logits"));
        bh.consume(result);
    }
}
