package io.tokenmeter.logic.ingest;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.logic.BillingCalendar;
import java.time.Instant;
import javax.annotation.Nullable;

/** Checks a decoded usage event before it may be billed. */
public final class UsageValidation {

    /** Why an event cannot be billed. */
    public record Violation(RejectReason reason, String message) {}

    private UsageValidation() {}

    /**
     * The first problem with {@code event}, or null when it may be billed.
     *
     * @param nowMillis the wall clock, against which future timestamps are judged
     */
    @Nullable
    public static Violation check(UsageEvent event, ValidationLimits limits, long nowMillis) {
        if (event.getEventId().isBlank()) {
            return new Violation(RejectReason.MISSING_FIELD, "event_id is empty");
        }
        if (event.getSource().isBlank()) {
            return new Violation(RejectReason.MISSING_FIELD, "source is empty");
        }
        if (event.getAccountId().isBlank()) {
            return new Violation(RejectReason.MISSING_FIELD, "account_id is empty");
        }
        if (event.getModel().isBlank()) {
            return new Violation(RejectReason.MISSING_FIELD, "model is empty");
        }
        // Caps before anything else uses the strings: billing records, usage rows and state hold
        // them.
        Violation tooLong = tooLong("event_id", event.getEventId(), limits.maxEventIdBytes());
        if (tooLong == null) {
            tooLong = tooLong("source", event.getSource(), limits.maxSourceBytes());
        }
        if (tooLong == null) {
            tooLong = tooLong("account_id", event.getAccountId(), limits.maxAccountIdBytes());
        }
        if (tooLong == null) {
            tooLong = tooLong("region", event.getRegion(), limits.maxRegionBytes());
        }
        if (tooLong == null) {
            tooLong = tooLong("model", event.getModel(), limits.maxModelBytes());
        }
        if (tooLong != null) {
            return tooLong;
        }
        long input = event.getInputTokens();
        long output = event.getOutputTokens();
        long cached = event.getCachedTokens();
        if (input < 0 || output < 0 || cached < 0) {
            return new Violation(
                    RejectReason.TOKENS_OUT_OF_RANGE,
                    "negative token count: input="
                            + input
                            + " output="
                            + output
                            + " cached="
                            + cached);
        }
        long max = limits.maxTokensPerEvent();
        // Subtracting instead of adding: the sum of three counts may not fit in a long.
        if (input > max || output > max - input || cached > max - input - output) {
            return new Violation(
                    RejectReason.TOKENS_OUT_OF_RANGE,
                    "tokens input="
                            + input
                            + " output="
                            + output
                            + " cached="
                            + cached
                            + " exceed the ceiling of "
                            + limits.maxTokensPerEvent()
                            + " per event");
        }
        long eventTime = event.getEventTime().toEpochMilli();
        if (eventTime > BillingCalendar.saturatedAdd(nowMillis, limits.futureSkewMillis())) {
            return new Violation(
                    RejectReason.FUTURE_TIMESTAMP,
                    "event_time "
                            + event.getEventTime()
                            + " is more than "
                            + limits.futureSkewMillis() / 1000
                            + " s ahead of "
                            + Instant.ofEpochMilli(nowMillis));
        }
        return null;
    }

    /**
     * The violation of a string field longer than its cap; the message names the field, never its
     * value.
     */
    @Nullable
    private static Violation tooLong(String field, String value, int maxBytes) {
        if (!ValidationLimits.exceedsUtf8(value, maxBytes)) {
            return null;
        }
        return new Violation(
                RejectReason.FIELD_TOO_LONG,
                field
                        + " has "
                        + ValidationLimits.utf8Length(value)
                        + " UTF-8 bytes, more than the limit of "
                        + maxBytes);
    }
}
