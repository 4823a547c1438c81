package io.github.labelsmoothing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Cases computed by PyTorch 1.13 ({@code F.cross_entropy(logits, indices, reduction="sum", label_smoothing=s)}),
 * copied from {@code shared/reference/torch_reference.txt} (made by {@code make_reference.py}).
 */
record TorchReference(int numClasses, int numExamples, double smoothing, double[] logits, long[] indices,
        double summedLoss, double[] gradient) {

    static List<TorchReference> load(String resource) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(
                Objects.requireNonNull(TorchReference.class.getResourceAsStream(resource), resource),
                StandardCharsets.UTF_8))) {
            List<String> lines = in.lines().filter(l -> !l.isBlank()).toList();
            List<TorchReference> cases = new ArrayList<>();
            for (int i = 0; i + 4 < lines.size(); i += 5) {
                String[] head = lines.get(i).trim().split("\\s+");
                cases.add(new TorchReference(Integer.parseInt(head[0]), Integer.parseInt(head[1]),
                        Double.parseDouble(head[2]), doubles(lines.get(i + 1)),
                        Arrays.stream(lines.get(i + 2).trim().split("\\s+")).mapToLong(Long::parseLong).toArray(),
                        Double.parseDouble(lines.get(i + 3).trim()), doubles(lines.get(i + 4))));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<TorchReference> all() {
        return load("/torch_reference.txt");
    }

    private static double[] doubles(String line) {
        return Arrays.stream(line.trim().split("\\s+")).mapToDouble(Double::parseDouble).toArray();
    }

    INDArray logitsArray() {
        return Nd4j.createFromArray(logits).reshape(numExamples, numClasses);
    }

    INDArray gradientArray() {
        return Nd4j.createFromArray(gradient).reshape(numExamples, numClasses);
    }

    INDArray indexColumn() {
        return Nd4j.createFromArray(indices).reshape(numExamples, 1);
    }

    /** One-hot labels in double, built in plain Java (independent of the code under test). */
    INDArray oneHot() {
        double[][] rows = new double[numExamples][numClasses];
        for (int i = 0; i < numExamples; i++) {
            rows[i][(int) indices[i]] = 1;
        }
        return Nd4j.createFromArray(rows);
    }

    /** PyTorch's smoothed target, recovered from its gradient: t = softmax(z) - dL/dz. */
    INDArray torchTarget() {
        double[][] t = new double[numExamples][numClasses];
        for (int i = 0; i < numExamples; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < numClasses; k++) {
                max = Math.max(max, logits[i * numClasses + k]);
            }
            double sum = 0;
            for (int k = 0; k < numClasses; k++) {
                sum += Math.exp(logits[i * numClasses + k] - max);
            }
            for (int k = 0; k < numClasses; k++) {
                t[i][k] = Math.exp(logits[i * numClasses + k] - max) / sum - gradient[i * numClasses + k];
            }
        }
        return Nd4j.createFromArray(t).castTo(DataType.DOUBLE);
    }

    @Override
    public String toString() {
        return "K=" + numClasses + " N=" + numExamples + " s=" + smoothing;
    }
}
