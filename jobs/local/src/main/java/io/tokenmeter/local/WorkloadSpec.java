package io.tokenmeter.local;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;

/**
 * What the workload generator produces. Rates are fractions of all records produced.
 *
 * @param events records to produce, including duplicates and malformed ones
 * @param accounts distinct accounts, drawn with Zipf skew ({@code zipfExponent})
 * @param start event time of the first record
 * @param span event time covered from the first to the last record
 * @param billingZone the zone whose days the late records reach back into
 * @param duplicateRate share of records that repeat an earlier event byte for byte (a producer retry)
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
        implements java.io.Serializable {

    public static final Instant DEFAULT_START = Instant.parse("2026-11-01T00:00:00+08:00");

    public WorkloadSpec {
        require(events >= 1, "events must be at least 1");
        require(accounts >= 1, "accounts must be at least 1");
        require(zipfExponent > 0, "zipf exponent must be positive");
        require(!span.isNegative(), "span must not be negative");
        require(rate(duplicateRate) && rate(lateRate) && rate(malformedRate)
                && duplicateRate + lateRate + malformedRate <= 1.0,
                "duplicate, late and malformed rates must be fractions in [0, 1] adding up to at most 1");
        require(rate(hotAccountShare), "the hot account's share must be a fraction in [0, 1]");
    }

    /** A workload spanning two billing days from {@link #DEFAULT_START} with no duplicates, late or bad records. */
    public static WorkloadSpec clean(long events, int accounts, long seed) {
        return new WorkloadSpec(events, accounts, 1.0, DEFAULT_START, Duration.ofDays(2),
                ZoneId.of("Asia/Shanghai"), 0, 0, 0, 0, seed);
    }

    public WorkloadSpec withRates(double duplicateRate, double lateRate, double malformedRate) {
        return new WorkloadSpec(events, accounts, zipfExponent, start, span, billingZone,
                duplicateRate, lateRate, malformedRate, hotAccountShare, seed);
    }

    public WorkloadSpec withHotAccountShare(double share) {
        return new WorkloadSpec(events, accounts, zipfExponent, start, span, billingZone,
                duplicateRate, lateRate, malformedRate, share, seed);
    }

    /** The same workload over another span, starting at {@code start}, with late events reaching into {@code zone}'s days. */
    public WorkloadSpec during(Instant start, Duration span, ZoneId zone) {
        return new WorkloadSpec(events, accounts, zipfExponent, start, span, zone,
                duplicateRate, lateRate, malformedRate, hotAccountShare, seed);
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
