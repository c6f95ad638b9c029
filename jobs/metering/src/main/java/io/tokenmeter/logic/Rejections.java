package io.tokenmeter.logic;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import java.time.Instant;

/** Builds the rejected-record envelope: the reason, a readable message and the original record, untouched. */
public final class Rejections {

    private Rejections() {}

    public static RejectedRecord reject(
            RejectReason reason,
            String message,
            byte[] payload,
            String topic,
            int partition,
            long offset,
            long kafkaTimestampMillis,
            long rejectedAtMillis) {
        return RejectedRecord.newBuilder()
                .setReason(reason)
                .setMessage(message)
                .setPayload(payload == null ? null : java.nio.ByteBuffer.wrap(payload))
                .setSourceTopic(topic)
                .setSourcePartition(partition)
                .setSourceOffset(offset)
                .setSourceTimestamp(Instant.ofEpochMilli(kafkaTimestampMillis))
                .setRejectedAt(Instant.ofEpochMilli(rejectedAtMillis))
                .build();
    }
}
