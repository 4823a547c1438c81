package io.github.labelsmoothing.bench;

import io.github.labelsmoothing.CpuSoftmaxXentAccess;
import io.github.labelsmoothing.LabelSmoothing;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The CPU kernel ({@code CpuSoftmaxXent}) called as a DL4J layer calls a loss, the score and then the gradient in two
 * calls, inside a training-style workspace, float32, with dense one-hot or class-index labels, vs DL4J's
 * {@code LossMCXENT} ({@code computeScore} + {@code computeGradient}) on labels smoothed beforehand (not timed).
 * preOutput in 'f' order, as DL4J's dense layers produce it, or 'c'. With a softmax activation
 * {@code LossMCXENT.computeGradient} works on {@code preOutput.dup()} and never writes preOutput (its in-place softmax
 * backprop is only for other activations), so both sides read the same array every call without a copy.
 */
@State(Scope.Thread)
public class KernelBenchmark {
    /** Minibatch x classes. */
    @Param({"256x1000", "2048x10"})
    public String shape;

    /** Layout of preOutput: 'f' as a dense layer hands it to the loss, or 'c'. */
    @Param({"f", "c"})
    public String order;

    BenchData data;
    INDArray preOutput;
    INDArray smoothedLabels;
    final LossMCXENT mcxent = new LossMCXENT();

    @Setup
    public void setUp() {
        int[] nk = BenchData.shape(shape);
        data = new BenchData(nk[0], nk[1], 42);
        preOutput = data.logits.dup(order.charAt(0));
        smoothedLabels = LabelSmoothing.smoothLabels(data.oneHot, LossBenchmark.S);
    }

    @Benchmark
    public void kernelDense(Blackhole bh) {
        scoreThenGradient(data.oneHot, false, bh);
    }

    @Benchmark
    public void kernelIndex(Blackhole bh) {
        scoreThenGradient(data.indices, true, bh);
    }

    private void scoreThenGradient(INDArray labels, boolean sparse, Blackhole bh) {
        try (MemoryWorkspace ws = BenchData.workspace()) {
            bh.consume(CpuSoftmaxXentAccess.run(labels, sparse, preOutput, null, LossBenchmark.S, null));
            INDArray gradient = Nd4j.createUninitialized(DataType.FLOAT, preOutput.shape(), 'c');
            bh.consume(CpuSoftmaxXentAccess.run(labels, sparse, preOutput, null, LossBenchmark.S, gradient));
            bh.consume(gradient);
        }
    }

    @Benchmark
    public void mcxentOnSmoothedLabels(Blackhole bh) {
        try (MemoryWorkspace ws = BenchData.workspace()) {
            bh.consume(mcxent.computeScore(smoothedLabels, preOutput, LossBenchmark.SOFTMAX, null, true));
            bh.consume(mcxent.computeGradient(smoothedLabels, preOutput, LossBenchmark.SOFTMAX, null));
        }
    }
}
