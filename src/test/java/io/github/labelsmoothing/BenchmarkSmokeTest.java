package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collection;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/** Every JMH benchmark runs once (in process, one short iteration): the suite cannot rot. Timing is not checked. */
class BenchmarkSmokeTest {

    @Test
    void everyBenchmarkRuns() throws RunnerException {
        Collection<RunResult> results = new Runner(new OptionsBuilder()
                .include("io\\.github\\.labelsmoothing\\.bench\\..*")
                .forks(0).warmupIterations(0).measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(20))
                .build()).run();
        // LossBenchmark 4 methods x 2 shapes, SparseLossBenchmark 3, PreProcessorBenchmark 2, FitBenchmark 1 x 2,
        // ScoreCalculatorBenchmark 1 x 2 networks x 2 calculators, KernelBenchmark 3 methods x 2 shapes x 2 orders
        assertEquals(8 + 3 + 2 + 2 + 4 + 12, results.size());
        for (RunResult result : results) {
            assertTrue(result.getPrimaryResult().getScore() > 0, result.getParams().getBenchmark());
        }
    }
}
