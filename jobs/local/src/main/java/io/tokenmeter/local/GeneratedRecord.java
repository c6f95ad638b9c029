package io.tokenmeter.local;

import io.tokenmeter.avro.UsageEvent;
import javax.annotation.Nullable;

/**
 * One record of the workload as it goes onto the raw topic, and what a correct pipeline must make of it.
 *
 * @param key the Kafka key (the account id), or null
 * @param value the Kafka value, exactly as written
 * @param kind how a correct pipeline treats it
 * @param event the event it carries, for VALID, LATE and DUPLICATE records
 */
public record GeneratedRecord(@Nullable String key, byte[] value, Kind kind, @Nullable UsageEvent event) {

    /** How a correct pipeline must treat a generated record. */
    public enum Kind {
        /** A new event, billed in its day's ORIGINAL. */
        VALID,
        /** A new event for a day that has already closed: billed as a correction. */
        LATE,
        /** A repeat of an event already produced: counted once. */
        DUPLICATE,
        /** Not decodable at all. */
        MALFORMED,
        /** Well-formed, but written with a schema nobody registered. */
        UNKNOWN_SCHEMA,
        /** Decodable, but without an account id. */
        MISSING_FIELD;

        public boolean billed() {
            return this == VALID || this == LATE;
        }

        public boolean rejected() {
            return this == MALFORMED || this == UNKNOWN_SCHEMA || this == MISSING_FIELD;
        }
    }
}
