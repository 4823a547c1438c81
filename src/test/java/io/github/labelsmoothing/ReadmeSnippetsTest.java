package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.github.labelsmoothing.ReadmeSnippets.Block;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.evaluation.classification.ConfusionMatrix;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

/**
 * Every {@code ```java} block of README.md and docs/*.md compiles against the library, and the runnable ones run and
 * do what the text around them says. Run it alone with {@code mvn -B -o -q test -Dtest=ReadmeSnippetsTest}.
 *
 * <p><b>The convention.</b> A {@code ```java} block holds Java statements, compiled as the body of a method with the
 * shared imports (README's block marked {@code imports}). What a block assumes goes in an HTML comment on the line
 * right before its opening fence, clauses separated by {@code ;}:
 *
 * <pre>
 * &lt;!-- snippet: given MultiLayerConfiguration conf, DataSetIterator trainIterator; run --&gt;
 * </pre>
 *
 * <ul>
 *   <li>no comment: the block must compile as it is;</li>
 *   <li>{@code given <Type name>, <Type name>, ...}: variables the block uses without declaring them (they become
 *       the method's parameters);</li>
 *   <li>{@code run}: the block is also run, with each given supplied by this test (by name, else by type: see
 *       {@link #BY_NAME} and {@link #BY_TYPE}: a small Iris-like configuration, graph, network, data set and
 *       iterator, 3 classes); claims about its results are checked in {@link #CLAIMS};</li>
 *   <li>{@code needs <fully qualified class>}: compiled only when that class is on the test classpath, skipped
 *       otherwise (the Spark blocks: {@code -Pspark});</li>
 *   <li>{@code imports}: the block of import lines in README's "Three ways in" (one such block in all the files);
 *       every block of every file is compiled with them.</li>
 * </ul>
 *
 * <p>A block may begin with its own {@code import} lines (for classes outside the shared imports). Blocks in other
 * languages ({@code ```xml}, shell blocks without a language) are not compiled. A compile error fails the block's
 * test with the file, the line and javac's message.
 */
class ReadmeSnippetsTest {

    private static final Path BASE = Path.of(System.getProperty("basedir", "."));
    private static final Path POM = BASE.resolve("pom.xml");
    /** The page that shows the Spark dependencies. */
    private static final Path SPARK_PAGE = BASE.resolve("docs/spark.md");
    private static final double TOLERANCE = 1e-6;

    /** The labels of the data fixtures: classes 0, 0, 1, 2 of K = 3, one-hot. */
    private static final int[] CLASSES = {0, 0, 1, 2};
    private static final int K = 3;

    /** Values of givens by name: checked first. A new value for every run. */
    private static final Map<String, Supplier<Object>> BY_NAME = Map.of(
            "oneHotLabels", ReadmeSnippetsTest::oneHotLabels,
            "classIndices", () -> Nd4j.createFromArray(CLASSES),
            "numClasses", () -> K,
            "multiLabelTargets", () -> Nd4j.createFromArray(new double[][] {{1, 0, 1}, {0, 1, 0}}),
            "features", () -> dataSet().getFeatures(),
            "indexIterator", () -> new ListDataSetIterator<>(indexDataSet().asList(), CLASSES.length));

    /** Values of givens by type, for any name. A new value for every run. */
    private static final Map<Class<?>, Supplier<Object>> BY_TYPE = Map.of(
            MultiLayerConfiguration.class, ReadmeSnippetsTest::multiLayerConfiguration,
            ComputationGraphConfiguration.class, ReadmeSnippetsTest::graphConfiguration,
            MultiLayerNetwork.class, () -> {
                MultiLayerNetwork net = new MultiLayerNetwork(multiLayerConfiguration());
                net.init();
                return net;
            },
            ComputationGraph.class, () -> {
                ComputationGraph graph = new ComputationGraph(graphConfiguration());
                graph.init();
                return graph;
            },
            DataSet.class, ReadmeSnippetsTest::dataSet,
            DataSetIterator.class, () -> new ListDataSetIterator<>(dataSet().asList(), CLASSES.length));

    /** 1 - s + s/K and s/K for s = 0.1, K = 3, by hand. */
    private static final double HIT = 1 - 0.1 + 0.1 / 3;
    private static final double MISS = 0.1 / 3;
    /** The smoothed fixture labels (classes 0, 0, 1, 2), by hand. */
    private static final double[][] SMOOTHED = {{HIT, MISS, MISS}, {HIT, MISS, MISS}, {MISS, HIT, MISS},
        {MISS, MISS, HIT}};

