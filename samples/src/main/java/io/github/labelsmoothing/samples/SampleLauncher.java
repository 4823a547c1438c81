package io.github.labelsmoothing.samples;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * The main class of {@code mvn test-compile exec:java}: runs the sample named by the system property
 * {@value #PROPERTY} (default {@value #DEFAULT_SAMPLE}) with the program arguments, so that a sample can be given by
 * its simple name.
 *
 * <pre>
 * mvn -q test-compile exec:java -Dsamples.main=ApplyToSample -Dexec.args="20"
 * </pre>
 */
public final class SampleLauncher {

    /** The system property naming the sample to run (the pom passes {@code -Dsamples.main} on to it). */
    public static final String PROPERTY = "samples.main";

    /** The sample run when {@value #PROPERTY} is not set: the demo of the README's Quick start. */
    public static final String DEFAULT_SAMPLE = "CalibrationDemo";

    private static final String PACKAGE = SampleLauncher.class.getPackageName();

    private SampleLauncher() {
    }

    /**
     * Runs the sample named by {@value #PROPERTY} with {@code args}.
     *
     * @param args the sample's own arguments ({@code -Dexec.args})
     * @throws Throwable whatever the sample's main throws, unwrapped
     */
    public static void main(String[] args) throws Throwable {
        launch(System.getProperty(PROPERTY, DEFAULT_SAMPLE), args);
    }

    /**
     * Calls the {@code public static void main(String[])} of a sample.
     *
     * @param name a class of this package by its name relative to it ({@code ApplyToSample}, {@code spark.SparkSample})
     *             or any class by its fully qualified name
     * @param args passed on unchanged
     * @throws IllegalArgumentException if no such class with such a main method is on the classpath
     * @throws Throwable                whatever the sample's main throws, unwrapped
     */
    static void launch(String name, String[] args) throws Throwable {
        mainOf(name).invokeExact(args);
    }

    /** The main method of {@code PACKAGE.name}, or else of {@code name} taken as a fully qualified name. */
    private static MethodHandle mainOf(String name) {
        MethodType mainType = MethodType.methodType(void.class, String[].class);
        for (String className : new String[] {PACKAGE + "." + name, name}) {
            try {
                return MethodHandles.publicLookup().findStatic(Class.forName(className), "main", mainType);
            } catch (ClassNotFoundException | NoSuchMethodException | IllegalAccessException e) {
                // try the next reading of the name
            }
        }
        throw new IllegalArgumentException("-D" + PROPERTY + "=" + name + ": no class " + PACKAGE + "." + name
                + " or " + name + " with a public static void main(String[]) on the classpath; give a sample of "
                + "samples/ by its simple name (e.g. ApplyToSample) or a fully qualified class name");
    }
}
