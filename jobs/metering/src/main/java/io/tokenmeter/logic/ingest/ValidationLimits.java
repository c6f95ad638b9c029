package io.tokenmeter.logic.ingest;

import java.io.Serializable;

/**
 * What input must respect to be billed. String caps count UTF-8 bytes, the unit of every size limit
 * the outputs must fit (Avro writes strings as UTF-8).
 *
 * @param maxTokensPerEvent ceiling for the sum of an event's token counts; more is a client bug,
 *     not usage
 * @param futureSkewMillis how far ahead of the wall clock an event time may be
 * @param maxRecordBytes the largest raw record accepted; larger ones are rejected before decoding
 * @param maxEventIdBytes longest event_id
 * @param maxSourceBytes longest source
 * @param maxAccountIdBytes longest account_id (of usage and subscription events)
 * @param maxRegionBytes longest region
 * @param maxModelBytes longest model
 */
public record ValidationLimits(
        long maxTokensPerEvent,
        long futureSkewMillis,
        int maxRecordBytes,
        int maxEventIdBytes,
        int maxSourceBytes,
        int maxAccountIdBytes,
        int maxRegionBytes,
        int maxModelBytes)
        implements Serializable {

    public static final int DEFAULT_MAX_EVENT_ID_BYTES = 256;
    public static final int DEFAULT_MAX_SOURCE_BYTES = 128;
    public static final int DEFAULT_MAX_ACCOUNT_ID_BYTES = 128;
    public static final int DEFAULT_MAX_REGION_BYTES = 64;
    public static final int DEFAULT_MAX_MODEL_BYTES = 128;

    /** The given limits and the default string caps. */
    public ValidationLimits(long maxTokensPerEvent, long futureSkewMillis, int maxRecordBytes) {
        this(
                maxTokensPerEvent,
                futureSkewMillis,
                maxRecordBytes,
                DEFAULT_MAX_EVENT_ID_BYTES,
                DEFAULT_MAX_SOURCE_BYTES,
                DEFAULT_MAX_ACCOUNT_ID_BYTES,
                DEFAULT_MAX_REGION_BYTES,
                DEFAULT_MAX_MODEL_BYTES);
    }

    /**
     * Whether {@code text} takes more than {@code maxBytes} bytes in UTF-8; without encoding it
     * when it is short.
     */
    public static boolean exceedsUtf8(String text, int maxBytes) {
        int chars = text.length();
        if (chars > maxBytes) {
            return true; // every char takes at least one byte
        }
        if ((long) chars * 3 <= maxBytes) {
            return false; // and at most three (a surrogate pair: four for two chars)
        }
        return utf8Length(text) > maxBytes;
    }

    /**
     * The UTF-8 length of {@code text} (an unpaired surrogate counts as the one byte Java writes
     * for it).
     */
    public static long utf8Length(String text) {
        long bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c)
                    && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                bytes += 1; // encoded as '?'
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }
}
