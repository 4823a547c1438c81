package io.github.labelsmoothing;

import java.util.Arrays;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.guava.collect.MapMaker;

/**
 * The labels arrays written by any {@link LabelSmoothingPreProcessor} in this JVM, remembered by their data buffer
 * (weakly, by identity) together with where they came from: the original labels and the preprocessor that wrote them.
 * A view of them (a reshape, a row slice) is recognised too. It lets another preprocessor pass recompute from the
 * original labels (no compounding, and a sweep over s on cached data gets each value exactly), the same preprocessor
 * leave them alone, and a {@link LossLabelSmoothing} or {@link UnsmoothedLossCalculator} refuse them. A copy of the
 * values (a DL4J layer's reshape of 3D/4D labels into 2D, a serialized data set) is a new buffer and is not
 * recognised.
 */
final class SmoothedLabels {
    /**
     * Weak keys compare by identity: remembers buffers without keeping them alive. The value holds the original
     * labels strongly (as the caller's cached data set held them before): they are another buffer, never the key's.
     */
    private static final Map<DataBuffer, Origin> WRITTEN = new MapMaker().weakKeys().makeMap();

    /**
     * Where smoothed labels came from. Never holds the written array itself: that would keep its buffer, the weak
     * key, alive.
     *
     * @param offset   the written array's offset, shape and strides (to tell it from another view of its buffer)
     * @param original the labels it smoothed, as the data set held them before
     * @param writer   what wrote them (a {@link LabelSmoothingPreProcessor}; held as an Object, which this bottom
     *                 class only prints)
     */
    record Origin(long offset, long[] shape, long[] stride, INDArray original, Object writer) {
        /** Whether {@code labels} is the written array itself (or an identical view), not a part of it. */
        boolean isWhole(INDArray labels) {
            return labels.offset() == offset && Arrays.equals(labels.shape(), shape)
                    && Arrays.equals(labels.stride(), stride);
        }
    }

    private SmoothedLabels() {
    }

    /** Remembers labels a preprocessor wrote from {@code original}; returns them. */
    static INDArray mark(INDArray written, INDArray original, Object writer) {
        WRITTEN.put(written.data(), new Origin(written.offset(), written.shape(), written.stride(), original, writer));
        return written;
    }

    /** Where these labels (or the array they are a view of) came from, or null if no preprocessor wrote them. */
    static Origin originOf(INDArray labels) {
        DataBuffer data = labels.data();
        Origin origin = WRITTEN.get(data);
        return origin != null || data.originalDataBuffer() == null ? origin : WRITTEN.get(data.originalDataBuffer());
    }

    /** True if these labels, or the array they are a view of, were written by a preprocessor. */
    static boolean isMarked(INDArray labels) {
        return originOf(labels) != null;
    }

    /** The message for preprocessed labels where the loss is to be computed on the original ones. */
    static String preprocessedMessage(INDArray labels, String consumer, String fix) {
        return "labels were smoothed by " + originOf(labels).writer() + "; " + consumer + ": " + fix;
    }
}
