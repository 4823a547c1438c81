package io.github.labelsmoothing.samples;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.evaluation.classification.EvaluationCalibration;
import org.nd4j.evaluation.curves.ReliabilityDiagram;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Test-set metrics of one trained network, from DL4J's {@link Evaluation} and {@link EvaluationCalibration}.
 *
 * <p>Calibration is measured on the top label, as in Guo et al. 2017 ("On Calibration of Modern Neural Networks"):
 * the confidence of an example is its largest predicted probability, and it counts as a hit if that class is the true
 * one. {@code EvaluationCalibration} bins one probability column per class (one-vs-rest), so it is given the binary
 * problem "is the top-1 prediction correct?" with the confidence as the predicted probability of "correct": its
 * column 0 then holds exactly the top-label reliability bins (equal width over [0, 1], each {@code [lo, hi)}, the last
 * one closed).
 */
final class DemoEvaluation {

    /** Histogram bins of DL4J's per-class calibration charts (its default). */
    private static final int HISTOGRAM_BINS = EvaluationCalibration.DEFAULT_HISTOGRAM_NUM_BINS;

    private DemoEvaluation() {
    }

    /**
     * What one run measured.
     *
     * @param method         the training method ({@code ce}, {@code ls}, {@code tsla}, {@code ols}) of a
     *                       {@code --method} run, or null for a run of a {@code --smoothing} sweep
     * @param smoothing      the label smoothing it was trained with (ce: 0; tsla: its first stage's; ols: its s)
     * @param accuracy       top-1 accuracy on the test set
     * @param nll            mean negative log-likelihood of the true (unsmoothed) test labels, in nats
     * @param ece            expected calibration error: {@code sum over bins b of (n_b / N) * |acc_b - conf_b|}
     * @param meanConfidence mean top-1 probability on the test set
     * @param trainAccuracy  top-1 accuracy on the training labels as trained on (noisy ones included): how much of
     *                       the training set the network fits
     * @param reliability    top-label reliability diagram: mean confidence and accuracy of each non-empty bin
     * @param binCounts      the number of test examples in each of those bins, in the same order (sums to N)
     * @param perClass       DL4J's per-class (one-vs-rest) calibration, for its HTML charts
     */
    record Result(String method, double smoothing, double accuracy, double nll, double ece, double meanConfidence,
            double trainAccuracy, ReliabilityDiagram reliability, long[] binCounts, EvaluationCalibration perClass) {

        /** Names of the numbers of a run, in the order of {@link #cells(String)}: the header of results.csv. */
        static final List<String> COLUMNS =
                List.of("smoothing", "accuracy", "nll", "ece", "mean_confidence", "train_accuracy");

        /** The columns of these results: {@link #COLUMNS}, after a "method" column for {@code --method} runs. */
        static List<String> columns(List<Result> results) {
            if (results.get(0).method() == null) {
                return COLUMNS;
            }
            List<String> columns = new ArrayList<>(List.of("method"));
            columns.addAll(COLUMNS);
            return columns;
        }

        /** The run's name in legends: {@link CalibrationDemo#runName}. */
        String name() {
            return CalibrationDemo.runName(method, smoothing);
        }

        /**
         * The method (for {@code --method} runs), the smoothing value and the metrics formatted with
         * {@code numberFormat} (e.g. "%.4f"), as in {@link #columns}.
         */
        List<String> cells(String numberFormat) {
            List<String> cells = new ArrayList<>();
            if (method != null) {
                cells.add(method);
            }
            cells.add(CalibrationDemo.format(smoothing));
            for (double metric : new double[] {accuracy, nll, ece, meanConfidence, trainAccuracy}) {
                cells.add(String.format(Locale.ROOT, numberFormat, metric));
            }
            return cells;
        }
    }

    /** Evaluates {@code net} on {@code test}, binning top-1 confidences into {@code bins} reliability bins. */
    static Result evaluate(MultiLayerNetwork net, String method, double smoothing, DataSet train, DataSet test,
            int bins) {
        INDArray labels = test.getLabels();
        INDArray probabilities = net.output(test.getFeatures());

        EvaluationCalibration topLabel = new EvaluationCalibration(bins, HISTOGRAM_BINS);
        INDArray confidence = probabilities.max(true, 1).castTo(DataType.DOUBLE);
        INDArray correct = probabilities.argMax(1).eq(labels.argMax(1)).castTo(DataType.DOUBLE)
                .reshape(confidence.shape());
        topLabel.eval(Nd4j.hstack(correct, correct.rsub(1)), Nd4j.hstack(confidence, confidence.rsub(1)));
        // With n_b examples in bin b, acc_b = hits_b / n_b and conf_b = sumConf_b / n_b, so
        // (n_b / N) |acc_b - conf_b| = |hits_b - sumConf_b| / N; empty bins add nothing.
        double ece = topLabel.getRDiagBinPosCount().getColumn(0).castTo(DataType.DOUBLE)
                .sub(topLabel.getRDiagBinSumPredictions().getColumn(0)).norm1Number().doubleValue()
                / labels.size(0);

        // The reliability diagram leaves out empty bins; so do its counts.
        long[] binCounts = Arrays.stream(topLabel.getRDiagBinTotalCount().getColumn(0).dup().toLongVector())
                .filter(count -> count > 0).toArray();

        EvaluationCalibration perClass = new EvaluationCalibration(bins, HISTOGRAM_BINS);
        perClass.eval(labels, probabilities);
        return new Result(method, smoothing, accuracy(labels, probabilities), negativeLogLikelihood(net, test), ece,
                confidence.meanNumber().doubleValue(), accuracy(train.getLabels(), net.output(train.getFeatures())),
                topLabel.getReliabilityDiagram(0), binCounts, perClass);
    }

    private static double accuracy(INDArray labels, INDArray probabilities) {
        Evaluation evaluation = new Evaluation((int) labels.size(1));
        evaluation.eval(labels, probabilities);
        return evaluation.accuracy();
    }

    /**
     * {@code mean(-log p(true class))}, from the logits through a log-softmax in double precision. Not from
     * {@code net.output}: a confidently wrong float softmax rounds the true class's probability to 0 (infinite loss),
     * and DL4J's {@code LossMCXENT} score clips it at 1e-10 (at most 23 nats an example), which would understate
     * exactly the over-confidence this demo measures. Not from the network's own score either: that is the smoothed
     * training loss.
     */
    private static double negativeLogLikelihood(MultiLayerNetwork net, DataSet test) {
        int output = net.getnLayers() - 1;
        // feedForwardToLayer returns the input at index 0 and layer i's activations at index i + 1.
        INDArray hidden = net.feedForwardToLayer(output - 1, test.getFeatures()).get(output);
        INDArray logits = hidden.mmul(net.getLayer(output).getParam(DefaultParamInitializer.WEIGHT_KEY))
                .addiRowVector(net.getLayer(output).getParam(DefaultParamInitializer.BIAS_KEY));
        INDArray logProbabilities = Nd4j.nn.logSoftmax(logits.castTo(DataType.DOUBLE), 1);
        return -logProbabilities.muli(test.getLabels().castTo(DataType.DOUBLE)).sum(1).meanNumber().doubleValue();
    }
}
