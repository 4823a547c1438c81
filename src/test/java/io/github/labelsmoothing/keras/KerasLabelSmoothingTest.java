package io.github.labelsmoothing.keras;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.labelsmoothing.LossLabelSmoothing;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.modelimport.keras.KerasModelImport;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/**
 * Keras import against Keras' own numbers: the fixtures in src/test/resources/keras were written by make_fixtures.py
 * (h5py, tf.keras 2.4 layout), which also computed with numpy the loss Keras reports for a fixed batch (expected.json).
 * Unchanged cases are compared with DL4J's own KerasModelImport.
 */
class KerasLabelSmoothingTest {
    /** Keras' loss in float64 on float32 weights vs DL4J's float32 forward pass and loss. */
    private static final double RTOL = 1e-5;

    private static JsonNode expected;
    private static INDArray features;

    @BeforeAll
    static void readExpected() throws IOException {
        try (InputStream in = KerasLabelSmoothingTest.class.getResourceAsStream("/keras/expected.json")) {
            expected = new ObjectMapper().readTree(in);
        }
        features = matrix(expected.get("features"));
    }

    // --- the table ------------------------------------------------------------------------------------------

    @Test
    void dl4jAloneMissesKerasLossOnSmoothingAndLogits() throws Exception {
        // The fixtures tell the two imports apart: DL4J's drops label_smoothing (score off by a few percent) and
        // ignores from_logits (the log of a logit: NaN).
        for (String file : List.of("seq_cce_smoothed.h5", "seq_cce_logits.h5")) {
            JsonNode fixture = fixture(file);
            double dl4j = KerasModelImport.importKerasSequentialModelAndWeights(path(file)).score(dataSet(fixture));
            double keras = fixture.get("loss").asDouble();
            assertFalse(Math.abs(dl4j - keras) <= 0.01 * keras, file + ": DL4J " + dl4j + " vs Keras " + keras);
        }
    }

    @Test
    void categoricalCrossentropyKeepsLabelSmoothing() throws Exception {
        MultiLayerNetwork net = KerasLabelSmoothing.importKerasSequentialModelAndWeights(path("seq_cce_smoothed.h5"));
        LossLabelSmoothing loss = assertSmoothed(lossOf(net), 0.1, LossMCXENT.class);
        assertNull(loss.getPrior(), "uniform prior");
        assertInstanceOf(ActivationIdentity.class, activationOf(net), "softmax stays in the Dense layer");
        assertScoreIsKeras(net, "seq_cce_smoothed.h5");
    }

    @Test
    void binaryCrossentropyKeepsLabelSmoothingTowardsOneHalf() throws Exception {
        MultiLayerNetwork net = KerasLabelSmoothing.importKerasSequentialModelAndWeights(path("seq_bce_smoothed.h5"));
        assertSmoothed(lossOf(net), 0.1, LossBinaryXENT.class);
        assertScoreIsKeras(net, "seq_bce_smoothed.h5");
    }

    @Test
    void binaryCrossentropySumsOverSeveralSigmoidOutputsAsDl4jDoes() throws Exception {
        // Keras averages binary cross-entropy over a head's outputs, DL4J's LossBinaryXENT sums them (documented).
        MultiLayerNetwork net = KerasLabelSmoothing.importKerasSequentialModelAndWeights(path("seq_bce_multilabel.h5"));
        assertSmoothed(lossOf(net), 0.1, LossBinaryXENT.class);
        JsonNode fixture = fixture("seq_bce_multilabel.h5");
        assertRelative(3 * fixture.get("loss").asDouble(), net.score(dataSet(fixture)), "score = 3 x Keras' mean");
    }

    @Test
    void categoricalFromLogitsGetsSoftmaxOnTheLossLayer() throws Exception {
        MultiLayerNetwork net = KerasLabelSmoothing.importKerasSequentialModelAndWeights(path("seq_cce_logits.h5"));
        assertSmoothed(lossOf(net), 0.1, LossMCXENT.class);
        assertInstanceOf(ActivationSoftmax.class, activationOf(net));
        assertScoreIsKeras(net, "seq_cce_logits.h5");
        INDArray kerasLogits = matrix(fixture("seq_cce_logits.h5").get("output").get(0));
        assertClose(Transforms.softmax(kerasLogits, true), net.output(features), "output: softmax of Keras' logits");
    }

