package io.tokenmeter.logic.ingest;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import java.nio.ByteBuffer;
import java.time.Instant;

/**
 * Builds the rejected-record envelope: the reason, a readable message and the original record,
 * untouched.
 */
public final class Rejections {

    /**
     * Longest message kept, in chars (at most 3 UTF-8 bytes each): messages quote input (ids,
     * package names), and the envelope must fit the producer's limit whatever the input held (see
     * {@link OutputLimits}).
     */
    public static final int MAX_MESSAGE_CHARS = 1024;

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
                .setMessage(bounded(message))
                .setPayload(payload == null ? null : ByteBuffer.wrap(payload))
                .setSourceTopic(topic)
                .setSourcePartition(partition)
                .setSourceOffset(offset)
                .setSourceTimestamp(Instant.ofEpochMilli(kafkaTimestampMillis))
                .setRejectedAt(Instant.ofEpochMilli(rejectedAtMillis))
                .build();
    }

    private static String bounded(String message) {
        if (message.length() <= MAX_MESSAGE_CHARS) {
            return message;
        }
        String suffix = "... (" + message.length() + " chars)";
        int keep = MAX_MESSAGE_CHARS - suffix.length();
        // Never split a surrogate pair: half of one would be written as '?'.
        if (Character.isHighSurrogate(message.charAt(keep - 1))) {
            keep--;
        }
        return message.substring(0, keep) + suffix;
    }
}
