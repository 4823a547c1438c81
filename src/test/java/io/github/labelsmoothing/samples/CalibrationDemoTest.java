package io.github.labelsmoothing.samples;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.labelsmoothing.QuietOutput;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@link CalibrationDemo} at a tiny size: its reports for each data source, and one clear error per bad argument. */
@ExtendWith(QuietOutput.class)
class CalibrationDemoTest {

    private static final String HEADER = "smoothing,accuracy,nll,ece,mean_confidence,train_accuracy";

    @TempDir
    Path dir;

    @Test
    void syntheticRunWritesOneResultRowPerSmoothingValueAndAReliabilityDiagram() throws IOException {
        assertEquals(0, CalibrationDemo.run("--smoothing", "0,0.05,0.2", "--train-size", "200", "--test-size", "100",
                "--epochs", "2", "--hidden", "16", "--out", dir.toString()));

        assertResults(0, 0.05, 0.2);
        assertReliabilityPng();
    }

    @Test
    void sameSeedGivesTheSameNumbers() throws IOException {
        Path first = dir.resolve("first");
        Path second = dir.resolve("second");
        for (Path out : List.of(first, second)) {
            assertEquals(0, CalibrationDemo.run("--smoothing", "0,0.1", "--train-size", "200", "--test-size", "100",
                    "--epochs", "3", "--hidden", "16", "--seed", "7", "--out", out.toString()));
        }

        assertEquals(Files.readAllLines(first.resolve("results.csv")), Files.readAllLines(second.resolve("results.csv")));
    }

    @Test
    void irisRunWithHtmlAlsoWritesDl4jCalibrationPages() throws IOException {
        assertEquals(0, CalibrationDemo.run("--dataset", "iris", "--epochs", "2", "--hidden", "8", "--html",
                "--out", dir.toString()));

        assertResults(0, 0.1);
        assertReliabilityPng();
        assertTrue(Files.size(dir.resolve("calibration-s0.html")) > 0);
        assertTrue(Files.size(dir.resolve("calibration-s0.1.html")) > 0);
    }

    @Test
    void csvRunReadsTheUsersFileWithHeaderAndLabelColumn() throws IOException {
        Path csv = writeCsv(2);

        assertEquals(0, CalibrationDemo.run("--csv", csv.toString(), "--skip-lines", "1", "--label-column", "0",
                "--num-classes", "3", "--test-fraction", "0.25", "--smoothing", "0,0.1", "--epochs", "2",
                "--hidden", "8", "--out", dir.toString()));

        assertResults(0, 0.1);
        assertReliabilityPng();
    }

    @Test
    void outputWithoutATerminalHasOnePlainLinePerEpochAndNoEscapeCodes() {
        // Surefire's forked JVM has no console, as when the demo's output is redirected to a file.
        Captured run = run(false, "--smoothing", "0,0.1", "--train-size", "100", "--test-size", "50", "--epochs", "2",
                "--hidden", "8", "--out", dir.toString());

        String text = run.text();
        assertAll(text,
                () -> assertEquals(0, run.status()),
                () -> assertFalse(text.contains("\u001b"), "no escape code"),
                () -> assertFalse(text.contains("\r"), "no carriage return"),
                () -> assertEquals(List.of("s = 0  epoch 1/2", "s = 0  epoch 2/2", "s = 0.1  epoch 1/2",
                                "s = 0.1  epoch 2/2"),
                        text.lines().filter(line -> line.contains("epoch ") && line.contains("training loss"))
                                .map(line -> line.substring(0, line.indexOf("  mean training loss"))).toList()),
                () -> assertTrue(text.contains("over the clean test labels"), "synthetic test labels are clean"));
    }

    @Test
    void csvReportSaysTheTestLabelsAreTheFilesNotThatTheyAreClean() throws IOException {
        Path csv = writeCsv(2);

        Captured run = run(false, "--csv", csv.toString(), "--skip-lines", "1", "--label-column", "0",
                "--num-classes", "3", "--smoothing", "0", "--epochs", "1", "--hidden", "8", "--out", dir.toString());

        assertAll(run.text(),
                () -> assertEquals(0, run.status()),
                () -> assertTrue(run.text().contains("over the labels of the held-out rows of data.csv, as given in "
                        + "the file"), "names the file"),
                () -> assertFalse(run.text().contains("clean"), "claims nothing about the user's labels"));
    }

