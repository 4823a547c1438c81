package io.github.labelsmoothing.bench;

import java.util.Arrays;

/**
 * {@link FitBenchmark}'s network through {@code applyTo(conf, 0.1)} against the plain one, timed as paired single
 * {@code fit()} steps: each round runs one step of each network, in rotating order, and the result is the median of
 * the per-round ratios (smoothed / plain) with its quartiles, which a noisy shared machine moves far less than separate
 * averages. Two plain networks: one on labels smoothed beforehand by the same 0.1 (the baseline, as in
 * {@code LossBenchmark}: both networks train towards the same targets, so their weights, and the time of every
 * value-dependent native op, stay alike) and one on the one-hot labels (a different trajectory: two plain networks on
 * the two label sets alone differ by 2-3% at 128x10). {@code java ... PairedFitSteps [rounds] [shape]}, e.g.
 * {@code 2000 128x10}.
 */
public final class PairedFitSteps {
    private PairedFitSteps() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        String shape = args.length > 1 ? args[1] : "128x10";
        FitBenchmark[] nets = {step(0.1, 0, shape), step(0, 0.1, shape), step(0, 0, shape)};
        for (int i = 0; i < rounds / 4; i++) { // warm-up
            for (FitBenchmark net : nets) {
                net.fitStep();
            }
        }
        double[] versusSmoothedLabels = new double[rounds];
        double[] versusOneHot = new double[rounds];
        long[] times = new long[nets.length];
        for (int i = 0; i < rounds; i++) {
            for (int j = 0; j < nets.length; j++) {
                int at = (i + j) % nets.length;
                times[at] = time(nets[at]);
            }
            versusSmoothedLabels[i] = (double) times[0] / times[1];
            versusOneHot[i] = (double) times[0] / times[2];
        }
        report(shape + ", smoothed / plain on labels smoothed beforehand", versusSmoothedLabels);
        report(shape + ", smoothed / plain on one-hot labels", versusOneHot);
    }

    private static void report(String what, double[] ratios) {
        Arrays.sort(ratios);
        int n = ratios.length;
        System.out.printf("fit() step %s over %d rounds: median %.3f (quartiles %.3f - %.3f)%n", what, n, ratios[n / 2],
                ratios[n / 4], ratios[3 * n / 4]);
    }

    private static FitBenchmark step(double s, double smoothedBeforehand, String shape) {
        FitBenchmark b = new FitBenchmark();
        b.smoothing = s;
        b.labelsSmoothedBeforehand = smoothedBeforehand;
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
