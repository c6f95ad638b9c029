package io.tokenmeter.schema;

/**
 * The schema registry could not answer: unreachable, timing out, failing, or refusing the request.
 * Not a verdict on the record, so never a reason to reject it: whoever reads records fails instead
 * (a Flink task then restarts from its last checkpoint and reads the record again).
 */
public final class SchemaRegistryUnavailableException extends RuntimeException {

    public SchemaRegistryUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