    @Test
    void fromLogitsWithoutSmoothingKeepsThePlainLossWithSoftmax() throws Exception {
        MultiLayerNetwork net = KerasLabelSmoothing.importKerasSequentialModelAndWeights(
                path("seq_cce_logits_unsmoothed.h5"));
        assertEquals(LossMCXENT.class, lossOf(net).getClass());
        assertInstanceOf(ActivationSoftmax.class, activationOf(net));
        assertScoreIsKeras(net, "seq_cce_logits_unsmoothed.h5");
    }

    @Test
    void binaryFromLogitsGetsSigmoidOnTheLossLayer() throws Exception {
        MultiLayerNetwork net = KerasLabelSmoothing.importKerasSequentialModelAndWeights(path("seq_bce_logits.h5"));
        assertSmoothed(lossOf(net), 0.1, LossBinaryXENT.class);
        assertInstanceOf(ActivationSigmoid.class, activationOf(net));
        assertScoreIsKeras(net, "seq_bce_logits.h5");
    }

    @Test
    void lossObjectIsRecognisedByClassNameWhateverItsName() throws Exception {
        String file = path("seq_cce_custom_name.h5");
        assertThrows(UnsupportedKerasConfigurationException.class,
                () -> KerasModelImport.importKerasSequentialModelAndWeights(file), "DL4J maps config.name only");
        MultiLayerNetwork net = KerasLabelSmoothing.importKerasSequentialModelAndWeights(file);
        assertSmoothed(lossOf(net), 0.1, LossMCXENT.class);
        assertScoreIsKeras(net, "seq_cce_custom_name.h5");
    }

    @Test
    void sparseCategoricalFromLogitsScoresClassIndices() throws Exception {
        MultiLayerNetwork net = KerasLabelSmoothing.importKerasSequentialModelAndWeights(path("seq_sparse_logits.h5"));
        assertEquals(LossSparseMCXENT.class, lossOf(net).getClass());
        assertInstanceOf(ActivationSoftmax.class, activationOf(net));
        assertScoreIsKeras(net, "seq_sparse_logits.h5");
    }

    @Test
    void sparseCategoricalKeepsALabelSmoothingItsConfigNames() throws Exception {
        // tf.keras 2.x never writes label_smoothing for SparseCategoricalCrossentropy; a hand-written config may.
        MultiLayerNetwork net = KerasLabelSmoothing.importKerasSequentialModelAndWeights(
                path("seq_sparse_smoothed.h5"));
        assertSmoothed(lossOf(net), 0.2, LossSparseMCXENT.class);
        assertScoreIsKeras(net, "seq_sparse_smoothed.h5");
    }

    @Test
    void functionalPerOutputDictSmoothsOnlyItsHead() throws Exception {
        String file = path("func_dict_one_smoothed.h5");
        assertThrows(InvalidKerasConfigurationException.class, () -> KerasModelImport.importKerasModelAndWeights(file),
                "DL4J takes only names in a per-output dict");
        ComputationGraph graph = KerasLabelSmoothing.importKerasModelAndWeights(file);
        assertEquals(List.of("head_a_loss", "head_b_loss"), graph.getConfiguration().getNetworkOutputs());
        assertSmoothed(lossOf(graph, "head_a_loss"), 0.1, LossMCXENT.class);
        assertEquals(LossMCXENT.class, lossOf(graph, "head_b_loss").getClass());
        assertScoreIsKeras(graph, "func_dict_one_smoothed.h5");
    }

    @Test
    void functionalSingleLossObjectAppliesToEveryOutput() throws Exception {
        String file = path("func_one_loss_two_heads.h5");
        assertEquals(List.of("head_b_loss"),
                KerasModelImport.importKerasModelAndWeights(file).getConfiguration().getNetworkOutputs(),
                "DL4J gives the last layer the loss and drops the other output");
        ComputationGraph graph = KerasLabelSmoothing.importKerasModelAndWeights(file);
        assertEquals(List.of("head_a_loss", "head_b_loss"), graph.getConfiguration().getNetworkOutputs());
        assertSmoothed(lossOf(graph, "head_a_loss"), 0.1, LossMCXENT.class);
        assertSmoothed(lossOf(graph, "head_b_loss"), 0.1, LossMCXENT.class);
        assertScoreIsKeras(graph, "func_one_loss_two_heads.h5");
    }

