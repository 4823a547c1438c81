package io.github.labelsmoothing.samples.spark;

import io.github.labelsmoothing.LabelSmoothing;
import io.github.labelsmoothing.LabelSmoothingPreProcessor;
import io.github.labelsmoothing.samples.SampleData;
import java.io.IOException;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.preprocessor.NormalizerStandardize;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * Label-smoothed training on Apache Spark with DL4J's own Spark integration (parameter averaging): the configuration
 * goes through {@code LabelSmoothing.applyTo}, is shipped to the executors as JSON, and nothing else is needed there
 * beyond this library's jar. The second route keeps DL4J's plain loss and smooths the labels in an RDD map with
 * {@code LabelSmoothingPreProcessor.apply}, the non-mutating form that suits cached RDDs. Runs on {@code local[2]} unless {@code spark.master} is set (e.g. by spark-submit).
 *
 * <p>Run it locally with {@code mvn -B -Pspark test -Dtest=SparkSampleTest} (the profile has the JVM flags Spark 3.1
 * needs on Java 17), or on a cluster with {@code spark-submit --class io.github.labelsmoothing.samples.spark.SparkSample}.
 */
public final class SparkSample {

    private SparkSample() {
    }

    /** Optional argument: the number of epochs (default 5). */
    public static void main(String[] args) throws IOException {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        SparkConf sparkConf = new SparkConf().setAppName("label-smoothing-on-spark")
                .setIfMissing("spark.master", "local[2]")
                .set("spark.ui.enabled", "false")
                .set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .set("spark.kryo.registrator", "org.nd4j.kryo.Nd4jRegistrator");
        try (JavaSparkContext sc = new JavaSparkContext(sparkConf)) {
            JavaRDD<DataSet> train = sc.parallelize(irisExamples(), 2).cache();

            MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(42).updater(new Adam(0.05)).list()
                    .layer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.RELU).build())
                    .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(8).nOut(3).activation(Activation.SOFTMAX)
                            .build())
                    .build();
            ParameterAveragingTrainingMaster master = new ParameterAveragingTrainingMaster.Builder(1)
                    .batchSizePerWorker(16).averagingFrequency(2).workerPrefetchNumBatches(0).rngSeed(42).build();
            SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(sc, LabelSmoothing.applyTo(conf, 0.1), master);

            System.out.printf("before training: loss %.4f%n", sparkNet.calculateScore(train, true));
            for (int epoch = 1; epoch <= epochs; epoch++) {
                sparkNet.fit(train);
                System.out.printf("epoch %d/%d: loss %.4f%n", epoch, epochs, sparkNet.calculateScore(train, true));
            }
            System.out.println("output layer loss: "
                    + ((OutputLayer) sparkNet.getNetwork().getLayerWiseConfigurations().getConf(1).getLayer()).getLossFn());

            // The other route: DL4J's plain loss, labels smoothed in a map. apply() returns new data sets and leaves the
            // cached RDD as it is, so each epoch smooths the original labels once (preProcess would mutate the cached
            // objects, and a deserialized copy cannot know it was smoothed before).
            LabelSmoothingPreProcessor pre = new LabelSmoothingPreProcessor(0.1);
            JavaRDD<DataSet> smoothedTrain = train.map(pre::apply);
            SparkDl4jMultiLayer plainNet = new SparkDl4jMultiLayer(sc, conf, master);
            for (int epoch = 1; epoch <= epochs; epoch++) {
                plainNet.fit(smoothedTrain);
            }
            System.out.printf("preprocessor route, %d epochs: loss %.4f on smoothed labels%n", epochs,
                    plainNet.calculateScore(smoothedTrain, true));
        }
    }

    /** Iris, standardized and shuffled, one DataSet per example (Spark batches them per worker). */
    public static List<DataSet> irisExamples() throws IOException {
        DataSet iris = SampleData.iris();
        NormalizerStandardize norm = new NormalizerStandardize();
        norm.fit(iris);
        norm.transform(iris);
        List<DataSet> examples = iris.asList();
        Collections.shuffle(examples, new Random(42));
        return examples;
    }
}