    /**
     * What the documentation says a runnable block does, checked on its givens and top-level variables after it ran.
     * Each claim names a piece of code that identifies its block; every claim must find exactly one runnable block.
     */
    private static final List<Claim> CLAIMS = List.of(
            new Claim("new MultiLayerNetwork(LabelSmoothing.applyTo(conf, 0.1))",
                    "applyTo wraps the classification head's loss in a copy; the configuration is left as it was",
                    values -> {
                        MultiLayerNetwork net = (MultiLayerNetwork) values.get("net");
                        ComputationGraph graph = (ComputationGraph) values.get("graph");
                        MultiLayerConfiguration conf = (MultiLayerConfiguration) values.get("conf");
                        ComputationGraphConfiguration graphConf =
                                (ComputationGraphConfiguration) values.get("graphConf");
                        assertSmoothedMcxent(lossOf(lastLayer(net.getLayerWiseConfigurations())), 0.1);
                        assertSmoothedMcxent(lossOf(outputLayer(graph.getConfiguration())), 0.1);
                        assertInstanceOf(LossMCXENT.class, lossOf(lastLayer(conf)));
                        assertInstanceOf(LossMCXENT.class, lossOf(outputLayer(graphConf)));
                    }),
            new Claim(".lossFunction(new LossLabelSmoothing(0.1))",
                    "the drop-in loss is 0.1 over LossMCXENT in an ordinary OutputLayer",
                    values -> assertSmoothedMcxent(((OutputLayer) values.get("output")).getLossFn(), 0.1)),
            new Claim("new LossLabelSmoothing(0.1, new LossMCXENT(), new double[] {0.5, 0.3, 0.2})",
                    "each form wraps the base it is given; the three-argument form keeps its custom prior",
                    values -> {
                        LossLabelSmoothing weighted = (LossLabelSmoothing) values.get("weighted");
                        assertEquals(values.get("classWeights"), ((LossMCXENT) weighted.getBase()).getWeights());
                        assertInstanceOf(LossSparseMCXENT.class, ((LossLabelSmoothing) values.get("sparse")).getBase());
                        assertInstanceOf(LossBinaryXENT.class, ((LossLabelSmoothing) values.get("binary")).getBase());
                        assertArrayEquals(new double[] {0.5, 0.3, 0.2},
                                ((LossLabelSmoothing) values.get("towards")).getPrior());
                    }),
            new Claim("DataSet smoothed = pre.apply(dataSet)",
                    "preProcess smooths the iterator's batches; apply returns smoothed labels and leaves its argument",
                    values -> {
                        DataSetIterator iterator = (DataSetIterator) values.get("trainIterator");
                        assertLabels(SMOOTHED, iterator.next().getLabels());
                        assertLabels(SMOOTHED, ((DataSet) values.get("smoothed")).getLabels());
                        assertLabels(oneHotLabels().toDoubleMatrix(), ((DataSet) values.get("dataSet")).getLabels());
                    }),
            new Claim("new LabelSmoothingPreProcessor(0.1).preProcess(dataSet);",
                    "a second preprocessor instance leaves labels the first one smoothed (0.9333) as they are",
                    values -> assertLabels(SMOOTHED, ((DataSet) values.get("dataSet")).getLabels())),
            new Claim("LabelSmoothing.smoothLabels(oneHotLabels, 0.1, classFrequencies)",
                    "the functional forms give the formula's numbers; class frequencies are counts / total",
                    values -> {
                        assertLabels(SMOOTHED, (INDArray) values.get("smoothed"));
                        assertLabels(SMOOTHED, (INDArray) values.get("dense"));
                        assertLabels(new double[][] {{0.95, 0.05, 0.95}, {0.05, 0.95, 0.05}},
                                (INDArray) values.get("binary"));
                        // classes 0, 0, 1, 2: counts 2, 1, 1 of 4
                        assertArrayEquals(new double[] {0.5, 0.25, 0.25}, (double[]) values.get("classFrequencies"),
                                TOLERANCE);
                        double hit = 0.9 + 0.1 * 0.5;
                        assertLabels(new double[][] {{hit, 0.025, 0.025}, {hit, 0.025, 0.025},
                            {0.05, 0.9 + 0.025, 0.025}, {0.05, 0.025, 0.9 + 0.025}}, (INDArray) values.get("custom"));
                        assertLabels(oneHotLabels().toDoubleMatrix(), (INDArray) values.get("oneHotLabels"));
                    }),
            new Claim("Evaluation fromIterator = net.evaluate(indexIterator)",
                    "DL4J's evaluation fails on class-index labels; both ways count each example under its class; "
                            + "UnsmoothedLossCalculator takes an iterator with an s = 0 preprocessor",
                    values -> {
                        MultiLayerNetwork net = (MultiLayerNetwork) values.get("net");
                        IllegalArgumentException plain = assertThrows(IllegalArgumentException.class,
                                () -> net.evaluate(new ListDataSetIterator<>(indexDataSet().asList(), CLASSES.length)));
                        assertTrue(plain.getMessage().contains("are not same shape"), plain.getMessage());
                        int[] predicted = net.output(dataSet().getFeatures()).argMax(1).toIntVector();
                        for (String name : List.of("evaluation", "fromIterator")) {
                            ConfusionMatrix<Integer> matrix = ((Evaluation) values.get(name)).getConfusionMatrix();
                            for (int actual = 0; actual < K; actual++) {
                                for (int guess = 0; guess < K; guess++) {
                                    int expected = 0;
                                    for (int i = 0; i < CLASSES.length; i++) {
                                        expected += CLASSES[i] == actual && predicted[i] == guess ? 1 : 0;
                                    }
                                    assertEquals(expected, matrix.getCount(actual, guess),
                                            name + ": examples of class " + actual + " predicted " + guess);
                                }
                            }
                        }
                        DataSetIterator validation = new ListDataSetIterator<>(indexDataSet().asList(), K);
                        validation.setPreProcessor(new LabelSmoothingPreProcessor(0, K));
                        assertEquals(net.score(dataSet()), new UnsmoothedLossCalculator(validation, true)
                                .calculateScore(net), TOLERANCE);
                    }));

