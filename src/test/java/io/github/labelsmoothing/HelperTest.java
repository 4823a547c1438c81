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
 * when the caller finishes never runs, the caller waits for a started one, and what it throws reaches the caller.
 */
class HelperTest {

    @Test
    void aHelperNotStartedIsClosedAndNeverRuns() {
        AtomicInteger runs = new AtomicInteger();
        CpuSoftmaxXent.Helper helper = new CpuSoftmaxXent.Helper(runs::incrementAndGet);
        helper.finish();
        helper.run(); // the pool starts it late
        assertEquals(0, runs.get());
    }

    @Test
    void theCallerWaitsForAStartedHelper() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        AtomicInteger finished = new AtomicInteger();
        CpuSoftmaxXent.Helper helper = new CpuSoftmaxXent.Helper(() -> {
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
        CpuSoftmaxXent.Helper failing = new CpuSoftmaxXent.Helper(() -> {
            throw thrown;
        });
        Thread pool = new Thread(failing);
        pool.start();
        pool.join();
        assertSame(thrown, assertThrows(IllegalStateException.class, failing::finish));
        CpuSoftmaxXent.Helper error = new CpuSoftmaxXent.Helper(() -> {
            throw new AssertionError("an error");
        });
        Thread other = new Thread(error);
        other.start();
        other.join();
        assertEquals("an error", assertThrows(AssertionError.class, error::finish).getMessage());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
