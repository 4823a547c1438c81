package io.github.labelsmoothing;

import com.sun.source.tree.ClassTree;
import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.MethodTree;
import com.sun.source.tree.StatementTree;
import com.sun.source.tree.VariableTree;
import com.sun.source.util.JavacTask;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * The {@code ```java} blocks of the Markdown documentation (README.md and docs/*.md) and a compiler for them: the
 * machinery of {@link ReadmeSnippetsTest}, which documents the convention.
 */
final class ReadmeSnippets {

    /** The package of the generated snippet classes. */
    private static final String PACKAGE = "readme";
    private static final Pattern FENCE = Pattern.compile("^```\\s*(\\w*)\\s*$");
    private static final Pattern MARKER = Pattern.compile("^<!--\\s*snippet:(.*?)-->\\s*$");
    private static final Pattern IMPORT = Pattern.compile("^import\\s+(static\\s+)?[\\w.]+(\\.\\*)?\\s*;\\s*$");

    private ReadmeSnippets() {
    }

    /**
     * The documentation's Markdown files: README.md, then docs/*.md by name.
     *
     * @param base the project directory
     */
    static List<Path> markdownFiles(Path base) throws IOException {
        List<Path> files = new ArrayList<>(List.of(base.resolve("README.md")));
        try (Stream<Path> docs = Files.list(base.resolve("docs"))) {
            docs.filter(path -> path.toString().endsWith(".md")).sorted().forEach(files::add);
        }
        return files;
    }

    /** One line of Markdown or generated source: the Markdown file and the 1-based line it comes from (0 if none). */
    record Line(String file, String text, int number) {

        /** "file line N", for messages and test names. */
        String where() {
            return file + " line " + number;
        }
    }

    /**
     * A {@code ```java} block and what its marker says.
     *
     * @param file       the Markdown file, relative to the project directory (e.g. {@code docs/usage.md})
     * @param code       the lines between the fences
     * @param markerLine the line of its marker, or of the opening fence if it has none
     * @param heading    the nearest heading above it, for test names
     * @param imports    the block is the shared import list ({@code imports})
     * @param run        it is run after compiling ({@code run})
     * @param givens     parameter declarations from {@code given}, e.g. {@code MultiLayerConfiguration conf}
     * @param needs      a class that must be on the classpath for the block to be compiled ({@code needs}), or null
     */
    record Block(String file, List<Line> code, int markerLine, String heading, boolean imports, boolean run,
            List<String> givens, String needs) {

        /** The line of the first line of code (for messages and test names). */
        int firstLine() {
            return code.isEmpty() ? markerLine : code.get(0).number();
        }

        /** "file line N" of the first line of code. */
        String where() {
            return file + " line " + firstLine();
        }

        /** The names of the givens, in order. */
        List<String> givenNames() {
            return givens.stream().map(given -> given.substring(given.lastIndexOf(' ') + 1)).toList();
        }

        /** The code as one string. */
        String text() {
            return code.stream().map(Line::text).collect(Collectors.joining("\n"));
        }
    }

    /**
     * The {@code ```java} blocks of a Markdown text, in order.
     *
     * @param file     the file's name in messages, relative to the project directory
     * @param markdown its lines
     * @throws IllegalArgumentException for a marker that is not right before a {@code ```java} block, an unknown
     *                                  clause, or an unclosed block, naming the line
     */
    static List<Block> parse(String file, List<String> markdown) {
        List<Block> blocks = new ArrayList<>();
        String heading = "";
        for (int i = 0; i < markdown.size(); i++) {
            String line = markdown.get(i);
            Matcher marker = MARKER.matcher(line.strip());
            Matcher fence = FENCE.matcher(line.strip());
            if (marker.matches()) {
                boolean javaFollows = i + 1 < markdown.size() && markdown.get(i + 1).strip().equals("```java");
                check(javaFollows, file, i + 1, "a snippet marker must be the line right before a ```java block");
            } else if (fence.matches()) {
                int end = i + 1;
                while (end < markdown.size() && !markdown.get(end).strip().equals("```")) {
                    end++;
                }
                check(end < markdown.size(), file, i + 1, "unclosed ``` block");
                if (fence.group(1).equals("java")) {
                    List<Line> code = new ArrayList<>();
                    for (int j = i + 1; j < end; j++) {
                        code.add(new Line(file, markdown.get(j), j + 1));
                    }
                    Matcher previous = i > 0 ? MARKER.matcher(markdown.get(i - 1).strip()) : null;
                    boolean marked = previous != null && previous.matches();
                    blocks.add(block(file, code, marked ? i : i + 1, heading, marked ? previous.group(1) : ""));
                }
                i = end;
            } else if (line.startsWith("#")) {
                heading = line.replaceFirst("^#+\\s*", "");
            }
        }
        return blocks;
    }

    /** A block with the clauses of its marker ({@code clause; clause; ...}) read. */
    private static Block block(String file, List<Line> code, int markerLine, String heading, String clauses) {
        boolean imports = false;
        boolean run = false;
        List<String> givens = List.of();
        String needs = null;
        for (String clause : clauses.split(";")) {
            String c = clause.strip();
            if (c.equals("imports")) {
                imports = true;
            } else if (c.equals("run")) {
                run = true;
            } else if (c.startsWith("given ")) {
                givens = declarations(c.substring("given ".length()), file, markerLine);
            } else if (c.startsWith("needs ")) {
                needs = c.substring("needs ".length()).strip();
            } else {
                check(c.isEmpty(), file, markerLine, "unknown snippet clause '" + c + "': expected imports, run, "
                        + "given <declarations> or needs <class>");
            }
        }
        return new Block(file, code, markerLine, heading, imports, run, givens, needs);
    }

    /** {@code Type name, Map<K, V> name} split at the commas outside angle brackets. */
    private static List<String> declarations(String text, String file, int line) {
        List<String> declarations = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i <= text.length(); i++) {
            char c = i < text.length() ? text.charAt(i) : ',';
            depth += c == '<' ? 1 : c == '>' ? -1 : 0;
            if (c == ',' && depth == 0) {
                String declaration = text.substring(start, i).strip().replaceAll("\\s+", " ");
                check(declaration.matches("[\\w.<>?, \\[\\]]+ \\w+"), file, line,
                        "'given' needs declarations like 'MultiLayerConfiguration conf', got '" + declaration + "'");
                declarations.add(declaration);
                start = i + 1;
            }
        }
        return declarations;
    }

    private static void check(boolean ok, String file, int line, String message) {
        if (!ok) {
            throw new IllegalArgumentException(file + " line " + line + ": " + message);
        }
    }

    /**
     * Compiles blocks against the test classpath into a temporary directory, one class per block: the shared imports,
     * the block's own leading import lines, and its statements as the body of
     * {@code public static Map<String, Object> snippet(givens...)}, which returns the givens and the block's top-level
     * local variables by name. javac's messages name Markdown files and lines.
     */
    static final class Compiler implements AutoCloseable {
        private final JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        private final StandardJavaFileManager files = javac.getStandardFileManager(null, Locale.ROOT, null);
        private final List<Line> sharedImports;
        private final Path output;
        private final List<String> options;

        /**
         * @param sharedImports the import lines added to every block
         * @param output        an empty directory for the class files
         */
        Compiler(List<Line> sharedImports, Path output) {
            this.sharedImports = sharedImports;
            this.output = output;
            // -proc:none: the test classpath holds annotation processors (JMH's) that have no business here.
            this.options = List.of("-classpath", System.getProperty("java.class.path"), "-d", output.toString(),
                    "-proc:none", "-implicit:none", "-Xlint:none", "--release", "17");
        }

        /**
         * Compiles a block.
         *
         * @return its {@code snippet} method
         * @throws AssertionError naming the Markdown file and line and javac's message for every compiler error
         */
        Method compile(Block block) throws IOException, ReflectiveOperationException {
            String className = "Snippet_" + block.file().replaceAll("\\W", "_") + "_" + block.firstLine();
            List<String> locals = topLevelVariables(className, source(block, className, List.of()));
            List<Line> source = source(block, className, locals);
            DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
            boolean ok = javac.getTask(null, files, diagnostics, options, null, List.of(file(className, source)))
                    .call();
            if (!ok) {
                throw new AssertionError(errors(diagnostics, source));
            }
            URLClassLoader loader = new URLClassLoader(new URL[] {output.toUri().toURL()},
                    ReadmeSnippets.class.getClassLoader());
            return Arrays.stream(loader.loadClass(PACKAGE + "." + className).getMethods())
                    .filter(method -> method.getName().equals("snippet")).findFirst().orElseThrow();
        }

        /** The names of the variables a block declares at its top level (javac's parser; syntax errors fail). */
        private List<String> topLevelVariables(String className, List<Line> source) throws IOException {
            DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
            JavacTask task = (JavacTask) javac.getTask(null, files, diagnostics, options, null,
                    List.of(file(className, source)));
            Iterable<? extends CompilationUnitTree> units = task.parse();
            if (diagnostics.getDiagnostics().stream().anyMatch(d -> d.getKind() == Diagnostic.Kind.ERROR)) {
                throw new AssertionError(errors(diagnostics, source));
            }
            List<String> names = new ArrayList<>();
            for (CompilationUnitTree unit : units) {
                ClassTree type = (ClassTree) unit.getTypeDecls().get(0);
                MethodTree method = (MethodTree) type.getMembers().get(0);
                for (StatementTree statement : method.getBody().getStatements()) {
                    if (statement instanceof VariableTree variable) {
                        names.add(variable.getName().toString());
                    }
                }
            }
            return names;
        }

        /**
         * The generated source, each line with the Markdown line it comes from: the block's code keeps its own lines;
         * the class and method declaration (which hold the givens) point at the marker; the collection of locals
         * points at the closing fence.
         */
        private List<Line> source(Block block, String className, List<String> locals) {
            List<Line> source = new ArrayList<>();
            source.add(new Line(block.file(), "package " + PACKAGE + ";", block.markerLine()));
            source.addAll(sharedImports);
            List<Line> body = new ArrayList<>(block.code());
            while (!body.isEmpty() && (IMPORT.matcher(body.get(0).text().strip()).matches()
                    || body.get(0).text().isBlank())) {
                source.add(body.remove(0));
            }
            source.add(new Line(block.file(), "public final class " + className + " {", block.markerLine()));
            source.add(new Line(block.file(), "public static java.util.Map<String, Object> snippet(" + String.join(", ",
                    block.givens()) + ") throws Exception {", block.markerLine()));
            source.addAll(body);
            int end = block.firstLine() + block.code().size();
            source.add(new Line(block.file(),
                    "java.util.Map<String, Object> values$ = new java.util.LinkedHashMap<>();", end));
            for (String name : concat(block.givenNames(), locals)) {
                source.add(new Line(block.file(), "values$.put(\"" + name + "\", " + name + ");", end));
            }
            source.add(new Line(block.file(), "return values$; } }", end));
            return source;
        }

        private static List<String> concat(List<String> first, List<String> second) {
            List<String> all = new ArrayList<>(first);
            all.addAll(second);
            return all;
        }

        private static JavaFileObject file(String className, List<Line> source) {
            String text = source.stream().map(Line::text).collect(Collectors.joining("\n", "", "\n"));
            return new SimpleJavaFileObject(URI.create("string:///" + PACKAGE + "/" + className + ".java"),
                    JavaFileObject.Kind.SOURCE) {
                @Override
                public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                    return text;
                }
            };
        }

        /** Every error as "file line N: message" followed by the line itself. */
        private static String errors(DiagnosticCollector<JavaFileObject> diagnostics, List<Line> source) {
            return diagnostics.getDiagnostics().stream()
                    .filter(d -> d.getKind() == Diagnostic.Kind.ERROR)
                    .map(d -> {
                        Line line = d.getLineNumber() >= 1 && d.getLineNumber() <= source.size()
                                ? source.get((int) d.getLineNumber() - 1) : new Line("?", "", 0);
                        return line.where() + ": " + d.getMessage(Locale.ROOT)
                                + System.lineSeparator() + "    " + line.text().strip();
                    })
                    .collect(Collectors.joining(System.lineSeparator()));
        }

        @Override
        public void close() throws IOException {
            files.close();
        }
    }
}
