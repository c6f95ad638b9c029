package io.tokenmeter.schema;

import java.util.Locale;

/**
 * The two ways a Tokenmeter record can sit in a Kafka value, told apart by its first byte:
 *
 * <ul>
 *   <li>{@link #SINGLE_OBJECT}: Avro single-object encoding, {@code C3 01}, the writer schema's
 *       8-byte CRC-64-AVRO fingerprint (little-endian), the binary body. The job's own default: no
 *       registry needed.
 *   <li>{@link #REGISTRY}: the Confluent Schema Registry framing, magic byte {@code 00}, the writer
 *       schema's 4-byte big-endian registry id, the binary body. What registry-aware producers and
 *       consumers use.
 * </ul>
 *
 * A reader detects the framing per record, so one topic may carry both. This class is the one
 * reader of both headers: the job's codec ({@link AvroCodec}), the SQL format and the benchmark's
 * scanner all use it.
 */
public enum Framing {
    SINGLE_OBJECT,
    REGISTRY;

    /**
     * Length of the single-object header: the marker {@code C3 01} and the writer schema's
     * fingerprint.
     */
    public static final int SINGLE_OBJECT_HEADER_LENGTH = 10;

    private static final byte SINGLE_OBJECT_MARKER_0 = (byte) 0xC3;
    private static final byte SINGLE_OBJECT_MARKER_1 = (byte) 0x01;

    /** Length of the registry framing's header: the magic byte and the schema id. */
    public static final int REGISTRY_HEADER_LENGTH = 5;

    /** The registry framing's magic byte. */
    public static final byte REGISTRY_MAGIC = 0;

    /**
     * Whether {@code payload} starts with a whole single-object header (the marker and a
     * fingerprint).
     */
    public static boolean isSingleObject(byte[] payload) {
        return isSingleObject(payload, 0, payload.length);
    }

    /**
     * Whether the {@code length} bytes of {@code payload} from {@code offset} start with a
     * single-object header.
     */
    public static boolean isSingleObject(byte[] payload, int offset, int length) {
        return length >= SINGLE_OBJECT_HEADER_LENGTH
                && payload[offset] == SINGLE_OBJECT_MARKER_0
                && payload[offset + 1] == SINGLE_OBJECT_MARKER_1;
    }

    /**
     * The writer schema's CRC-64-AVRO fingerprint (little-endian in the header) of the
     * single-object record at {@code offset}; call only when {@link #isSingleObject} holds.
     */
    public static long singleObjectFingerprint(byte[] payload, int offset) {
        long fingerprint = 0;
        for (int i = offset + SINGLE_OBJECT_HEADER_LENGTH - 1; i >= offset + 2; i--) {
            fingerprint = (fingerprint << 8) | (payload[i] & 0xFFL);
        }
        return fingerprint;
    }

    /**
     * Whether {@code payload} starts like a registry-framed record (the magic byte and a whole
     * schema id).
     */
    public static boolean isRegistryFramed(byte[] payload) {
        return payload.length >= REGISTRY_HEADER_LENGTH && payload[0] == REGISTRY_MAGIC;
    }

    /**
     * The schema id of a registry-framed record; call only when {@link #isRegistryFramed} holds.
     */
    public static int registrySchemaId(byte[] payload) {
        return ((payload[1] & 0xFF) << 24)
                | ((payload[2] & 0xFF) << 16)
                | ((payload[3] & 0xFF) << 8)
                | (payload[4] & 0xFF);
    }

    /**
     * Writes the registry framing's header for {@code schemaId} into the first five bytes of {@code
     * into}.
     */
    public static void writeRegistryHeader(byte[] into, int schemaId) {
        into[0] = REGISTRY_MAGIC;
        into[1] = (byte) (schemaId >>> 24);
        into[2] = (byte) (schemaId >>> 16);
        into[3] = (byte) (schemaId >>> 8);
        into[4] = (byte) schemaId;
    }

    /** The name used in configuration: {@code single-object} or {@code registry}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Parses {@link #configName()}. */
    public static Framing parse(String text) {
        for (Framing framing : values()) {
            if (framing.configName().equals(text.trim().toLowerCase(Locale.ROOT))) {
                return framing;
            }
        }
        throw new IllegalArgumentException("expected single-object or registry");
    }
}
