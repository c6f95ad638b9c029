package io.tokenmeter.logic.ingest;

import static io.tokenmeter.testing.Fixtures.millis;
import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.WallClock;
import io.tokenmeter.logic.ingest.PartitionClock.Verdict;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

/**
 * Verdicts at the source: from the highest event time read before in the same partition, minus the
 * out-of-orderness. LATE once the event's day closed (local midnight + grace) at or before that
 * clock, TOO_LATE once its correction deadline (day end + horizon) did.
 */
class PartitionClockTest {

    private static final Duration OUT_OF_ORDERNESS = Duration.ofMinutes(2);

    /**
     * How far the clock lags the highest event time: the out-of-orderness plus 1 ms, like Flink's
     * watermark.
     */
    private static final long OOO = OUT_OF_ORDERNESS.toMillis() + 1;

    private static final BillingCalendar CALENDAR =
            new BillingCalendar(
                    ZoneId.of("Asia/Shanghai"), Duration.ofMinutes(15), Duration.ofDays(35));

    /** An event of Shanghai day 2026-03-10, which runs 2026-03-09T16:00Z to 2026-03-10T16:00Z. */
    private static final long IN_DAY = millis("2026-03-10T01:00:00Z");

    private static final long CLOSE = millis("2026-03-10T16:15:00Z");
    private static final long DEADLINE = millis("2026-04-14T16:00:00Z");

    /** The wall clock of these cases: the day after IN_DAY, long before its correction deadline. */
    private static final long NOW = millis("2026-03-11T00:00:00Z");

    private final PartitionClock clock =
            new PartitionClock(CALENDAR, OUT_OF_ORDERNESS, WallClock.fixed(NOW));

    @Test
    void judgesFirstEventOfAPartitionOnTimeWithinTheWallClocksHorizon() {
        assertThat(clock.observe(1, IN_DAY)).isEqualTo(Verdict.ON_TIME);
        assertThat(clock.observe(2, millis("2026-02-05T00:00:00Z"))).isEqualTo(Verdict.ON_TIME);
    }

    /**
     * Day 2026-02-03 (Shanghai) ends 02-03T16:00Z and takes corrections until 03-10T16:00Z, before
     * NOW.
     */
    @Test
    void judgesFirstEventOfAPartitionTooLateWhenTheWallClockIsPastItsDeadline() {
        assertThat(clock.observe(0, millis("2020-01-01T00:00:00Z"))).isEqualTo(Verdict.TOO_LATE);
        assertThat(clock.observe(1, millis("2026-02-03T12:00:00Z"))).isEqualTo(Verdict.TOO_LATE);
        assertThat(clock.observe(2, 0)).isEqualTo(Verdict.TOO_LATE);
        // And the too-late events set no partition clock.
        assertThat(clock.current(0)).isEqualTo(Long.MIN_VALUE);
    }

    /** The deadline exactly at the wall clock is past, as it is for the partition clock. */
    @Test
    void judgesTooLateWhenTheWallClockIsExactlyAtTheDeadline() {
        PartitionClock atDeadline =
                new PartitionClock(CALENDAR, OUT_OF_ORDERNESS, WallClock.fixed(DEADLINE));
        PartitionClock justBefore =
                new PartitionClock(CALENDAR, OUT_OF_ORDERNESS, WallClock.fixed(DEADLINE - 1));

        assertThat(atDeadline.observe(0, IN_DAY)).isEqualTo(Verdict.TOO_LATE);
        assertThat(justBefore.observe(0, IN_DAY)).isEqualTo(Verdict.ON_TIME);
    }

    /**
     * I7: no event time, however extreme, makes the judge throw; none far from the wall clock is
     * ever billed.
     */
    @Test
    void judgesEveryExtremeEventTimeWithoutThrowing() {
        for (long t :
                new long[] {
                    Long.MIN_VALUE, Long.MIN_VALUE + 1, -1, 0, 1, Long.MAX_VALUE - 1, Long.MAX_VALUE
                }) {
            PartitionClock c = new PartitionClock(CALENDAR, OUT_OF_ORDERNESS, WallClock.fixed(NOW));
            Verdict first = c.observe(0, t);
            if (t < NOW) {
                assertThat(first).as("event time %d", t).isEqualTo(Verdict.TOO_LATE);
            }
            c.observe(1, IN_DAY);
            c.observe(1, t);
        }
    }

    @Test
    void judgesOnTimeWhileTheClockIsBeforeTheDaysClose() {
        clock.observe(0, CLOSE + OOO - 1); // clock: CLOSE - 1

        assertThat(clock.observe(0, IN_DAY)).isEqualTo(Verdict.ON_TIME);
        assertThat(clock.observe(0, millis("2026-03-10T15:59:59.999Z"))).isEqualTo(Verdict.ON_TIME);
    }

    @Test
    void judgesLateWhenTheClockIsExactlyAtTheDaysClose() {
        clock.observe(0, CLOSE + OOO); // clock: CLOSE

        assertThat(clock.observe(0, IN_DAY)).isEqualTo(Verdict.LATE);
        // The next day is still open.
        assertThat(clock.observe(0, millis("2026-03-10T16:00:00Z"))).isEqualTo(Verdict.ON_TIME);
    }

    @Test
    void subtractsTheOutOfOrdernessFromTheHighestEventTime() {
        clock.observe(0, CLOSE + OOO / 2); // past the close itself, but within the out-of-orderness

        assertThat(clock.observe(0, IN_DAY)).isEqualTo(Verdict.ON_TIME);
    }

