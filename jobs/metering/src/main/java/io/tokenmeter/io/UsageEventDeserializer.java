package io.tokenmeter.io;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.logic.Rejections;
import io.tokenmeter.logic.UsageValidation;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.schema.DecodeException;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Decodes and validates raw usage records inside the Kafka source, so that a record that cannot be billed never
 * reaches the watermark generator and never fails the job: it comes out as a rejected {@link IngestedRecord}.
 */
public class UsageEventDeserializer implements KafkaRecordDeserializationSchema<IngestedRecord> {

    private transient AvroCodec<UsageEvent> codec;

    @Override
    public void open(DeserializationSchema.InitializationContext context) {
        codec = AvroCodec.usageEvents();
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<IngestedRecord> out) {
        byte[] payload = record.value();
        UsageEvent event;
        try {
            event = codec.decode(payload);
        } catch (DecodeException e) {
            RejectReason reason = e.failure() == DecodeException.Failure.UNKNOWN_SCHEMA
                    ? RejectReason.UNKNOWN_SCHEMA
                    : RejectReason.MALFORMED;
            out.collect(IngestedRecord.rejected(reject(record, reason, e.getMessage())));
            return;
        }
        UsageValidation.Violation violation = UsageValidation.check(event);
        if (violation != null) {
            out.collect(IngestedRecord.rejected(reject(record, violation.reason(), violation.message())));
            return;
        }
        out.collect(IngestedRecord.valid(
                event, record.topic(), record.partition(), record.offset(), record.timestamp(), payload));
    }

    private static io.tokenmeter.avro.RejectedRecord reject(
            ConsumerRecord<byte[], byte[]> record, RejectReason reason, String message) {
        return Rejections.reject(reason, message, record.value(), record.topic(), record.partition(),
                record.offset(), record.timestamp(), System.currentTimeMillis());
    }

    @Override
    public TypeInformation<IngestedRecord> getProducedType() {
        return TypeInformation.of(IngestedRecord.class);
    }
}
