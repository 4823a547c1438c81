package io.github.labelsmoothing.samples;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs every small sample's main at a tiny size, so no sample can rot. */
class SamplesTest {
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
    private PrintStream original;

    @BeforeEach
    void captureOutput() {
        original = System.out;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restoreOutput() {
        System.setOut(original);
    }

    private String output() {
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void lossDropInSampleTrainsAndEvaluates() throws Exception {
        LossDropInSample.main(new String[] {"3"});
        assertTrue(output().contains("epoch   3/3") && output().contains("test accuracy"), output());
    }

    @Test
    void preProcessorSampleTrainsAndEvaluates() throws Exception {
        PreProcessorSample.main(new String[] {"3"});
        assertTrue(output().contains("epoch   3/3") && output().contains("test accuracy"), output());
    }

    @Test
    void applyToSampleShowsTheSmoothedLoss() throws Exception {
        ApplyToSample.main(new String[] {"3"});
        assertTrue(output().contains("LossLabelSmoothing(smoothing=0.1") && output().contains("test accuracy"), output());
    }

    @Test
    void graphSampleSmoothsTheClassifierHeadOnly() throws Exception {
        GraphSample.main(new String[] {"3"});
        assertTrue(output().contains("species loss: LossLabelSmoothing(smoothing=0.1"), output());
        assertTrue(output().contains("petalWidth loss: LossMSE"), output());
        assertTrue(output().contains("petal width RMSE"), output());
    }

    @Test
    void fineTuneSampleRestoresSmoothsAndStopsEarlyOnTheUnsmoothedLoss(@TempDir Path dir) throws Exception {
        FineTuneSample.main(new String[] {"3", "2", dir.toString()});
        assertTrue(output().contains("fine-tuning with output loss LossLabelSmoothing(smoothing=0.1"), output());
        assertTrue(output().contains("fine-tune epoch   2") && output().contains("early stopping: EpochTerminationCondition"),
                output());
        assertTrue(output().contains("LossMCXENT") && output().contains("test accuracy"), output());
        for (String file : new String[] {"pretrained.zip", "fine-tuned.zip", "fine-tuned-serving.zip"}) {
            assertTrue(Files.size(dir.resolve(file)) > 0, file);
        }
    }

    @Test
    void launcherRunsASampleGivenByItsSimpleName() throws Throwable {
        SampleLauncher.launch("ApplyToSample", new String[] {"3"});
        assertTrue(output().contains("LossLabelSmoothing(smoothing=0.1") && output().contains("epoch   3/3"), output());
    }

    @Test
    void launcherRunsASampleGivenByItsFullyQualifiedName() throws Throwable {
        SampleLauncher.launch("io.github.labelsmoothing.samples.PreProcessorSample", new String[] {"3"});
        assertTrue(output().contains("epoch   3/3") && output().contains("test accuracy"), output());
    }

    @Test
    void launcherRejectsAnUnknownSampleNamingItAndTheClassesItTried() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SampleLauncher.launch("NoSuchSample", new String[0]));
        assertTrue(e.getMessage().contains("-Dsamples.main=NoSuchSample")
                && e.getMessage().contains("io.github.labelsmoothing.samples.NoSuchSample"), e.getMessage());
    }
}
