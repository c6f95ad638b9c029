package io.tokenmeter.io;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.logic.PackageCatalog;
import io.tokenmeter.logic.Rejections;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.schema.DecodeException;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Decodes subscription events inside the Kafka source. A record that does not decode, or names a package the
 * catalog does not have, comes out rejected (to the rejected topic) instead of failing the job. A tombstone is
 * compaction's delete marker for a subscription already cancelled and expired: there is nothing to apply.
 */
public class SubscriptionDeserializer implements KafkaRecordDeserializationSchema<SubscriptionRecord> {

    private final PackageCatalog catalog;
    private transient AvroCodec<SubscriptionEvent> codec;

    public SubscriptionDeserializer(PackageCatalog catalog) {
        this.catalog = catalog;
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) {
        codec = AvroCodec.subscriptionEvents();
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<SubscriptionRecord> out) {
        if (record.value() == null) {
            return;
        }
        SubscriptionEvent event;
        try {
            event = codec.decode(record.value());
        } catch (DecodeException e) {
            RejectReason reason = e.failure() == DecodeException.Failure.UNKNOWN_SCHEMA
                    ? RejectReason.UNKNOWN_SCHEMA
                    : RejectReason.MALFORMED;
            out.collect(SubscriptionRecord.rejected(reject(record, reason, e.getMessage())));
            return;
        }
        if (event.getAccountId().isBlank() || event.getSubscriptionId().isBlank()) {
            out.collect(SubscriptionRecord.rejected(reject(record, RejectReason.MISSING_FIELD,
                    "subscription event without account_id or subscription_id")));
        } else if (!catalog.packages().containsKey(event.getPackageId())) {
            out.collect(SubscriptionRecord.rejected(reject(record, RejectReason.MALFORMED,
                    "package '" + event.getPackageId() + "' is not in the catalog")));
        } else {
            out.collect(SubscriptionRecord.valid(event));
        }
    }

    private static io.tokenmeter.avro.RejectedRecord reject(
            ConsumerRecord<byte[], byte[]> record, RejectReason reason, String message) {
        return Rejections.reject(reason, message, record.value(), record.topic(), record.partition(),
                record.offset(), record.timestamp(), System.currentTimeMillis());
    }

    @Override
    public TypeInformation<SubscriptionRecord> getProducedType() {
        return TypeInformation.of(SubscriptionRecord.class);
    }
}
