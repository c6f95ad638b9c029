package io.tokenmeter.schema;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.LedgerEntry;
import io.tokenmeter.avro.PackageNotice;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.avro.UsageEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Encodes and decodes one record type in Avro single-object encoding: the two marker bytes {@code
 * C3 01}, the writer schema's 8-byte CRC-64-AVRO fingerprint (little-endian), then the Avro binary
 * body. Readers resolve any writer schema they know — the current one, the retired ones of {@link
 * WriterSchemas} (old billing records) and any they were told about ({@link #withWriterSchema}) —
 * against the current reader schema, so schemas can evolve.
 *
 * <p>It also reads, detected per record, the schema registry framing ({@link Framing#REGISTRY}:
 * {@code 00}, a 4-byte big-endian schema id, the body), looking the writer schema up by id in the
 * registry it was given ({@link #withRegistry}) and resolving it to the reader schema the same way;
 * and writes that framing for an id the caller registered ({@link #encodeWithSchemaId}).
 *
 * <p>Decoding treats every payload as hostile: the body is first walked without allocating (a
 * corrupt length prefix cannot make Avro reserve gigabytes), trailing bytes are refused, and every
 * failure is a {@link DecodeException}.
 *
 * <p>The generator, the job and the tests all use this one class, so the wire format has a single
 * definition. Not thread-safe: give each thread (each Flink function instance) its own.
 */
public final class AvroCodec<T extends SpecificRecord> {

    private final Schema readerSchema;
    private final SpecificData model;
    private final BinaryMessageEncoder<T> encoder;
    private final Map<Long, SpecificDatumReader<T>> readersByFingerprint = new HashMap<>();
    private BinaryDecoder reusableDecoder;
    private RegistryWriterSchemas registry =
            RegistryWriterSchemas.notConfigured("this reader was given none");
    private Map<Integer, SpecificDatumReader<T>> readersBySchemaId = new HashMap<>();
    private int maxRegistryReaders = 1;
    private SpecificDatumWriter<T> bodyWriter;
    private BinaryEncoder reusableEncoder;

    private AvroCodec(Schema readerSchema) {
        this.readerSchema = readerSchema;
        this.model = SpecificData.getForSchema(readerSchema);
        this.encoder = new BinaryMessageEncoder<>(model, readerSchema);
        withWriterSchema(readerSchema);
        WriterSchemas.retired(readerSchema.getFullName()).forEach(this::withWriterSchema);
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

    /**
     * A codec that also reads payloads written with {@code writerSchema}, resolving them to the
     * current schema.
     */
    public AvroCodec<T> withWriterSchema(Schema writerSchema) {
        readersByFingerprint.put(
                SchemaNormalization.parsingFingerprint64(writerSchema),
                new SpecificDatumReader<>(writerSchema, readerSchema, model));
        return this;
    }

    /**
     * A codec that also reads registry-framed payloads, their writer schemas found in {@code
     * registry} and resolved to the current schema; the readers of at most {@code cacheSize} schema
     * ids are kept.
     */
    public AvroCodec<T> withRegistry(RegistryWriterSchemas registry, int cacheSize) {
        this.registry = registry;
        this.maxRegistryReaders = cacheSize;
        this.readersBySchemaId =
                new LinkedHashMap<>(16, 0.75f, true) {
                    @Override
                    protected boolean removeEldestEntry(
                            Map.Entry<Integer, SpecificDatumReader<T>> eldest) {
                        return size() > maxRegistryReaders;
                    }
                };
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
     * Encodes {@code record} in the schema registry framing: {@code 00}, {@code schemaId}
     * (big-endian), the body. {@code schemaId} must be the id the registry gave this codec's
     * schema.
     */
    public byte[] encodeWithSchemaId(T record, int schemaId) {
        if (bodyWriter == null) {
            bodyWriter = new SpecificDatumWriter<>(readerSchema, model);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        out.write(new byte[Framing.REGISTRY_HEADER_LENGTH], 0, Framing.REGISTRY_HEADER_LENGTH);
        try {
            reusableEncoder = EncoderFactory.get().directBinaryEncoder(out, reusableEncoder);
            bodyWriter.write(record, reusableEncoder);
            reusableEncoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + readerSchema.getFullName(), e);
        }
        byte[] bytes = out.toByteArray();
        Framing.writeRegistryHeader(bytes, schemaId);
        return bytes;
    }

    /**
     * Decodes one payload, in either framing.
     *
     * @throws DecodeException with {@link DecodeException.Failure#UNKNOWN_SCHEMA} when the header
     *     names a schema fingerprint this codec does not know, a schema id the registry does not
     *     know (or no registry is configured), or a writer schema that cannot be read as this
     *     codec's schema; or {@link DecodeException.Failure#MALFORMED} for anything else
     * @throws SchemaRegistryUnavailableException when a registry-framed payload's schema must be
     *     looked up and the registry cannot answer: not a verdict on the payload
     */
    public T decode(byte[] payload) throws DecodeException {
        if (payload == null) {
            throw new DecodeException(
                    DecodeException.Failure.MALFORMED, "payload is null (tombstone)");
        }
        if (!Framing.isSingleObject(payload)) {
            // Tested only off the single-object path, which stays exactly as fast as before.
            if (Framing.isRegistryFramed(payload)) {
                return decodeRegistryFramed(payload);
            }
            throw new DecodeException(
                    DecodeException.Failure.MALFORMED,
                    "neither Avro single-object encoding (no "
                            + "C3 01 header and fingerprint) nor schema registry framing (00 and a schema id) in "
                            + payload.length
                            + " bytes");
        }
        long fingerprint = Framing.singleObjectFingerprint(payload, 0);
        SpecificDatumReader<T> reader = readersByFingerprint.get(fingerprint);
        if (reader == null) {
            throw new DecodeException(
                    DecodeException.Failure.UNKNOWN_SCHEMA,
                    String.format(
                            "no known %s writer schema has fingerprint %016x",
                            readerSchema.getName(), fingerprint));
        }
        return readBody(reader, payload, Framing.SINGLE_OBJECT_HEADER_LENGTH);
    }

    private T decodeRegistryFramed(byte[] payload) throws DecodeException {
        int schemaId = Framing.registrySchemaId(payload);
        SpecificDatumReader<T> reader = readersBySchemaId.get(schemaId);
        if (reader == null) {
            Schema writer = registry.writerSchema(schemaId);
            SchemaCompatibility.SchemaPairCompatibility compatibility =
                    SchemaCompatibility.checkReaderWriterCompatibility(readerSchema, writer);
            if (compatibility.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
                throw new DecodeException(
                        DecodeException.Failure.UNKNOWN_SCHEMA,
                        "schema id "
                                + Integer.toUnsignedString(schemaId)
                                + " ("
                                + writer.getFullName()
                                + ") cannot be read as "
                                + readerSchema.getFullName()
                                + ": "
                                + compatibility.getDescription());
            }
            reader = new SpecificDatumReader<>(writer, readerSchema, model);
            readersBySchemaId.put(schemaId, reader);
        }
        return readBody(reader, payload, Framing.REGISTRY_HEADER_LENGTH);
    }

    private T readBody(SpecificDatumReader<T> reader, byte[] payload, int bodyOffset)
            throws DecodeException {
        int bodyLength = payload.length - bodyOffset;
        try {
            // Walk the body first: skipping checks every length against the bytes actually there,
            // while reading would allocate whatever a corrupt length prefix declares.
            BinaryDecoder body =
                    DecoderFactory.get()
                            .binaryDecoder(payload, bodyOffset, bodyLength, reusableDecoder);
            GenericDatumReader.skip(reader.getSchema(), body);
            if (!body.isEnd()) {
                throw new DecodeException(
                        DecodeException.Failure.MALFORMED,
                        "trailing bytes after the " + readerSchema.getName() + " body");
            }
            body = DecoderFactory.get().binaryDecoder(payload, bodyOffset, bodyLength, body);
            reusableDecoder = body;
            return reader.read(null, body);
        } catch (IOException | RuntimeException e) {
            throw new DecodeException(
                    DecodeException.Failure.MALFORMED,
                    "cannot decode " + readerSchema.getName() + " body: " + e);
        }
    }
}
