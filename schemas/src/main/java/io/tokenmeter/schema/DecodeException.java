package io.tokenmeter.schema;

/** A payload that {@link AvroCodec} cannot turn into a record, and why. */
public final class DecodeException extends Exception {

    /** Why decoding failed. */
    public enum Failure {
        /** The bytes are not a well-formed single-object encoded record. */
        MALFORMED,
        /** The header is well-formed but names a writer schema nobody registered. */
        UNKNOWN_SCHEMA
    }

    private final Failure failure;

    public DecodeException(Failure failure, String message) {
        super(message, null, false, false);
        this.failure = failure;
    }

    public Failure failure() {
        return failure;
    }
}
