package io.tokenmeter.io;

import java.time.Duration;
import java.util.function.LongSupplier;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.util.clock.RelativeClock;

/**
 * Bounded out-of-orderness watermarks that keep moving while a partition is quiet. Flink's idleness only stops a
 * quiet partition from holding the others back; when every partition is quiet — traffic stops at 23:50 and
 * resumes at 09:00 — the watermark would stand still and the day would not close until morning. Here a partition
 * quiet for longer than the idleness timeout lets its watermark follow the wall clock (minus out-of-orderness and
 * the timeout), never past what the wall clock allows and never backwards. A partition that has not delivered a
 * single event yet is only marked idle — after ten idleness timeouts, as readers take a while to start — so it holds
 * nobody back and closes nothing. This replaces Flink's
 * {@code withIdleness}, which marks a quiet partition idle and so stops its watermark altogether.
 *
 * <p>Events that arrive after such an advance are late, and are billed as corrections like any other late event.
 */
public final class IdleAwareWatermarks<T> implements WatermarkGenerator<T> {

    /** How many idleness timeouts a partition may take to deliver its first event before it is marked idle. */
    static final int FIRST_EVENT_WAIT_FACTOR = 10;

    private final long outOfOrdernessMillis;
    private final long idlenessMillis;
    private final RelativeClock activityClock;
    private final LongSupplier wallClock;

    private long maxTimestamp = Long.MIN_VALUE;
    private long lastEventActivityTime;
    private long emitted = Long.MIN_VALUE;

    /**
     * @param activityClock measures quiet spells; Flink's input activity clock stands still while the source is
     *     back-pressured, so a partition waiting on a slow job is never taken for a quiet one
     * @param wallClock the time the watermark follows while the partition is quiet
     */
    public IdleAwareWatermarks(
            Duration outOfOrderness, Duration idleness, RelativeClock activityClock, LongSupplier wallClock) {
        this.outOfOrdernessMillis = outOfOrderness.toMillis();
        this.idlenessMillis = idleness.toMillis();
        this.activityClock = activityClock;
        this.wallClock = wallClock;
        this.lastEventActivityTime = activityClock.relativeTimeMillis();
    }

    @Override
    public void onEvent(T event, long eventTimestamp, WatermarkOutput output) {
        // Records without an event time (rejected at the source) carry Long.MIN_VALUE and count as no event.
        if (eventTimestamp != Long.MIN_VALUE) {
            maxTimestamp = Math.max(maxTimestamp, eventTimestamp);
            lastEventActivityTime = activityClock.relativeTimeMillis();
        }
    }

    @Override
    public void onPeriodicEmit(WatermarkOutput output) {
        long quietFor = activityClock.relativeTimeMillis() - lastEventActivityTime;
        if (maxTimestamp == Long.MIN_VALUE) {
            // Nothing read yet: an empty partition, or one whose reader is still starting. Marked idle too early,
            // the partitions already running would carry the watermark past this one's backlog and make it late;
            // so only after a much longer wait, and never by the wall clock.
            if (quietFor > FIRST_EVENT_WAIT_FACTOR * idlenessMillis) {
                output.markIdle();
            }
            return;
        }
        boolean quiet = quietFor > idlenessMillis;
        long candidate = maxTimestamp - outOfOrdernessMillis - 1;
        if (quiet) {
            candidate = Math.max(candidate, wallClock.getAsLong() - outOfOrdernessMillis - idlenessMillis);
        }
        if (candidate > emitted) {
            emitted = candidate;
            output.emitWatermark(new Watermark(emitted));
        }
    }
}
