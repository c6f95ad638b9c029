package io.tokenmeter.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
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
    private final RelativeClock activityClock = new RelativeClock() {
        @Override
        public long relativeTimeMillis() {
            return activity.get();
        }

        @Override
        public long relativeTimeNanos() {
            return activity.get() * 1_000_000;
        }
    };
    private final IdleAwareWatermarks<String> generator =
            new IdleAwareWatermarks<>(Duration.ofMinutes(2), Duration.ofMinutes(1), activityClock, wall::get);
    private final List<Long> emitted = new ArrayList<>();
    private int idleMarks;
    private final WatermarkOutput output = new WatermarkOutput() {
        @Override
        public void emitWatermark(Watermark watermark) {
            emitted.add(watermark.getTimestamp());
        }

        @Override
        public void markIdle() {
            idleMarks++;
        }

        @Override
        public void markActive() {}
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

    @Test
    void followsTheWallClockOnceQuietForLongerThanTheIdlenessTimeout() {
        generator.onEvent("a", 10 * MINUTE, output);
        activity.addAndGet(MINUTE); // exactly the timeout: not quiet yet
        generator.onPeriodicEmit(output);
        activity.addAndGet(1);
        generator.onPeriodicEmit(output);

        assertThat(emitted).containsExactly(10 * MINUTE - 2 * MINUTE - 1, wall.get() - 3 * MINUTE);
    }

    @Test
    void standsStillWhileBackPressuredBecauseTheActivityClockDoes() {
        generator.onEvent("a", 10 * MINUTE, output);
        wall.addAndGet(60 * MINUTE); // an hour of wall time, but the source was blocked: no activity time
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

    @Test
    void neverMovesBackwards() {
        generator.onEvent("a", wall.get() + 10 * MINUTE, output); // event time ahead of the wall clock
        generator.onPeriodicEmit(output);
        activity.addAndGet(2 * MINUTE);
        generator.onPeriodicEmit(output);

        assertThat(emitted).containsExactly(wall.get() + 8 * MINUTE - 1);
    }
}
