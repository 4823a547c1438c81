package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every relative link of README.md and docs/*.md resolves: the file (or folder) exists, and an {@code #anchor} is
 * the anchor of a heading of the target file by GitHub's rule (lowercase; punctuation other than {@code -} and
 * {@code _} removed; spaces to {@code -}; a repeated heading gets {@code -1}, {@code -2}, ...). External
 * {@code http(s):} and {@code mailto:} links are not checked. Links inside code (fenced blocks, {@code `spans`}) are
 * not links.
 */
class MarkdownLinksTest {

    private static final Path BASE = Path.of(System.getProperty("basedir", "."));
    /** {@code [text](target)} and {@code ![alt](target)}, an optional title after the target. */
    private static final Pattern LINK =
            Pattern.compile("!?\\[[^\\]]*\\]\\(\\s*<?([^)\\s>]+)>?(?:\\s+\"[^\"]*\")?\\s*\\)");
    private static final Pattern FENCE = Pattern.compile("^\\s*(```|~~~).*");
    private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+(.*?)\\s*#*\\s*$");
    private static final Pattern CODE_SPAN = Pattern.compile("`[^`]*`");

    @Test
    void everyRelativeLinkAndAnchorOfTheDocumentationResolves() throws IOException {
        List<String> broken = new ArrayList<>();
        for (Path file : ReadmeSnippets.markdownFiles(BASE)) {
            broken.addAll(brokenLinks(file));
        }
        assertEquals(List.of(), broken);
    }

    @Test
    void aMissingFileAndAnAnchorWithoutHeadingAreReportedWithFileAndLine(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("other.md"), "# Other page\n\n## Good to know\n");
        Path page = dir.resolve("page.md");
        Files.writeString(page, String.join("\n", "# Page", "", "## What's new? (2.0)",
                "[ok](other.md#good-to-know) [ok](#whats-new-20) [web](https://example.com/x#y)",
                "[missing](nowhere.md) and [no heading](other.md#backends)",
                "```", "[in code](nowhere.md)", "```", "`[in a span](nowhere.md)` [self](#nothing-here)"));

        assertEquals(List.of(
                page + " line 5: nowhere.md: no such file",
                page + " line 5: other.md#backends: no heading with this anchor in " + dir.resolve("other.md"),
                page + " line 9: #nothing-here: no heading with this anchor in " + page), brokenLinks(page));
    }

    @Test
    void anchorsFollowGitHubsRule() {
        assertEquals(List.of("fine-tuning-a-trained-network", "the-functional-form", "1-one-line-on-a-configuration",
                        "labelsmoothingpreprocessor-and-dl4js-evaluation", "layout", "layout-1"),
                new ArrayList<>(anchors(List.of("## Fine-tuning a trained network", "### The functional form",
                        "### 1. One line on a configuration", "## `LabelSmoothingPreProcessor` and DL4J's evaluation",
                        "## Layout", "```", "## Not a heading in code", "```", "## Layout"))));
    }

    /** The broken relative links of one Markdown file, each as "file line N: target: why". */
    static List<String> brokenLinks(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file);
        Map<Path, Set<String>> anchorsByFile = new HashMap<>();
        List<String> broken = new ArrayList<>();
        boolean inCode = false;
        for (int i = 0; i < lines.size(); i++) {
            if (FENCE.matcher(lines.get(i)).matches()) {
                inCode = !inCode;
                continue;
            }
            Matcher link = LINK.matcher(inCode ? "" : CODE_SPAN.matcher(lines.get(i)).replaceAll(""));
            while (link.find()) {
                String target = link.group(1);
                if (target.matches("(?i)(https?|mailto):.*")) {
                    continue;
                }
                int hash = target.indexOf('#');
                String path = hash < 0 ? target : target.substring(0, hash);
                Path resolved = path.isEmpty() ? file : file.resolveSibling(path).normalize();
                String where = file + " line " + (i + 1) + ": " + target + ": ";
                if (!Files.exists(resolved)) {
                    broken.add(where + "no such file");
                } else if (hash >= 0 && !anchorsByFile.computeIfAbsent(resolved, MarkdownLinksTest::anchors)
                        .contains(target.substring(hash + 1))) {
                    broken.add(where + "no heading with this anchor in " + resolved);
                }
            }
        }
        return broken;
    }

    private static Set<String> anchors(Path file) {
        try {
            return Files.isRegularFile(file) && file.toString().endsWith(".md") ? anchors(Files.readAllLines(file))
                    : Set.of();
        } catch (IOException e) {
            throw new AssertionError("cannot read " + file, e);
        }
    }

    /** The anchors of a Markdown text's headings (outside fenced code), by GitHub's rule, in order. */
    static Set<String> anchors(List<String> lines) {
        Set<String> anchors = new LinkedHashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        boolean inCode = false;
        for (String line : lines) {
            if (FENCE.matcher(line).matches()) {
                inCode = !inCode;
                continue;
            }
            Matcher heading = HEADING.matcher(line);
            if (!inCode && heading.matches()) {
                String anchor = heading.group(1).toLowerCase(Locale.ROOT)
                        .replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
                int count = seen.merge(anchor, 1, Integer::sum);
                anchors.add(count == 1 ? anchor : anchor + "-" + (count - 1));
            }
        }
        return anchors;
    }
}
