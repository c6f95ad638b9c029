package io.tokenmeter.local;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** A real KRaft broker on loopback for one test class, with a fresh data folder, shut down afterwards. */
public final class KafkaBrokerExtension implements BeforeAllCallback, AfterAllCallback {

    private final AtomicInteger topicCounter = new AtomicInteger();
    private EmbeddedKafkaBroker broker;

    @Override
    public void beforeAll(ExtensionContext context) {
        broker = EmbeddedKafkaBroker.startTemporary();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        broker.close();
    }

    public String bootstrapServers() {
        return broker.bootstrapServers();
    }

    public KafkaTopics topics() {
        return new KafkaTopics(bootstrapServers());
    }

    /** A topic name no other test of this run uses. */
    public String freshTopic(String name) {
        return name + "-" + topicCounter.incrementAndGet();
    }
}