    @Test
    void functionalLossListGoesToTheOutputsInOrder() throws Exception {
        String file = path("func_list_losses.h5");
        assertThrows(IllegalStateException.class, () -> KerasModelImport.importKerasModelAndWeights(file),
                "DL4J reads no loss from a list: a graph without outputs");
        ComputationGraph graph = KerasLabelSmoothing.importKerasModelAndWeights(file);
        assertEquals(List.of("head_a_loss", "head_b_loss"), graph.getConfiguration().getNetworkOutputs());
        assertEquals(LossMCXENT.class, lossOf(graph, "head_a_loss").getClass());
        assertSmoothed(lossOf(graph, "head_b_loss"), 0.2, LossMCXENT.class);
        assertScoreIsKeras(graph, "func_list_losses.h5");
    }

    @Test
    void sparseCategoricalWithIgnoreClassNoneImports() throws Exception {
        // tf.keras 2.10+ writes ignore_class: null for a SparseCategoricalCrossentropy that ignores no class.
        MultiLayerNetwork net = KerasLabelSmoothing.importKerasSequentialModelAndWeights(
                path("seq_sparse_ignore_class_none.h5"));
        assertEquals(LossSparseMCXENT.class, lossOf(net).getClass());
        assertScoreIsKeras(net, "seq_sparse_ignore_class_none.h5");
    }

    @Test
    void keras3LossConfigWithDtypePolicyImports() throws Exception {
        // Keras 3 adds module, registered_name and a dtype policy, none of which changes the loss's value.
        MultiLayerNetwork net = KerasLabelSmoothing.importKerasSequentialModelAndWeights(
                path("seq_cce_keras3_config.h5"));
        assertSmoothed(lossOf(net), 0.1, LossMCXENT.class);
        assertScoreIsKeras(net, "seq_cce_keras3_config.h5");
    }

    // --- unchanged cases: exactly DL4J's import --------------------------------------------------------------------

    @Test
    void plainStringLossImportsAsDl4jDoes() throws Exception {
        String file = path("seq_plain_string.h5");
        MultiLayerNetwork ours = KerasLabelSmoothing.importKerasSequentialModelAndWeights(file);
        MultiLayerNetwork dl4j = KerasModelImport.importKerasSequentialModelAndWeights(file);
        assertSameNetwork(dl4j, ours);
        DataSet data = dataSet(fixture("seq_plain_string.h5"));
        assertEquals(dl4j.score(data), ours.score(data));
        assertScoreIsKeras(ours, "seq_plain_string.h5");
    }

    @Test
    void functionalPlainStringLossImportsAsDl4jDoes() throws Exception {
        String file = path("func_plain_string.h5");
        ComputationGraph ours = KerasLabelSmoothing.importKerasModelAndWeights(file);
        ComputationGraph dl4j = KerasModelImport.importKerasModelAndWeights(file);
        assertEquals(withoutSeed(dl4j.getConfiguration().toJson()), withoutSeed(ours.getConfiguration().toJson()));
        assertEquals(dl4j.params(), ours.params());
        assertArrayEquals(dl4j.output(features), ours.output(features));
        assertScoreIsKeras(ours, "func_plain_string.h5");
    }

    @Test
    void fileWithoutTrainingConfigurationImportsAsDl4jDoes() throws Exception {
        String file = path("seq_no_training_config.h5");
        MultiLayerNetwork ours = KerasLabelSmoothing.importKerasSequentialModelAndWeights(file);
        assertSameNetwork(KerasModelImport.importKerasSequentialModelAndWeights(file), ours);
        assertClose(matrix(fixture("seq_no_training_config.h5").get("output").get(0)), ours.output(features),
                "output: Keras' forward pass");
    }

    // --- bad input ---------------------------------------------------------------------------------------------------

    @Test
    void missingFileIsRejected() {
        assertRejected(() -> KerasLabelSmoothing.importKerasSequentialModelAndWeights("no/such/model.h5"),
                "'no/such/model.h5'", "no such file");
    }

