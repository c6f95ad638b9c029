package io.tokenmeter.io;

import io.tokenmeter.schema.AvroCodec;
import java.nio.charset.StandardCharsets;
import javax.annotation.Nullable;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.flink.util.function.SerializableSupplier;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes Avro records to one topic, in single-object encoding or, given the schema id the registry
 * gave their schema, in the schema registry framing ({@link OutputFraming}); keyed by a string
 * taken from the record and stamped with the time they are written.
 */
public class AvroKafkaSerializer<T extends SpecificRecord>
        implements KafkaRecordSerializationSchema<T> {

    private final String topic;
    private final SerializableSupplier<AvroCodec<T>> codecFactory;
    private final SerializableFunction<T, String> keyOf;
    @Nullable private final Integer registrySchemaId;

    private transient AvroCodec<T> codec;

    /**
     * @param keyOf the Kafka key of a record, or a function returning null for no key (round-robin
     *     partitions)
     */
    public AvroKafkaSerializer(
            String topic,
            SerializableSupplier<AvroCodec<T>> codecFactory,
            SerializableFunction<T, String> keyOf) {
        this(topic, codecFactory, keyOf, null);
    }

    /**
     * @param registrySchemaId the id the schema registry gave the codec's schema: records are
     *     written in the registry framing ({@code 00}, the id, the body); null: in single-object
     *     encoding
     */
    public AvroKafkaSerializer(
            String topic,
            SerializableSupplier<AvroCodec<T>> codecFactory,
            SerializableFunction<T, String> keyOf,
            @Nullable Integer registrySchemaId) {
        this.topic = topic;
        this.codecFactory = codecFactory;
        this.keyOf = keyOf;
        this.registrySchemaId = registrySchemaId;
    }

    @Override
    public void open(
            SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) {
        codec = codecFactory.get();
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            T record, KafkaSinkContext context, @Nullable Long timestamp) {
        String key = keyOf.apply(record);
        // No event-time timestamp: the producer stamps the write time. A billing record for a day
        // weeks ago, stamped with that day, would fall straight under the topic's time-based
        // retention and be deleted.
        byte[] value =
                registrySchemaId == null
                        ? codec.encode(record)
                        : codec.encodeWithSchemaId(record, registrySchemaId);
        return new ProducerRecord<>(
                topic,
                null,
                null,
                key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value);
    }
}