    @Test
    void judgesFromTheHighestEventTimeNotTheLastOne() {
        clock.observe(0, CLOSE + OOO);
        clock.observe(0, millis("2026-03-10T12:00:00Z")); // older: judged LATE, the clock stays

        assertThat(clock.observe(0, IN_DAY)).isEqualTo(Verdict.LATE);
    }

    @Test
    void judgesLateJustBeforeTheCorrectionDeadline() {
        clock.observe(0, DEADLINE + OOO - 1); // clock: DEADLINE - 1

        assertThat(clock.observe(0, IN_DAY)).isEqualTo(Verdict.LATE);
    }

    @Test
    void judgesTooLateWhenTheClockIsExactlyAtTheCorrectionDeadline() {
        clock.observe(0, DEADLINE + OOO); // clock: DEADLINE

        assertThat(clock.observe(0, IN_DAY)).isEqualTo(Verdict.TOO_LATE);
        assertThat(clock.observe(0, millis("2026-03-10T16:00:00Z")))
                .isEqualTo(Verdict.LATE); // next day
    }

    @Test
    void keepsPartitionsIndependent() {
        clock.observe(0, DEADLINE + OOO);
        clock.observe(1, CLOSE + OOO);
        clock.observe(2, IN_DAY);

        assertThat(clock.observe(0, IN_DAY)).isEqualTo(Verdict.TOO_LATE);
        assertThat(clock.observe(1, IN_DAY)).isEqualTo(Verdict.LATE);
        assertThat(clock.observe(2, IN_DAY)).isEqualTo(Verdict.ON_TIME);
        assertThat(clock.observe(3, IN_DAY)).isEqualTo(Verdict.ON_TIME); // first of its partition
        // An old partition does not hold back a new one, nor the other way round.
        assertThat(clock.observe(2, IN_DAY)).isEqualTo(Verdict.ON_TIME);
        assertThat(clock.observe(0, IN_DAY)).isEqualTo(Verdict.TOO_LATE);
    }

    @Test
    void leavesTheClockAsItWasAfterATooLateEvent() {
        clock.observe(0, DEADLINE + OOO);

        assertThat(clock.observe(0, IN_DAY)).isEqualTo(Verdict.TOO_LATE);
        assertThat(clock.observe(0, millis("2026-03-10T16:00:00Z"))).isEqualTo(Verdict.LATE);
        assertThat(clock.observe(0, DEADLINE)).isEqualTo(Verdict.ON_TIME);
    }

    /**
     * With a correction horizon of at least zero (the job requires one longer than the grace) a
     * too-late event is always older than its partition's clock, so it could not advance it anyway.
     * Only a calendar whose deadline falls before its day ends lets a too-late event be the newest
     * one read; the clock must still ignore it.
     */
    @Test
    void doesNotAdvanceTheClockWithATooLateEventEvenWhenItIsTheNewest() {
        BillingCalendar pastDeadline =
                new BillingCalendar(ZoneId.of("UTC"), Duration.ZERO, Duration.ofDays(-2));
        PartitionClock c =
                new PartitionClock(
                        pastDeadline,
                        Duration.ZERO,
                        WallClock.fixed(millis("2026-03-01T00:00:00Z")));
        // Day D = 2026-03-10 (UTC): deadline 2026-03-09T00:00Z. Day D+1: deadline
        // 2026-03-10T00:00Z.
        assertThat(c.observe(0, millis("2026-03-09T23:00:00Z"))).isEqualTo(Verdict.ON_TIME);
        assertThat(c.observe(0, millis("2026-03-10T01:00:00Z"))).isEqualTo(Verdict.TOO_LATE);

        // Had the clock moved to 2026-03-10T01:00Z, day D+1 would be past its deadline.
        assertThat(c.observe(0, millis("2026-03-11T01:00:00Z"))).isEqualTo(Verdict.ON_TIME);
    }

    /**
     * The close time follows local midnight: Berlin's 25-hour day of 2026-10-25 closes at 23:15Z,
     * not 22:15Z.
     */
    @Test
    void closesADaylightSavingDayAtItsLocalMidnightPlusGrace() {
        BillingCalendar berlin =
                new BillingCalendar(
                        ZoneId.of("Europe/Berlin"), Duration.ofMinutes(15), Duration.ofDays(35));
        PartitionClock c =
                new PartitionClock(
                        berlin, OUT_OF_ORDERNESS, WallClock.fixed(millis("2026-10-26T00:00:00Z")));
        long inLongDay = millis("2026-10-25T12:00:00Z");

        c.observe(0, millis("2026-10-25T23:15:00Z") + OOO - 1);
        assertThat(c.observe(0, inLongDay)).isEqualTo(Verdict.ON_TIME);

        c.observe(0, millis("2026-10-25T23:15:00Z") + OOO);
        assertThat(c.observe(0, inLongDay)).isEqualTo(Verdict.LATE);
    }

    @Test
    void startsWithNoClocksAfterDeserialization() throws Exception {
        clock.observe(0, DEADLINE + OOO);

        PartitionClock restored = roundTrip(clock);

        assertThat(restored.observe(0, IN_DAY)).isEqualTo(Verdict.ON_TIME);
        assertThat(restored.calendar().billingDay(IN_DAY)).isEqualTo(CALENDAR.billingDay(IN_DAY));
    }

    private static PartitionClock roundTrip(PartitionClock clock) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(clock);
        }
        try (ObjectInputStream in =
                new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (PartitionClock) in.readObject();
        }
    }
}
