package io.github.labelsmoothing;

import java.util.ArrayList;
import java.util.List;

/** The CPU kernels under test: the scalar one, and the SIMD one at every vector width (64 to 512 bits). */
final class Kernels {
    private Kernels() {
    }

    /** Whether this JVM has the vector module (the surefire argLine gives it; the suite expects it). */
    static boolean vectorModule() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    static List<SoftmaxXent> all() {
        List<SoftmaxXent> kernels = new ArrayList<>();
        kernels.add(SoftmaxXents.implementation(SoftmaxXents.Path.SCALAR));
        if (vectorModule()) {
            for (int bits : new int[] {64, 128, 256, 512}) { // 1, 2, 4 and 8 double lanes: every tail and padding
                try {
                    kernels.add(SoftmaxXents.vector(bits));
                } catch (ReflectiveOperationException e) {
                    throw new AssertionError("the SIMD kernel does not load", e);
                }
            }
        }
        return kernels;
    }
}
