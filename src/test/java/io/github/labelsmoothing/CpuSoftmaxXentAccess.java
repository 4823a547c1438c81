package io.github.labelsmoothing;

import org.nd4j.linalg.api.ndarray.INDArray;

/** The package-private CPU kernel for the JMH benchmarks in {@code io.github.labelsmoothing.bench} (test scope only). */
public final class CpuSoftmaxXentAccess {
    private CpuSoftmaxXentAccess() {
    }

    /** {@link CpuSoftmaxXent#run} without weights, prior or per-row losses: the summed loss, the gradient if non-null. */
    public static double run(INDArray labels, boolean sparse, INDArray preOutput, INDArray mask, double s,
            INDArray gradient) {
        return CpuSoftmaxXent.run(labels, sparse, preOutput, mask, s, null, null, null, gradient);
    }
}
