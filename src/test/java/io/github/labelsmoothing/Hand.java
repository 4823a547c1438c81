package io.github.labelsmoothing;

/** Label-smoothed softmax cross-entropy worked in plain Java doubles (log-sum-exp), independent of ND4J. */
final class Hand {
    private Hand() {
    }

    /** Per-row loss -Σ_k t_k log softmax(z)_k with t = (1-s)·y + s/K. */
    static double[] rowLosses(double[][] logits, double[][] labels, double s) {
        return rowLosses(logits, targets(labels, s, null), null);
    }

    /** Gradient p - t of the summed loss. */
    static double[][] gradient(double[][] logits, double[][] labels, double s) {
        return gradient(logits, targets(labels, s, null), null);
    }

    /** Smoothed targets {@code (1-s)·y + s·prior}; a null prior is uniform. */
    static double[][] targets(double[][] labels, double s, double[] prior) {
        double[][] out = new double[labels.length][];
        for (int i = 0; i < labels.length; i++) {
            int k = labels[i].length;
            out[i] = new double[k];
            for (int c = 0; c < k; c++) {
                out[i][c] = (1 - s) * labels[i][c] + s * (prior == null ? 1.0 / k : prior[c]);
            }
        }
        return out;
    }

    /** Per-row loss {@code Σ_k w_k t_k (lse - z_k)} for any targets; null weights are all 1. */
    static double[] rowLosses(double[][] logits, double[][] targets, double[] weights) {
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            double lse = logSumExp(logits[i]);
            for (int c = 0; c < logits[i].length; c++) {
                out[i] += (weights == null ? 1 : weights[c]) * targets[i][c] * (lse - logits[i][c]);
            }
        }
        return out;
    }

    /** Gradient of the summed loss: {@code p - t}; with class weights {@code p·Σ_k w_k t_k - w·t} (LossMCXENT's). */
    static double[][] gradient(double[][] logits, double[][] targets, double[] weights) {
        double[][] out = new double[logits.length][];
        for (int i = 0; i < logits.length; i++) {
            int k = logits[i].length;
            double lse = logSumExp(logits[i]);
            double mass = 0;
            for (int c = 0; c < k; c++) {
                mass += (weights == null ? 1 : weights[c]) * targets[i][c];
            }
            out[i] = new double[k];
            for (int c = 0; c < k; c++) {
                double p = Math.exp(logits[i][c] - lse);
                out[i][c] = weights == null ? p - targets[i][c] : p * mass - weights[c] * targets[i][c];
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
