package io.tokenmeter.io;

import java.time.Duration;
import java.util.function.LongSupplier;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.util.clock.RelativeClock;

/**
 * Bounded out-of-orderness watermarks that keep moving while a live partition is quiet, and never
 * faster than time passes (I9). Flink's idleness only stops a quiet partition from holding the
 * others back; when every partition is quiet — traffic stops at 23:50 and resumes at 09:00 — the
 * watermark would stand still and the day would not close until morning.
 *
 * <p>A partition is <em>live</em> when its newest event was read no later than out-of-orderness +
 * idleness after its event time: it shows what its producers send now. Quiet for longer than the
 * idleness timeout, a live partition's watermark moves on from its last event at the rate time
 * passes — {@code maxTimestamp − outOfOrderness − 1 + (quiet − idleness)}, never past the wall
 * clock minus out-of-orderness and the timeout. Quiet is measured on Flink's input activity clock,
 * which stands still while the source is back-pressured, so event time never moves further than the
 * time that has actually passed.
 *
 * <p>A partition replaying a backlog (a catch-up, a replay of days) is not live: nothing tells a
 * broker stall from the end of its data, so its watermark is never moved by quiet, and a replay
 * with stalls gets exactly the watermarks of the same replay without them. Only after {@value
 * #IDLE_AFTER_TIMEOUTS} idleness timeouts of quiet is it marked idle, so that a partition whose
 * data has ended does not hold the others back for ever; the same wait applies to a partition that
 * has not delivered an event yet (readers take a while to start). A partition marked idle counts
 * again as soon as it delivers an event. This replaces Flink's {@code withIdleness}, which marks a
 * quiet partition idle and so stops its watermark altogether.
 *
 * <p>Events that arrive after such an advance are late, and are billed as corrections like any
 * other late event.
 */
public final class IdleAwareWatermarks<T> implements WatermarkGenerator<T> {

    /**
     * How many idleness timeouts a partition that is not live stays quiet before it is marked idle.
     */
    static final int IDLE_AFTER_TIMEOUTS = 10;

    private final long outOfOrdernessMillis;
    private final long idlenessMillis;
    private final RelativeClock activityClock;
    private final LongSupplier wallClock;

    private long maxTimestamp = Long.MIN_VALUE;
    private long lastEventActivityTime;

    /** Whether the newest event was live when read; decided when it was read, never later. */
    private boolean live;

    private boolean markedIdle;
    private long emitted = Long.MIN_VALUE;

    /**
     * @param activityClock measures quiet spells; Flink's input activity clock stands still while
     *     the source is back-pressured, so a partition waiting on a slow job is never taken for a
     *     quiet one
     * @param wallClock tells live partitions from backlogs, and bounds a quiet live partition's
     *     watermark
     */
    public IdleAwareWatermarks(
            Duration outOfOrderness,
            Duration idleness,
            RelativeClock activityClock,
            LongSupplier wallClock) {
        this.outOfOrdernessMillis = outOfOrderness.toMillis();
        this.idlenessMillis = idleness.toMillis();
        this.activityClock = activityClock;
        this.wallClock = wallClock;
        this.lastEventActivityTime = activityClock.relativeTimeMillis();
    }

    @Override
    public void onEvent(T event, long eventTimestamp, WatermarkOutput output) {
        // Records without an event time (rejected at the source) carry Long.MIN_VALUE and count as
        // no event.
        if (eventTimestamp == Long.MIN_VALUE) {
            return;
        }
        lastEventActivityTime = activityClock.relativeTimeMillis();
        if (eventTimestamp > maxTimestamp) {
            maxTimestamp = eventTimestamp;
            long readAt = wallClock.getAsLong();
            live = eventTimestamp >= minus(readAt, outOfOrdernessMillis + idlenessMillis);
        }
    }

    @Override
    public void onPeriodicEmit(WatermarkOutput output) {
        long quietFor = activityClock.relativeTimeMillis() - lastEventActivityTime;
        boolean quiet = quietFor > idlenessMillis;
        if (maxTimestamp == Long.MIN_VALUE) {
            // Nothing read yet: an empty partition, or one whose reader is still starting. Marked
            // idle too early, the partitions already running would carry the watermark past this
            // one's backlog and make it late.
            markIdleAfterLongQuiet(quietFor, output);
            return;
        }
        long candidate = minus(maxTimestamp, outOfOrdernessMillis + 1);
        if (quiet && live) {
            long followed = plus(candidate, quietFor - idlenessMillis);
            long wallBound = minus(wallClock.getAsLong(), outOfOrdernessMillis + idlenessMillis);
            candidate = Math.max(candidate, Math.min(followed, wallBound));
        } else if (quiet) {
            markIdleAfterLongQuiet(quietFor, output);
        }
        if (candidate > emitted) {
            emitted = candidate;
            markedIdle = false;
            output.emitWatermark(new Watermark(emitted));
        } else if (markedIdle && !quiet) {
            // Events again, none newer than before: without this, Flink would go on leaving the
            // partition out.
            markedIdle = false;
            output.markActive();
        }
    }

    private void markIdleAfterLongQuiet(long quietFor, WatermarkOutput output) {
        if (!markedIdle && quietFor > IDLE_AFTER_TIMEOUTS * idlenessMillis) {
            markedIdle = true;
            output.markIdle();
        }
    }

    /**
     * {@code a - b} for b ≥ 0, stopping at Long.MIN_VALUE: event times near the ends of the range
     * never wrap.
     */
    private static long minus(long a, long b) {
        long r = a - b;
        return r > a ? Long.MIN_VALUE : r;
    }

    /**
     * {@code a + b} for b ≥ 0, stopping at Long.MAX_VALUE − 1 (Long.MAX_VALUE would end event
     * time).
     */
    private static long plus(long a, long b) {
        long r = a + b;
        return r < a || r == Long.MAX_VALUE ? Long.MAX_VALUE - 1 : r;
    }
}
