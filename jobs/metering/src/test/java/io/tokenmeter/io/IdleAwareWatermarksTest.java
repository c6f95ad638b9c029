package io.tokenmeter.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.util.clock.RelativeClock;
import org.junit.jupiter.api.Test;

class IdleAwareWatermarksTest {

    private static final long MINUTE = 60_000;

    private final AtomicLong activity = new AtomicLong(0);
    private final AtomicLong wall = new AtomicLong(1_000_000 * MINUTE);
    private final RelativeClock activityClock = clockOf(activity);
    private final IdleAwareWatermarks<String> generator =
            new IdleAwareWatermarks<>(
                    Duration.ofMinutes(2), Duration.ofMinutes(1), activityClock, wall::get);
    private final List<Long> emitted = new ArrayList<>();
    private int idleMarks;
    private int activeMarks;
    private final WatermarkOutput output =
            new WatermarkOutput() {
                @Override
                public void emitWatermark(Watermark watermark) {
                    emitted.add(watermark.getTimestamp());
                }

                @Override
                public void markIdle() {
                    idleMarks++;
                }

                @Override
                public void markActive() {
                    activeMarks++;
                }
            };

    @Test
    void trailsTheHighestEventTimeByTheOutOfOrdernessWhileEventsFlow() {
        generator.onEvent("a", 10 * MINUTE, output);
        generator.onEvent("b", 8 * MINUTE, output);
        generator.onPeriodicEmit(output);

        assertThat(emitted).containsExactly(8 * MINUTE - 1);
    }

    @Test
    void ignoresRecordsWithoutEventTime() {
        generator.onEvent("rejected", Long.MIN_VALUE, output);
        generator.onPeriodicEmit(output);

        assertThat(emitted).isEmpty();
    }

    /**
     * Live: its newest event was read when it happened. Quiet, it then moves on with the wall
     * clock.
     */
    @Test
    void followsTheWallClockOnceLiveAndQuietForLongerThanTheIdlenessTimeout() {
        long readAt = wall.get();
        generator.onEvent("a", readAt, output);
        pass(MINUTE); // exactly the timeout: not quiet yet
        generator.onPeriodicEmit(output);
        pass(1);
        generator.onPeriodicEmit(output);

        // 1 ms quiet beyond the timeout: 1 ms on; the wall clock (minus 3 min) would allow 1 ms
        // more.
        assertThat(emitted).containsExactly(readAt - 2 * MINUTE - 1, readAt - 2 * MINUTE);
        assertThat(emitted.get(1)).isLessThan(wall.get() - 3 * MINUTE);
    }

    @Test
    void standsStillWhileBackPressuredBecauseTheActivityClockDoes() {
        generator.onEvent("a", 10 * MINUTE, output);
        wall.addAndGet(
                60 * MINUTE); // an hour of wall time, but the source was blocked: no activity time
        generator.onPeriodicEmit(output);

        assertThat(emitted).containsExactly(8 * MINUTE - 1);
    }

    @Test
    void onlyMarksAPartitionIdleThatHasNotDeliveredAnEventYetAfterTenIdlenessTimeouts() {
        activity.addAndGet(10 * MINUTE); // quiet since start-up: a reader may still be starting
        generator.onPeriodicEmit(output);
        assertThat(idleMarks).isZero();

        activity.addAndGet(1); // now surely empty
        generator.onPeriodicEmit(output);

        assertThat(emitted).isEmpty();
        assertThat(idleMarks).isEqualTo(1);
    }

    /**
     * I9: a live partition's quiet advance is bounded by the time that passed since its last event.
     */
    @Test
    void movesALiveQuietPartitionNoFurtherThanTheTimeThatPassed() {
        long eventTime = wall.get() - 10_000; // read 10 s after it happened: live
        generator.onEvent("a", eventTime, output);
        pass(MINUTE + 30_000);
        generator.onPeriodicEmit(output);
        pass(60 * MINUTE);
        generator.onPeriodicEmit(output);

        long ordinary = eventTime - 2 * MINUTE - 1;
        assertThat(emitted).containsExactly(ordinary + 30_000, ordinary + 60 * MINUTE + 30_000);
    }

    /**
     * Traffic stops at 23:50 in Shanghai; the day (closing at 00:15) closes at night, not when
     * traffic resumes.
     */
    @Test
    void closesTheDayAtNightOnceLiveTrafficStops() {
        long lastEvent = Instant.parse("2026-03-10T15:50:00Z").toEpochMilli(); // 23:50 local
        long dayClose = Instant.parse("2026-03-10T16:15:00Z").toEpochMilli(); // 00:15 local
        wall.set(lastEvent - MINUTE);
        for (long t = lastEvent - MINUTE; t <= lastEvent; t += 1_000) {
            generator.onEvent("a", t, output);
            pass(1_000);
            generator.onPeriodicEmit(output);
        }
        while (emitted.get(emitted.size() - 1) < dayClose) {
            pass(200);
            generator.onPeriodicEmit(output);
        }

        assertThat(wall.get())
                .as("wall clock when the day closes")
                .isLessThanOrEqualTo(dayClose + 3 * MINUTE + 1_000);
    }

    /**
     * A replay of a backlog days behind the wall clock, stalled (broker down) for longer than the
     * idleness timeout: exactly the watermarks of the same replay without the stall. No partition
     * can tell a stall from quiet, and a backlog's event time is no measure of what has passed.
     */
    @Test
    void movesAStalledReplayExactlyAsTheSameReplayWithoutTheStall() {
        Replay unstalled = Replay.run(0);
        Replay stalled = Replay.run(61_000);

        assertThat(stalled.emitted).isEqualTo(unstalled.emitted);
        assertThat(stalled.idleMarks).isZero();
    }

