package io.github.labelsmoothing;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.shape.OneHot;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Smoothed target arrays, at the bottom: dense labels and class indices turned into {@code (1 - s)·y + s·prior} (the
 * formula itself is {@link Prior#smooth}), and the masking of class indices. Whole-array ND4J ops (any backend); never
 * modifies its arguments; calls nothing above it. Smoothing values reach it already validated.
 */
final class Targets {

    private Targets() {
    }

    /** The floating point type labels are computed in: their own, or the default one for integer labels. */
    static DataType floatType(INDArray array) {
        return array.dataType().isFPType() ? array.dataType() : Nd4j.defaultFloatingPointType();
    }

    /**
     * {@code (1 - s) * labels + s * prior} along {@code classAxis}, as a new array; checks the labels' shape against
     * the prior first.
     *
     * @param s a smoothing already validated where it entered ({@link Checks#smoothing})
     */
    static INDArray dense(INDArray labels, double s, Prior prior, int classAxis) {
        Checks.labels(labels, classAxis);
        prior.checkClasses(labels.size(classAxis));
        DataType type = floatType(labels);
        return prior.smooth(labels.dataType() == type ? labels.dup() : labels.castTo(type), s, classAxis);
    }

    /** Dense smoothed labels {@code [N,K,...]} from class indices {@code [N]} or {@code [N,1,...]}. */
    static INDArray fromIndices(INDArray classIndices, int numClasses, double s, Prior prior) {
        return fromIndices(classIndices, numClasses, s, prior, false);
    }

    /**
     * Dense smoothed labels from class indices with a size-1 class axis: axis 1 ({@code [N,1,T]} to {@code [N,K,T]}),
     * or the last axis when {@code channelsLast} ({@code [N,T,1]} to {@code [N,T,K]}); {@code [N]} gives {@code [N,K]}.
     * Checks the indices' values (data, not arguments) here.
     *
     * @param numClasses K, already validated where it entered ({@link Checks#numClasses})
     * @param s          a smoothing already validated where it entered
     */
    static INDArray fromIndices(INDArray classIndices, int numClasses, double s, Prior prior, boolean channelsLast) {
        prior.checkClasses(numClasses);
        if (classIndices == null) {
            throw new IllegalArgumentException("class indices must not be null");
        }
        int rank = classIndices.rank();
        int classAxis = rank == 1 ? 1 : channelsLast ? rank - 1 : 1;
        if (rank > 1 && classIndices.size(classAxis) != 1) {
            throw new IllegalArgumentException("class indices must have size 1 on the class axis " + classAxis
                    + " (shape [N], [N,1], " + (channelsLast ? "[N,T,1]" : "[N,1,T]") + "), got "
                    + Arrays.toString(classIndices.shape()));
        }
        long[] shape = classIndices.shape();
        long[] squeezed = rank == 1 ? shape : new long[rank - 1];
        if (rank > 1) {
            for (int d = 0, j = 0; d < rank; d++) {
                if (d != classAxis) {
                    squeezed[j++] = shape[d];
                }
            }
        }
        INDArray indices = rank == 1 ? classIndices : classIndices.reshape(squeezed);
        Checks.classIndices(indices, numClasses);
        long[] outShape = rank == 1 ? new long[] {shape[0], numClasses} : shape.clone();
        outShape[classAxis] = numClasses;
        INDArray out = Nd4j.createUninitialized(floatType(classIndices), outShape);
        // One-hot, then smoothed in place by the same formula as dense labels.
        Nd4j.exec(new OneHot(indices, out, numClasses, classAxis == outShape.length - 1 ? -1 : classAxis, 1, 0));
        return prior.smooth(out, s, classAxis);
    }

    /**
     * One-hot rows {@code [N,K]} of the given type from N class indices (any shape of N values, already validated or
     * masked to 0): the one-hot op for callers that need the rows unsmoothed (the ND4J-op path, online smoothing).
     */
    static INDArray oneHotRows(INDArray indices, int numClasses, DataType type) {
        long n = indices.length();
        INDArray out = Nd4j.createUninitialized(type, n, numClasses);
        // indices of the output's type (a DataSet's usual FLOAT) go in as they are: a cast is one more op
        INDArray flat = indices.dataType() == type ? indices.reshape(n) : indices.reshape(n).castTo(DataType.INT64);
        Nd4j.exec(new OneHot(flat, out, numClasses, 1, 1, 0));
        return out;
    }

    /**
     * Class indices with the entries under a 0 mask set to 0, so that padding there (-1, anything) is neither
     * validated nor used, as DL4J's own sparse loss and PyTorch's {@code ignore_index} ignore it; the masked positions
     * are zeroed afterwards by the caller. A new array, or the indices themselves without a mask.
     *
     * @param mask one value per index (any shape of the same length, e.g. {@code [N,T]} for {@code [N,1,T]}), or null
     * @throws IllegalArgumentException if the mask's length is not the number of indices
     */
    static INDArray unmaskedIndices(INDArray indices, INDArray mask) {
        if (mask == null) {
            return indices;
        }
        if (mask.length() != indices.length()) {
            throw new IllegalArgumentException("labels mask must have one value per class index: indices "
                    + Arrays.toString(indices.shape()) + ", mask " + Arrays.toString(mask.shape()));
        }
        return select(mask.reshape(indices.shape()).neq(0), indices);
    }

    /**
     * {@code keep ? values : 0} as a new array: element by element for a BOOL {@code keep} of the values' shape, row by
     * row for a BOOL vector over the first axis.
     */
    static INDArray select(INDArray keep, INDArray values) {
        INDArray out = Nd4j.createUninitialized(values.dataType(), values.shape());
        // ND4J's select op; its where_np picks the other way round in 1.0.0-M2.1
        Nd4j.exec(DynamicCustomOp.builder("select").addInputs(keep, values, Nd4j.zerosLike(values)).addOutputs(out)
                .build());
        return out;
    }
}
