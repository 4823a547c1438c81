package io.github.labelsmoothing.bench;

import java.util.Arrays;

/**
 * {@link FitBenchmark}'s two configurations (plain, and through {@code applyTo(conf, 0.1)}) timed as paired single
 * {@code fit()} steps: each pair runs one step of each, in alternating order, and the result is the median of the
 * per-pair ratios (smoothed / plain) with its quartiles, which a noisy shared machine moves far less than two separate
 * averages. {@code java ... PairedFitSteps [pairs] [shape]}, e.g. {@code 2000 128x10}.
 */
public final class PairedFitSteps {
    private PairedFitSteps() {
    }

    public static void main(String[] args) {
        int pairs = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        String shape = args.length > 1 ? args[1] : "128x10";
        FitBenchmark plain = step(0, shape);
        FitBenchmark smoothed = step(0.1, shape);
        for (int i = 0; i < pairs / 4; i++) { // warm-up
            plain.fitStep();
            smoothed.fitStep();
        }
        double[] ratios = new double[pairs];
        for (int i = 0; i < pairs; i++) {
            boolean plainFirst = i % 2 == 0;
            long a = time(plainFirst ? plain : smoothed);
            long b = time(plainFirst ? smoothed : plain);
            ratios[i] = plainFirst ? (double) b / a : (double) a / b;
        }
        Arrays.sort(ratios);
        System.out.printf("fit() step %s, smoothed / plain over %d pairs: median %.3f (quartiles %.3f - %.3f)%n", shape,
                pairs, ratios[pairs / 2], ratios[pairs / 4], ratios[3 * pairs / 4]);
    }

    private static FitBenchmark step(double s, String shape) {
        FitBenchmark b = new FitBenchmark();
        b.smoothing = s;
        b.shape = shape;
        b.setUp();
        return b;
    }

    private static long time(FitBenchmark b) {
        long start = System.nanoTime();
        b.fitStep();
        return System.nanoTime() - start;
    }
}
