package io.github.labelsmoothing.samples;

import io.github.labelsmoothing.LabelSmoothing;
import io.github.labelsmoothing.OnlineLabelSmoothing;
import io.github.labelsmoothing.SmoothingSchedule;
import java.io.File;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.deeplearning4j.core.evaluation.EvaluationTools;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;
import org.nd4j.linalg.schedule.MapSchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Does label smoothing make a classifier better calibrated? Trains one ordinary DL4J network (softmax
 * {@code OutputLayer}, {@code LossFunction.MCXENT}) once per smoothing value, switched on with
 * {@link LabelSmoothing#applyTo(MultiLayerConfiguration, double)}, from the same initial weights through the same
 * batches, and compares accuracy, negative log-likelihood, expected calibration error and mean confidence on held-out
 * test data. Writes {@code results.csv} and {@code reliability.png}; with {@code --html} also DL4J's per-class calibration
 * charts of each run. With {@code --method} it compares training methods instead: plain cross-entropy, label
 * smoothing, two-stage label smoothing ({@link SmoothingSchedule}) and online label smoothing
 * ({@link OnlineLabelSmoothing}).
 *
 * <pre>
 * mvn -q test-compile exec:java -Dsamples.main=CalibrationDemo
 * mvn -q test-compile exec:java -Dsamples.main=CalibrationDemo -Dexec.args="--help"
 * </pre>
 */
@Command(name = "CalibrationDemo", sortOptions = false, usageHelpAutoWidth = true,
        description = {
            "Trains the same network (same seed, initial weights and batch order) once per label-smoothing value and "
                    + "compares how well calibrated it is on held-out test data.",
            "Default data: a seeded synthetic task, 10 overlapping Gaussian classes in 20 dimensions, with 20%% of the "
                    + "training labels wrong, learned by an over-parameterised MLP until it fits them.",
            ""},
        footer = {"",
            "ECE: top-label expected calibration error, sum over equal-width confidence bins of "
                    + "(n_b / N) * |accuracy_b - confidence_b|.",
            "Exit status: 0 done, 2 bad arguments or data."})
public final class CalibrationDemo implements Callable<Integer> {

    /** Exit status for bad arguments or unusable input data. */
    public static final int EXIT_BAD_ARGUMENTS = CommandLine.ExitCode.USAGE;

    private static final int SYNTHETIC_CLASSES = 10;
    private static final int SYNTHETIC_DIMENSIONS = 20;
    private static final int BATCH_SIZE = 64;
    private static final double LEARNING_RATE = 1e-3;

    @Spec
    private CommandSpec spec;

    @Option(names = "--smoothing", split = ",", paramLabel = "S", defaultValue = "0,0.1",
            description = "Label smoothing values to compare, each in [0, 1] (default: ${DEFAULT-VALUE}).")
    private List<Double> smoothing;

    @Option(names = "--method", split = ",", paramLabel = "METHOD",
            description = "Compare methods instead of smoothing values, any of: ce (no smoothing), ls (label smoothing "
                    + "with the one --smoothing value, default 0.1), tsla (two-stage: that smoothing until "
                    + "--tsla-epochs, then none, by SmoothingSchedule), ols (online label smoothing with "
                    + "--ols-smoothing, by OnlineLabelSmoothing).")
    private List<String> methods;

    @Option(names = "--tsla-epochs", paramLabel = "N",
            description = "tsla: epochs of the smoothing stage (default: half of --epochs).")
    private Integer tslaEpochs;

    @Option(names = "--ols-smoothing", paramLabel = "S", defaultValue = "0.5",
            description = "ols: the weight of the learned soft labels (default: ${DEFAULT-VALUE}, the paper's).")
    private double olsSmoothing;

    @Option(names = "--dataset", paramLabel = "NAME",
            description = "synthetic or iris (default: synthetic). Use --csv for your own data.")
    private String dataset;

    @Option(names = "--csv", paramLabel = "FILE", description = "Train on this CSV file of numbers instead.")
    private File csv;

    @Option(names = "--label-column", paramLabel = "N",
            description = "CSV: zero-based column holding the class index (default: the last column).")
    private Integer labelColumn;

    @Option(names = "--num-classes", paramLabel = "K", description = "CSV: number of classes (required with --csv).")
    private Integer numClasses;

    @Option(names = "--skip-lines", paramLabel = "N", defaultValue = "0",
            description = "CSV: header lines to skip (default: ${DEFAULT-VALUE}).")
    private int skipLines;

    @Option(names = "--test-fraction", paramLabel = "F", defaultValue = "0.3",
            description = "Iris and CSV: fraction held out for testing (default: ${DEFAULT-VALUE}).")
    private double testFraction;

    @Option(names = "--train-size", paramLabel = "N", defaultValue = "2000",
            description = "Synthetic: training examples (default: ${DEFAULT-VALUE}).")
    private int trainSize;

    @Option(names = "--test-size", paramLabel = "N", defaultValue = "2000",
            description = "Synthetic: clean test examples (default: ${DEFAULT-VALUE}).")
    private int testSize;

    @Option(names = "--label-noise", paramLabel = "F", defaultValue = "0.2",
            description = "Synthetic: fraction of training labels replaced by a wrong class (default: ${DEFAULT-VALUE}).")
    private double labelNoise;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "60",
            description = "Training epochs per run (default: ${DEFAULT-VALUE}).")
    private int epochs;

    @Option(names = "--hidden", paramLabel = "N", defaultValue = "256",
            description = "Width of each of the two hidden layers (default: ${DEFAULT-VALUE}).")
    private int hidden;

    @Option(names = "--bins", paramLabel = "N", defaultValue = "15",
            description = "Reliability bins for ECE and the diagram (default: ${DEFAULT-VALUE}).")
    private int bins;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42",
            description = "Seed of the data, the initial weights and the batch order (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "target/label-smoothing-demo",
            description = "Output directory (default: ${DEFAULT-VALUE}).")
    private Path out;

    @Option(names = "--html", description = "Also write DL4J's per-class calibration charts of each run "
            + "(calibration-s<S>.html; viewing them needs internet: the page loads jQuery and D3 from public CDNs).")
    private boolean html;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    private boolean help;

    /**
     * Runs the demo without exiting the JVM (tests call this).
     *
     * @param args command line arguments, see {@code --help}
     * @return the exit status: 0 done, {@link #EXIT_BAD_ARGUMENTS} after a one-line message on stderr
     */
    public static int run(String... args) {
        CommandLine commandLine = new CommandLine(new CalibrationDemo());
        // One line instead of picocli's default message plus full usage: the error stays visible.
        commandLine.setParameterExceptionHandler((e, ignored) -> {
            e.getCommandLine().getErr().println("CalibrationDemo: " + e.getMessage() + " (see --help)");
            return EXIT_BAD_ARGUMENTS;
        });
        return commandLine.execute(args);
    }

    /**
     * Command line entry point; exits the JVM only on failure, so {@code exec:java} finishes normally on success.
     *
     * @param args command line arguments, see {@code --help}
     */
    public static void main(String... args) {
        int status = run(args);
        if (status != 0) {
            System.exit(status);
        }
    }

    /**
     * Trains and evaluates one network per smoothing value and writes the report.
     *
     * @return 0
     * @throws ParameterException for bad arguments or unusable data (exit status {@link #EXIT_BAD_ARGUMENTS})
     */
    @Override
    public Integer call() throws Exception {
        checkArguments();
        long start = System.nanoTime();
        DemoData.Task task = loadTask();
        MultiLayerConfiguration conf = network(task.numInputs(), task.numClasses());
        // Every run starts from these weights: the seed alone would give the same, this makes it hold by construction.
        MultiLayerNetwork initial = new MultiLayerNetwork(conf);
        initial.init();
        INDArray initialWeights = initial.params();

        System.out.println(task.description());
        System.out.printf(Locale.ROOT, "network: MLP %d-%d-%d-%d (ReLU, softmax + MCXENT), Adam %s, batch %d, %d epochs, "
                        + "seed %d; each run: %s, same initial weights and batch order%n",
                task.numInputs(), hidden, hidden, task.numClasses(), LEARNING_RATE, BATCH_SIZE, epochs, seed,
                methods == null ? "LabelSmoothing.applyTo(conf, s)" : "its method");
        List<DemoEvaluation.Result> results = new ArrayList<>();
        for (Run run : runs()) {
            results.add(train(conf, initialWeights, task, run));
        }

        System.out.println();
        System.out.println(table(results));
        Files.createDirectories(out);
        Path csvFile = out.resolve("results.csv");
        Files.writeString(csvFile, csvText(results), StandardCharsets.UTF_8);
        Path png = out.resolve("reliability.png");
        DemoPlot.reliabilityDiagram(results, bins, dataName(), png);
        System.out.printf(Locale.ROOT, "ECE: top-label, %d equal-width confidence bins. NLL: mean -log p(label) over "
                + "%s, in nats.%n", bins, task.testLabels());
        System.out.println("wrote " + csvFile.toAbsolutePath());
        System.out.println("wrote " + png.toAbsolutePath());
        if (html) {
            for (DemoEvaluation.Result result : results) {
                Path page = out.resolve("calibration-" + (result.method() == null ? "s" + format(result.smoothing())
                        : result.method()) + ".html");
                EvaluationTools.exportevaluationCalibrationToHtmlFile(result.perClass(), page.toFile());
                System.out.println("wrote " + page.toAbsolutePath());
            }
        }
        System.out.printf(Locale.ROOT, "done in %.0f s%n", (System.nanoTime() - start) / 1e9);
        return 0;
    }

    /** The one configuration every run starts from: an ordinary softmax classifier with DL4J's MCXENT loss. */
    private MultiLayerConfiguration network(int inputs, int classes) {
        return new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(LEARNING_RATE))
                .weightInit(WeightInit.RELU)
                .list()
                .layer(new DenseLayer.Builder().nIn(inputs).nOut(hidden).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nIn(hidden).nOut(hidden).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT)
                        .nIn(hidden).nOut(classes).activation(Activation.SOFTMAX).build())
                .build();
    }

    /** A run: a method ({@code ce}, {@code ls}, {@code tsla}, {@code ols}; null in a sweep) and its smoothing. */
    private record Run(String method, double smoothing) {
    }

    /** The runs asked for: one per --method, or one per --smoothing value. */
    private List<Run> runs() {
        if (methods == null) {
            return smoothing.stream().map(s -> new Run(null, s)).toList();
        }
        double s = spec.commandLine().getParseResult().hasMatchedOption("--smoothing") ? smoothing.get(0)
                : LabelSmoothing.DEFAULT_SMOOTHING;
        return methods.stream().map(m -> new Run(m, m.equals("ce") ? 0 : m.equals("ols") ? olsSmoothing : s)).toList();
    }

    /**
     * One run: the configuration with its smoothing (ls, tsla, a sweep's s; none for ce and ols, whose listener puts
     * it on), the shared initial weights, the seeded batch order. The loop over {@code fit(DataSet)} ends each epoch
     * as {@code fit(iterator)} would: online label smoothing learns its rows, the epoch count (which tsla's schedule
     * reads) goes up.
     */
    private DemoEvaluation.Result train(MultiLayerConfiguration conf, INDArray initialWeights, DemoData.Task task,
            Run run) {
        String method = run.method() == null ? "ls" : run.method();
        MultiLayerNetwork net = new MultiLayerNetwork(LabelSmoothing.applyTo(conf,
                method.equals("ls") || method.equals("tsla") ? run.smoothing() : 0));
        net.init(initialWeights, true);
        OnlineLabelSmoothing ols = method.equals("ols") ? new OnlineLabelSmoothing(run.smoothing()) : null;
        if (ols != null) {
            net.setListeners(ols);
        } else if (method.equals("tsla")) {
            int stage = tslaEpochs == null ? Math.max(1, epochs / 2) : tslaEpochs;
            net.setListeners(new SmoothingSchedule(new MapSchedule(ScheduleType.EPOCH,
                    Map.of(0, run.smoothing(), stage, 0.0))));
        }
        DataSet data = task.train().copy(); // shuffled in place below; every run starts from the same order
        Random order = new Random(seed);
        int n = data.numExamples();
        try (DemoProgress progress = DemoProgress.start(runName(run.method(), run.smoothing()), epochs, System.out,
                System.console() != null)) {
            for (int epoch = 0; epoch < epochs; epoch++) {
                data.shuffle(order.nextLong());
                double lossSum = 0; // the epoch's mean loss: one minibatch's score alone zigzags from epoch to epoch
                for (int from = 0; from < n; from += BATCH_SIZE) {
                    int to = Math.min(n, from + BATCH_SIZE);
                    INDArrayIndex rows = NDArrayIndex.interval(from, to);
                    net.fit(new DataSet(data.getFeatures().get(rows, NDArrayIndex.all()),
                            data.getLabels().get(rows, NDArrayIndex.all())));
                    lossSum += net.score() * (to - from); // the minibatch's mean loss, before its update
                }
                progress.epochDone(lossSum / n);
                if (ols != null) {
                    ols.endEpoch(net);
                }
                net.incrementEpochCount();
            }
        }
        return DemoEvaluation.evaluate(net, run.method(), run.smoothing(), task.train(), task.test(), bins);
    }

    /** Rejects bad arguments before any work, each with one message naming the option and the value. */
    private void checkArguments() {
        for (double s : smoothing) {
            check(s >= 0 && s <= 1, "--smoothing values must be in [0, 1], got " + s);
        }
        // A repeated value is a typo, and its two rows could not be told apart in results.csv or the diagram.
        check(smoothing.stream().distinct().count() == smoothing.size(), "--smoothing values must differ, got "
                + smoothing.stream().map(CalibrationDemo::format).collect(Collectors.joining(",")));
        if (methods != null) {
            for (String method : methods) {
                check(List.of("ce", "ls", "tsla", "ols").contains(method),
                        "unknown --method '" + method + "': expected ce, ls, tsla or ols");
            }
            check(methods.stream().distinct().count() == methods.size(), "--method values must differ, got "
                    + String.join(",", methods));
            check(!spec.commandLine().getParseResult().hasMatchedOption("--smoothing") || smoothing.size() == 1,
                    "with --method, --smoothing takes one value (the s of ls and tsla), got " + smoothing.size());
        }
        check(olsSmoothing >= 0 && olsSmoothing <= 1, "--ols-smoothing must be in [0, 1], got " + olsSmoothing);
        check(tslaEpochs == null || tslaEpochs >= 1, "--tsla-epochs must be >= 1, got " + tslaEpochs);
        check(dataset == null || csv == null, "give either --dataset or --csv, not both");
        check(dataset == null || dataset.equals("synthetic") || dataset.equals("iris"),
                "unknown --dataset '" + dataset + "': expected synthetic or iris (or --csv FILE)");
        check(csv == null || numClasses != null && numClasses >= 2, "--csv needs --num-classes K with K >= 2");
        check(labelColumn == null || labelColumn >= 0, "--label-column must be >= 0, got " + labelColumn);
        check(skipLines >= 0, "--skip-lines must be >= 0, got " + skipLines);
        check(testFraction > 0 && testFraction < 1, "--test-fraction must be in (0, 1), got " + testFraction);
        check(labelNoise >= 0 && labelNoise <= 1, "--label-noise must be in [0, 1], got " + labelNoise);
        check(trainSize >= 1 && testSize >= 1, "--train-size and --test-size must be >= 1");
        check(epochs >= 1, "--epochs must be >= 1, got " + epochs);
        check(hidden >= 1, "--hidden must be >= 1, got " + hidden);
        check(bins >= 1, "--bins must be >= 1, got " + bins);
    }

    private void check(boolean ok, String message) {
        if (!ok) {
            throw new ParameterException(spec.commandLine(), message);
        }
    }

    private DemoData.Task loadTask() throws IOException, InterruptedException {
        try {
            if (csv != null) {
                return DemoData.csv(csv, labelColumn, numClasses, skipLines, testFraction, seed);
            }
            return "iris".equals(dataset)
                    ? DemoData.iris(testFraction, seed)
                    : DemoData.synthetic(SYNTHETIC_CLASSES, SYNTHETIC_DIMENSIONS, trainSize, testSize, labelNoise, seed);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    private String dataName() {
        return csv != null ? csv.getName() : dataset != null ? dataset : "synthetic";
    }

    /** A run's name in progress lines, legends: its method and s ({@code tsla, s = 0.1}), or {@code s = S} in a sweep. */
    static String runName(String method, double s) {
        return (method == null ? "" : method + ", ") + "s = " + format(s);
    }

    /** {@code s} without trailing zeros: 0, 0.05, 0.1. */
    static String format(double s) {
        return BigDecimal.valueOf(s).stripTrailingZeros().toPlainString();
    }

    /** The console table: the columns of results.csv, right-aligned, a row per run. */
    private static String table(List<DemoEvaluation.Result> results) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(DemoEvaluation.Result.columns(results));
        results.forEach(result -> rows.add(result.cells("%.4f")));
        StringBuilder table = new StringBuilder();
        for (List<String> row : rows) {
            for (int c = 0; c < row.size(); c++) {
                int column = c;
                int width = rows.stream().mapToInt(r -> r.get(column).length()).max().orElseThrow();
                table.append(c == 0 ? "" : "  ").append(" ".repeat(width - row.get(c).length())).append(row.get(c));
            }
            table.append(System.lineSeparator());
        }
        return table.toString();
    }

    /** results.csv: a header of {@link DemoEvaluation.Result#columns} and a row per run. */
    private static String csvText(List<DemoEvaluation.Result> results) {
        StringBuilder csv = new StringBuilder(String.join(",", DemoEvaluation.Result.columns(results)))
                .append('\n');
        results.forEach(result -> csv.append(String.join(",", result.cells("%.6f"))).append('\n'));
        return csv.toString();
    }
}
