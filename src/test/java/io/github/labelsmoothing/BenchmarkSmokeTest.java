package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Every JMH benchmark runs once (in process, one short iteration) so the suite cannot rot, at a tiny size so that it
 * costs the build little: every benchmark takes its size from a {@code shape} parameter (minibatch x classes), which
 * this run overrides. Timing is not checked.
 */
@ExtendWith(QuietOutput.class)
class BenchmarkSmokeTest {

    @Test
    void everyBenchmarkRuns() throws RunnerException {
        // JMH holds a machine-wide lock (/tmp/jmh.lock) so that two benchmark runs do not disturb each other's timing;
        // this run times nothing, and without this it fails whenever another build on the machine is in this test.
        System.setProperty("jmh.ignoreLock", "true");
        Collection<RunResult> results = new Runner(new OptionsBuilder()
                .include("io\\.github\\.labelsmoothing\\.bench\\..*")
                .param("shape", "8x4")
                .forks(0).warmupIterations(0).measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(20))
                .build()).run();
        // At the smoke size (one shape): LossBenchmark 8 methods x 2 orders, SparseLossBenchmark 3,
        // PreProcessorBenchmark 2, FitBenchmark 1 x 2 smoothings, ScoreCalculatorBenchmark 1 x 2 networks x 2 calculators
        assertEquals(8 * 2 + 3 + 2 + 2 + 4, results.size());
        for (RunResult result : results) {
            assertTrue(result.getPrimaryResult().getScore() > 0, result.getParams().getBenchmark());
        }
    }
}