    @Test
    void nullPathIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> KerasLabelSmoothing.importKerasModelAndWeights(null));
    }

    @Test
    void fileThatIsNotHdf5IsRejected(@TempDir Path dir) throws IOException {
        Path text = Files.writeString(dir.resolve("model.h5"), "not an HDF5 file");
        assertRejected(() -> KerasLabelSmoothing.importKerasSequentialModelAndWeights(text.toString()),
                text.toString(), "not an HDF5 file");
    }

    @Test
    void hdf5FileAfterAUserBlockIsRead(@TempDir Path dir) throws Exception {
        // HDF5 files may start with a user block (512, 1024, ... bytes): the signature check looks there too.
        byte[] model = Files.readAllBytes(Path.of(path("seq_cce_smoothed.h5")));
        Path withUserBlock = dir.resolve("model.h5");
        Files.write(withUserBlock, new byte[512]);
        Files.write(withUserBlock, model, StandardOpenOption.APPEND);
        assertScoreIsKeras(KerasLabelSmoothing.importKerasSequentialModelAndWeights(withUserBlock.toString()),
                "seq_cce_smoothed.h5");
    }

    @Test
    void hdf5FileWithoutAKerasModelIsRejected() throws Exception {
        String file = path("not_keras.h5");
        assertRejected(() -> KerasLabelSmoothing.importKerasModelAndWeights(file), "not_keras.h5");
    }

    @Test
    void labelSmoothingOutsideZeroOneIsRejected() throws Exception {
        String file = path("bad_smoothing.h5");
        assertRejected(() -> KerasLabelSmoothing.importKerasSequentialModelAndWeights(file), "label_smoothing", "1.5");
    }

    @Test
    void unmappableLossIsRejectedByName() throws Exception {
        String file = path("bad_unmappable_loss.h5");
        assertRejected(() -> KerasLabelSmoothing.importKerasSequentialModelAndWeights(file), "Huber", "huber_loss");
    }

    @Test
    void reductionOtherThanTheBatchMeanIsRejected() throws Exception {
        String file = path("bad_reduction.h5");
        assertRejected(() -> KerasLabelSmoothing.importKerasSequentialModelAndWeights(file), "reduction 'sum'");
    }

    @Test
    void labelSmoothingOfALossClassThatCannotKeepItIsRejected() throws Exception {
        String file = path("bad_smoothing_on_subclass.h5");
        assertRejected(() -> KerasLabelSmoothing.importKerasSequentialModelAndWeights(file), "SmoothedCce",
                "label_smoothing");
    }

    @Test
    void perOutputLossForAnUnknownOutputIsRejected() throws Exception {
        String file = path("bad_dict_unknown_output.h5");
        assertRejected(() -> KerasLabelSmoothing.importKerasModelAndWeights(file), "'head_c'");
    }

    @Test
    void lossListOfTheWrongLengthIsRejected() throws Exception {
        String file = path("bad_list_length.h5");
        assertRejected(() -> KerasLabelSmoothing.importKerasModelAndWeights(file), "length 1", "2 outputs");
    }

    @Test
    void ignoreClassIsRejected() throws Exception {
        // Keras averages over the examples whose class is not ignored; a DL4J score divides by the batch size.
        String file = path("bad_sparse_ignore_class.h5");
        assertRejected(() -> KerasLabelSmoothing.importKerasSequentialModelAndWeights(file), "ignore_class = 0",
                "'dense_1'");
    }

    @Test
    void focalLossParametersAreRejectedWhateverTheLossIsNamed() throws Exception {
        String file = path("bad_focal_renamed.h5");
        assertInstanceOf(LossBinaryXENT.class, lossOf(KerasModelImport.importKerasSequentialModelAndWeights(file)),
                "DL4J maps config.name: a plain binary cross-entropy, gamma and alpha dropped");
        String message = assertRejected(() -> KerasLabelSmoothing.importKerasSequentialModelAndWeights(file),
                "gamma = 2.0", "alpha = 0.25");
        assertFalse(message.contains("apply_class_balancing ="), "false changes nothing: " + message);
    }

    @Test
    void axisOtherThanTheLastIsRejected() throws Exception {
        String file = path("bad_axis.h5");
        assertRejected(() -> KerasLabelSmoothing.importKerasSequentialModelAndWeights(file), "axis = 1");
    }

    @Test
    void outputMissingFromTheLossDictIsRejectedByName() throws Exception {
        String file = path("bad_dict_missing_output.h5");
        assertRejected(() -> KerasLabelSmoothing.importKerasModelAndWeights(file), "[head_b]", "Keras does not train");
    }

    @Test
    void noneLossInTheListIsRejectedNamingTheOutputAndWhatToDo() throws Exception {
        String file = path("bad_list_none.h5");
        assertRejected(() -> KerasLabelSmoothing.importKerasModelAndWeights(file), "[head_b]", "None",
                "Keras does not train", "with a loss for every output");
    }

    // --- helpers -----------------------------------------------------------------------------------------------------

    private static String path(String fixture) throws URISyntaxException {
        return Path.of(KerasLabelSmoothingTest.class.getResource("/keras/" + fixture).toURI()).toString();
    }

    /** Asserts that the import throws an IllegalArgumentException whose message has every part; returns it. */
    private static String assertRejected(Executable importing, String... parts) {
        String message = assertThrows(IllegalArgumentException.class, importing).getMessage();
        for (String part : parts) {
            assertTrue(message.contains(part), "'" + part + "' in: " + message);
        }
        return message;
    }

    private static JsonNode fixture(String file) {
        return expected.get("fixtures").get(file);
    }

    /** A JSON matrix as a FLOAT array, the type DL4J's import gives the network. */
    private static INDArray matrix(JsonNode rows) {
        double[][] values = new double[rows.size()][];
        for (int i = 0; i < values.length; i++) {
            JsonNode row = rows.get(i);
            values[i] = new double[row.size()];
            for (int j = 0; j < values[i].length; j++) {
                values[i][j] = row.get(j).asDouble();
            }
        }
        return Nd4j.createFromArray(values).castTo(DataType.FLOAT);
    }

    private static DataSet dataSet(JsonNode fixture) {
        return new DataSet(features, matrix(fixture.get("labels").get(0)));
    }

    private static void assertScoreIsKeras(MultiLayerNetwork net, String file) {
        JsonNode fixture = fixture(file);
        assertRelative(fixture.get("loss").asDouble(), net.score(dataSet(fixture)), file + ": score vs Keras' loss");
    }

    private static void assertScoreIsKeras(ComputationGraph graph, String file) {
        JsonNode fixture = fixture(file);
        List<INDArray> labels = new ArrayList<>();
        fixture.get("labels").forEach(l -> labels.add(matrix(l)));
        MultiDataSet data = new MultiDataSet(new INDArray[] {features}, labels.toArray(new INDArray[0]));
        assertRelative(fixture.get("loss").asDouble(), graph.score(data), file + ": score vs Keras' loss");
    }

    private static void assertRelative(double expected, double actual, String what) {
        assertTrue(Math.abs(actual - expected) <= RTOL * Math.abs(expected),
                what + ": expected " + expected + " but was " + actual + " (relative diff "
                        + Math.abs(actual - expected) / Math.abs(expected) + ")");
    }

    private static void assertClose(INDArray expected, INDArray actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double[] e = expected.castTo(DataType.DOUBLE).ravel().toDoubleVector();
        double[] a = actual.castTo(DataType.DOUBLE).ravel().toDoubleVector();
        for (int i = 0; i < e.length; i++) {
            assertTrue(Math.abs(a[i] - e[i]) <= RTOL * Math.abs(e[i]) + 1e-7, what + "[" + i + "]: expected " + e[i]
                    + " but was " + a[i]);
        }
    }

    private static LossLabelSmoothing assertSmoothed(ILossFunction loss, double smoothing,
            Class<? extends ILossFunction> base) {
        LossLabelSmoothing smoothed = assertInstanceOf(LossLabelSmoothing.class, loss);
        assertEquals(smoothing, smoothed.getSmoothing(), 1e-12);
        assertEquals(base, smoothed.getBase().getClass());
        return smoothed;
    }

    private static ILossFunction lossOf(MultiLayerNetwork net) {
        return ((LossLayer) net.getLayerWiseConfigurations().getConf(net.getnLayers() - 1).getLayer()).getLossFn();
    }

    private static IActivation activationOf(MultiLayerNetwork net) {
        return ((BaseLayer) net.getLayerWiseConfigurations().getConf(net.getnLayers() - 1).getLayer())
                .getActivationFn();
    }

    private static ILossFunction lossOf(ComputationGraph graph, String layer) {
        return ((LossLayer) ((LayerVertex) graph.getConfiguration().getVertices().get(layer)).getLayerConf()
                .getLayer()).getLossFn();
    }

    /** Same configuration (as JSON, but for the seed DL4J draws from the clock), same parameters, same output. */
    private static void assertSameNetwork(MultiLayerNetwork dl4j, MultiLayerNetwork ours) {
        assertEquals(withoutSeed(dl4j.getLayerWiseConfigurations().toJson()),
                withoutSeed(ours.getLayerWiseConfigurations().toJson()));
        assertEquals(dl4j.params(), ours.params());
        assertEquals(dl4j.output(features), ours.output(features));
    }

    private static String withoutSeed(String json) {
        return json.replaceAll("\"seed\" : -?\\d+", "");
    }
}
