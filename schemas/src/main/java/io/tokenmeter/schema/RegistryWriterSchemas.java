package io.tokenmeter.schema;

import org.apache.avro.Schema;

/**
 * Where a reader finds the writer schema of a registry-framed record by its id: a {@link
 * SchemaRegistryClient}, or {@link #notConfigured} when there is no registry.
 */
@FunctionalInterface
public interface RegistryWriterSchemas {

    /**
     * The writer schema registered under {@code id}.
     *
     * @throws DecodeException with {@link DecodeException.Failure#UNKNOWN_SCHEMA} when there is no
     *     such schema
     * @throws SchemaRegistryUnavailableException when the registry cannot say (it is down or
     *     unreachable)
     */
    Schema writerSchema(int id) throws DecodeException;

    /** No registry: every registry-framed record is an unknown schema, and the message says why. */
    static RegistryWriterSchemas notConfigured(String setting) {
        return id -> {
            throw new DecodeException(
                    DecodeException.Failure.UNKNOWN_SCHEMA,
                    "the record is in schema registry "
                            + "framing (schema id "
                            + id
                            + ") but no schema registry is configured ("
                            + setting
                            + ")");
        };
    }
}
