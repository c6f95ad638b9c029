package io.tokenmeter.schema;

import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.UsageEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Encodes and decodes one record type in Avro single-object encoding: the two marker bytes {@code C3 01}, the
 * writer schema's 8-byte CRC-64-AVRO fingerprint, then the Avro binary body. Readers resolve any writer schema
 * they were told about ({@link #withWriterSchema}) against the current reader schema, so schemas can evolve.
 *
 * <p>The generator, the job and the tests all use this one class, so the wire format has a single definition.
 * Instances are thread-safe.
 */
public final class AvroCodec<T extends SpecificRecord> {

    private final Schema readerSchema;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;

    private AvroCodec(Schema readerSchema, List<Schema> olderWriterSchemas) {
        this.readerSchema = readerSchema;
        SpecificData model = SpecificData.getForSchema(readerSchema);
        this.encoder = new BinaryMessageEncoder<>(model, readerSchema);
        this.decoder = new BinaryMessageDecoder<>(model, readerSchema);
        olderWriterSchemas.forEach(decoder::addSchema);
    }

    public static AvroCodec<UsageEvent> usageEvents() {
        return new AvroCodec<>(UsageEvent.getClassSchema(), List.of());
    }

    public static AvroCodec<BillingRecord> billingRecords() {
        return new AvroCodec<>(BillingRecord.getClassSchema(), List.of());
    }

    public static AvroCodec<RejectedRecord> rejectedRecords() {
        return new AvroCodec<>(RejectedRecord.getClassSchema(), List.of());
    }

    /** A codec that also reads payloads written with {@code writerSchema}, resolving them to the current schema. */
    public AvroCodec<T> withWriterSchema(Schema writerSchema) {
        decoder.addSchema(writerSchema);
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
        try {
            return decoder.decode(payload);
        } catch (MissingSchemaException e) {
            throw new DecodeException(DecodeException.Failure.UNKNOWN_SCHEMA, e.getMessage());
        } catch (BadHeaderException e) {
            throw new DecodeException(DecodeException.Failure.MALFORMED, "not Avro single-object encoding: " + e.getMessage());
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException
                | IllegalArgumentException | ClassCastException | NullPointerException e) {
            // Corrupt bodies surface as any of these from Avro's binary decoder.
            throw new DecodeException(DecodeException.Failure.MALFORMED,
                    "cannot decode " + readerSchema.getName() + " body: " + e);
        }
    }
}