    @TempDir
    static Path classes;
    private static List<Block> blocks;
    private static ReadmeSnippets.Compiler compiler;

    @BeforeAll
    static void readMarkdown() throws IOException {
        blocks = new ArrayList<>();
        for (Path file : ReadmeSnippets.markdownFiles(BASE)) {
            String name = BASE.relativize(file).toString().replace('\\', '/');
            blocks.addAll(ReadmeSnippets.parse(name, Files.readAllLines(file)));
        }
        List<Block> imports = blocks.stream().filter(Block::imports).toList();
        assertEquals(1, imports.size(), "README.md and docs/*.md have one block marked <!-- snippet: imports -->");
        compiler = new ReadmeSnippets.Compiler(imports.get(0).code(), classes);
    }

    @AfterAll
    static void closeCompiler() throws IOException {
        compiler.close();
    }

    /** For every block: compiles; for runnable ones also: runs, and does what the text claims. */
    @TestFactory
    Stream<DynamicNode> markdownJavaBlocks() {
        return blocks.stream().filter(block -> !block.imports()).map(block -> {
            String name = block.where() + " (" + block.heading() + ")";
            Method[] compiled = new Method[1];
            List<DynamicNode> tests = new ArrayList<>();
            tests.add(dynamicTest("compiles", () -> compiled[0] = compile(block)));
            if (block.run()) {
                tests.add(dynamicTest("runs as the text says", () -> {
                    Assumptions.assumeTrue(compiled[0] != null, "did not compile");
                    Map<String, Object> values = run(block, compiled[0]);
                    for (Claim claim : CLAIMS) {
                        if (block.text().contains(claim.code())) {
                            assertAll(block.where() + ": " + claim.says(),
                                    () -> claim.check().accept(values));
                        }
                    }
                }));
            }
            return dynamicContainer(name, tests);
        });
    }

    @Test
    void everyClaimFindsExactlyOneRunnableBlock() {
        for (Claim claim : CLAIMS) {
            long matches = blocks.stream().filter(Block::run).filter(b -> b.text().contains(claim.code())).count();
            assertEquals(1, matches, "runnable blocks containing '" + claim.code() + "' (" + claim.says() + ")");
        }
    }

