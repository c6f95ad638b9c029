package io.tokenmeter.logic;

import java.io.Serializable;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;

/**
 * Billing days in one time zone: a day runs from local midnight to the next local midnight, so it
 * lasts 23 or 25 hours on daylight-saving changes. A day closes {@code grace} after it ends (in
 * event time); corrections are accepted until {@code correctionHorizon} after it ends.
 *
 * <p>Days are identified by their start instant in epoch millis. Not thread-safe: it caches the
 * last day it computed, because nearly every event falls into the same day as the one before.
 *
 * <p>Every method takes any long and never throws: a day boundary, close time or deadline beyond
 * the range of epoch millis saturates at Long.MIN_VALUE or Long.MAX_VALUE. Such days are never
 * billed (the source rejects events that far from the wall clock), but judging them must not fail
 * the job.
 */
public final class BillingCalendar implements Serializable {

    private static final long HOUR_MILLIS = 3_600_000L;
    private static final long DAY_MILLIS = 24 * HOUR_MILLIS;

    private final ZoneId zone;
    private final long graceMillis;
    private final long correctionHorizonMillis;

    /**
     * The last day computed, [cachedStart, cachedEnd), once {@code hasCachedDay} (false after
     * deserialization too).
     */
    private transient boolean hasCachedDay;

    private transient long cachedStart;
    private transient long cachedEnd;

    public BillingCalendar(ZoneId zone, Duration grace, Duration correctionHorizon) {
        this.zone = zone;
        this.graceMillis = grace.toMillis();
        this.correctionHorizonMillis = correctionHorizon.toMillis();
    }

    public ZoneId zone() {
        return zone;
    }

    /** Start of the billing day containing {@code eventTimeMillis}. */
    public long dayStart(long eventTimeMillis) {
        if (hasCachedDay && eventTimeMillis >= cachedStart && eventTimeMillis < cachedEnd) {
            return cachedStart;
        }
        LocalDate day = billingDay(eventTimeMillis);
        long start = startOf(day);
        cachedStart = start;
        cachedEnd = startOf(day.plusDays(1));
        hasCachedDay = true;
        return start;
    }

    /**
     * Start of the local hour containing {@code eventTimeMillis}; every hour lasts 60 minutes, DST
     * or not.
     */
    public long hourStart(long eventTimeMillis) {
        long dayStart = dayStart(eventTimeMillis);
        if (cachedEnd - cachedStart == DAY_MILLIS) {
            // A 24-hour day has one offset throughout: its hours are whole hours from its start.
            return dayStart + (eventTimeMillis - dayStart) / HOUR_MILLIS * HOUR_MILLIS;
        }
        try {
            return toMillis(
                    Instant.ofEpochMilli(eventTimeMillis)
                            .atZone(zone)
                            .truncatedTo(ChronoUnit.HOURS)
                            .toInstant());
        } catch (DateTimeException e) {
            // Only at the ends of the long range, where a day saturates: no billed hour lies there.
            return dayStart;
        }
    }

    /** Exclusive end of the billing day that starts at {@code dayStart}. */
    public long dayEnd(long dayStart) {
        if (hasCachedDay && dayStart == cachedStart) {
            return cachedEnd;
        }
        return startOf(billingDay(dayStart).plusDays(1));
    }

    /** The local calendar date of {@code eventTimeMillis}. */
    public LocalDate billingDay(long eventTimeMillis) {
        return LocalDate.ofInstant(Instant.ofEpochMilli(eventTimeMillis), zone);
    }

    /** Event time at which the day starting at {@code dayStart} is billed for the first time. */
    public long closeTime(long dayStart) {
        return saturatedAdd(dayEnd(dayStart), graceMillis);
    }

    /** Event time after which the day starting at {@code dayStart} takes no more corrections. */
    public long correctionDeadline(long dayStart) {
        return saturatedAdd(dayEnd(dayStart), correctionHorizonMillis);
    }

    /** Clean-up times are multiples of this: one clean-up timer per key serves a week of days. */
    public static final long CLEAN_UP_PERIOD_MILLIS = 7 * 24 * 3_600_000L;

    /**
     * Event time at which what is kept for the day starting at {@code dayStart} until its
     * correction deadline may go: the deadline rounded up to a multiple of {@link
     * #CLEAN_UP_PERIOD_MILLIS}. A key's days of the same week share one timer, so the state of an
     * account active every day pays one timer registration and firing a week, not a day, and keeps
     * a day at most a week longer.
     */
    public long cleanUpTime(long dayStart) {
        long deadline = correctionDeadline(dayStart);
        long remainder = Math.floorMod(deadline, CLEAN_UP_PERIOD_MILLIS);
        return remainder == 0
                ? deadline
                : saturatedAdd(deadline, CLEAN_UP_PERIOD_MILLIS - remainder);
    }

    private long startOf(LocalDate day) {
        return toMillis(day.atStartOfDay(zone).toInstant());
    }

    /** Epoch millis of {@code instant}, saturated at the ends of the long range. */
    private static long toMillis(Instant instant) {
        long seconds = instant.getEpochSecond();
        if (seconds <= Long.MIN_VALUE / 1000) {
            return Long.MIN_VALUE;
        }
        if (seconds >= Long.MAX_VALUE / 1000) {
            return Long.MAX_VALUE;
        }
        return seconds * 1000 + instant.getNano() / 1_000_000;
    }

    /** {@code a + b}, saturated at Long.MIN_VALUE and Long.MAX_VALUE instead of wrapping around. */
    public static long saturatedAdd(long a, long b) {
        long sum = a + b;
        if (((a ^ sum) & (b ^ sum)) < 0) {
            return b > 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
        }
        return sum;
    }
}
