package io.github.labelsmoothing.samples;

import io.github.labelsmoothing.LabelSmoothing;
import java.io.IOException;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * A ComputationGraph with two heads on Iris: the species (softmax, smoothed) and the petal width (regression, which
 * {@code applyTo} leaves alone). {@code applyTo(conf, s, "species")} would pick heads by name.
 *
 * <pre>mvn -q test-compile exec:java -Dsamples.main=GraphSample</pre>
 */
public final class GraphSample {

    private GraphSample() {
    }

    /** Optional argument: the number of epochs (default 200). */
    public static void main(String[] args) throws IOException {
        int epochs = SampleData.epochs(args, 200);
        DataSet iris = SampleData.iris();
        INDArray measurements = iris.getFeatures();
        INDArray firstThree = measurements.getColumns(0, 1, 2);
        INDArray petalWidth = measurements.getColumns(3);
        MultiDataSet data = new MultiDataSet(new INDArray[] {firstThree}, new INDArray[] {iris.getLabels(), petalWidth});

        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(42)
                .updater(new Adam(0.01))
                .graphBuilder()
                .addInputs("measurements")
                .addLayer("hidden", new DenseLayer.Builder().nIn(3).nOut(16).activation(Activation.RELU).build(),
                        "measurements")
                .addLayer("species", new OutputLayer.Builder(LossFunction.MCXENT).nIn(16).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "hidden")
                .addLayer("petalWidth", new OutputLayer.Builder(LossFunction.MSE).nIn(16).nOut(1)
                        .activation(Activation.IDENTITY).build(), "hidden")
                .setOutputs("species", "petalWidth")
                .build();

        ComputationGraphConfiguration smoothed = LabelSmoothing.applyTo(conf, 0.1);
        for (String head : new String[] {"species", "petalWidth"}) {
            System.out.println(head + " loss: "
                    + ((OutputLayer) ((LayerVertex) smoothed.getVertices().get(head)).getLayerConf().getLayer()).getLossFn());
        }

        ComputationGraph graph = new ComputationGraph(smoothed);
        graph.init();
        for (int epoch = 1; epoch <= epochs; epoch++) {
            graph.fit(data);
            if (epoch % Math.max(1, epochs / 5) == 0 || epoch == epochs) {
                System.out.printf("epoch %3d/%d  training loss %.4f%n", epoch, epochs, graph.score());
            }
        }
        INDArray[] out = graph.output(firstThree);
        double accuracy = out[0].argMax(1).eq(iris.getLabels().argMax(1)).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)
                .meanNumber().doubleValue();
        double rmse = out[1].sub(petalWidth).norm2Number().doubleValue() / Math.sqrt(petalWidth.length());
        System.out.printf("training accuracy %.3f, petal width RMSE %.3f cm%n", accuracy, rmse);
    }
}
