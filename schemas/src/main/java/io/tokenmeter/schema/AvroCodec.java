package io.tokenmeter.schema;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.LedgerEntry;
import io.tokenmeter.avro.PackageNotice;
import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.UsageEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;

/**
 * Encodes and decodes one record type in Avro single-object encoding: the two marker bytes {@code C3 01}, the
 * writer schema's 8-byte CRC-64-AVRO fingerprint (little-endian), then the Avro binary body. Readers resolve any
 * writer schema they were told about ({@link #withWriterSchema}) against the current reader schema, so schemas can
 * evolve.
 *
 * <p>Decoding treats every payload as hostile: the body is first walked without allocating (a corrupt length
 * prefix cannot make Avro reserve gigabytes), trailing bytes are refused, and every failure is a
 * {@link DecodeException}.
 *
 * <p>The generator, the job and the tests all use this one class, so the wire format has a single definition.
 * Not thread-safe: give each thread (each Flink function instance) its own.
 */
public final class AvroCodec<T extends SpecificRecord> {

    private static final int HEADER_LENGTH = 10;
    private static final byte MARKER_0 = (byte) 0xC3;
    private static final byte MARKER_1 = (byte) 0x01;

    private final Schema readerSchema;
    private final SpecificData model;
    private final BinaryMessageEncoder<T> encoder;
    private final Map<Long, SpecificDatumReader<T>> readersByFingerprint = new HashMap<>();
    private BinaryDecoder reusableDecoder;

    private AvroCodec(Schema readerSchema) {
        this.readerSchema = readerSchema;
        this.model = SpecificData.getForSchema(readerSchema);
        this.encoder = new BinaryMessageEncoder<>(model, readerSchema);
        withWriterSchema(readerSchema);
    }

    public static AvroCodec<UsageEvent> usageEvents() {
        return new AvroCodec<>(UsageEvent.getClassSchema());
    }

    public static AvroCodec<BillingRecord> billingRecords() {
        return new AvroCodec<>(BillingRecord.getClassSchema());
    }

    public static AvroCodec<RejectedRecord> rejectedRecords() {
        return new AvroCodec<>(RejectedRecord.getClassSchema());
    }

    public static AvroCodec<AccountUsage> accountUsage() {
        return new AvroCodec<>(AccountUsage.getClassSchema());
    }

    public static AvroCodec<AreaUsage> areaUsage() {
        return new AvroCodec<>(AreaUsage.getClassSchema());
    }

    public static AvroCodec<LedgerEntry> ledgerEntries() {
        return new AvroCodec<>(LedgerEntry.getClassSchema());
    }

    public static AvroCodec<SubscriptionEvent> subscriptionEvents() {
        return new AvroCodec<>(SubscriptionEvent.getClassSchema());
    }

    public static AvroCodec<PackageNotice> packageNotices() {
        return new AvroCodec<>(PackageNotice.getClassSchema());
    }

    /** A codec that also reads payloads written with {@code writerSchema}, resolving them to the current schema. */
    public AvroCodec<T> withWriterSchema(Schema writerSchema) {
        readersByFingerprint.put(SchemaNormalization.parsingFingerprint64(writerSchema),
                new SpecificDatumReader<>(writerSchema, readerSchema, model));
        return this;
    }

    public Schema schema() {
        return readerSchema;
    }

    public byte[] encode(T record) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        try {
            encoder.encode(record, out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + readerSchema.getFullName(), e);
        }
        return out.toByteArray();
    }

    /**
     * Decodes one payload.
     *
     * @throws DecodeException with {@link DecodeException.Failure#UNKNOWN_SCHEMA} when the header names a schema
     *     fingerprint this codec does not know, or {@link DecodeException.Failure#MALFORMED} for anything else
     */
    public T decode(byte[] payload) throws DecodeException {
        if (payload == null) {
            throw new DecodeException(DecodeException.Failure.MALFORMED, "payload is null (tombstone)");
        }
        if (payload.length < HEADER_LENGTH || payload[0] != MARKER_0 || payload[1] != MARKER_1) {
            throw new DecodeException(DecodeException.Failure.MALFORMED,
                    "not Avro single-object encoding: no C3 01 header and fingerprint in " + payload.length + " bytes");
        }
        long fingerprint = littleEndianLong(payload, 2);
        SpecificDatumReader<T> reader = readersByFingerprint.get(fingerprint);
        if (reader == null) {
            throw new DecodeException(DecodeException.Failure.UNKNOWN_SCHEMA, String.format(
                    "no known %s writer schema has fingerprint %016x", readerSchema.getName(), fingerprint));
        }
        int bodyLength = payload.length - HEADER_LENGTH;
        try {
            // Walk the body first: skipping checks every length against the bytes actually there, while reading
            // would allocate whatever a corrupt length prefix declares.
            BinaryDecoder body = DecoderFactory.get().binaryDecoder(payload, HEADER_LENGTH, bodyLength, reusableDecoder);
            GenericDatumReader.skip(reader.getSchema(), body);
            if (!body.isEnd()) {
                throw new DecodeException(DecodeException.Failure.MALFORMED,
                        "trailing bytes after the " + readerSchema.getName() + " body");
            }
            body = DecoderFactory.get().binaryDecoder(payload, HEADER_LENGTH, bodyLength, body);
            reusableDecoder = body;
            return reader.read(null, body);
        } catch (IOException | RuntimeException e) {
            throw new DecodeException(DecodeException.Failure.MALFORMED,
                    "cannot decode " + readerSchema.getName() + " body: " + e);
        }
    }

    private static long littleEndianLong(byte[] bytes, int offset) {
        long value = 0;
        for (int i = 7; i >= 0; i--) {
            value = (value << 8) | (bytes[offset + i] & 0xFFL);
        }
        return value;
    }
}
