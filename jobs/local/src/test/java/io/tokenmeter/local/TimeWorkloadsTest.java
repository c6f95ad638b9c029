package io.tokenmeter.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.testkit.GeneratedRecord;
import io.tokenmeter.testkit.GeneratedRecord.Kind;
import io.tokenmeter.testkit.WorkloadGenerator;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TimeWorkloadsTest {

    private static final long EVENTS = 20_000;

    @Test
    void liveWorkloadEndsBeforeAMidnightOfItsOwnZone() {
        TimeWorkloads.Live live = new TimeWorkloads.Live(EVENTS, 500, 7);

        assertThat(live.midnight.atZone(live.zone).toLocalTime()).isEqualTo(LocalTime.MIDNIGHT);
        assertThat(live.midnight).isAfter(Instant.now());
        WorkloadGenerator generator = new WorkloadGenerator(live.spec);
        long previousDay = 0;
        for (long i = 0; i < EVENTS; i++) {
            GeneratedRecord r = generator.record(i);
            if (r.event() != null && r.kind() != Kind.DUPLICATE) {
                LocalDate day = LocalDate.ofInstant(r.event().getEventTime(), live.zone);
                // Nothing after midnight (it would sit in a day that never closes during the
                // fault), nothing before the previous day (past its deadline before the job
                // starts).
                assertThat(day).isBetween(live.closingDay().minusDays(1), live.closingDay());
                previousDay += day.equals(live.closingDay()) ? 0 : 1;
            }
        }
        assertThat(previousDay).as("late events for the day before").isPositive();
    }

    @Test
    void stragglersRepeatBilledAccountsInTheForgottenDayAndTheClosedHour() {
        TimeWorkloads.Live live = new TimeWorkloads.Live(EVENTS, 500, 7);

        List<List<GeneratedRecord>> stragglers = live.stragglers(4);

        assertThat(stragglers).hasSize(4);
        for (List<GeneratedRecord> batch : stragglers) {
            GeneratedRecord tooLate = batch.get(0);
            GeneratedRecord late = batch.get(1);
            assertThat(tooLate.kind()).isEqualTo(Kind.TOO_LATE);
            assertThat(LocalDate.ofInstant(tooLate.event().getEventTime(), live.zone))
                    .isEqualTo(live.closingDay().minusDays(1));
            assertThat(late.kind()).isEqualTo(Kind.LATE);
            assertThat(late.event().getEventTime())
                    .isBetween(
                            live.midnight.minus(Duration.ofHours(1)), live.midnight.minusMillis(1));
        }
        assertThat(
                        stragglers.stream()
                                .flatMap(List::stream)
                                .map(r -> r.event().getAccountId())
                                .distinct())
                .hasSize(8);
    }

    @Test
    void backlogRetriesComeADayOrMoreLaterWithinTheDedupHorizon() {
        // As many events as the fault suite writes: the generator's own retries then repeat records
        // of the last 10,000, a few hours back, and only the backlog's come a day or more later.
        TimeWorkloads.Backlog backlog =
                new TimeWorkloads.Backlog(100_000, 5_000, 7, ZoneId.of("Asia/Shanghai"));

        // A retry repeats its first delivery byte for byte, event time included: how much later it
        // comes is how far the stream's event time has got where it is written.
        Map<String, Long> firstSeen = new HashMap<>();
        long streamTime = Long.MIN_VALUE;
        long longRetries = 0;
        for (GeneratedRecord r : backlog.records) {
            if (r.event() == null) {
                continue;
            }
            String id = r.event().getSource() + "/" + r.event().getEventId();
            long time = r.event().getEventTime().toEpochMilli();
            if (r.kind() == Kind.VALID) {
                firstSeen.putIfAbsent(id, time);
                streamTime = Math.max(streamTime, time);
            } else if (r.kind() == Kind.DUPLICATE && firstSeen.containsKey(id)) {
                long later = streamTime - firstSeen.get(id);
                if (later >= Duration.ofHours(24).toMillis()) {
                    longRetries++;
                    assertThat(later)
                            .isBetween(
                                    TimeWorkloads.Backlog.RETRY_MIN_DELAY
                                            .minusMinutes(2)
                                            .toMillis(),
                                    TimeWorkloads.Backlog.RETRY_MAX_DELAY
                                            .plusMinutes(2)
                                            .toMillis());
                    assertThat(later).isLessThan(TimeWorkloads.Backlog.DEDUP_HORIZON.toMillis());
                }
            }
        }
        assertThat(longRetries).isEqualTo(backlog.retries).isPositive();
        assertThat(backlog.retriesAcrossTheCut()).isPositive();
    }
}
