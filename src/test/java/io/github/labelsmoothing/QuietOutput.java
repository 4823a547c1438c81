package io.github.labelsmoothing;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Keeps what a passing test prints on {@code System.out} and {@code System.err} (JMH's banners, a demo's report,
 * ND4J's and slf4j-simple's messages) out of the build log, and prints all of it, headed by the test's name, when the
 * test fails. Output written by native code straight to the process's stderr is not captured.
 */
public final class QuietOutput implements BeforeEachCallback, AfterEachCallback {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(QuietOutput.class);

    /** The streams the test replaced, and what it printed. */
    private record Capture(PrintStream out, PrintStream err, ByteArrayOutputStream text) {
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        Capture capture = new Capture(System.out, System.err, new ByteArrayOutputStream());
        context.getStore(NAMESPACE).put(Capture.class, capture);
        PrintStream stream = new PrintStream(capture.text(), true, StandardCharsets.UTF_8);
        System.setOut(stream);
        System.setErr(stream);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Capture capture = context.getStore(NAMESPACE).remove(Capture.class, Capture.class);
        System.out.flush();
        System.setOut(capture.out());
        System.setErr(capture.err());
        if (context.getExecutionException().isPresent()) {
            capture.err().println("---- output of the failed test " + context.getDisplayName() + " ----");
            capture.err().print(capture.text().toString(StandardCharsets.UTF_8));
            capture.err().println("---- end of the output of " + context.getDisplayName() + " ----");
        }
    }
}
