package io.github.labelsmoothing.samples;

import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of one training run of {@link CalibrationDemo}: a progress bar redrawn in place on a terminal, and one
 * plain line per epoch otherwise (output redirected to a file or a pipe, Maven's test output), where carriage returns
 * would run into one long line and terminal escape codes would show as text.
 */
final class DemoProgress implements AutoCloseable {

    private final String task;
    private final int epochs;
    private final PrintStream out;
    /** The bar on a terminal; null for plain lines. */
    private final ProgressBar bar;
    private int epoch;

    private DemoProgress(String task, int epochs, PrintStream out, boolean terminal) {
        this.task = task;
        this.epochs = epochs;
        this.out = out;
        this.bar = terminal ? new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(epochs)
                .setUnit(" epochs", 1)
                .setStyle(ProgressBarStyle.ASCII)
                .setConsumer(new ConsoleProgressBarConsumer(out))
                .build() : null;
    }

    /**
     * Starts reporting a run of {@code epochs} epochs on {@code out}.
     *
     * @param terminal whether {@code out} is a terminal ({@code System.console() != null}): a progress bar if so,
     *                 plain lines otherwise
     */
    static DemoProgress start(String task, int epochs, PrintStream out, boolean terminal) {
        return new DemoProgress(task, epochs, out, terminal);
    }

    /** One more epoch done, with its mean training loss (over its minibatches, as each was scored before its step). */
    void epochDone(double trainingLoss) {
        epoch++;
        String loss = String.format(Locale.ROOT, "mean training loss %.3f", trainingLoss);
        if (bar != null) {
            bar.step();
            bar.setExtraMessage(" " + loss);
        } else {
            int width = Integer.toString(epochs).length();
            out.printf(Locale.ROOT, "%s  epoch %" + width + "d/%d  %s%n", task, epoch, epochs, loss);
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
