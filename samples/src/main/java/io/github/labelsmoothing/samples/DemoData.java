package io.github.labelsmoothing.samples;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.datavec.api.records.reader.impl.csv.CSVRecordReader;
import org.datavec.api.split.FileSplit;
import org.datavec.api.writable.Writable;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.SplitTestAndTrain;
import org.nd4j.linalg.dataset.api.preprocessor.NormalizerStandardize;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The data sets of {@link CalibrationDemo}: a seeded synthetic task with noisy training labels, Iris, or a user's CSV.
 * Every task comes out standardized with statistics of its training part only, so no test information leaks in.
 */
final class DemoData {

    /**
     * Spread of the synthetic class means (standard deviation of each coordinate) relative to the unit within-class
     * noise: small enough that the ten classes overlap, so that even a perfect model is unsure near class borders.
     */
    static final double SYNTHETIC_MEAN_SPREAD = 0.5;

    private DemoData() {
    }

    /**
     * A classification task.
     *
     * @param description one line for the report: what the data is
     * @param train       training examples, one-hot labels (possibly noisy)
     * @param test        held-out examples with one-hot labels
     * @param testLabels  for the report: what the test labels are (clean ones only where the demo knows it)
     * @param numClasses  K
     */
    record Task(String description, DataSet train, DataSet test, String testLabels, int numClasses) {

        /** Number of input features. */
        int numInputs() {
            return (int) train.getFeatures().size(1);
        }
    }

    /**
     * Gaussian classes: class k draws its examples from {@code N(mu_k, I)} with {@code mu_k ~ N(0, 0.5^2 I)}. Training
     * examples take classes round-robin, then a {@code labelNoise} fraction of them (exactly, chosen at random) get a
     * uniformly random <em>wrong</em> class; test examples keep their true class. Everything follows from {@code seed}.
     */
    static Task synthetic(int numClasses, int dims, int trainSize, int testSize, double labelNoise, long seed) {
        Random random = new Random(seed);
        double[][] means = new double[numClasses][dims];
        for (double[] mean : means) {
            for (int d = 0; d < dims; d++) {
                mean[d] = SYNTHETIC_MEAN_SPREAD * random.nextGaussian();
            }
        }
        int[] trainClasses = roundRobin(trainSize, numClasses);
        int[] testClasses = roundRobin(testSize, numClasses);
        DataSet train = gaussianExamples(means, trainClasses, corrupt(trainClasses, numClasses, labelNoise, random), random);
        DataSet test = gaussianExamples(means, testClasses, testClasses, random);
        String description = String.format("synthetic: %d Gaussian classes in %d dimensions (mean spread %.1f, unit "
                        + "noise), %d training examples with %.0f%% of labels wrong, %d clean test examples",
                numClasses, dims, SYNTHETIC_MEAN_SPREAD, trainSize, 100 * labelNoise, testSize);
        return standardized(description, train, test,
                "the clean test labels (the label noise is in the training set only)", numClasses);
    }

    /** Iris (shipped in deeplearning4j-core), shuffled with {@code seed} and split. */
    static Task iris(double testFraction, long seed) throws IOException {
        return split("Iris: 150 flowers, 4 features, 3 classes", SampleData.iris(), "the held-out Iris labels", 3,
                testFraction, seed);
    }

