package io.github.labelsmoothing;

import java.util.Collections;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.guava.collect.MapMaker;

/**
 * The labels arrays written by any {@link LabelSmoothingPreProcessor} in this JVM, remembered by their data buffer
 * (weakly, by identity), so that a view of them (a reshape, a row slice) is recognised too. It lets a second
 * preprocessor pass leave them alone (no compounding across instances) and a {@link LossLabelSmoothing} refuse them
 * (no double smoothing). A copy of the values (a DL4J layer's reshape of 3D/4D labels into 2D, a serialized data set)
 * is a new buffer and is not recognised.
 */
final class SmoothedLabels {
    /** Weak keys compare by identity: remembers buffers without keeping them alive. */
    private static final Set<DataBuffer> WRITTEN = Collections.newSetFromMap(new MapMaker().weakKeys().makeMap());

    private SmoothedLabels() {
    }

    /** Remembers labels the preprocessor wrote; returns them. */
    static INDArray mark(INDArray labels) {
        WRITTEN.add(labels.data());
        return labels;
    }

    /** True if these labels, or the array they are a view of, were written by the preprocessor. */
    static boolean isMarked(INDArray labels) {
        DataBuffer data = labels.data();
        return WRITTEN.contains(data) || data.originalDataBuffer() != null && WRITTEN.contains(data.originalDataBuffer());
    }
}
