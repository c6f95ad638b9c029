package io.tokenmeter.sql;

import io.tokenmeter.schema.DecodeException;
import io.tokenmeter.schema.Framing;
import io.tokenmeter.schema.SchemaRegistryClient;
import io.tokenmeter.schema.SchemaRegistrySettings;
import io.tokenmeter.schema.SchemaRegistryUnavailableException;
import io.tokenmeter.schema.WriterSchemas;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.formats.avro.AvroToRowDataConverters;
import org.apache.flink.formats.avro.AvroToRowDataConverters.AvroToRowDataConverter;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.RowType;

/**
 * Reads one Tokenmeter record type in Avro single-object encoding ({@code C3 01}, the writer
 * schema's 8-byte little-endian CRC-64-AVRO fingerprint, the binary body) into table rows. The
 * header is read by {@link Framing}, as the job's codec reads it; the fingerprint picks the writer
 * schema among {@link WriterSchemas}; the reader schema is the table's columns ({@link
 * ReaderSchemas}); Avro resolves one to the other, and Flink's own converters turn the result into
 * {@link RowData}.
 *
 * <p>Records in the schema registry framing ({@code 00}, 4-byte big-endian schema id, the body;
 * {@link Framing}) are read too, detected per record, their writer schema fetched by id from the
 * registry the table names ({@code 'tokenmeter-avro.schema-registry.url'}). A registry that cannot
 * answer fails the query whatever {@code ignore-parse-errors} says: skipping would silently drop
 * rows that are perfectly readable.
 */
public final class TokenmeterAvroDeserializationSchema implements DeserializationSchema<RowData> {

    private static final long serialVersionUID = 1L;

    private final String recordName;
    private final RowType rowType;
    private final TypeInformation<RowData> producedType;
    private final boolean ignoreParseErrors;
    @Nullable private final SchemaRegistrySettings registry;

    private transient Map<Long, GenericDatumReader<GenericRecord>> readers;
    private transient Map<Integer, GenericDatumReader<GenericRecord>> readersBySchemaId;
    private transient SchemaRegistryClient registryClient;
    private transient Schema readerSchema;
    private transient AvroToRowDataConverter converter;
    private transient BinaryDecoder decoder;

    public TokenmeterAvroDeserializationSchema(
            String recordName,
            RowType rowType,
            TypeInformation<RowData> producedType,
            boolean ignoreParseErrors) {
        this(recordName, rowType, producedType, ignoreParseErrors, null);
    }

    /**
     * @param registry the schema registry of registry-framed records; null: such records cannot be
     *     read
     */
    public TokenmeterAvroDeserializationSchema(
            String recordName,
            RowType rowType,
            TypeInformation<RowData> producedType,
            boolean ignoreParseErrors,
            @Nullable SchemaRegistrySettings registry) {
        this.recordName = recordName;
        this.rowType = rowType;
        this.producedType = producedType;
        this.ignoreParseErrors = ignoreParseErrors;
        this.registry = registry;
        // Fail while the query is planned, not on the first record, when the columns do not fit the
        // record.
        ReaderSchemas.project(WriterSchemas.current(recordName), rowType);
    }

    @Override
    public void open(InitializationContext context) {
        Schema reader = ReaderSchemas.project(WriterSchemas.current(recordName), rowType);
        readerSchema = reader;
        readersBySchemaId = new HashMap<>();
        registryClient = registry == null ? null : new SchemaRegistryClient(registry);
        readers = new HashMap<>();
        WriterSchemas.byFingerprint(recordName)
                .forEach(
                        (fingerprint, writer) ->
                                readers.put(
                                        fingerprint,
                                        new GenericDatumReader<>(
                                                writer, reader, GenericData.get())));
        // false: TIMESTAMP_LTZ columns read timestamp-millis as the instant it is, not as a local
        // date-time.
        converter = AvroToRowDataConverters.createRowConverter(rowType, false);
    }

    @Override
    @Nullable
    public RowData deserialize(@Nullable byte[] message) throws IOException {
        if (message == null) {
            return null; // a tombstone: no row
        }
        try {
            return (RowData) converter.convert(decode(message));
        } catch (SchemaRegistryUnavailableException e) {
            throw new IOException(
                    "Cannot read a "
                            + recordName
                            + " record until the schema registry answers: "
                            + e.getMessage(),
                    e);
        } catch (IOException | RuntimeException e) {
            if (ignoreParseErrors) {
                return null;
            }
            throw new IOException(
                    "Cannot read a "
                            + recordName
                            + " record of "
                            + message.length
                            + " bytes: "
                            + e.getMessage()
                            + " (set 'tokenmeter-avro.ignore-parse-errors' = 'true' to skip such records)",
                    e);
        }
    }

    private GenericRecord decode(byte[] message) throws IOException {
        if (!Framing.isSingleObject(message)) {
            if (Framing.isRegistryFramed(message)) {
                return decodeRegistryFramed(message);
            }
            throw new IOException(
                    "neither Avro single-object encoding (no C3 01 header) nor schema registry framing");
        }
        long fingerprint = Framing.singleObjectFingerprint(message, 0);
        GenericDatumReader<GenericRecord> reader = readers.get(fingerprint);
        if (reader == null) {
            throw new IOException(
                    String.format(
                            "writer schema fingerprint %016x is not a known %s schema; add the "
                                    + "schema it names to WriterSchemas.RETIRED",
                            fingerprint, recordName));
        }
        decoder =
                DecoderFactory.get()
                        .binaryDecoder(
                                message,
                                Framing.SINGLE_OBJECT_HEADER_LENGTH,
                                message.length - Framing.SINGLE_OBJECT_HEADER_LENGTH,
                                decoder);
        return reader.read(null, decoder);
    }

    private GenericRecord decodeRegistryFramed(byte[] message) throws IOException {
        int schemaId = Framing.registrySchemaId(message);
        GenericDatumReader<GenericRecord> reader = readersBySchemaId.get(schemaId);
        if (reader == null) {
            if (registryClient == null) {
                throw new IOException(
                        "the record is in schema registry framing (schema id "
                                + schemaId
                                + ") but the "
                                + "table sets no 'tokenmeter-avro.schema-registry.url'");
            }
            Schema writer;
            try {
                writer = registryClient.writerSchema(schemaId);
            } catch (DecodeException e) {
                throw new IOException(e.getMessage(), e);
            }
            if (readersBySchemaId.size() >= registry.cacheSize()) {
                readersBySchemaId
                        .clear(); // bounded; ids are few in practice, so a rare refill costs little
            }
            reader = new GenericDatumReader<>(writer, readerSchema, GenericData.get());
            readersBySchemaId.put(schemaId, reader);
        }
        decoder =
                DecoderFactory.get()
                        .binaryDecoder(
                                message,
                                Framing.REGISTRY_HEADER_LENGTH,
                                message.length - Framing.REGISTRY_HEADER_LENGTH,
                                decoder);
        return reader.read(null, decoder);
    }

    @Override
    public boolean isEndOfStream(RowData nextElement) {
        return false;
    }

    @Override
    public TypeInformation<RowData> getProducedType() {
        return producedType;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenmeterAvroDeserializationSchema that
                && recordName.equals(that.recordName)
                && rowType.equals(that.rowType)
                && ignoreParseErrors == that.ignoreParseErrors
                && Objects.equals(registry, that.registry);
    }

    @Override
    public int hashCode() {
        return Objects.hash(recordName, rowType, ignoreParseErrors, registry);
    }
}