    @Test
    void methodRunsWriteAMethodColumnAndTslaIsLsUntilItsSwitch() throws IOException {
        String[] common = {"--train-size", "200", "--test-size", "100", "--epochs", "2", "--hidden", "16"};
        Path all = dir.resolve("all");
        assertEquals(0, CalibrationDemo.run(concat(common, "--method", "ce,ls,tsla,ols", "--tsla-epochs", "1",
                "--out", all.toString())));
        List<String> lines = Files.readAllLines(all.resolve("results.csv"));
        assertEquals("method," + HEADER, lines.get(0));
        List<String> methods = lines.subList(1, lines.size()).stream().map(line -> line.split(",", 2)[0]).toList();
        assertEquals(List.of("ce", "ls", "tsla", "ols"), methods);
        List<String> smoothing = lines.subList(1, lines.size()).stream().map(line -> line.split(",")[1]).toList();
        assertEquals(List.of("0", "0.1", "0.1", "0.5"), smoothing);
        // tsla switches off smoothing after epoch 1 of 2: its second epoch trains differently from ls
        assertNotEquals(metrics(lines.get(2)), metrics(lines.get(3)));

        // a switch after the last epoch: tsla is ls, number for number (the schedule acts through the epoch count)
        Path late = dir.resolve("late");
        assertEquals(0, CalibrationDemo.run(concat(common, "--method", "ls,tsla", "--tsla-epochs", "5",
                "--out", late.toString())));
        List<String> same = Files.readAllLines(late.resolve("results.csv"));
        assertEquals(metrics(same.get(1)), metrics(same.get(2)));
    }

    @Test
    void unknownMethodAndSeveralSmoothingValuesWithMethodAreRejected() {
        assertBadArguments("unknown --method 'xx'", "--method", "ce,xx");
        assertBadArguments("--smoothing takes one value", "--method", "ls", "--smoothing", "0,0.1");
    }

    /** A results.csv row of a --method run without its method: the smoothing and the metrics. */
    private static String metrics(String line) {
        return line.split(",", 2)[1];
    }

    private static String[] concat(String[] first, String... rest) {
        return java.util.stream.Stream.concat(Arrays.stream(first), Arrays.stream(rest)).toArray(String[]::new);
    }

    @Test
    void binCountsAreTheExamplesBehindEachReliabilityPoint() {
        DemoData.Task task = DemoData.synthetic(3, 4, 60, 90, 0, 5);
        MultiLayerNetwork net = new MultiLayerNetwork(SampleData.irisClassifier()); // 4 inputs, 3 classes, untrained
        net.init();
        int bins = 10;

        DemoEvaluation.Result result = DemoEvaluation.evaluate(net, null, 0, task.train(), task.test(), bins);

        // By hand: each example's top-1 probability falls in bin floor(p * bins) (1.0 in the last); empty bins are
        // left out, as the diagram leaves them out.
        long[] perBin = new long[bins];
        for (double confidence : net.output(task.test().getFeatures()).max(1).toDoubleVector()) {
            perBin[Math.min(bins - 1, (int) (confidence * bins))]++;
        }
        long[] expected = Arrays.stream(perBin).filter(count -> count > 0).toArray();
        assertArrayEquals(expected, result.binCounts());
        assertEquals(result.reliability().getMeanPredictedValueX().length, result.binCounts().length);
    }

    @Test
    void unknownDatasetIsRejected() {
        assertBadArguments("unknown --dataset 'mnist'", "--dataset", "mnist");
    }

    @Test
    void missingCsvFileIsRejected() {
        assertBadArguments("CSV file not found", "--csv", dir.resolve("missing.csv").toString(), "--num-classes", "3");
    }

    @Test
    void csvWithoutNumClassesIsRejected() throws IOException {
        assertBadArguments("--csv needs --num-classes", "--csv", writeCsv(2).toString());
    }

    @Test
    void labelColumnOutOfRangeIsRejected() throws IOException {
        assertBadArguments("--label-column 7 is out of range", "--csv", writeCsv(2).toString(), "--skip-lines", "1",
                "--label-column", "7", "--num-classes", "3");
    }

    @Test
    void classIndexNotBelowNumClassesIsRejected() throws IOException {
        assertBadArguments("line 4: label 2.0 in column 0 is not a class index in [0, 2)", "--csv",
                writeCsv(2).toString(), "--skip-lines", "1", "--label-column", "0", "--num-classes", "2");
    }

    @Test
    void nonNumericCellIsRejectedWithItsLine() throws IOException {
        assertBadArguments("line 1, column 0: 'label' is not a number (a header? see --skip-lines)", "--csv",
                writeCsv(2).toString(), "--num-classes", "3");
    }

    @Test
    void smoothingAboveOneIsRejected() {
        assertBadArguments("--smoothing values must be in [0, 1], got 1.5", "--smoothing", "0,1.5");
    }

