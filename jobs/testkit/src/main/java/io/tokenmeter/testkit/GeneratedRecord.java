package io.tokenmeter.testkit;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.UsageEvent;
import javax.annotation.Nullable;

/**
 * One record of the workload as it goes onto the raw topic, and what a correct pipeline must make
 * of it.
 *
 * @param key the Kafka key (the account id), or null
 * @param value the Kafka value, exactly as written
 * @param kind how a correct pipeline treats it
 * @param event the event it carries, for VALID, LATE and DUPLICATE records
 */
public record GeneratedRecord(
        @Nullable String key, byte[] value, Kind kind, @Nullable UsageEvent event) {

    /** How a correct pipeline must treat a generated record. */
    public enum Kind {
        /** A new event, billed in its day's ORIGINAL. */
        VALID(null),
        /** A new event for a day that has already closed: billed as a correction. */
        LATE(null),
        /** A repeat of an event already produced, byte for byte: counted once. */
        DUPLICATE(null),
        /** Not decodable at all. */
        MALFORMED(RejectReason.MALFORMED),
        /** Well-formed, but written with a schema nobody registered. */
        UNKNOWN_SCHEMA(RejectReason.UNKNOWN_SCHEMA),
        /** Decodable, but without an account id. */
        MISSING_FIELD(RejectReason.MISSING_FIELD),
        /** Negative or absurdly large token counts. */
        TOKENS_OUT_OF_RANGE(RejectReason.TOKENS_OUT_OF_RANGE),
        /** An event time far in the future. */
        FUTURE_TIMESTAMP(RejectReason.FUTURE_TIMESTAMP),
        /** Larger than any real usage event. */
        OVERSIZED(RejectReason.OVERSIZED),
        /** An earlier event's (source, event_id) with different usage. */
        CONFLICTING_DUPLICATE(RejectReason.CONFLICTING_DUPLICATE),
        /** An event for a day past the correction horizon. */
        TOO_LATE(RejectReason.TOO_LATE);

        @Nullable private final RejectReason rejectReason;

        Kind(@Nullable RejectReason rejectReason) {
            this.rejectReason = rejectReason;
        }

        public boolean billed() {
            return this == VALID || this == LATE;
        }

        public boolean rejected() {
            return rejectReason != null;
        }

        /**
         * The reason the job must give when it rejects this kind of record, or null if it must not.
         */
        @Nullable
        public RejectReason rejectReason() {
            return rejectReason;
        }
    }
}
