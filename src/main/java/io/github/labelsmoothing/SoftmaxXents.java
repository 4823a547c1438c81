package io.github.labelsmoothing;

import java.lang.management.ManagementFactory;
import java.util.function.Supplier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that picks the computation of label-smoothed softmax cross-entropy ({@link SoftmaxXent}), after
 * Lucene's {@code VectorizationProvider}: the CPU kernel is decided once per JVM (the SIMD kernel when the
 * {@code jdk.incubator.vector} module is readable, C2 runs and vectors are at least 256 bits wide, else the scalar
 * kernel; neither when {@code -Dio.github.labelsmoothing.cpuKernel=false}), logged once; then each call takes the
 * kernel if it {@link SoftmaxXent#supports supports} the arrays, else the ND4J-op path (CUDA, HALF/BFLOAT16).
 */
final class SoftmaxXents {
    private static final Logger LOG = LoggerFactory.getLogger(SoftmaxXents.class);

    /** The system property that turns the CPU kernels off ({@code false}): ND4J ops only, the path CUDA runs. */
    static final String SWITCH = "io.github.labelsmoothing.cpuKernel";
    /**
     * Test-only: the SIMD kernel's vector width in bits (64 to 512), so every lane count and tail runs on one machine
     * (a JVM per width: the build runs the kernel tests at each); also lifts the 256-bit minimum.
     */
    static final String VECTOR_BITS = "io.github.labelsmoothing.vectorBits";
    private static final String VECTOR_CLASS = "io.github.labelsmoothing.VectorSoftmaxXent";
    private static final String ENABLE_HINT = "add --add-modules jdk.incubator.vector to the JVM's options";

    /** The computations a call can take. */
    enum Path {
        /** SIMD on {@code jdk.incubator.vector}. */
        VECTOR,
        /** Plain Java loops. */
        SCALAR,
        /** Whole-array ND4J ops: any backend, any type. */
        ND4J_OPS
    }

    private static final SoftmaxXent OPS = new Nd4jSoftmaxXent();
    private static final SoftmaxXent SCALAR = new ScalarSoftmaxXent();
    /** The SIMD kernel if the JVM can run it (regardless of the switch, so tests can force it), else null. */
    private static final SoftmaxXent VECTOR = loadVector();
    /** The kernel calls take by default, or null (switched off). */
    private static final SoftmaxXent KERNEL = defaultKernel();
    /** Set by {@link #forcing}: the tests run every case on every path in one JVM. */
    private static final ThreadLocal<Path> FORCED = new ThreadLocal<>();

    private SoftmaxXents() {
    }

    /** The computation for these arrays: the forced path if any, else the kernel if it takes them, else ND4J ops. */
    static SoftmaxXent choose(INDArray labels, boolean sparse, INDArray preOutput, INDArray mask) {
        Path forced = FORCED.get();
        SoftmaxXent kernel = forced == null ? KERNEL : forced == Path.ND4J_OPS ? null : implementation(forced);
        return kernel != null && kernel.supports(labels, sparse, preOutput, mask) ? kernel : OPS;
    }

    /** The implementation of a path, or null for the SIMD kernel on a JVM that cannot run it. */
    static SoftmaxXent implementation(Path path) {
        return switch (path) {
            case VECTOR -> VECTOR;
            case SCALAR -> SCALAR;
            case ND4J_OPS -> OPS;
        };
    }

    /**
     * Test-only: runs {@code call} on this thread with every fused loss computation on {@code path} (where its
     * {@code supports} allows; the ND4J-op path takes the rest).
     *
     * @throws IllegalStateException if the path is the SIMD kernel and this JVM cannot run it
     */
    static <T> T forcing(Path path, Supplier<T> call) {
        if (implementation(path) == null) {
            throw new IllegalStateException("the SIMD kernel does not run on this JVM: " + ENABLE_HINT);
        }
        Path before = FORCED.get();
        FORCED.set(path);
        try {
            return call.get();
        } finally {
            FORCED.set(before);
        }
    }

    private static SoftmaxXent defaultKernel() {
        if ("false".equalsIgnoreCase(System.getProperty(SWITCH))) {
            LOG.info("Label smoothing: CPU kernels off (-D{}=false), whole-array ND4J ops", SWITCH);
            return null;
        }
        if (VECTOR != null) {
            LOG.info("Label smoothing: SIMD CPU kernel ({})", VECTOR);
            return VECTOR;
        }
        return SCALAR;
    }

    /** The SIMD kernel, loaded by name only when the JVM allows it (the jar works on a JVM without the module). */
    private static SoftmaxXent loadVector() {
        String refusal = vectorRefusal();
        if (refusal != null) {
            if (!"false".equalsIgnoreCase(System.getProperty(SWITCH))) {
                LOG.info("Label smoothing: scalar CPU kernel ({}); for the SIMD kernel, {}", refusal, ENABLE_HINT);
            }
            return null;
        }
        try {
            Class<?> type = Class.forName(VECTOR_CLASS, true, SoftmaxXents.class.getClassLoader());
            SoftmaxXent kernel = (SoftmaxXent) type.getDeclaredMethod("create").invoke(null);
            if (kernel == null) {
                LOG.info("Label smoothing: scalar CPU kernel (vectors narrower than 256 bits on this CPU)");
            }
            return kernel;
        } catch (ReflectiveOperationException | LinkageError e) { // an incubating API that changed: scalar still works
            LOG.warn("Label smoothing: scalar CPU kernel, the SIMD kernel failed to load: {}", e.toString());
            return null;
        }
    }

    /** Why the SIMD kernel cannot run here, or null if it can. */
    private static String vectorRefusal() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return "the jdk.incubator.vector module is not in the JVM";
        }
        String vm = System.getProperty("java.vm.name", "");
        if (!vm.contains("HotSpot") && !vm.contains("OpenJDK")) {
            return "not a HotSpot JVM (" + vm + ")";
        }
        boolean c2 = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .noneMatch(a -> a.equals("-XX:TieredStopAtLevel=1") || a.equals("-XX:-UseCompiler")
                        || a.equals("-Xint") || a.equals("-XX:TieredStopAtLevel=0"));
        return c2 ? null : "C2 is off, the vector API would be interpreted";
    }
}
