package io.tokenmeter.io;

import io.tokenmeter.metering.SchemaRegistryConfig;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.schema.Framing;
import io.tokenmeter.schema.SchemaRegistryClient;
import io.tokenmeter.schema.SchemaRegistryUnavailableException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.flink.util.function.SerializableSupplier;

/**
 * Each output topic's framing ({@code schema-registry.output-framing.<output>}), decided when the
 * job is built: single-object encoding, or the schema registry framing with the record's schema
 * registered under the Confluent subject {@code <topic>-value} first. Registering is the
 * compatibility check (the registry refuses a schema its subject's compatibility rule does not
 * allow), so an incompatible schema fails the start-up, naming the topic and the registry's own
 * message, before anything is written.
 */
public final class OutputFraming {

    private OutputFraming() {}

    /**
     * The serializer of {@code output} (one of {@link SchemaRegistryConfig#OUTPUTS}) into {@code
     * topic}.
     */
    public static <T extends SpecificRecord> AvroKafkaSerializer<T> serializer(
            SchemaRegistryConfig registry,
            String output,
            String topic,
            SerializableSupplier<AvroCodec<T>> codec,
            SerializableFunction<T, String> keyOf) {
        if (registry.framing(output) == Framing.SINGLE_OBJECT) {
            return new AvroKafkaSerializer<>(topic, codec, keyOf);
        }
        String subject = topic + "-value";
        try {
            int id =
                    new SchemaRegistryClient(registry.settings())
                            .register(subject, codec.get().schema());
            return new AvroKafkaSerializer<>(topic, codec, keyOf, id);
        } catch (IllegalStateException | SchemaRegistryUnavailableException e) {
            throw new IllegalArgumentException(
                    "Output topic "
                            + topic
                            + " cannot be written in the registry framing"
                            + " (schema-registry.output-framing."
                            + output
                            + "): "
                            + e.getMessage(),
                    e);
        }
    }

    /**
     * Fails unless the configured registry answers (retried for {@code
     * schema-registry.give-up-after}); a start-up check, so a wrong URL is found before the first
     * registry-framed record rather than at it.
     */
    static void checkRegistryReachable(SchemaRegistryConfig registry) {
        if (!registry.enabled()) {
            return;
        }
        try {
            new SchemaRegistryClient(registry.settings()).checkReachable();
        } catch (SchemaRegistryUnavailableException e) {
            throw new IllegalArgumentException(
                    "Configuration key 'schema-registry.url': " + e.getMessage(), e);
        }
    }
}
