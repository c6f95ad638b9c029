package io.tokenmeter.logic.packages;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.SubscriptionAction;
import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.avro.TopUp;
import io.tokenmeter.logic.ingest.ValidationLimits;
import java.time.Instant;
import javax.annotation.Nullable;

/**
 * What a subscription event must respect to be applied. The bounds are constants chosen so that no
 * arithmetic on balances or periods can overflow (docs/packages.md): every time lies in [1970,
 * 10000), so period boundaries, close times and correction deadlines stay far inside the long
 * range; a period's allowance — included units and rollover (each at most Long.MAX_VALUE / 1000, by
 * the catalog) plus at most {@link #MAX_TOP_UPS} top-ups of at most {@link #MAX_TOP_UP_UNITS} —
 * stays below 2^62.
 */
public final class SubscriptionLimits {

    /** Longest subscription_id, package_id and top_up_id, in UTF-8 bytes. */
    public static final int MAX_ID_BYTES = 256;

    /** Most top-ups one subscription event may carry. */
    public static final int MAX_TOP_UPS = 1000;

    /** Most units one top-up may add (10^15: a million times a large monthly package). */
    public static final long MAX_TOP_UP_UNITS = 1_000_000_000_000_000L;

    /** Earliest time a subscription event may name: 1970-01-01T00:00Z. */
    public static final long EARLIEST_MILLIS = 0;

    /** Latest time (exclusive) a subscription event may name: 10000-01-01T00:00Z. */
    public static final long LATEST_MILLIS = Instant.parse("+10000-01-01T00:00:00Z").toEpochMilli();

    private SubscriptionLimits() {}

    /** Why a subscription event cannot be applied. */
    public record Violation(RejectReason reason, String message) {}

    /**
     * The first problem with {@code event}, or null when it may be applied. The package is checked
     * by the caller (a CANCEL may name a retired one).
     */
    @Nullable
    public static Violation check(SubscriptionEvent event, int maxAccountIdBytes) {
        if (event.getAccountId().isBlank() || event.getSubscriptionId().isBlank()) {
            return new Violation(
                    RejectReason.MISSING_FIELD,
                    "subscription event without account_id or subscription_id");
        }
        if (ValidationLimits.exceedsUtf8(event.getAccountId(), maxAccountIdBytes)) {
            return tooLong("account_id", event.getAccountId(), maxAccountIdBytes);
        }
        if (ValidationLimits.exceedsUtf8(event.getSubscriptionId(), MAX_ID_BYTES)) {
            return tooLong("subscription_id", event.getSubscriptionId(), MAX_ID_BYTES);
        }
        if (ValidationLimits.exceedsUtf8(event.getPackageId(), MAX_ID_BYTES)) {
            return tooLong("package_id", event.getPackageId(), MAX_ID_BYTES);
        }
        if (event.getVersion() < 1) {
            return new Violation(
                    RejectReason.VALUE_OUT_OF_RANGE,
                    "version " + event.getVersion() + " is below 1");
        }
        Violation time = outOfRange("changed_at", event.getChangedAt());
        if (time == null) {
            time = outOfRange("activated_at", event.getActivatedAt());
        }
        if (time == null) {
            time = outOfRange("valid_until", event.getValidUntil());
        }
        if (time != null) {
            return time;
        }
        if (event.getTopUps().size() > MAX_TOP_UPS) {
            return new Violation(
                    RejectReason.VALUE_OUT_OF_RANGE,
                    event.getTopUps().size() + " top-ups, more than " + MAX_TOP_UPS);
        }
        for (TopUp topUp : event.getTopUps()) {
            if (ValidationLimits.exceedsUtf8(topUp.getTopUpId(), MAX_ID_BYTES)) {
                return tooLong("top_ups.top_up_id", topUp.getTopUpId(), MAX_ID_BYTES);
            }
            if (topUp.getUnits() < 0 || topUp.getUnits() > MAX_TOP_UP_UNITS) {
                return new Violation(
                        RejectReason.VALUE_OUT_OF_RANGE,
                        "top-up "
                                + topUp.getTopUpId()
                                + " of "
                                + topUp.getUnits()
                                + " units is outside [0, "
                                + MAX_TOP_UP_UNITS
                                + "]");
            }
            Violation at = outOfRange("top_ups.at", topUp.getAt());
            if (at != null) {
                return at;
            }
        }
        return null;
    }

    /**
     * Whether {@code event} may name a package the catalog does not have: a CANCEL of a retired
     * package may.
     */
    public static boolean mayNameRetiredPackage(SubscriptionEvent event) {
        return event.getAction() == SubscriptionAction.CANCEL;
    }

    @Nullable
    private static Violation outOfRange(String field, Instant time) {
        long millis = time.toEpochMilli();
        if (millis >= EARLIEST_MILLIS && millis < LATEST_MILLIS) {
            return null;
        }
        return new Violation(
                RejectReason.VALUE_OUT_OF_RANGE,
                field + " " + millis + " ms is outside [1970-01-01, 10000-01-01)");
    }

    private static Violation tooLong(String field, String value, int maxBytes) {
        return new Violation(
                RejectReason.FIELD_TOO_LONG,
                field
                        + " has "
                        + ValidationLimits.utf8Length(value)
                        + " UTF-8 bytes, more than the limit of "
                        + maxBytes);
    }
}