    @Test
    void negativeSmoothingIsRejected() {
        assertBadArguments("--smoothing values must be in [0, 1], got -0.1", "--smoothing", "-0.1");
    }

    @Test
    void repeatedSmoothingIsRejected() {
        assertBadArguments("--smoothing values must differ, got 0,0.1,0.1", "--smoothing", "0,0.1,0.10");
    }

    @Test
    void nonNumericSmoothingIsRejected() {
        assertBadArguments("'abc' is not a double", "--smoothing", "abc");
    }

    @Test
    void unknownOptionIsRejected() {
        assertBadArguments("Unknown option: '--frobnicate'", "--frobnicate");
    }

    @Test
    void helpPrintsUsageAndSucceeds() {
        Captured help = run(false, "--help");

        assertEquals(0, help.status());
        assertTrue(help.text().contains("--smoothing"), help.text());
    }

    /**
     * A CSV with a header line and the class index (0, 1, 2) in column 0 before {@code features} features that
     * separate the classes.
     */
    private Path writeCsv(int features) throws IOException {
        StringBuilder csv = new StringBuilder("label");
        for (int f = 0; f < features; f++) {
            csv.append(",x").append(f);
        }
        csv.append('\n');
        for (int i = 0; i < 30; i++) {
            int label = i % 3;
            csv.append(label);
            for (int f = 0; f < features; f++) {
                csv.append(',').append(label + 0.1 * ((i * 7 + f * 3) % 5));
            }
            csv.append('\n');
        }
        return Files.writeString(dir.resolve("data.csv"), csv);
    }

    /** results.csv has the header and one row of in-range numbers per smoothing value, in order. */
    private void assertResults(double... smoothing) throws IOException {
        List<String> lines = Files.readAllLines(dir.resolve("results.csv"));
        assertEquals(HEADER, lines.get(0));
        assertEquals(smoothing.length, lines.size() - 1, () -> String.join("\n", lines));
        for (int i = 0; i < smoothing.length; i++) {
            String line = lines.get(i + 1);
            double[] row = Arrays.stream(line.split(",")).mapToDouble(Double::parseDouble).toArray();
            double expectedSmoothing = smoothing[i];
            assertAll(line,
                    () -> assertEquals(expectedSmoothing, row[0]),
                    () -> assertInUnitInterval(row[1], "accuracy"),
                    () -> assertTrue(row[2] > 0 && Double.isFinite(row[2]), "nll > 0"),
                    () -> assertInUnitInterval(row[3], "ece"),
                    () -> assertInUnitInterval(row[4], "mean_confidence"),
                    () -> assertInUnitInterval(row[5], "train_accuracy"));
        }
    }

    private static void assertInUnitInterval(double value, String name) {
        assertTrue(value >= 0 && value <= 1, name + " in [0, 1]");
    }

    private void assertReliabilityPng() throws IOException {
        BufferedImage image = ImageIO.read(dir.resolve("reliability.png").toFile());
        assertNotNull(image, "reliability.png is a PNG");
        assertTrue(image.getWidth() > 0 && image.getHeight() > 0);
    }

    /** The demo returns 2 and prints one line naming the problem on stderr, without a stack trace. */
    private static void assertBadArguments(String expectedMessage, String... args) {
        Captured run = run(true, args);
        String stderr = run.text();
        List<String> messages = stderr.lines().filter(line -> line.startsWith("CalibrationDemo: ")).toList();
        assertAll(stderr,
                () -> assertEquals(CalibrationDemo.EXIT_BAD_ARGUMENTS, run.status()),
                () -> assertEquals(1, messages.size(), "one message"),
                () -> assertTrue(messages.get(0).contains(expectedMessage), "names the problem"),
                () -> assertFalse(stderr.lines().anyMatch(line -> line.strip().startsWith("at ")), "no stack trace"),
                () -> assertFalse(stderr.contains("Exception"), "no exception name"));
    }

    /** Exit status of a run and what it printed on the captured stream. */
    private record Captured(int status, String text) {
    }

    /** Runs the demo capturing stderr (or stdout), which picocli looks up when it first prints. */
    private static Captured run(boolean stderr, String... args) {
        PrintStream original = stderr ? System.err : System.out;
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(text, true, StandardCharsets.UTF_8);
        if (stderr) {
            System.setErr(capture);
        } else {
            System.setOut(capture);
        }
        try {
            return new Captured(CalibrationDemo.run(args), text.toString(StandardCharsets.UTF_8));
        } finally {
            if (stderr) {
                System.setErr(original);
            } else {
                System.setOut(original);
            }
        }
    }
}
