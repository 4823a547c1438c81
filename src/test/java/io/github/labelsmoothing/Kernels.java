package io.github.labelsmoothing;

import java.util.ArrayList;
import java.util.List;

/**
 * The CPU kernels under test: the scalar one, and the SIMD one at this JVM's vector width (the build runs the kernel
 * tests at each width, 64 to 512 bits, through {@link SoftmaxXents#VECTOR_BITS}).
 */
final class Kernels {
    private Kernels() {
    }

    /**
     * Whether the SIMD kernel runs in this JVM: the vector module is present (the surefire argLine gives it) and the
     * vectors are wide enough or forced.
     */
    static boolean vectorKernel() {
        return SoftmaxXents.implementation(SoftmaxXents.Path.VECTOR) != null;
    }

    static List<SoftmaxXent> all() {
        List<SoftmaxXent> kernels = new ArrayList<>();
        kernels.add(SoftmaxXents.implementation(SoftmaxXents.Path.SCALAR));
        if (vectorKernel()) {
            kernels.add(SoftmaxXents.implementation(SoftmaxXents.Path.VECTOR));
        }
        return kernels;
    }
}
