package io.tokenmeter.io;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.logic.Usage;
import io.tokenmeter.logic.ingest.EventFingerprints;
import io.tokenmeter.logic.ingest.Rejections;
import javax.annotation.Nullable;
import org.apache.flink.api.common.typeinfo.TypeInfo;

/**
 * One record read from the raw topic: either a valid event's {@link Usage} or, when it could not be
 * billed, its {@link RejectedRecord} envelope. Valid events keep where they came from and their
 * original bytes, so that deduplication can still reject them (too late, conflicting duplicate)
 * with the record exactly as it was read; nothing after deduplication carries the bytes.
 *
 * <p>Written by {@link IngestedRecordSerializer}; only the rare rejected envelope uses Flink's Avro
 * serializer.
 */
@TypeInfo(IngestedRecordSerializer.Factory.class)
public class IngestedRecord {

    @Nullable public Usage event;
    @Nullable public RejectedRecord rejected;
    public String topic;
    public int partition;
    public long offset;
    public long kafkaTimestamp;
    @Nullable public byte[] payload;

    /** Read after its billing day closed (by its partition's clock): billed in an ADJUSTMENT. */
    public boolean late;

    /**
     * Its partition's clock when it was read ({@link io.tokenmeter.logic.ingest.PartitionClock}):
     * any window that ended before it was closed for this event. Long.MIN_VALUE when unknown.
     */
    public long clockAtRead = Long.MIN_VALUE;

    /**
     * The two halves of a valid event's 128-bit dedup key ({@link EventFingerprints#dedupKey}),
     * computed once where it was read ({@link #fingerprint}): partitioning and deduplication only
     * read them.
     */
    public long dedupKeyHigh;

    public long dedupKeyLow;

    public IngestedRecord() {}

    public static IngestedRecord valid(
            UsageEvent event,
            String topic,
            int partition,
            long offset,
            long kafkaTimestamp,
            byte[] payload) {
        IngestedRecord r = new IngestedRecord();
        r.event = Usage.of(event);
        r.topic = topic;
        r.partition = partition;
        r.offset = offset;
        r.kafkaTimestamp = kafkaTimestamp;
        r.payload = payload;
        return r;
    }

    public static IngestedRecord rejected(RejectedRecord rejected) {
        IngestedRecord r = new IngestedRecord();
        r.rejected = rejected;
        r.topic = rejected.getSourceTopic();
        r.partition = rejected.getSourcePartition();
        r.offset = rejected.getSourceOffset();
        r.kafkaTimestamp = rejected.getSourceTimestamp().toEpochMilli();
        return r;
    }

    /**
     * Sets this valid event's dedup key under the secret key {@code fingerprints} holds; returns
     * this record.
     */
    public IngestedRecord fingerprint(EventFingerprints fingerprints) {
        long[] key = fingerprints.dedupKey(event.source, event.eventId);
        dedupKeyHigh = key[0];
        dedupKeyLow = key[1];
        return this;
    }

    public boolean isRejected() {
        return rejected != null;
    }

    /** Rejects this valid event after decoding, keeping its original bytes and position. */
    public RejectedRecord reject(RejectReason reason, String message, long rejectedAtMillis) {
        return Rejections.reject(
                reason,
                message,
                payload,
                topic,
                partition,
                offset,
                kafkaTimestamp,
                rejectedAtMillis);
    }
}