    @Test
    void sparkDependencyBlockHasTheVersionsOfTheSparkProfile() throws IOException {
        String page = Files.readString(SPARK_PAGE);
        int artifact = page.indexOf("<artifactId>dl4j-spark_2.12</artifactId>");
        assertTrue(artifact >= 0, SPARK_PAGE + " shows the dl4j-spark_2.12 dependency");
        String block = page.substring(page.lastIndexOf("```xml", artifact), page.indexOf("```", artifact));
        String pom = Files.readString(POM);
        String profile = pom.substring(pom.indexOf("<id>spark</id>"));
        for (String property : List.of("dl4j.spark.version", "spark.version", "scala.version")) {
            Matcher value = Pattern.compile("<" + Pattern.quote(property) + ">([^<]+)<").matcher(profile);
            assertTrue(value.find(), property);
            assertTrue(block.contains("<version>" + value.group(1) + "</version>"), property + " " + value.group(1));
        }
        Matcher commonsLang = Pattern.compile("<artifactId>commons-lang3</artifactId>\\s*<version>([^<]+)<")
                .matcher(profile);
        assertTrue(commonsLang.find(), "the profile pins commons-lang3");
        assertTrue(block.contains("<version>" + commonsLang.group(1) + "</version>"), "commons-lang3");
    }

    // The harness itself, on small Markdown texts.

    @Test
    void compileErrorNamesTheFileLineAndJavacsMessage() {
        Block block = ReadmeSnippets.parse("docs/usage.md", List.of("# Title", "", "```java",
                "MultiLayerNetwork net = new MultiLayerNetwork(LabelSmoothing.applyTo(graphConf, 0.1));",
                "```")).get(0);

        AssertionError error = assertThrows(AssertionError.class, () -> compiler.compile(block));

        assertTrue(error.getMessage().startsWith("docs/usage.md line 4: cannot find symbol"), error.getMessage());
        assertTrue(error.getMessage().contains("variable graphConf"), error.getMessage());
    }

    @Test
    void givenTypeThatDoesNotExistIsReportedAtTheMarkerLine() {
        Block block = ReadmeSnippets.parse("README.md", List.of("<!-- snippet: given NoSuchConfiguration conf -->",
                "```java", "conf.toString();", "```")).get(0);

        AssertionError error = assertThrows(AssertionError.class, () -> compiler.compile(block));

        assertTrue(error.getMessage().startsWith("README.md line 1: cannot find symbol"), error.getMessage());
    }

    @Test
    void markerClausesBecomeGivensRunAndNeeds() {
        Block block = ReadmeSnippets.parse("README.md", List.of("## Section",
                "<!-- snippet: given Map<String, Integer> counts, int k; run; needs org.example.Missing -->", "```java",
                "import java.util.Map;", "k++;", "```", "```xml", "<xml/>", "```")).get(0);

        assertAll(
                () -> assertEquals(List.of("Map<String, Integer> counts", "int k"), block.givens()),
                () -> assertEquals(List.of("counts", "k"), block.givenNames()),
                () -> assertTrue(block.run()),
                () -> assertEquals("org.example.Missing", block.needs()),
                () -> assertEquals("Section", block.heading()),
                () -> assertEquals(4, block.firstLine()),
                () -> assertEquals(2, block.markerLine()));
    }

    @Test
    void ownImportLinesAndTopLevelVariablesAreReturnedAfterARun() throws Exception {
        Block block = ReadmeSnippets.parse("README.md", List.of("<!-- snippet: given int k; run -->", "```java",
                "import java.util.ArrayDeque;", "", "ArrayDeque<Integer> deque = new ArrayDeque<>();",
                "deque.push(k);", "int twice = 2 * k;", "```")).get(0);

        Map<String, Object> values = run(block, compiler.compile(block), Map.of("k", 21));

        assertEquals(21, values.get("k"));
        assertEquals(42, values.get("twice"));
        assertEquals("[21]", values.get("deque").toString());
    }

