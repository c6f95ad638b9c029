package io.tokenmeter.logic.ingest;

/**
 * Upper bounds of the size of every record the job writes, from the caps on what it accepts, so
 * that start-up can refuse settings under which some accepted input would make a record the
 * producer cannot send (I10).
 *
 * <p>The bounds follow Avro's binary encoding, each value at its longest: a string or bytes is a
 * length (at most 5 bytes below 2 GiB) and its UTF-8 bytes; an int, enum index or union branch at
 * most 5 bytes, a long 10; an array one block (count, items, terminator). Each value is framed by
 * single-object encoding's 10-byte header, and in Kafka by the record batch header and the record's
 * own fields ({@link #KAFKA_FRAMING_BYTES}), which {@code max.request.size} counts together with
 * key and value.
 */
public final class OutputLimits {

    /**
     * Record batch header (61 bytes) and the largest per-record overhead (21) of Kafka's v2 format,
     * rounded up.
     */
    public static final int KAFKA_FRAMING_BYTES = 128;

    /**
     * Longest row id any output carries: today's are 36-character UUIDs; the headroom lets the ids
     * change form without breaking this bound.
     */
    public static final int MAX_ROW_ID_BYTES = 128;

    private static final int HEADER = 10;
    private static final int INT = 5;
    private static final int LONG = 10;
    private static final int ENUM = INT;
    private static final int UNION = INT;
    private static final int BOOLEAN = 1;
    private static final int ARRAY_FRAMING = INT + 1;

    /**
     * Longest IANA zone id is 32 characters (America/Argentina/ComodRivadavia); a zone id is ASCII.
     */
    private static final int MAX_ZONE_BYTES = 64;

    private OutputLimits() {}

    private static long string(long bytes) {
        return INT + bytes;
    }

    /** One line item of a billing record. */
    public static long billingLineItem(int maxModelBytes) {
        return string(maxModelBytes) + ENUM + 7L * LONG;
    }

    /** A billing record with {@code maxLines} line items, plus its key (the account id). */
    public static long billingRecord(
            int maxAccountIdBytes, int maxRegionBytes, int maxModelBytes, int maxLines) {
        long value =
                HEADER
                        + string(MAX_ROW_ID_BYTES)
                        + ENUM
                        + INT
                        + UNION
                        + string(MAX_ROW_ID_BYTES)
                        + string(maxAccountIdBytes)
                        + string(maxRegionBytes)
                        + INT
                        + string(MAX_ZONE_BYTES)
                        + 2L * LONG
                        + ARRAY_FRAMING
                        + (long) maxLines * billingLineItem(maxModelBytes)
                        + 2L * LONG;
        return KAFKA_FRAMING_BYTES + maxAccountIdBytes + value;
    }

    /** An account usage row, plus its key (the account id). */
    public static long accountUsage(int maxAccountIdBytes, int maxRegionBytes, int maxModelBytes) {
        long value =
                HEADER
                        + string(MAX_ROW_ID_BYTES)
                        + 2L * ENUM
                        + string(maxAccountIdBytes)
                        + string(maxRegionBytes)
                        + INT
                        + string(MAX_ZONE_BYTES)
                        + 2L * LONG
                        + string(maxModelBytes)
                        + ENUM
                        + 5L * LONG;
        return KAFKA_FRAMING_BYTES + maxAccountIdBytes + value;
    }

    /** A regional or national usage row, plus its key (the region or the model). */
    public static long areaUsage(int maxRegionBytes, int maxModelBytes) {
        long value =
                HEADER
                        + string(MAX_ROW_ID_BYTES)
                        + 2L * ENUM
                        + string(maxRegionBytes)
                        + INT
                        + string(MAX_ZONE_BYTES)
                        + 2L * LONG
                        + string(maxModelBytes)
                        + ENUM
                        + 6L * LONG;
        return KAFKA_FRAMING_BYTES + Math.max(maxRegionBytes, maxModelBytes) + value;
    }

    /** A package notice, plus its key (the account id). */
    public static long packageNotice(
            int maxAccountIdBytes, int maxSubscriptionIdBytes, int maxPackageIdBytes) {
        long value =
                HEADER
                        + string(MAX_ROW_ID_BYTES)
                        + string(maxAccountIdBytes)
                        + string(maxSubscriptionIdBytes)
                        + string(maxPackageIdBytes)
                        + INT
                        + 7L * LONG
                        + BOOLEAN;
        return KAFKA_FRAMING_BYTES + maxAccountIdBytes + value;
    }

    /**
     * A rejected-record envelope holding at most {@code maxPayloadBytes} of the original; it has no
     * key.
     */
    public static long rejectedRecord(int maxPayloadBytes, int maxTopicBytes) {
        long value =
                HEADER
                        + ENUM
                        + string(3L * Rejections.MAX_MESSAGE_CHARS)
                        + UNION
                        + string(maxPayloadBytes)
                        + string(maxTopicBytes)
                        + INT
                        + 3L * LONG;
        return KAFKA_FRAMING_BYTES + value;
    }
}
