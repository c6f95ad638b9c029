package io.tokenmeter.io;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.logic.ingest.Rejections;
import io.tokenmeter.logic.ingest.ValidationLimits;
import io.tokenmeter.logic.packages.PackageCatalog;
import io.tokenmeter.logic.packages.SubscriptionLimits;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.schema.DecodeException;
import java.util.Arrays;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Decodes subscription events inside the Kafka source. A record that is too large, does not decode,
 * breaks the bounds of {@link SubscriptionLimits} (ids too long, times outside [1970, 10000),
 * absurd top-ups), or names a package the catalog does not have, comes out rejected (to the
 * rejected topic) instead of failing the job — except a CANCEL, which may name a package retired
 * from the catalog since its subscription was activated. A tombstone is compaction's delete marker
 * for a subscription already cancelled and expired: there is nothing to apply.
 */
public class SubscriptionDeserializer
        implements KafkaRecordDeserializationSchema<SubscriptionRecord> {

    private final PackageCatalog catalog;
    private final ValidationLimits limits;
    private transient AvroCodec<SubscriptionEvent> codec;

    /** With the default validation limits. */
    public SubscriptionDeserializer(PackageCatalog catalog) {
        this(catalog, new ValidationLimits(10_000_000, 300_000, 65_536));
    }

    /** {@code limits} give the largest record and the longest account id accepted. */
    public SubscriptionDeserializer(PackageCatalog catalog, ValidationLimits limits) {
        this.catalog = catalog;
        this.limits = limits;
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) {
        codec = AvroCodec.subscriptionEvents();
    }

    @Override
    public void deserialize(
            ConsumerRecord<byte[], byte[]> record, Collector<SubscriptionRecord> out) {
        if (record.value() == null) {
            return;
        }
        if (record.value().length > limits.maxRecordBytes()) {
            // As for usage events: the envelope keeps the first maxRecordBytes, so it fits where
            // they did.
            out.collect(
                    SubscriptionRecord.rejected(
                            Rejections.reject(
                                    RejectReason.OVERSIZED,
                                    record.value().length
                                            + " bytes exceed the limit of "
                                            + limits.maxRecordBytes()
                                            + "; the payload holds the first "
                                            + limits.maxRecordBytes()
                                            + " bytes",
                                    Arrays.copyOf(record.value(), limits.maxRecordBytes()),
                                    record.topic(),
                                    record.partition(),
                                    record.offset(),
                                    record.timestamp(),
                                    System.currentTimeMillis())));
            return;
        }
        SubscriptionEvent event;
        try {
            event = codec.decode(record.value());
        } catch (DecodeException e) {
            RejectReason reason =
                    e.failure() == DecodeException.Failure.UNKNOWN_SCHEMA
                            ? RejectReason.UNKNOWN_SCHEMA
                            : RejectReason.MALFORMED;
            out.collect(
                    SubscriptionRecord.rejected(
                            reject(record, reason, String.valueOf(e.getMessage()))));
            return;
        }
        SubscriptionLimits.Violation violation =
                SubscriptionLimits.check(event, limits.maxAccountIdBytes());
        if (violation != null) {
            out.collect(
                    SubscriptionRecord.rejected(
                            reject(record, violation.reason(), violation.message())));
        } else if (!catalog.packages().containsKey(event.getPackageId())
                && !SubscriptionLimits.mayNameRetiredPackage(event)) {
            out.collect(
                    SubscriptionRecord.rejected(
                            reject(
                                    record,
                                    RejectReason.MALFORMED,
                                    "package '"
                                            + event.getPackageId()
                                            + "' is not in the catalog")));
        } else {
            out.collect(SubscriptionRecord.valid(event));
        }
    }

    private static RejectedRecord reject(
            ConsumerRecord<byte[], byte[]> record, RejectReason reason, String message) {
        return Rejections.reject(
                reason,
                message,
                record.value(),
                record.topic(),
                record.partition(),
                record.offset(),
                record.timestamp(),
                System.currentTimeMillis());
    }

    @Override
    public TypeInformation<SubscriptionRecord> getProducedType() {
        return TypeInformation.of(SubscriptionRecord.class);
    }
}
