package io.github.labelsmoothing;

/** Label-smoothed softmax cross-entropy worked in plain Java doubles (log-sum-exp), independent of ND4J. */
final class Hand {
    private Hand() {
    }

    /** Per-row loss -Σ_k t_k log softmax(z)_k with t = (1-s)·y + s/K. */
    static double[] rowLosses(double[][] logits, double[][] labels, double s) {
        return rowLosses(logits, labels, s, null, null, null);
    }

    /** Gradient p - t of the summed loss. */
    static double[][] gradient(double[][] logits, double[][] labels, double s) {
        return gradient(logits, labels, s, null, null, null);
    }

    /**
     * Per-row loss of the general case, -m_i·Σ_k w_k t_k log softmax(z_i)_k with t = (1-s)·y + s·prior; null weights
     * are 1, a null prior is uniform, a null mask is all ones; a row with mask 0 is 0 and its labels are not read.
     */
    static double[] rowLosses(double[][] logits, double[][] labels, double s, double[] weights, double[] prior,
            double[] mask) {
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            double m = mask == null ? 1 : mask[i];
            if (m == 0) {
                continue;
            }
            int k = logits[i].length;
            double[] logP = logSoftmax(logits[i]);
            for (int c = 0; c < k; c++) {
                double w = weights == null ? 1 : weights[c];
                double t = (1 - s) * labels[i][c] + s * (prior == null ? 1.0 / k : prior[c]);
                if (w * t != 0) { // a 0 target contributes nothing, also where log p is -inf
                    out[i] -= m * w * t * logP[c];
                }
            }
        }
        return out;
    }

    /**
     * Gradient of the general case: m·(p - t) without weights (as LossMCXENT, also when Σt != 1), m·(p·Σ_k w_k t_k -
     * w·t) with weights; zero rows where the mask is 0.
     */
    static double[][] gradient(double[][] logits, double[][] labels, double s, double[] weights, double[] prior,
            double[] mask) {
        double[][] out = new double[logits.length][];
        for (int i = 0; i < logits.length; i++) {
            int k = logits[i].length;
            out[i] = new double[k];
            double m = mask == null ? 1 : mask[i];
            if (m == 0) {
                continue;
            }
            double[] logP = logSoftmax(logits[i]);
            double[] wt = new double[k];
            double mass = 0;
            for (int c = 0; c < k; c++) {
                double t = (1 - s) * labels[i][c] + s * (prior == null ? 1.0 / k : prior[c]);
                wt[c] = (weights == null ? 1 : weights[c]) * t;
                mass += wt[c];
            }
            for (int c = 0; c < k; c++) {
                double p = Math.exp(logP[c]);
                out[i][c] = m * (weights == null ? p - wt[c] : p * mass - wt[c]);
            }
        }
        return out;
    }

    /** log softmax as (z - max) - log Σ e^(z - max): no rounding of a large log-sum-exp before the subtraction. */
    static double[] logSoftmax(double[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (double v : z) {
            sum += Math.exp(v - max);
        }
        double logSum = Math.log(sum);
        double[] out = new double[z.length];
        for (int c = 0; c < z.length; c++) {
            out[c] = (z[c] - max) - logSum;
        }
        return out;
    }

    static double sum(double[] values) {
        double total = 0;
        for (double v : values) {
            total += v;
        }
        return total;
    }
}
