package io.github.labelsmoothing.keras;

import io.github.labelsmoothing.LabelSmoothing;
import io.github.labelsmoothing.LossLabelSmoothing;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.modelimport.keras.KerasModel;
import org.deeplearning4j.nn.modelimport.keras.KerasModelImport;
import org.deeplearning4j.nn.modelimport.keras.KerasSequentialModel;
import org.deeplearning4j.nn.modelimport.keras.config.Keras2LayerConfiguration;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.utils.KerasLossUtils;
import org.deeplearning4j.nn.modelimport.keras.utils.KerasModelBuilder;
import org.deeplearning4j.nn.modelimport.keras.utils.KerasModelUtils;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

/**
 * Deeplearning4j's Keras import ({@link KerasModelImport}) that keeps what Keras' cross-entropy loss objects say about
 * label smoothing and logits.
 *
 * <p>The model is imported as {@code KerasModelImport.importKerasSequentialModelAndWeights(path)} /
 * {@code importKerasModelAndWeights(path)} import it, with the training configuration enforced, and then each output
 * whose loss is a {@code CategoricalCrossentropy}, {@code BinaryCrossentropy} or {@code SparseCategoricalCrossentropy}
 * object (recognised by {@code class_name}, whatever its {@code name}) gets:
 * <ul>
 * <li>{@code label_smoothing = s > 0}: a {@link LossLabelSmoothing} with smoothing s over {@code LossMCXENT},
 * {@code LossBinaryXENT} (prior 0.5 per output) or {@code LossSparseMCXENT}, so the loss is Keras' cross-entropy
 * against {@code (1-s)·y + s/K} (binary: {@code (1-s)·y + s/2});</li>
 * <li>{@code from_logits = true}: the softmax (binary: sigmoid) activation on its loss layer, so the score is Keras'
 * and {@code output()} gives probabilities where the Keras model gave logits.</li>
 * </ul>
 * A single loss object applies to every output, as in Keras; per-output losses may be a dict keyed by output name or a
 * list in output order. Losses given by name (strings) and files without a training configuration import exactly as
 * DL4J imports them. The network's score on a batch is then the loss Keras reports for it (Keras' default reduction
 * {@code sum_over_batch_size}, the batch mean; several outputs sum). Keras' {@code loss_weights} are not imported
 * (as in DL4J), and DL4J's binary cross-entropy sums over the outputs of a head where Keras averages them.
 *
 * <p>A loss setting that would change the numbers and that the import does not implement is refused, never dropped:
 * a reduction other than the batch mean, an {@code axis} other than -1, {@code ignore_class}, a focal loss's
 * {@code alpha}, {@code gamma} or {@code apply_class_balancing} (also on a loss class DL4J maps by its name),
 * {@code label_smoothing} or {@code from_logits} on a loss other than the three cross-entropies, and an output left
 * without a loss (None, or missing from a dict), which Keras does not train and a DL4J graph would.
 *
 * <p>Needs {@code org.deeplearning4j:deeplearning4j-modelimport} on the class path (an optional dependency of this
 * library).
 */
