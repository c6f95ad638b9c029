package io.tokenmeter.logic;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.UsageEvent;
import javax.annotation.Nullable;

/** Checks a decoded usage event before it may be billed. */
public final class UsageValidation {

    /** Why an event cannot be billed. */
    public record Violation(RejectReason reason, String message) {}

    private UsageValidation() {}

    /** The first problem with {@code event}, or null when it may be billed. */
    @Nullable
    public static Violation check(UsageEvent event) {
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
        if (event.getInputTokens() < 0 || event.getOutputTokens() < 0 || event.getCachedTokens() < 0) {
            return new Violation(RejectReason.TOKENS_OUT_OF_RANGE, "negative token count: input="
                    + event.getInputTokens() + " output=" + event.getOutputTokens() + " cached=" + event.getCachedTokens());
        }
        return null;
    }
}