    /**
     * A CSV file of numbers, one example a row, read with DataVec's {@link CSVRecordReader}.
     *
     * @param labelColumn zero-based column holding the class index in {@code [0, numClasses)}; null = the last column
     * @throws IllegalArgumentException if the file is missing or unreadable, the label column does not exist, a cell
     *                                  is not a number, a row's length differs, a label is not a class index, or the
     *                                  file has too few rows for the split; the message names the line
     */
    static Task csv(File file, Integer labelColumn, int numClasses, int skipLines, double testFraction, long seed)
            throws IOException, InterruptedException {
        if (!file.isFile() || !file.canRead()) {
            throw new IllegalArgumentException("CSV file not found or not readable: " + file);
        }
        List<double[]> rows = new ArrayList<>();
        try (CSVRecordReader reader = new CSVRecordReader(skipLines, ',')) {
            reader.initialize(new FileSplit(file));
            while (reader.hasNext()) {
                int line = skipLines + rows.size() + 1;
                // A header on the first row is the likely cause there; elsewhere the message says enough.
                String hint = rows.isEmpty() ? " (a header? see --skip-lines)" : "";
                rows.add(numbers(reader.next(), file + " line " + line, hint));
            }
        }
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("CSV file " + file + " has no rows after skipping " + skipLines);
        }
        int columns = rows.get(0).length;
        if (columns < 2) {
            throw new IllegalArgumentException("CSV file " + file + " needs a label column and at least one feature "
                    + "column, its first row has " + columns);
        }
        int label = labelColumn == null ? columns - 1 : labelColumn;
        if (label >= columns) {
            throw new IllegalArgumentException("--label-column " + labelColumn + " is out of range: " + file + " has "
                    + columns + " columns (0 to " + (columns - 1) + ")");
        }
        // Validated here, row by row, so a mistake is reported with its line instead of as an ND4J indexing error.
        double[][] features = new double[rows.size()][columns - 1];
        double[][] labels = new double[rows.size()][numClasses];
        for (int i = 0; i < rows.size(); i++) {
            double[] row = rows.get(i);
            String where = file + " line " + (skipLines + i + 1);
            if (row.length != columns) {
                throw new IllegalArgumentException(where + " has " + row.length + " columns, the first row " + columns);
            }
            double classIndex = row[label];
            if (classIndex != Math.rint(classIndex) || classIndex < 0 || classIndex >= numClasses) {
                throw new IllegalArgumentException(where + ": label " + row[label] + " in column " + label
                        + " is not a class index in [0, " + numClasses + ")");
            }
            labels[i][(int) classIndex] = 1;
            System.arraycopy(row, 0, features[i], 0, label);
            System.arraycopy(row, label + 1, features[i], label, columns - label - 1);
        }
        String description = String.format("CSV %s: %d features, class in column %d, %d classes",
                file, columns - 1, label, numClasses);
        // The demo cannot know whether a user's labels are right: it says only where they come from.
        String testLabels = "the labels of the held-out rows of " + file.getName() + ", as given in the file";
        return split(description, new DataSet(Nd4j.create(features), Nd4j.create(labels)), testLabels, numClasses,
                testFraction, seed);
    }

    /** The cells of one CSV record as numbers; {@code where} and {@code hint} go into the error message. */
    private static double[] numbers(List<Writable> record, String where, String hint) {
        double[] row = new double[record.size()];
        for (int c = 0; c < row.length; c++) {
            try {
                row[c] = record.get(c).toDouble();
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where + ", column " + c + ": '" + record.get(c)
                        + "' is not a number" + hint, e);
            }
        }
        return row;
    }

    /** Shuffles {@code data} with {@code seed} and holds out {@code testFraction} of it (at least one example each). */
    private static Task split(String description, DataSet data, String testLabels, int numClasses,
            double testFraction, long seed) {
        int n = data.numExamples();
        int testSize = (int) Math.round(n * testFraction);
        if (testSize < 1 || testSize >= n) {
            throw new IllegalArgumentException("--test-fraction " + testFraction + " of " + n
                    + " examples leaves no training or no test example");
        }
        data.shuffle(seed);
        SplitTestAndTrain parts = data.splitTestAndTrain(n - testSize);
        return standardized(description + String.format(", %d train / %d test", n - testSize, testSize),
                parts.getTrain(), parts.getTest(), testLabels, numClasses);
    }

    /** Zero mean, unit variance per feature, with statistics of the training part (DL4J's NormalizerStandardize). */
    private static Task standardized(String description, DataSet train, DataSet test, String testLabels,
            int numClasses) {
        NormalizerStandardize normalizer = new NormalizerStandardize();
        normalizer.fit(train);
        normalizer.transform(train);
        normalizer.transform(test);
        return new Task(description, train, test, testLabels, numClasses);
    }

    /** Classes 0, 1, ..., K-1, 0, 1, ...: balanced. */
    private static int[] roundRobin(int n, int numClasses) {
        int[] classes = new int[n];
        for (int i = 0; i < n; i++) {
            classes[i] = i % numClasses;
        }
        return classes;
    }

    /** A copy of {@code classes} where exactly {@code round(fraction * n)} random entries hold another class. */
    private static int[] corrupt(int[] classes, int numClasses, double fraction, Random random) {
        int[] noisy = classes.clone();
        List<Integer> order = new ArrayList<>(classes.length);
        for (int i = 0; i < classes.length; i++) {
            order.add(i);
        }
        Collections.shuffle(order, random);
        for (int i : order.subList(0, (int) Math.round(fraction * classes.length))) {
            // A random offset in [1, K) moves to a uniformly random class other than the true one.
            noisy[i] = (classes[i] + 1 + random.nextInt(numClasses - 1)) % numClasses;
        }
        return noisy;
    }

    /** Features drawn around each example's true class mean; labels one-hot of {@code labelClasses}. */
    private static DataSet gaussianExamples(double[][] means, int[] trueClasses, int[] labelClasses, Random random) {
        int dims = means[0].length;
        double[][] features = new double[trueClasses.length][dims];
        double[][] labels = new double[trueClasses.length][means.length];
        for (int i = 0; i < trueClasses.length; i++) {
            for (int d = 0; d < dims; d++) {
                features[i][d] = means[trueClasses[i]][d] + random.nextGaussian();
            }
            labels[i][labelClasses[i]] = 1;
        }
        return new DataSet(Nd4j.create(features), Nd4j.create(labels));
    }
}
