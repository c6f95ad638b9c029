package io.tokenmeter.io;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.logic.ingest.EventFingerprints;
import io.tokenmeter.logic.ingest.PartitionClock;
import io.tokenmeter.logic.ingest.Rejections;
import io.tokenmeter.logic.ingest.SecretSource;
import io.tokenmeter.logic.ingest.UsageValidation;
import io.tokenmeter.logic.ingest.ValidationLimits;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.schema.DecodeException;
import io.tokenmeter.schema.RegistryWriterSchemas;
import io.tokenmeter.schema.SchemaRegistryClient;
import io.tokenmeter.schema.SchemaRegistrySettings;
import io.tokenmeter.schema.SchemaRegistryUnavailableException;
import java.util.Arrays;
import javax.annotation.Nullable;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes and validates raw usage records inside the Kafka source, so that a record that cannot be
 * billed never reaches the watermark generator and never fails the job: it comes out as a rejected
 * {@link IngestedRecord}. Valid events are judged on time, late or too late by their partition's
 * {@link PartitionClock} (and its wall clock). No field value can make it throw: strings have caps,
 * and every time arithmetic saturates ({@link io.tokenmeter.logic.BillingCalendar}).
 *
 * <p>Records come in Avro single-object encoding or, with a schema registry configured, in the
 * registry framing (detected per record; {@link AvroCodec}). A schema id the registry does not know
 * is a rejection (UNKNOWN_SCHEMA); a registry that cannot answer is not: the lookup is retried with
 * backoff, then this throws, failing the task, which restarts from its last checkpoint and reads
 * the record again (docs/semantics.md).
 *
 * <p>Each valid event leaves with its dedup key ({@link IngestedRecord#fingerprint}), computed here
 * once: the partitioning before deduplication and deduplication itself only read it. The secret key
 * is read where this runs, when it opens: a source without a usable key fails at start-up, naming
 * the settings, and for good (no restart mends it). Every TaskManager must hold the same key; each
 * logs its check value when it opens.
 */
public class UsageEventDeserializer implements KafkaRecordDeserializationSchema<IngestedRecord> {

    private static final Logger LOG = LoggerFactory.getLogger(UsageEventDeserializer.class);

    private final ValidationLimits limits;
    private final PartitionClock clock;
    @Nullable private final SchemaRegistrySettings registry;
    private final SecretSource dedupKey;
    private transient AvroCodec<UsageEvent> codec;
    private transient EventFingerprints fingerprints;

    /**
     * A reader of single-object encoded records only: registry-framed ones are rejected as
     * UNKNOWN_SCHEMA. Keys valid events under the secret key {@code dedupKey} holds (only where it
     * is travels with this object).
     */
    public UsageEventDeserializer(
            ValidationLimits limits, PartitionClock clock, SecretSource dedupKey) {
        this(limits, clock, dedupKey, null);
    }

    /**
     * @param registry the schema registry of registry-framed records; null: none configured
     */
    public UsageEventDeserializer(
            ValidationLimits limits,
            PartitionClock clock,
            SecretSource dedupKey,
            @Nullable SchemaRegistrySettings registry) {
        this.limits = limits;
        this.clock = clock;
        this.dedupKey = dedupKey;
        this.registry = registry;
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) {
        codec =
                registry == null
                        ? AvroCodec.usageEvents()
                                .withRegistry(
                                        RegistryWriterSchemas.notConfigured(
                                                "schema-registry.url is empty"),
                                        1)
                        : AvroCodec.usageEvents()
                                .withRegistry(
                                        new SchemaRegistryClient(registry), registry.cacheSize());
        try {
            fingerprints = EventFingerprints.load(dedupKey);
        } catch (IllegalStateException e) {
            // A missing or short key is a deployment error no restart can mend: the job fails for
            // good, saying why.
            throw new SuppressRestartsException(e);
        }
        LOG.info("Dedup key from {}: check value {}", dedupKey, fingerprints.keyCheck());
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<IngestedRecord> out) {
        byte[] payload = record.value();
        if (payload != null && payload.length > limits.maxRecordBytes()) {
            // Only the first maxRecordBytes are kept: the envelope must fit where the original
            // barely did. The whole record stays on the raw topic at the partition and offset the
            // envelope names.
            out.collect(
                    IngestedRecord.rejected(
                            Rejections.reject(
                                    RejectReason.OVERSIZED,
                                    payload.length
                                            + " bytes exceed the limit of "
                                            + limits.maxRecordBytes()
                                            + "; the payload holds the first "
                                            + limits.maxRecordBytes()
                                            + " bytes",
                                    Arrays.copyOf(payload, limits.maxRecordBytes()),
                                    record.topic(),
                                    record.partition(),
                                    record.offset(),
                                    record.timestamp(),
                                    System.currentTimeMillis())));
            return;
        }
        UsageEvent event;
        try {
            event = codec.decode(payload);
        } catch (DecodeException e) {
            RejectReason reason =
                    e.failure() == DecodeException.Failure.UNKNOWN_SCHEMA
                            ? RejectReason.UNKNOWN_SCHEMA
                            : RejectReason.MALFORMED;
            out.collect(
                    IngestedRecord.rejected(
                            reject(record, reason, String.valueOf(e.getMessage()))));
            return;
        } catch (SchemaRegistryUnavailableException e) {
            // Not a verdict on the record: fail, so the task restarts from its checkpoint and reads
            // it again.
            throw new SchemaRegistryUnavailableException(
                    "Cannot read "
                            + record.topic()
                            + "-"
                            + record.partition()
                            + "@"
                            + record.offset()
                            + " until the schema registry answers: "
                            + e.getMessage(),
                    e);
        }
        long readAt = System.currentTimeMillis();
        UsageValidation.Violation violation = UsageValidation.check(event, limits, readAt);
        if (violation != null) {
            out.collect(
                    IngestedRecord.rejected(
                            reject(record, violation.reason(), violation.message())));
            return;
        }
        long eventTime = event.getEventTime().toEpochMilli();
        long clockAtRead = clock.current(record.partition());
        PartitionClock.Verdict verdict = clock.observe(record.partition(), eventTime);
        if (verdict == PartitionClock.Verdict.TOO_LATE) {
            out.collect(
                    IngestedRecord.rejected(
                            reject(
                                    record,
                                    RejectReason.TOO_LATE,
                                    "billing day "
                                            + clock.calendar().billingDay(eventTime)
                                            + " is past its correction deadline")));
            return;
        }
        IngestedRecord valid =
                IngestedRecord.valid(
                        event,
                        record.topic(),
                        record.partition(),
                        record.offset(),
                        record.timestamp(),
                        payload);
        valid.event.readAt = readAt;
        valid.late = verdict == PartitionClock.Verdict.LATE;
        valid.clockAtRead = clockAtRead;
        out.collect(valid.fingerprint(fingerprints));
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
    public TypeInformation<IngestedRecord> getProducedType() {
        return TypeInformation.of(IngestedRecord.class);
    }
}
