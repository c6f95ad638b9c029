package io.tokenmeter.testkit;

import java.time.Duration;
import java.util.List;

/**
 * The producer-leak check of flink-connector-kafka's ITCases: every Kafka producer a test or its
 * job opened must be closed when the test ends, which shows as no thread named {@value
 * #NETWORK_THREAD} left in the JVM. A job's sinks close their producers as its tasks finish, a
 * moment after a cancel has been acknowledged, so the check gives them {@link #GRACE} before it
 * fails.
 */
public final class ProducerLeaks {

    /**
     * The name every Kafka producer gives its sender thread (KafkaProducer.NETWORK_THREAD_PREFIX).
     */
    static final String NETWORK_THREAD = "kafka-producer-network-thread";

    static final Duration GRACE = Duration.ofSeconds(30);

    private ProducerLeaks() {}

    /** Fails, naming them, when producer threads are still running after {@link #GRACE}. */
    public static void check() throws InterruptedException {
        List<String> left =
                Await.poll(
                        GRACE,
                        Duration.ofMillis(100),
                        ProducerLeaks::producerThreads,
                        List::isEmpty);
        if (!left.isEmpty()) {
            throw new AssertionError(
                    "Detected producer leak: "
                            + left.size()
                            + " Kafka producer(s) still open "
                            + GRACE.toSeconds()
                            + " s after the test, threads "
                            + left);
        }
    }

    private static List<String> producerThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(name -> name.contains(NETWORK_THREAD))
                .sorted()
                .toList();
    }
}