    @Test
    void unknownClauseIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReadmeSnippets.parse(
                "docs/keras.md", List.of("<!-- snippet: runn -->", "```java", "int k = 1;", "```")));
        assertTrue(e.getMessage().startsWith("docs/keras.md line 1: unknown snippet clause 'runn'"), e.getMessage());
    }

    @Test
    void markerNotRightBeforeAJavaBlockIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReadmeSnippets.parse(
                "README.md", List.of("<!-- snippet: run -->", "", "```java", "int k = 1;", "```")));
        assertTrue(e.getMessage().startsWith(
                "README.md line 1: a snippet marker must be the line right before a ```java block"), e.getMessage());
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** Compiles a block, or skips it if a class it needs is missing. */
    private static Method compile(Block block) throws IOException, ReflectiveOperationException {
        if (block.needs() != null) {
            try {
                Class.forName(block.needs());
            } catch (ClassNotFoundException e) {
                Assumptions.abort(block.needs() + " is not on the test classpath (the Spark blocks compile under "
                        + "-Pspark)");
            }
        }
        return compiler.compile(block);
    }

    /** Runs a compiled block with the fixtures for its givens. */
    private static Map<String, Object> run(Block block, Method snippet) throws Exception {
        Map<String, Object> givens = new HashMap<>();
        Class<?>[] types = snippet.getParameterTypes();
        List<String> names = block.givenNames();
        for (int i = 0; i < types.length; i++) {
            Supplier<Object> value = BY_NAME.getOrDefault(names.get(i), BY_TYPE.get(types[i]));
            if (value == null) {
                throw new AssertionError(block.file() + " line " + block.markerLine() + ": no value for the given '"
                        + block.givens().get(i) + "'; add one to ReadmeSnippetsTest.BY_NAME or BY_TYPE");
            }
            givens.put(names.get(i), value.get());
        }
        return run(block, snippet, givens);
    }

    /** Runs a compiled block with these values of its givens. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> run(Block block, Method snippet, Map<String, Object> givens) throws Exception {
        Object[] arguments = block.givenNames().stream().map(givens::get).toArray();
        try {
            return (Map<String, Object>) snippet.invoke(null, arguments);
        } catch (InvocationTargetException e) {
            throw new AssertionError(block.where() + ": the block threw " + e.getCause(),
                    e.getCause());
        }
    }

    /** A claim of the documentation about a runnable block: the block containing {@code code} does what it says. */
    private record Claim(String code, String says, Consumer<Map<String, Object>> check) {
    }

    private static void assertLabels(double[][] expected, INDArray actual) {
        assertEquals(expected.length, actual.rows(), actual::toString);
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], actual.getRow(i).toDoubleVector(), TOLERANCE, actual::toString);
        }
    }

    private static void assertSmoothedMcxent(ILossFunction loss, double smoothing) {
        LossLabelSmoothing smoothed = assertInstanceOf(LossLabelSmoothing.class, loss);
        assertEquals(smoothing, smoothed.getSmoothing());
        assertInstanceOf(LossMCXENT.class, smoothed.getBase());
    }

    private static Layer lastLayer(MultiLayerConfiguration conf) {
        return conf.getConf(conf.getConfs().size() - 1).getLayer();
    }

    private static Layer outputLayer(ComputationGraphConfiguration conf) {
        return ((LayerVertex) conf.getVertices().get("out")).getLayerConf().getLayer();
    }

    private static ILossFunction lossOf(Layer layer) {
        return ((BaseOutputLayer) layer).getLossFn();
    }

    private static INDArray oneHotLabels() {
        double[][] labels = new double[CLASSES.length][K];
        for (int i = 0; i < CLASSES.length; i++) {
            labels[i][CLASSES[i]] = 1;
        }
        return Nd4j.createFromArray(labels);
    }

    /** The examples of {@link #dataSet()} with their class indices as labels, {@code [N,1]}. */
    private static DataSet indexDataSet() {
        return new DataSet(dataSet().getFeatures(),
                Nd4j.createFromArray(CLASSES).castTo(Nd4j.defaultFloatingPointType()).reshape(CLASSES.length, 1));
    }

    /** Four examples of four features with {@link #oneHotLabels()}. */
    private static DataSet dataSet() {
        return new DataSet(Nd4j.arange(CLASSES.length * 4).reshape(CLASSES.length, 4), oneHotLabels());
    }

    private static MultiLayerConfiguration multiLayerConfiguration() {
        return new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(0.01)).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(new LossMCXENT()).nIn(8).nOut(K).activation(Activation.SOFTMAX)
                        .build())
                .build();
    }

    private static ComputationGraphConfiguration graphConfiguration() {
        return new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(0.01)).graphBuilder()
                .addInputs("in")
                .addLayer("hidden", new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.RELU).build(), "in")
                .addLayer("out", new OutputLayer.Builder(new LossMCXENT()).nIn(8).nOut(K)
                        .activation(Activation.SOFTMAX).build(), "hidden")
                .setOutputs("out")
                .build();
    }
}
