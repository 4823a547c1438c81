package io.github.labelsmoothing.spark;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.labelsmoothing.samples.spark.SparkSample;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The Spark sample runs end to end at a tiny size (its own local[2] context). */
class SparkSampleTest {

    @Test
    void sparkSampleTrainsWithTheSmoothedLoss() throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            SparkSample.main(new String[] {"2"});
        } finally {
            System.setOut(original);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("epoch 2/2") && out.contains("LossLabelSmoothing(smoothing=0.1"), out);
    }
}
