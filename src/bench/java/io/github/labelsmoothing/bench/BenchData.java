package io.github.labelsmoothing.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Shared inputs for the benchmarks: float32 logits, one-hot labels and class indices, and a training-style workspace. */
final class BenchData {
    /** Like DL4J's per-layer working memory: learns its size in the first loop, then reuses it. */
    static final WorkspaceConfiguration WORKSPACE = WorkspaceConfiguration.builder()
            .initialSize(0).overallocationLimit(0.05)
            .policyLearning(LearningPolicy.FIRST_LOOP).policyReset(ResetPolicy.BLOCK_LEFT)
            .policySpill(SpillPolicy.REALLOCATE).policyAllocation(AllocationPolicy.OVERALLOCATE).build();
    static final String WORKSPACE_ID = "BENCH_LOSS_WORKING_MEM";

    /** Minibatch size and number of classes. */
    final int n;
    final int k;
    final INDArray logits;
    final INDArray oneHot;
    final INDArray indices;

    /** Inputs of shape "NxK", e.g. "256x1000": minibatch x classes, the {@code shape} parameter of every benchmark. */
    BenchData(String shape, long seed) {
        String[] parts = shape.split("x");
        n = Integer.parseInt(parts[0]);
        k = Integer.parseInt(parts[1]);
        Nd4j.getRandom().setSeed(seed);
        logits = Nd4j.randn(DataType.FLOAT, n, k).muli(3);
        indices = Transforms.floor(Nd4j.rand(DataType.FLOAT, n, 1).muli(k), false);
        oneHot = Nd4j.zeros(DataType.FLOAT, n, k);
        Nd4j.exec(new org.nd4j.linalg.api.ops.impl.shape.OneHot(indices.reshape(n), oneHot, k));
    }

    static MemoryWorkspace workspace() {
        return Nd4j.getWorkspaceManager().getAndActivateWorkspace(WORKSPACE, WORKSPACE_ID);
    }
}
