package io.tokenmeter.testkit;

import io.tokenmeter.io.KafkaClientProperties;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Writes a workload to a Kafka topic, the way inference gateways would, and tallies what it wrote.
 */
public final class WorkloadProducer {

    private WorkloadProducer() {}

    /**
     * Produces every record of {@code generator} to {@code topic}, keyed by account, and returns
     * the expected totals. Fails if any record could not be written.
     *
     * @param showProgress whether to draw a progress bar on the console
     */
    public static ExpectedTotals produce(
            WorkloadGenerator generator,
            String bootstrapServers,
            String topic,
            boolean showProgress) {
        return produce(
                generator, KafkaClientProperties.none(), bootstrapServers, topic, showProgress);
    }

    /**
     * As {@link #produce(WorkloadGenerator, String, String, boolean)}, with the pass-through {@code
     * clients}.
     */
    public static ExpectedTotals produce(
            WorkloadGenerator generator,
            KafkaClientProperties clients,
            String bootstrapServers,
            String topic,
            boolean showProgress) {
        Properties props = producerProperties(bootstrapServers, clients);

        WorkloadSpec spec = generator.spec();
        ExpectedTotals expected = new ExpectedTotals(spec.billingZone());
        AtomicReference<Exception> failure = new AtomicReference<>();
        try (KafkaProducer<byte[], byte[]> producer =
                        new KafkaProducer<>(
                                props, new ByteArraySerializer(), new ByteArraySerializer());
                ProgressBar progress = progressBar(spec.events(), showProgress)) {
            for (long i = 0; i < spec.events() && failure.get() == null; i++) {
                GeneratedRecord record = generator.record(i);
                byte[] key =
                        record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8);
                producer.send(
                        new ProducerRecord<>(topic, key, record.value()),
                        (metadata, e) -> {
                            if (e != null) {
                                failure.compareAndSet(null, e);
                            }
                        });
                expected.add(record);
                if (progress != null && (i & 1023) == 1023) {
                    progress.stepTo(i + 1);
                }
            }
            producer.flush();
            if (progress != null) {
                progress.stepTo(spec.events());
            }
        }
        if (failure.get() != null) {
            throw new IllegalStateException(
                    "could not write the workload to " + topic, failure.get());
        }
        return expected;
    }

    private static ProgressBar progressBar(long total, boolean show) {
        if (!show) {
            return null;
        }
        return new ProgressBarBuilder()
                .setTaskName("Producing")
                .setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII)
                .setUnit(" events", 1)
                .showSpeed()
                .setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.out))
                .build();
    }

    /**
     * An idempotent, batching producer's settings: every record written once, in order per
     * partition.
     */
    public static Properties producerProperties(
            String bootstrapServers, KafkaClientProperties clients) {
        Properties props = clients.producer(bootstrapServers);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 * 1024));
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        return props;
    }
}
