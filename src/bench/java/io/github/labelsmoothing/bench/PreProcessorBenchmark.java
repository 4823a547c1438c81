package io.github.labelsmoothing.bench;

import io.github.labelsmoothing.LabelSmoothingPreProcessor;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** The preprocessor on one-hot labels, [4096, 1000] by default, vs the floor for writing a new labels array: one {@code dup()}. */
@State(Scope.Thread)
public class PreProcessorBenchmark {
    /** Minibatch x classes. */
    @Param("4096x1000")
    public String shape;

    BenchData data;
    INDArray features;
    final LabelSmoothingPreProcessor pre = new LabelSmoothingPreProcessor(LossBenchmark.S);

    @Setup
    public void setUp() {
        data = new BenchData(shape, 3);
        features = data.logits.getColumns(0, 1);
    }

    @Benchmark
    public DataSet preProcessor() {
        DataSet ds = new DataSet(features, data.oneHot); // fresh each call: the preprocessor always smooths
        pre.preProcess(ds);
        return ds;
    }

    @Benchmark
    public INDArray dup() {
        return data.oneHot.dup();
    }
}
