package io.github.labelsmoothing.bench;

import io.github.labelsmoothing.LabelSmoothing;
import io.github.labelsmoothing.LossLabelSmoothing;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Sparse labels over a large vocabulary, [64, 32000] by default: ours on class indices (no dense target) vs DL4J's
 * {@code LossSparseMCXENT} (which builds a one-hot target, unsmoothed) vs {@code LossMCXENT} on smoothed dense labels.
 */
@State(Scope.Thread)
public class SparseLossBenchmark {
    /** Minibatch x classes. */
    @Param("64x32000")
    public String shape;

    BenchData data;
    INDArray smoothedLabels;
    final LossLabelSmoothing ours = new LossLabelSmoothing(LossBenchmark.S, new LossSparseMCXENT());
    final LossSparseMCXENT sparse = new LossSparseMCXENT();
    final LossMCXENT mcxent = new LossMCXENT();

    @Setup
    public void setUp() {
        data = new BenchData(shape, 7);
        smoothedLabels = LabelSmoothing.smoothLabels(data.oneHot, LossBenchmark.S);
    }

    @Benchmark
    public void oursSparse(Blackhole bh) {
        try (MemoryWorkspace ws = BenchData.workspace()) {
            bh.consume(ours.computeScore(data.indices, data.logits, LossBenchmark.SOFTMAX, null, true));
            bh.consume(ours.computeGradient(data.indices, data.logits, LossBenchmark.SOFTMAX, null));
        }
    }

    @Benchmark
    public void sparseMcxentUnsmoothed(Blackhole bh) {
        try (MemoryWorkspace ws = BenchData.workspace()) {
            bh.consume(sparse.computeScore(data.indices, data.logits, LossBenchmark.SOFTMAX, null, true));
            bh.consume(sparse.computeGradient(data.indices, data.logits, LossBenchmark.SOFTMAX, null));
        }
    }

    @Benchmark
    public void mcxentOnSmoothedLabels(Blackhole bh) {
        try (MemoryWorkspace ws = BenchData.workspace()) {
            bh.consume(mcxent.computeScore(smoothedLabels, data.logits, LossBenchmark.SOFTMAX, null, true));
            bh.consume(mcxent.computeGradient(smoothedLabels, data.logits, LossBenchmark.SOFTMAX, null));
        }
    }
}
