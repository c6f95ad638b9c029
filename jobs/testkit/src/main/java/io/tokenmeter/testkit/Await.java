package io.tokenmeter.testkit;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * The one polling loop of the tests and the local tools: ask again every {@code interval} until the
 * answer is the awaited one or {@code timeout} has passed. For conditions on a broker, a cluster or
 * a server outside this thread (topics consumed, a job restarted, a server ready), never for
 * letting time pass.
 */
public final class Await {

    /** A question asked again and again; it may throw what its caller's own code would throw. */
    @FunctionalInterface
    public interface Probe<T> {
        T get() throws Exception;
    }

    private Await() {}

    /**
     * Asks {@code probe} until {@code done} accepts its answer or {@code timeout} has passed;
     * returns the last answer either way, so that the caller can say what it saw.
     */
    public static <T> T poll(
            Duration timeout, Duration interval, Probe<T> probe, Predicate<? super T> done)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T answer = ask(probe);
            if (done.test(answer) || System.nanoTime() > deadline) {
                return answer;
            }
            Thread.sleep(interval.toMillis());
        }
    }

    /**
     * Waits until {@code condition} holds; a {@link TimeoutException} saying what was awaited when
     * it never does.
     */
    public static void until(
            Duration timeout, Duration interval, Probe<Boolean> condition, String what)
            throws TimeoutException, InterruptedException {
        if (!poll(timeout, interval, condition, Boolean::booleanValue)) {
            throw new TimeoutException("gave up waiting " + timeout.toSeconds() + " s for " + what);
        }
    }

    private static <T> T ask(Probe<T> probe) throws InterruptedException {
        try {
            return probe.get();
        } catch (InterruptedException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }
}
