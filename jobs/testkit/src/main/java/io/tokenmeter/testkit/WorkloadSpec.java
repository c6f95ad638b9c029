package io.tokenmeter.testkit;

import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;

/**
 * What the workload generator produces. Rates are fractions of all records produced.
 *
 * @param events records to produce, including duplicates and malformed ones
 * @param accounts distinct accounts, drawn with Zipf skew ({@code zipfExponent})
 * @param start event time of the first record
 * @param span event time covered from the first to the last record
 * @param billingZone the zone whose days the late records reach back into
 * @param duplicateRate share of records that repeat an earlier event byte for byte (a producer
 *     retry)
 * @param lateRate share of records whose event time lies in an already closed billing day
 * @param malformedRate share of records that cannot be billed (every reject reason)
 * @param hotAccountShare share of events from one single huge account, on top of the Zipf skew
 */
public record WorkloadSpec(
        long events,
        int accounts,
        double zipfExponent,
        Instant start,
        Duration span,
        ZoneId billingZone,
        double duplicateRate,
        double lateRate,
        double malformedRate,
        double hotAccountShare,
        long seed)
        implements Serializable {

    /**
     * The default start of a workload covering {@code span}: local midnight in {@code zone}, as
     * many whole days before today as the span takes, plus one (three days ago for two days).
     * Relative to the wall clock because the job judges events past their correction deadline by
     * the wall clock (TOO_LATE): a fixed date would turn the whole workload into rejections 35 days
     * later. Recent enough that every day of a workload of up to a month, and the late events
     * reaching back into earlier days, is still correctable; far enough that every event is in the
     * past. In a zone without daylight saving time (Asia/Shanghai) the same seed gives the same
     * totals per day, only under other dates.
     */
    public static Instant defaultStart(ZoneId zone, Duration span) {
        long days = (span.toMillis() + DAY_MILLIS - 1) / DAY_MILLIS;
        return LocalDate.now(zone).minusDays(days + 1).atStartOfDay(zone).toInstant();
    }

    private static final long DAY_MILLIS = Duration.ofDays(1).toMillis();

    public WorkloadSpec {
        require(events >= 1, "events must be at least 1");
        require(accounts >= 1, "accounts must be at least 1");
        require(zipfExponent > 0, "zipf exponent must be positive");
        require(!span.isNegative(), "span must not be negative");
        require(
                rate(duplicateRate)
                        && rate(lateRate)
                        && rate(malformedRate)
                        && duplicateRate + lateRate + malformedRate <= 1.0,
                "duplicate, late and malformed rates must be fractions in [0, 1] adding up to at most 1");
        require(rate(hotAccountShare), "the hot account's share must be a fraction in [0, 1]");
    }

    /**
     * A workload spanning two Asia/Shanghai billing days from {@link #defaultStart} with no
     * duplicates, late or bad records.
     */
    public static WorkloadSpec clean(long events, int accounts, long seed) {
        ZoneId shanghai = ZoneId.of("Asia/Shanghai");
        return new WorkloadSpec(
                events,
                accounts,
                1.0,
                defaultStart(shanghai, Duration.ofDays(2)),
                Duration.ofDays(2),
                shanghai,
                0,
                0,
                0,
                0,
                seed);
    }

    public WorkloadSpec withRates(double duplicateRate, double lateRate, double malformedRate) {
        return new WorkloadSpec(
                events,
                accounts,
                zipfExponent,
                start,
                span,
                billingZone,
                duplicateRate,
                lateRate,
                malformedRate,
                hotAccountShare,
                seed);
    }

    public WorkloadSpec withHotAccountShare(double share) {
        return new WorkloadSpec(
                events,
                accounts,
                zipfExponent,
                start,
                span,
                billingZone,
                duplicateRate,
                lateRate,
                malformedRate,
                share,
                seed);
    }

    /**
     * The same workload over another span, starting at {@code start}, with late events reaching
     * into {@code zone}'s days.
     */
    public WorkloadSpec during(Instant start, Duration span, ZoneId zone) {
        return new WorkloadSpec(
                events,
                accounts,
                zipfExponent,
                start,
                span,
                zone,
                duplicateRate,
                lateRate,
                malformedRate,
                hotAccountShare,
                seed);
    }

    private static boolean rate(double r) {
        return r >= 0 && r <= 1;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
