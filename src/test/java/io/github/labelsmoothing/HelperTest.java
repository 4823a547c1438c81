package io.github.labelsmoothing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link CpuSoftmaxXent.Helper}, a pool thread's run of a call's chunks: it runs at most once, a helper not started
 * when the caller finishes never runs, a started one waits for its work and the caller for it, a call that fails before
 * giving the work leaves no helper waiting, and what a helper throws reaches the caller.
 */
class HelperTest {

    @Test
    void aHelperNotStartedIsClosedAndNeverRuns() {
        AtomicInteger runs = new AtomicInteger();
        CpuSoftmaxXent.Helper helper = helper(runs::incrementAndGet);
        helper.finish();
        helper.run(); // the pool starts it late
        assertEquals(0, runs.get());
    }

    @Test
    void theCallerWaitsForAStartedHelper() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        AtomicInteger finished = new AtomicInteger();
        CpuSoftmaxXent.Helper helper = helper(() -> {
            started.countDown();
            sleep(50);
            finished.incrementAndGet();
        });
        Thread pool = new Thread(helper);
        pool.start();
        assertTrue(started.await(10, java.util.concurrent.TimeUnit.SECONDS));
        helper.finish();
        assertEquals(1, finished.get(), "finish() returns only when the helper is done");
        helper.run(); // a second start does nothing
        assertEquals(1, finished.get());
        pool.join();
    }

    @Test
    void whatTheHelperThrowsReachesTheCaller() throws Exception {
        IllegalStateException thrown = new IllegalStateException("chunk failed");
        CpuSoftmaxXent.Helper failing = helper(() -> {
            throw thrown;
        });
        Thread pool = new Thread(failing);
        pool.start();
        pool.join();
        assertSame(thrown, assertThrows(IllegalStateException.class, failing::finish));
        CpuSoftmaxXent.Helper error = helper(() -> {
            throw new AssertionError("an error");
        });
        Thread other = new Thread(error);
        other.start();
        other.join();
        assertEquals("an error", assertThrows(AssertionError.class, error::finish).getMessage());
    }

    @Test
    void aHelperStartedBeforeItsWorkWaitsForIt() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        CpuSoftmaxXent.Helper helper = new CpuSoftmaxXent.Helper();
        Thread pool = new Thread(helper);
        pool.start();
        sleep(50); // started, spinning for work
        helper.give(runs::incrementAndGet);
        helper.finish();
        assertEquals(1, runs.get());
        pool.join();
    }

    @Test
    void aCallFailingBeforeItGivesTheWorkLeavesNoHelperWaiting() throws Exception {
        CpuSoftmaxXent.Helper started = new CpuSoftmaxXent.Helper();
        CpuSoftmaxXent.Helper unstarted = new CpuSoftmaxXent.Helper();
        Thread pool = new Thread(started);
        pool.start();
        sleep(50);
        IllegalStateException callerFailure = new IllegalStateException("allocation failed");
        CpuSoftmaxXent.Helper[] helpers = {started, unstarted};
        assertSame(callerFailure, assertThrows(IllegalStateException.class,
                () -> CpuSoftmaxXent.Helper.finish(helpers, callerFailure)));
        pool.join(10_000);
        assertTrue(!pool.isAlive(), "the started helper got nothing to do and ended");
        AtomicInteger runs = new AtomicInteger();
        unstarted.give(runs::incrementAndGet);
        unstarted.run(); // the pool starts it late: closed
        assertEquals(0, runs.get());
    }

    @Test
    void theCallersFailureComesFirstThenAHelpers() throws Exception {
        IllegalStateException helperFailure = new IllegalStateException("helper");
        CpuSoftmaxXent.Helper failing = helper(() -> {
            throw helperFailure;
        });
        failing.run();
        assertSame(helperFailure, assertThrows(IllegalStateException.class,
                () -> CpuSoftmaxXent.Helper.finish(new CpuSoftmaxXent.Helper[] {failing}, null)));
        CpuSoftmaxXent.Helper failingAgain = helper(() -> {
            throw helperFailure;
        });
        failingAgain.run();
        AssertionError callerFailure = new AssertionError("caller");
        assertSame(callerFailure, assertThrows(AssertionError.class,
                () -> CpuSoftmaxXent.Helper.finish(new CpuSoftmaxXent.Helper[] {failingAgain}, callerFailure)));
        assertSame(helperFailure, callerFailure.getSuppressed()[0], "the helper's failure is kept, suppressed");
    }

    private static CpuSoftmaxXent.Helper helper(Runnable work) {
        CpuSoftmaxXent.Helper helper = new CpuSoftmaxXent.Helper();
        helper.give(work);
        return helper;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
