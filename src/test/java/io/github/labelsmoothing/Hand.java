package io.github.labelsmoothing;

/** Label-smoothed softmax cross-entropy worked in plain Java doubles (log-sum-exp), independent of ND4J. */
final class Hand {
    private Hand() {
    }

    /** Per-row loss -Σ_k t_k log softmax(z)_k with t = (1-s)·y + s/K. */
    static double[] rowLosses(double[][] logits, double[][] labels, double s) {
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            int k = logits[i].length;
            double lse = logSumExp(logits[i]);
            for (int c = 0; c < k; c++) {
                double t = (1 - s) * labels[i][c] + s / k;
                out[i] -= t * (logits[i][c] - lse);
            }
        }
        return out;
    }

    /** Gradient p - t of the summed loss. */
    static double[][] gradient(double[][] logits, double[][] labels, double s) {
        double[][] out = new double[logits.length][];
        for (int i = 0; i < logits.length; i++) {
            int k = logits[i].length;
            double lse = logSumExp(logits[i]);
            out[i] = new double[k];
            for (int c = 0; c < k; c++) {
                out[i][c] = Math.exp(logits[i][c] - lse) - ((1 - s) * labels[i][c] + s / k);
            }
        }
        return out;
    }

    static double logSumExp(double[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (double v : z) {
            sum += Math.exp(v - max);
        }
        return max + Math.log(sum);
    }

    static double sum(double[] values) {
        double total = 0;
        for (double v : values) {
            total += v;
        }
        return total;
    }
}
