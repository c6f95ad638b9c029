package io.tokenmeter.logic.ingest;

import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.WallClock;
import java.io.Serializable;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Decides, as each event is read, whether it is on time, late or too late — from the event times
 * read before it in the same partition, not from the watermark. The watermark depends on how fast
 * partitions are read relative to each other; a partition's own history does not, so the same input
 * always gets the same verdicts and the same billing records (I5).
 *
 * <p>A partition's clock is the highest valid event time read from it, minus the bounded
 * out-of-orderness, minus 1 ms: exactly the watermark that partition alone would produce. An event
 * is LATE when its billing day closed before that clock, and TOO_LATE when the day's correction
 * deadline passed before it — or before the wall clock: a partition's first event after a (re)start
 * has no history to be judged by, and an event whose correction deadline has passed in real time
 * can never be corrected, whatever the partition has shown (an event_time of 0 on a fresh start
 * included). Only such events depend on the wall clock; every other verdict is a function of the
 * input.
 *
 * <p>One instance per source reader; not thread-safe. Clocks start unset after a restart and are
 * rebuilt from the events read next, so an event right after a restore may be judged less late than
 * in an uninterrupted run — billed as a correction rather than rejected, never lost.
 */
public final class PartitionClock implements Serializable {

    /** The verdict on one event. */
    public enum Verdict {
        ON_TIME,
        LATE,
        TOO_LATE
    }

    private final BillingCalendar calendar;
    private final long outOfOrdernessMillis;
    private final WallClock wallClock;
    private transient Map<Integer, long[]> maxEventTimeByPartition;

    /** Judged against the system clock as well. */
    public PartitionClock(BillingCalendar calendar, Duration outOfOrderness) {
        this(calendar, outOfOrderness, WallClock.system());
    }

    public PartitionClock(BillingCalendar calendar, Duration outOfOrderness, WallClock wallClock) {
        this.calendar = calendar;
        this.outOfOrdernessMillis = outOfOrderness.toMillis();
        this.wallClock = wallClock;
    }

    /** The wall clock the verdicts are judged against. */
    public WallClock wallClock() {
        return wallClock;
    }

    /** Judges an event read from {@code partition} and advances that partition's clock. */
    public Verdict observe(int partition, long eventTime) {
        if (maxEventTimeByPartition == null) {
            maxEventTimeByPartition = new HashMap<>();
        }
        long[] max =
                maxEventTimeByPartition.computeIfAbsent(
                        partition, p -> new long[] {Long.MIN_VALUE});
        Verdict verdict = judge(eventTime, max[0]);
        if (verdict != Verdict.TOO_LATE && eventTime > max[0]) {
            max[0] = eventTime;
        }
        return verdict;
    }

    /**
     * The partition's clock now: the watermark it alone would have, or Long.MIN_VALUE before its
     * first event.
     */
    public long current(int partition) {
        long[] max =
                maxEventTimeByPartition == null ? null : maxEventTimeByPartition.get(partition);
        return max == null || max[0] == Long.MIN_VALUE
                ? Long.MIN_VALUE
                : max[0] - outOfOrdernessMillis - 1;
    }

    /** The BillingCalendar's day arithmetic, for messages. */
    public BillingCalendar calendar() {
        return calendar;
    }

    private Verdict judge(long eventTime, long maxEventTime) {
        long dayStart = calendar.dayStart(eventTime);
        long deadline = calendar.correctionDeadline(dayStart);
        if (deadline <= wallClock.getAsLong()) {
            return Verdict.TOO_LATE;
        }
        if (maxEventTime == Long.MIN_VALUE) {
            return Verdict.ON_TIME;
        }
        // Valid event times lie within the correction horizon of the wall clock: no overflow here.
        long clock = maxEventTime - outOfOrdernessMillis - 1;
        if (deadline <= clock) {
            return Verdict.TOO_LATE;
        }
        return calendar.closeTime(dayStart) <= clock ? Verdict.LATE : Verdict.ON_TIME;
    }
}
