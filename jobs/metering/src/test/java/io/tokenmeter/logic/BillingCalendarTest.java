package io.tokenmeter.logic;

import static io.tokenmeter.testing.Fixtures.millis;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BillingCalendarTest {

    private static final ZoneId SHANGHAI = ZoneId.of("Asia/Shanghai");
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    private static final Duration GRACE = Duration.ofMinutes(15);
    private static final Duration HORIZON = Duration.ofDays(35);

    private final BillingCalendar shanghai = new BillingCalendar(SHANGHAI, GRACE, HORIZON);

    @Test
    void startsShanghaiDayAt1600UtcOfPreviousDate() {
        long start = shanghai.dayStart(millis("2026-03-10T01:00:00Z")); // 09:00 local on 10 March

        assertThat(start).isEqualTo(millis("2026-03-09T16:00:00Z"));
        assertThat(shanghai.billingDay(start)).isEqualTo(LocalDate.of(2026, 3, 10));
    }

    @Test
    void closesDayAtLocalMidnightNotUtc() {
        // 23:30 UTC on 9 March is already 07:30 on 10 March in Shanghai.
        assertThat(shanghai.billingDay(millis("2026-03-09T23:30:00Z")))
                .isEqualTo(LocalDate.of(2026, 3, 10));
        assertThat(shanghai.dayStart(millis("2026-03-09T23:30:00Z")))
                .isEqualTo(millis("2026-03-09T16:00:00Z"));
    }

    @Test
    void endsDayExclusively() {
        long start = millis("2026-03-09T16:00:00Z");
        long end = millis("2026-03-10T16:00:00Z");

        assertThat(shanghai.dayEnd(start)).isEqualTo(end);
        assertThat(shanghai.dayStart(end - 1)).isEqualTo(start);
        assertThat(shanghai.dayStart(end)).isEqualTo(end);
        assertThat(shanghai.dayStart(start)).isEqualTo(start);
        assertThat(shanghai.dayStart(start - 1)).isEqualTo(millis("2026-03-08T16:00:00Z"));
    }

    @Test
    void closesDayGraceAfterItsEnd() {
        long start = millis("2026-03-09T16:00:00Z");

        assertThat(shanghai.closeTime(start)).isEqualTo(millis("2026-03-10T16:15:00Z"));
    }

    @Test
    void acceptsCorrectionsUntilHorizonAfterDayEnd() {
        long start = millis("2026-03-09T16:00:00Z");

        assertThat(shanghai.correctionDeadline(start)).isEqualTo(millis("2026-04-14T16:00:00Z"));
    }

    @Test
    void cleansUpAtTheFirstWeekBoundaryAtOrAfterTheCorrectionDeadlineAndSaturates() {
        long week = BillingCalendar.CLEAN_UP_PERIOD_MILLIS;
        for (long day = shanghai.dayStart(millis("2026-03-20T12:00:00Z")), n = 0;
                n < 30;
                day = shanghai.dayEnd(day), n++) {
            long cleanUp = shanghai.cleanUpTime(day);
            assertThat(cleanUp)
                    .isGreaterThanOrEqualTo(shanghai.correctionDeadline(day))
                    .isLessThan(shanghai.correctionDeadline(day) + week);
            assertThat(Math.floorMod(cleanUp, week)).isZero();
        }
        // 2026-04-14T16:00Z is a Tuesday; weeks since the epoch end on Thursdays 00:00 UTC.
        assertThat(shanghai.cleanUpTime(millis("2026-03-09T16:00:00Z")))
                .isEqualTo(millis("2026-04-16T00:00:00Z"));
        assertThat(shanghai.cleanUpTime(Long.MAX_VALUE - 1)).isEqualTo(Long.MAX_VALUE);
        assertThat(shanghai.cleanUpTime(Long.MIN_VALUE))
                .isBetween(
                        shanghai.correctionDeadline(Long.MIN_VALUE),
                        shanghai.correctionDeadline(Long.MIN_VALUE) + week);
    }

    @Test
    void lasts23HoursOnSpringForwardDay() {
        BillingCalendar berlin = new BillingCalendar(BERLIN, GRACE, HORIZON);

        long start = berlin.dayStart(millis("2026-03-29T12:00:00Z"));

        assertThat(start).isEqualTo(millis("2026-03-28T23:00:00Z"));
        assertThat(berlin.dayEnd(start)).isEqualTo(millis("2026-03-29T22:00:00Z"));
        assertThat(Duration.ofMillis(berlin.dayEnd(start) - start)).isEqualTo(Duration.ofHours(23));
        assertThat(berlin.closeTime(start)).isEqualTo(millis("2026-03-29T22:15:00Z"));
    }

    @Test
    void lasts25HoursOnFallBackDay() {
        BillingCalendar berlin = new BillingCalendar(BERLIN, GRACE, HORIZON);

        long start = berlin.dayStart(millis("2026-10-25T12:00:00Z"));

        assertThat(start).isEqualTo(millis("2026-10-24T22:00:00Z"));
        assertThat(berlin.dayEnd(start)).isEqualTo(millis("2026-10-25T23:00:00Z"));
        assertThat(Duration.ofMillis(berlin.dayEnd(start) - start)).isEqualTo(Duration.ofHours(25));
        // The hour that happens twice belongs to the same billing day both times.
        assertThat(berlin.dayStart(millis("2026-10-25T00:30:00Z"))).isEqualTo(start);
        assertThat(berlin.dayStart(millis("2026-10-25T01:30:00Z"))).isEqualTo(start);
    }

    @Test
    void givesSameAnswersWhenDaysAreAskedOutOfOrder() {
        BillingCalendar cached = new BillingCalendar(BERLIN, GRACE, HORIZON);
        long[] times = {
            millis("2026-03-29T12:00:00Z"), millis("2026-10-25T12:00:00Z"),
                    millis("2026-03-29T01:00:00Z"),
            millis("2026-01-01T00:00:00Z"), millis("2026-10-25T22:59:59.999Z"),
                    millis("2026-03-28T23:00:00Z"),
        };
        long[] starts = new long[times.length];
        for (int i = 0; i < times.length; i++) {
            starts[i] = fresh(BERLIN).dayStart(times[i]);
        }

        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < times.length; i++) {
                int other = (i + 1) % times.length;
                assertThat(cached.dayStart(times[i])).isEqualTo(starts[i]);
                // Ask about a day other than the cached one.
                assertThat(cached.dayEnd(starts[other]))
                        .isEqualTo(fresh(BERLIN).dayEnd(starts[other]));
                assertThat(cached.closeTime(starts[other]))
                        .isEqualTo(fresh(BERLIN).closeTime(starts[other]));
                assertThat(cached.correctionDeadline(starts[other]))
                        .isEqualTo(fresh(BERLIN).correctionDeadline(starts[other]));
                assertThat(cached.dayEnd(starts[i])).isEqualTo(fresh(BERLIN).dayEnd(starts[i]));
            }
        }
    }

    @Test
    void givesSameAnswersAfterJavaSerialization() throws Exception {
        shanghai.dayStart(millis("2026-03-10T01:00:00Z")); // fill the cache before serializing

        BillingCalendar copy = roundTrip(shanghai);

        assertThat(copy.zone()).isEqualTo(SHANGHAI);
        assertThat(copy.dayStart(0)).isEqualTo(millis("1969-12-31T16:00:00Z"));
        assertThat(copy.dayStart(millis("2026-03-10T01:00:00Z")))
                .isEqualTo(millis("2026-03-09T16:00:00Z"));
        assertThat(copy.closeTime(millis("2026-03-09T16:00:00Z")))
                .isEqualTo(millis("2026-03-10T16:15:00Z"));
    }

    private static BillingCalendar fresh(ZoneId zone) {
        return new BillingCalendar(zone, GRACE, HORIZON);
    }

    private static BillingCalendar roundTrip(BillingCalendar calendar) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(calendar);
        }
        try (ObjectInputStream in =
                new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (BillingCalendar) in.readObject();
        }
    }

    @Test
    void startsHoursAtLocalHourBoundariesInEveryKindOfZone() {
        Random random = new Random(7);
        for (String zoneId :
                List.of(
                        "Asia/Shanghai",
                        "Asia/Kolkata",
                        "Asia/Kathmandu",
                        "America/New_York",
                        "Europe/Berlin",
                        "Australia/Lord_Howe")) {
            ZoneId zone = ZoneId.of(zoneId);
            BillingCalendar calendar =
                    new BillingCalendar(zone, Duration.ofMinutes(15), Duration.ofDays(35));
            long from = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
            for (int i = 0; i < 20_000; i++) {
                long t = from + (long) (random.nextDouble() * 366 * 86_400_000L);
                long expected =
                        Instant.ofEpochMilli(t)
                                .atZone(zone)
                                .truncatedTo(ChronoUnit.HOURS)
                                .toInstant()
                                .toEpochMilli();
                assertThat(calendar.hourStart(t))
                        .as("%s at %s", zoneId, Instant.ofEpochMilli(t))
                        .isEqualTo(expected);
            }
        }
    }

    @Test
    void endsTheDayStartingAtEpochZeroAfterDeserialization() throws Exception {
        BillingCalendar utc =
                new BillingCalendar(ZoneId.of("UTC"), Duration.ofMinutes(15), Duration.ofDays(35));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(utc);
        }
        BillingCalendar copy;
        try (ObjectInputStream in =
                new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            copy = (BillingCalendar) in.readObject();
        }

        assertThat(copy.dayEnd(0)).isEqualTo(86_400_000L);
    }

    /**
     * I7: every method takes any long. Near the ends of the range the exact day boundary is not a
     * long; it saturates, so days stay ordered and no close time or deadline wraps around.
     */
    @Test
    void takesEveryLongWithoutThrowingAndSaturatesAtTheEnds() {
        long[] extremes = {
            Long.MIN_VALUE,
            Long.MIN_VALUE + 1,
            Long.MIN_VALUE + 86_400_000L,
            -1,
            0,
            Long.MAX_VALUE - 86_400_000L,
            Long.MAX_VALUE - 1,
            Long.MAX_VALUE
        };
        for (BillingCalendar calendar :
                List.of(
                        shanghai,
                        new BillingCalendar(BERLIN, GRACE, HORIZON),
                        new BillingCalendar(
                                ZoneId.of("Pacific/Kiritimati"), GRACE, Duration.ofDays(400)))) {
            for (long t : extremes) {
                long dayStart = calendar.dayStart(t);
                long dayEnd = calendar.dayEnd(dayStart);
                assertThat(dayStart).as("day start of %d", t).isLessThanOrEqualTo(t);
                assertThat(dayEnd)
                        .as("day end of %d", t)
                        .isGreaterThanOrEqualTo(Math.min(t, Long.MAX_VALUE - 1));
                assertThat(calendar.hourStart(t)).isBetween(dayStart, t);
                assertThat(calendar.closeTime(dayStart)).isGreaterThanOrEqualTo(dayEnd);
                assertThat(calendar.correctionDeadline(dayStart))
                        .isGreaterThanOrEqualTo(calendar.closeTime(dayStart));
                assertThat(calendar.billingDay(t)).isNotNull();
            }
        }
        assertThat(shanghai.dayStart(Long.MIN_VALUE)).isEqualTo(Long.MIN_VALUE);
        assertThat(shanghai.correctionDeadline(shanghai.dayStart(Long.MAX_VALUE)))
                .isEqualTo(Long.MAX_VALUE);
    }
}
