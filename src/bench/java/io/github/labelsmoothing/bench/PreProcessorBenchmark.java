package io.github.labelsmoothing.bench;

import io.github.labelsmoothing.LabelSmoothingPreProcessor;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** The preprocessor on [4096, 1000] one-hot labels vs the floor for writing a new labels array: one {@code dup()}. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class PreProcessorBenchmark {
    BenchData data;
    INDArray features;
    final LabelSmoothingPreProcessor pre = new LabelSmoothingPreProcessor(LossBenchmark.S);

    @Setup
    public void setUp() {
        data = new BenchData(4096, 1000, 3);
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