public final class KerasLabelSmoothing {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The Keras loss classes whose smoothing and logits this import keeps, with the Keras name DL4J maps. */
    private static final Map<String, CrossEntropy> CROSS_ENTROPIES = Map.of(
            "CategoricalCrossentropy", new CrossEntropy("categorical_crossentropy", Activation.SOFTMAX),
            "SparseCategoricalCrossentropy", new CrossEntropy("sparse_categorical_crossentropy", Activation.SOFTMAX),
            "BinaryCrossentropy", new CrossEntropy("binary_crossentropy", Activation.SIGMOID));
    /** Keras' other built-in loss classes, by the function name DL4J maps (DL4J reads only config.name). */
    private static final Map<String, String> OTHER_LOSS_CLASSES = Map.of(
            "MeanSquaredError", "mean_squared_error",
            "MeanAbsoluteError", "mean_absolute_error",
            "MeanAbsolutePercentageError", "mean_absolute_percentage_error",
            "MeanSquaredLogarithmicError", "mean_squared_logarithmic_error",
            "Hinge", "hinge",
            "SquaredHinge", "squared_hinge",
            "KLDivergence", "kullback_leibler_divergence",
            "Poisson", "poisson",
            "CosineSimilarity", "cosine_proximity");
    /** Why the import refuses label_smoothing or from_logits on a loss class other than the cross-entropies. */
    private static final String CROSS_ENTROPIES_ONLY = "only " + new TreeSet<>(CROSS_ENTROPIES.keySet())
            + " are mapped with it";
    /** Why the import refuses a parameter of Keras' focal, Huber or Tversky losses. */
    private static final String NO_SUCH_PARAMETER = "DL4J's losses have no such parameter";
    /**
     * The settings of Keras' loss classes (tf.keras 2.x, Keras 3) that change a loss's value, each with the values
     * that change nothing and why the import cannot keep any other. Other keys (name, dtype, fn) do not change it.
     */
    private static final Map<String, Setting> VALUE_SETTINGS = Map.of(
            "label_smoothing", new Setting(v -> v.isNumber() && v.asDouble() == 0, CROSS_ENTROPIES_ONLY),
            "from_logits", new Setting(v -> v.isBoolean() && !v.asBoolean(), CROSS_ENTROPIES_ONLY),
            "axis", new Setting(v -> v.isIntegralNumber() && v.asInt() == -1,
                    "DL4J applies the loss over the last Keras axis (-1)"),
            "ignore_class", new Setting(JsonNode::isNull, "DL4J cannot keep Keras' mean over the examples not"
                    + " ignored (a DL4J score divides by the batch size); recompile the Keras model without"
                    + " ignore_class before saving it, and in DL4J give the examples of that class a labels mask of 0"),
            "apply_class_balancing", new Setting(v -> v.isBoolean() && !v.asBoolean(), NO_SUCH_PARAMETER),
            "alpha", new Setting(v -> false, NO_SUCH_PARAMETER),
            "gamma", new Setting(v -> false, NO_SUCH_PARAMETER),
            "delta", new Setting(v -> false, NO_SUCH_PARAMETER),
            "beta", new Setting(v -> false, NO_SUCH_PARAMETER));
    /** The reductions whose loss is the batch mean, which is what a DL4J score is. */
    private static final List<String> BATCH_MEAN_REDUCTIONS = List.of("auto", "sum_over_batch_size");
    /** The first bytes of an HDF5 superblock. */
    private static final byte[] HDF5_SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    private static final String LOSS_LAYER_SUFFIX = "_loss"; // DL4J names an output's loss layer <output>_loss

    private KerasLabelSmoothing() {
    }

