package io.github.labelsmoothing.samples;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.SplitTestAndTrain;
import org.nd4j.linalg.factory.Nd4j;

/** Offline data for the samples: the Iris data set that ships inside deeplearning4j-core as {@code iris.dat}. */
public final class SampleData {

    /** The iris.dat resource: 150 rows "f1,f2,f3,f4,classIndex". */
    static final String IRIS_RESOURCE = "iris.dat";

    private SampleData() {
    }

    /** Train and test parts of a data set. */
    public record Split(DataSet train, DataSet test) {
    }

    /** Iris: 150 examples, 4 features, one-hot labels over 3 classes, in file order. */
    public static DataSet iris() throws IOException {
        try (InputStream in = SampleData.class.getClassLoader().getResourceAsStream(IRIS_RESOURCE)) {
            if (in == null) {
                throw new IOException("classpath resource " + IRIS_RESOURCE + " not found (it ships in deeplearning4j-core)");
            }
            List<double[]> rows = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines()
                    .filter(line -> !line.isBlank())
                    .map(line -> java.util.Arrays.stream(line.split(",")).mapToDouble(Double::parseDouble).toArray())
                    .toList();
            double[][] features = new double[rows.size()][4];
            double[][] labels = new double[rows.size()][3];
            for (int i = 0; i < rows.size(); i++) {
                System.arraycopy(rows.get(i), 0, features[i], 0, 4);
                labels[i][(int) rows.get(i)[4]] = 1;
            }
            return new DataSet(Nd4j.create(features), Nd4j.create(labels));
        }
    }

    /** The first {@code fraction} of the examples for training, the rest for testing. */
    public static Split split(DataSet data, double fraction) {
        SplitTestAndTrain split = data.splitTestAndTrain(fraction);
        return new Split(split.getTrain(), split.getTest());
    }
}
