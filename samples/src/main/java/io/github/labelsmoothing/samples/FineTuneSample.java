package io.github.labelsmoothing.samples;

import io.github.labelsmoothing.LabelSmoothing;
import io.github.labelsmoothing.UnsmoothedLossCalculator;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.earlystopping.EarlyStoppingConfiguration;
import org.deeplearning4j.earlystopping.EarlyStoppingResult;
import org.deeplearning4j.earlystopping.listener.EarlyStoppingListener;
import org.deeplearning4j.earlystopping.saver.InMemoryModelSaver;
import org.deeplearning4j.earlystopping.scorecalc.DataSetLossCalculator;
import org.deeplearning4j.earlystopping.termination.MaxEpochsTerminationCondition;
import org.deeplearning4j.earlystopping.termination.ScoreImprovementEpochTerminationCondition;
import org.deeplearning4j.earlystopping.trainer.EarlyStoppingTrainer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * Fine-tuning a trained network with label smoothing: train an ordinary Iris classifier and save it (the model you
 * already have), restore it, {@code LabelSmoothing.applyTo(net, 0.1)} (same weights, same Adam state), fine-tune with
 * DL4J's early stopping scored by {@link UnsmoothedLossCalculator} (the validation loss without smoothing), and save
 * the best network twice: as trained (smoothed; loading it needs this library) and through {@code applyTo(best, 0)}
 * for serving (plain DL4J). Iris ships inside deeplearning4j-core: nothing is downloaded.
 *
 * <pre>mvn -q test-compile exec:java -Dsamples.main=io.github.labelsmoothing.samples.FineTuneSample</pre>
 */
public final class FineTuneSample {

    private FineTuneSample() {
    }

    /**
     * Optional arguments: pre-training epochs (default 100), the most fine-tuning epochs (default 50), the directory
     * for the saved models (default {@code target/fine-tune-sample}).
     */
    public static void main(String[] args) throws IOException {
        int pretrainEpochs = SampleData.epochs(args, 100);
        int maxFineTuneEpochs = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        Path dir = Files.createDirectories(Path.of(args.length > 2 ? args[2] : "target/fine-tune-sample"));

        SampleData.Split trainTest = SampleData.irisSplit();                      // 120 / 30 flowers
        SampleData.Split trainValidation = SampleData.split(trainTest.train(), 0.75); // 90 / 30 of the 120
        DataSetIterator train = new ListDataSetIterator<>(trainValidation.train().asList(), 16);
        DataSetIterator validation = new ListDataSetIterator<>(trainValidation.test().asList(), 30);

        // 1. A network trained without smoothing, saved with its updater state: the model you start from.
        MultiLayerNetwork pretrained = new MultiLayerNetwork(SampleData.irisClassifier());
        pretrained.init();
        pretrained.fit(train, pretrainEpochs);
        File pretrainedFile = dir.resolve("pretrained.zip").toFile();
        ModelSerializer.writeModel(pretrained, pretrainedFile, true);
        System.out.printf("pretrained %d epochs, validation loss %.4f, saved to %s%n", pretrainEpochs,
                new DataSetLossCalculator(validation, true).calculateScore(pretrained), pretrainedFile);

        // 2. Restore it and turn smoothing on: a copy with the same parameters, Adam state and counters.
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(pretrainedFile, true);
        MultiLayerNetwork smoothed = LabelSmoothing.applyTo(restored, 0.1);
        System.out.println("fine-tuning with output loss " + lossOf(smoothed));

        // 3. Fine-tune; early stopping watches the unsmoothed validation loss (the smoothed one is not the NLL).
        EarlyStoppingConfiguration<MultiLayerNetwork> config = new EarlyStoppingConfiguration.Builder<MultiLayerNetwork>()
                .epochTerminationConditions(new MaxEpochsTerminationCondition(maxFineTuneEpochs),
                        new ScoreImprovementEpochTerminationCondition(10))
                .scoreCalculator(new UnsmoothedLossCalculator(validation, true))
                .evaluateEveryNEpochs(1)
                .modelSaver(new InMemoryModelSaver<>())
                .build();
        EarlyStoppingTrainer trainer = new EarlyStoppingTrainer(config, smoothed, train);
        trainer.setListener(new Progress(validation));
        EarlyStoppingResult<MultiLayerNetwork> result = trainer.fit();
        MultiLayerNetwork best = result.getBestModel();
        // The best epoch's score is in getScoreVsEpoch(): DL4J's getBestModelScore() is the best model's own score(),
        // not the calculator's (0 for a model kept by InMemoryModelSaver, the smoothed training loss otherwise).
        System.out.printf("early stopping: %s (%s); best epoch %d, validation loss %.4f%n",
                result.getTerminationReason(), result.getTerminationDetails(), result.getBestModelEpoch() + 1,
                result.getScoreVsEpoch().get(result.getBestModelEpoch()));

        // 4. Save: as trained (keeps training later; its configuration names LossLabelSmoothing), and plain for serving.
        File fineTuned = dir.resolve("fine-tuned.zip").toFile();
        ModelSerializer.writeModel(best, fineTuned, true);
        MultiLayerNetwork serving = LabelSmoothing.applyTo(best, 0);
        File servingFile = dir.resolve("fine-tuned-serving.zip").toFile();
        ModelSerializer.writeModel(serving, servingFile, false);
        System.out.println("saved " + fineTuned + " (loss " + lossOf(best) + ") and " + servingFile + " (loss "
                + lossOf(serving) + ", loads without this library)");
        System.out.printf("test accuracy %.3f on %d held-out Iris flowers%n",
                serving.evaluate(new ListDataSetIterator<>(trainTest.test().asList(), 30)).accuracy(),
                trainTest.test().numExamples());
    }

    private static String lossOf(MultiLayerNetwork net) {
        return ((OutputLayer) net.getLayerWiseConfigurations().getConf(1).getLayer()).getLossFn().toString();
    }

    /** One line per fine-tuning epoch: the validation loss early stopping sees, and the smoothed one next to it. */
    private record Progress(DataSetIterator validation) implements EarlyStoppingListener<MultiLayerNetwork> {

        @Override
        public void onStart(EarlyStoppingConfiguration<MultiLayerNetwork> config, MultiLayerNetwork net) {
        }

        @Override
        public void onEpoch(int epoch, double score, EarlyStoppingConfiguration<MultiLayerNetwork> config,
                MultiLayerNetwork net) {
            System.out.printf("fine-tune epoch %3d  validation loss %.4f (smoothed: %.4f)%n", epoch + 1, score,
                    new DataSetLossCalculator(validation, true).calculateScore(net));
        }

        @Override
        public void onCompletion(EarlyStoppingResult<MultiLayerNetwork> result) {
        }
    }
}