    /**
     * Imports a Keras Sequential model saved with {@code model.save("model.h5")}, keeping label smoothing and logits.
     *
     * @param h5Path the HDF5 file (Keras 2 / tf.keras layout, with a training configuration to keep the loss)
     * @return the initialized network with the Keras weights
     * @throws IllegalArgumentException if the path is null, the file is missing or not a Keras HDF5 model, a
     *                                  {@code label_smoothing} is outside [0, 1], a loss has a setting the import does
     *                                  not implement (see the class comment), or a loss cannot be mapped to DL4J (the
     *                                  message names the setting and its value)
     * @throws IOException                            as DL4J's import
     * @throws InvalidKerasConfigurationException     as DL4J's import, e.g. for a model that is not Sequential
     * @throws UnsupportedKerasConfigurationException as DL4J's import, e.g. for a layer DL4J cannot import
     */
    public static MultiLayerNetwork importKerasSequentialModelAndWeights(String h5Path)
            throws IOException, InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        Map<String, OutputLoss> losses;
        KerasSequentialModel keras;
        try (KerasModelBuilder builder = open(new KerasSequentialModel().modelBuilder(), h5Path)) {
            losses = keepLosses(builder, outputNames(builder.getModelJson()));
            keras = builder.buildSequential();
        }
        MultiLayerConfiguration conf = keras.getMultiLayerConfiguration();
        int last = conf.getConfs().size() - 1;
        OutputLoss loss = losses.get(conf.getConf(last).getLayer().getLayerName());
        if (loss != null) {
            conf = loss.smoothing() > 0 ? LabelSmoothing.applyTo(conf, loss.smoothing(), last) : conf;
            loss.setLogitsActivation((BaseLayer) conf.getConf(last).getLayer());
        }
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return (MultiLayerNetwork) KerasModelUtils.copyWeightsToModel(net, keras.getLayers());
    }

    /**
     * Imports a Keras functional model saved with {@code model.save("model.h5")}, keeping label smoothing and logits
     * of every output. The graph's outputs are in the order of the Keras model's outputs.
     *
     * @param h5Path the HDF5 file (Keras 2 / tf.keras layout, with a training configuration to keep the losses)
     * @return the initialized graph with the Keras weights
     * @throws IllegalArgumentException as {@link #importKerasSequentialModelAndWeights(String)}, or if per-output
     *                                  losses name an output the model does not have, are a list of the wrong length,
     *                                  or leave an output without a loss (naming the outputs)
     * @throws IOException                            as DL4J's import
     * @throws InvalidKerasConfigurationException     as DL4J's import, e.g. for a Sequential model
     * @throws UnsupportedKerasConfigurationException as DL4J's import, e.g. for a layer DL4J cannot import
     */
    public static ComputationGraph importKerasModelAndWeights(String h5Path)
            throws IOException, InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        List<String> outputs;
        Map<String, OutputLoss> losses;
        KerasModel keras;
        try (KerasModelBuilder builder = open(new KerasModel().modelBuilder(), h5Path)) {
            outputs = outputNames(builder.getModelJson());
            losses = keepLosses(builder, outputs);
            keras = builder.buildModel();
        }
        // DL4J orders the outputs of per-output losses as a HashMap does; Keras' order is the model's.
        List<String> kerasOrder = outputs.stream().map(name -> name + LOSS_LAYER_SUFFIX).toList();
        keras.getOutputLayerNames().sort(Comparator.comparingInt(kerasOrder::indexOf));
        ComputationGraphConfiguration conf = keras.getComputationGraphConfiguration();
        for (Map.Entry<String, OutputLoss> e : losses.entrySet()) {
            OutputLoss loss = e.getValue();
            conf = loss.smoothing() > 0 ? LabelSmoothing.applyTo(conf, loss.smoothing(), e.getKey()) : conf;
            loss.setLogitsActivation(
                    (BaseLayer) ((LayerVertex) conf.getVertices().get(e.getKey())).getLayerConf().getLayer());
        }
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        return (ComputationGraph) KerasModelUtils.copyWeightsToModel(graph, keras.getLayers());
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** A Keras cross-entropy class: the loss name DL4J maps, and the activation its {@code from_logits} stands for. */
    private record CrossEntropy(String kerasName, Activation logitsActivation) {
        /** The settings a cross-entropy is imported with. */
        static final Set<String> KEPT_SETTINGS = Set.of("label_smoothing", "from_logits");
    }

    /** What an output's Keras loss asks beyond the name DL4J maps: smoothing s, and the activation for logits. */
    private record OutputLoss(double smoothing, Activation logitsActivation) {

        /** Gives the loss layer the activation Keras applies inside the loss, if it is computed from logits. */
        void setLogitsActivation(BaseLayer lossLayer) {
            if (logitsActivation != null) {
                lossLayer.setActivationFn(logitsActivation.getActivationFunction());
            }
        }
    }

    /** A loss setting that changes the loss's value: the values that change nothing, and why others are refused. */
    private record Setting(Predicate<JsonNode> changesNothing, String whyNotKept) {
    }

    /** Reads the file into the builder, with the training configuration enforced as DL4J's import does. */
    private static KerasModelBuilder open(KerasModelBuilder builder, String h5Path) {
        if (h5Path == null) {
            throw new IllegalArgumentException("h5Path must not be null");
        }
        requireHdf5Signature(h5Path);
        try {
            return builder.modelHdf5Filename(h5Path).enforceTrainingConfig(true);
        } catch (Exception e) { // HDF5 reports a file it cannot open as a RuntimeException
            throw new IllegalArgumentException("cannot read a Keras model from '" + h5Path + "': " + e.getMessage(), e);
        }
    }

    /**
     * Checks that the file is HDF5 before the native library opens it (which would print its error stack on stderr):
     * the signature is at offset 0, or after a user block at 512, 1024, 2048, ...
     */
    private static void requireHdf5Signature(String h5Path) {
        try (FileChannel file = FileChannel.open(Path.of(h5Path))) {
            ByteBuffer head = ByteBuffer.allocate(HDF5_SIGNATURE.length);
            for (long offset = 0; offset + HDF5_SIGNATURE.length <= file.size(); offset = Math.max(512, 2 * offset)) {
                head.clear();
                int read;
                do { // a channel may return fewer bytes than asked
                    read = file.read(head, offset + head.position());
                } while (read > 0 && head.hasRemaining());
                if (Arrays.equals(head.array(), HDF5_SIGNATURE)) {
                    return;
                }
            }
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("cannot read a Keras model from '" + h5Path + "': no such file", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read a Keras model from '" + h5Path + "': " + e, e);
        }
        throw new IllegalArgumentException("cannot read a Keras model from '" + h5Path + "': not an HDF5 file (a Keras"
                + " 3 .keras file is a zip archive; save the model with model.save(\"model.h5\") instead)");
    }

    /**
     * Rewrites the builder's training configuration so that DL4J maps every loss object by its class (as a name DL4J
     * knows, one per output) and returns what DL4J would drop, by the name of the output's loss layer. A loss given
     * as a single name, or no training configuration, is left to DL4J as it is.
     */
    private static Map<String, OutputLoss> keepLosses(KerasModelBuilder builder, List<String> outputs)
            throws IOException {
        Map<String, OutputLoss> kept = new LinkedHashMap<>();
        if (builder.getTrainingJson() == null) {
            return kept;
        }
        JsonNode training = JSON.readTree(builder.getTrainingJson());
        JsonNode loss = training.get("loss");
        if (loss == null || loss.isNull()) {
            return kept;
        }
        if (loss.isTextual()) {
            requireMappable(loss.asText(), "loss '" + loss.asText() + "'");
            return kept;
        }
        ObjectNode perOutput = JSON.createObjectNode();
        for (Map.Entry<String, JsonNode> e : lossPerOutput(loss, outputs).entrySet()) {
            perOutput.put(e.getKey(), kerasName(e.getValue(), e.getKey(), kept));
        }
        ((ObjectNode) training).set("loss", perOutput);
        builder.trainingJson(JSON.writeValueAsString(training));
        return kept;
    }

    /**
     * The loss of each output, in the model's output order: one loss for all, a dict by output name, or a list.
     *
     * @throws IllegalArgumentException if the losses do not fit the outputs or leave an output without a loss
     */
    private static Map<String, JsonNode> lossPerOutput(JsonNode loss, List<String> outputs) {
        Map<String, JsonNode> perOutput = new LinkedHashMap<>();
        if (loss.has("class_name")) {
            outputs.forEach(output -> perOutput.put(output, loss));
        } else if (loss.isArray()) {
            if (loss.size() != outputs.size()) {
                throw new IllegalArgumentException("the training configuration's list of losses has length "
                        + loss.size() + " but the model has " + outputs.size() + " outputs " + outputs);
            }
            for (int i = 0; i < outputs.size(); i++) {
                perOutput.put(outputs.get(i), loss.get(i));
            }
        } else if (loss.isObject()) {
            for (Iterator<String> it = loss.fieldNames(); it.hasNext(); ) {
                String output = it.next();
                if (!outputs.contains(output)) {
                    throw new IllegalArgumentException("the training configuration has a loss for '" + output
                            + "', which is not an output of the model " + outputs);
                }
            }
            outputs.forEach(output -> perOutput.put(output, loss.path(output)));
        } else {
            throw new IllegalArgumentException("cannot map the Keras loss " + loss + ": expected a name, a loss "
                    + "object, a dict by output name or a list");
        }
        List<String> untrained = perOutput.entrySet().stream()
                .filter(e -> e.getValue().isNull() || e.getValue().isMissingNode()).map(Map.Entry::getKey).toList();
        if (!untrained.isEmpty()) {
            throw new IllegalArgumentException("outputs " + untrained + " have no loss in the training configuration"
                    + " (None, or missing from the dict of losses): Keras does not train such an output, but a DL4J"
                    + " graph trains every output it has. Compile the Keras model with a loss for every output, or"
                    + " save a model without those outputs (keras.Model(inputs, [the outputs that have a loss]))");
        }
        return perOutput;
    }

    /**
     * The Keras loss name DL4J maps for one output's loss; records in {@code kept} what DL4J would drop of it.
     *
     * @throws IllegalArgumentException if the loss cannot be mapped or its settings cannot be kept, naming them
     */
    private static String kerasName(JsonNode loss, String output, Map<String, OutputLoss> kept) {
        String what = "the loss " + loss + " of output '" + output + "'";
        if (loss.isTextual()) {
            return requireMappable(loss.asText(), what);
        }
        String className = loss.path("class_name").asText(null);
        JsonNode config = loss.path("config");
        if (className == null) {
            throw new IllegalArgumentException("cannot map " + what + ": it is neither a name nor a loss object");
        }
        String reduction = config.path("reduction").asText("auto");
        if (!BATCH_MEAN_REDUCTIONS.contains(reduction)) {
            throw new IllegalArgumentException("cannot keep reduction '" + reduction + "' of " + what
                    + ": a DL4J score is the batch mean (Keras' " + BATCH_MEAN_REDUCTIONS + ")");
        }
        CrossEntropy crossEntropy = CROSS_ENTROPIES.get(className);
        requireNoUnkeptSetting(config, crossEntropy == null ? Set.of() : CrossEntropy.KEPT_SETTINGS, what);
        if (crossEntropy == null) {
            String name = OTHER_LOSS_CLASSES.getOrDefault(className, config.path("name").asText(className));
            return requireMappable(name, what);
        }
        JsonNode s = config.path("label_smoothing");
        double smoothing = s.isMissingNode() || s.isNull() ? 0 : s.isNumber() ? s.asDouble() : Double.NaN;
        if (!(smoothing >= 0 && smoothing <= 1)) {
            throw new IllegalArgumentException("label_smoothing of " + what + " must be in [0, 1], got " + s);
        }
        boolean fromLogits = config.path("from_logits").asBoolean(false);
        if (smoothing > 0 || fromLogits) {
            kept.put(output + LOSS_LAYER_SUFFIX,
                    new OutputLoss(smoothing, fromLogits ? crossEntropy.logitsActivation() : null));
        }
        return crossEntropy.kerasName();
    }

    /**
     * Refuses the settings of a loss's config that change its value, other than those the import keeps for its class.
     *
     * @throws IllegalArgumentException naming each such setting, its value and why it cannot be kept
     */
    private static void requireNoUnkeptSetting(JsonNode config, Set<String> keptSettings, String what) {
        List<String> unkept = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = config.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Setting setting = VALUE_SETTINGS.get(e.getKey());
            if (setting != null && !keptSettings.contains(e.getKey()) && !setting.changesNothing().test(e.getValue())) {
                unkept.add(e.getKey() + " = " + e.getValue() + " (" + setting.whyNotKept() + ")");
            }
        }
        if (!unkept.isEmpty()) {
            throw new IllegalArgumentException("cannot keep " + String.join("; ", unkept) + " of " + what);
        }
    }

    /** @return the name, if DL4J maps it (a Keras loss or one registered with {@code KerasLossUtils}) */
    private static String requireMappable(String kerasName, String what) {
        try {
            KerasLossUtils.mapLossFunction(kerasName, new Keras2LayerConfiguration());
            return kerasName;
        } catch (UnsupportedKerasConfigurationException e) {
            throw new IllegalArgumentException("cannot map " + what + " to a DL4J loss: " + e.getMessage(), e);
        }
    }

    /** The model's output layer names in Keras' order (a Sequential model's is its last layer). */
    private static List<String> outputNames(String modelJson) throws IOException {
        JsonNode config = JSON.readTree(modelJson).path("config");
        List<String> names = new ArrayList<>();
        if (config.has("output_layers")) {
            config.get("output_layers").forEach(output -> names.add(output.get(0).asText()));
        } else {
            JsonNode layers = config.isArray() ? config : config.path("layers"); // Keras < 2.2.3: a list of layers
            names.add(layers.path(layers.size() - 1).path("config").path("name").asText());
        }
        return names;
    }
}
