package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.github.labelsmoothing.ReadmeSnippets.Block;
import io.github.labelsmoothing.ReadmeSnippets.Line;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code ```java} block of the pages in docs/ compiles against the library, with the convention of
 * {@link ReadmeSnippetsTest} (markers, givens, the page's own {@code imports} block); running blocks and checking
 * claims is README's alone. javac's messages say "README.md line N": N is the line in the page the test names.
 */
class DocsSnippetsTest {
    private static final Path DOCS = Path.of(System.getProperty("basedir", "."), "docs");

    @TempDir
    Path classes;

    @TestFactory
    Stream<DynamicTest> docsJavaBlocksCompile() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        try (Stream<Path> pages = Files.list(DOCS)) {
            for (Path page : pages.filter(p -> p.toString().endsWith(".md")).sorted().toList()) {
                List<Block> blocks = ReadmeSnippets.parse(Files.readAllLines(page));
                List<Line> imports = blocks.stream().filter(Block::imports).flatMap(b -> b.code().stream()).toList();
                Path output = Files.createDirectories(classes.resolve(page.getFileName().toString()));
                for (Block block : blocks.stream().filter(b -> !b.imports()).toList()) {
                    tests.add(dynamicTest(page.getFileName() + " line " + block.firstLine() + " (" + block.heading()
                            + ") compiles", () -> {
                                try (ReadmeSnippets.Compiler compiler = new ReadmeSnippets.Compiler(imports, output)) {
                                    compiler.compile(block);
                                }
                            }));
                }
            }
        }
        assertFalse(tests.isEmpty(), "docs/ has java blocks");
        return tests.stream();
    }
}
