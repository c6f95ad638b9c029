package io.tokenmeter.testkit;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real KRaft broker on loopback for one test class, with a fresh data folder, shut down
 * afterwards; plaintext, or {@link #secured()} (SASL_SSL, mTLS and ACLs, {@link BrokerSecurity}).
 * After each test it checks that the test and its jobs closed every Kafka producer they opened
 * ({@link ProducerLeaks}).
 */
public final class KafkaBrokerExtension
        implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {

    private final AtomicInteger topicCounter = new AtomicInteger();
    private final boolean secured;
    private EmbeddedKafkaBroker broker;

    public KafkaBrokerExtension() {
        this(false);
    }

    private KafkaBrokerExtension(boolean secured) {
        this.secured = secured;
    }

    /** A secured broker: clients need TLS and SCRAM or a client certificate, and ACLs. */
    public static KafkaBrokerExtension secured() {
        return new KafkaBrokerExtension(true);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        broker =
                secured
                        ? EmbeddedKafkaBroker.startSecuredTemporary()
                        : EmbeddedKafkaBroker.startTemporary();
    }

    @Override
    public void afterEach(ExtensionContext context) throws InterruptedException {
        ProducerLeaks.check();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        broker.close();
    }

    /** Where the job connects: plaintext, or SASL_SSL on a secured broker. */
    public String bootstrapServers() {
        return broker.bootstrapServers();
    }

    /** The secured broker's security; null on a plaintext one. */
    public BrokerSecurity security() {
        return broker.security();
    }

    /** Topic tools; on a secured broker they connect as the admin principal over mTLS. */
    public KafkaTopics topics() {
        return secured
                ? new KafkaTopics(security().mtlsBootstrap(), security().admin())
                : new KafkaTopics(bootstrapServers());
    }

    /** A topic name no other test of this run uses. */
    public String freshTopic(String name) {
        return name + "-" + topicCounter.incrementAndGet();
    }
}