    /**
     * Stalled for ten idleness timeouts, a backlog partition no longer holds the others back; it is
     * still not moved.
     */
    @Test
    void marksALongStalledReplayIdleWithoutMovingIt() {
        Replay unstalled = Replay.run(0);
        Replay stalled = Replay.run(15 * MINUTE);

        assertThat(stalled.idleMarks).isEqualTo(1);
        assertThat(stalled.emitted).isEqualTo(unstalled.emitted);
    }

    /** Marked idle, then events again, none newer than before: it must count again all the same. */
    @Test
    void marksAnIdlePartitionActiveAgainWhenItsEventsResume() {
        generator.onEvent("a", 10 * MINUTE, output);
        generator.onPeriodicEmit(output);
        pass(10 * MINUTE + 1);
        generator.onPeriodicEmit(output);
        assertThat(idleMarks).isEqualTo(1);

        generator.onEvent("older", 9 * MINUTE, output);
        generator.onPeriodicEmit(output);

        assertThat(activeMarks).isEqualTo(1);
        assertThat(emitted).containsExactly(8 * MINUTE - 1);
    }

    /**
     * A catch-up after an outage: its backlog holds event time, its first live events let quiet
     * move it again.
     */
    @Test
    void movesAgainWhileQuietOnceACatchUpHasReachedLiveEvents() {
        generator.onEvent("backlog", wall.get() - 60 * MINUTE, output);
        pass(2 * MINUTE);
        generator.onPeriodicEmit(output);
        assertThat(emitted).containsExactly(wall.get() - 64 * MINUTE - 1);

        long live = wall.get() - 30_000;
        generator.onEvent("caught-up", live, output);
        pass(2 * MINUTE);
        generator.onPeriodicEmit(output);

        assertThat(emitted).last().isEqualTo(live - 2 * MINUTE - 1 + MINUTE);
    }

    @Test
    void neverWrapsAroundAtTheEndsOfTheLongRange() {
        generator.onEvent("a", Long.MIN_VALUE + 1, output);
        generator.onPeriodicEmit(output);
        assertThat(emitted).isEmpty();

        generator.onEvent("b", Long.MAX_VALUE - 1, output);
        generator.onPeriodicEmit(output);
        pass(10 * MINUTE);
        generator.onPeriodicEmit(output);
        assertThat(emitted)
                .isNotEmpty()
                .allSatisfy(w -> assertThat(w).isLessThan(Long.MAX_VALUE).isPositive());
    }

    /**
     * Time passes for the activity clock and the wall clock alike: the source is not
     * back-pressured.
     */
    private void pass(long millis) {
        activity.addAndGet(millis);
        wall.addAndGet(millis);
    }

    /**
     * One partition replaying 20 minutes of events from three days ago, read at 5 events per 200
     * ms.
     */
    private record Replay(List<Long> emitted, int idleMarks) {

        static Replay run(long stallMillis) {
            AtomicLong activity = new AtomicLong();
            AtomicLong wall = new AtomicLong(Instant.parse("2026-03-13T12:00:00Z").toEpochMilli());
            long backlogStart = wall.get() - 3 * 24 * 60 * MINUTE;
            RelativeClock clock = clockOf(activity);
            IdleAwareWatermarks<String> generator =
                    new IdleAwareWatermarks<>(
                            Duration.ofMinutes(2), Duration.ofMinutes(1), clock, wall::get);
            List<Long> emitted = new ArrayList<>();
            int[] idleMarks = {0};
            WatermarkOutput output =
                    new WatermarkOutput() {
                        @Override
                        public void emitWatermark(Watermark watermark) {
                            emitted.add(watermark.getTimestamp());
                        }

                        @Override
                        public void markIdle() {
                            idleMarks[0]++;
                        }

                        @Override
                        public void markActive() {}
                    };
            for (int i = 0; i < 1_200; i++) {
                if (i == 600) {
                    for (long stalled = 0; stalled < stallMillis; stalled += 200) {
                        activity.addAndGet(200);
                        wall.addAndGet(200);
                        generator.onPeriodicEmit(output);
                    }
                }
                // Every tenth event is a retry from a minute before: out of order, but within the
                // bound.
                long eventTime = backlogStart + i * 1_000L - (i % 10 == 0 ? MINUTE : 0);
                generator.onEvent("e", eventTime, output);
                if (i % 5 == 4) {
                    activity.addAndGet(200);
                    wall.addAndGet(200);
                    generator.onPeriodicEmit(output);
                }
            }
            return new Replay(emitted, idleMarks[0]);
        }
    }

    @Test
    void neverMovesBackwards() {
        generator.onEvent(
                "a", wall.get() + 10 * MINUTE, output); // event time ahead of the wall clock
        generator.onPeriodicEmit(output);
        activity.addAndGet(2 * MINUTE);
        generator.onPeriodicEmit(output);

        assertThat(emitted).containsExactly(wall.get() + 8 * MINUTE - 1);
    }

    /** An input activity clock that reads {@code millis}: the tests move it by hand. */
    private static RelativeClock clockOf(AtomicLong millis) {
        return new RelativeClock() {
            @Override
            public long relativeTimeMillis() {
                return millis.get();
            }

            @Override
            public long relativeTimeNanos() {
                return millis.get() * 1_000_000;
            }
        };
    }
}
