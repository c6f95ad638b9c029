package io.tokenmeter.functions;

import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.state.AccountBillingState;
import io.tokenmeter.logic.AccountBilling;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.MetricLabels;
import io.tokenmeter.logic.UsagePartial;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.Collector;

/**
 * Bills each account's usage per billing day, in event time. Keyed by account id; the rules are in
 * {@link AccountBilling}.
 *
 * <p>When the watermark passes a day's close time (local midnight + grace) the day's on-time usage is emitted as
 * the ORIGINAL billing record (version 1). Late usage — judged late by its partition's clock at the source or by
 * deduplication's watermark, or arriving after its day closed here — is billed as an ADJUSTMENT (version 2, 3, ...)
 * carrying only the new usage, as soon as the day has closed and the watermark moves on. Events for days past
 * their correction deadline never get here: deduplication rejects them as TOO_LATE with their original bytes.
 *
 * <p>State: one Avro {@link AccountBillingState} per account, read and written whole, so that a timer finds the
 * due days without iterating map state. Clean-up: a day's lines are cleared when billed; the day itself (its
 * version number) is removed by a timer at its correction deadline; the state is cleared when no day is left.
 * Timers: one at each day's close time, one at the next watermark for a correction, one at each billed day's
 * correction deadline.
 */
public class DailyBillingFunction extends WatermarkRememberingFunction<String, UsagePartial, BillingRecord> {

    private final BillingCalendar calendar;
    private final MetricLabels labels;

    private transient AccountBilling billing;
    private transient MeteringMetrics metrics;
    /** For the health gauges: the wall-clock lag of event time, and how late after midnight the last day closed. */
    private transient volatile long lastWatermark;
    private transient volatile long lastDayCloseDelayMillis;
    /** Tokens of events whose billing day is today on the wall clock, for the "today so far" gauge. */
    private transient long todayStart;
    private transient volatile long todayEnd;
    private transient volatile long todayTokens;
    private transient ValueState<AccountBillingState> accountState;

    public DailyBillingFunction(BillingCalendar calendar, MetricLabels labels) {
        this.calendar = calendar;
        this.labels = labels;
    }

    @Override
    public void open(OpenContext openContext) {
        billing = new AccountBilling(calendar);
        metrics = new MeteringMetrics(getRuntimeContext().getMetricGroup(), labels);
        lastWatermark = Long.MIN_VALUE;
        metrics.group().gauge("event_time_lag_seconds", () -> lastWatermark == Long.MIN_VALUE
                ? 0L : Math.max(0L, (System.currentTimeMillis() - lastWatermark) / 1000));
        metrics.group().gauge("day_close_delay_seconds", () -> lastDayCloseDelayMillis / 1000);
        metrics.group().gauge("today_tokens", this::tokensToday);
        accountState = getRuntimeContext().getState(
                new ValueStateDescriptor<>("account-billing", TypeInformation.of(AccountBillingState.class)));
    }

    @Override
    public void processElement(UsagePartial usage, Context ctx, Collector<BillingRecord> out) throws Exception {
        long dayStart = usage.dayStart;
        long watermark = watermark(ctx);
        lastWatermark = watermark;
        AccountBillingState state = accountState.value();
        if (state == null) {
            state = AccountBilling.emptyState();
        }
        state.setRegion(usage.region);
        long closeTime = calendar.closeTime(dayStart);
        boolean late = usage.late || closeTime <= watermark;
        boolean firstUnbilled = billing.addUsage(state, dayStart, usage.model, usage.modality,
                usage.inputTokens, usage.outputTokens, usage.cachedTokens, usage.events, late);
        if (firstUnbilled) {
            // An open day is billed when it closes; a closed day is corrected as soon as the watermark moves on.
            ctx.timerService().registerEventTimeTimer(Math.max(closeTime, watermark + 1));
        }
        accountState.update(state);
        metrics.counted(usage, late);
        countToday(usage);
    }

    private void countToday(UsagePartial usage) {
        long now = System.currentTimeMillis();
        if (now >= todayEnd) {
            // Not the calendar's cached methods: the gauge below runs on the metrics reporter's thread.
            java.time.LocalDate today = java.time.LocalDate.now(calendar.zone());
            todayStart = today.atStartOfDay(calendar.zone()).toInstant().toEpochMilli();
            todayTokens = 0;
            todayEnd = today.plusDays(1).atStartOfDay(calendar.zone()).toInstant().toEpochMilli();
        }
        if (usage.dayStart == todayStart) {
            todayTokens += usage.totalTokens();
        }
    }

    private long tokensToday() {
        return System.currentTimeMillis() < todayEnd ? todayTokens : 0;
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<BillingRecord> out) throws Exception {
        AccountBillingState state = accountState.value();
        if (state == null) {
            return;
        }
        lastWatermark = ctx.timerService().currentWatermark();
        for (BillingRecord record : billing.billDue(state, ctx.getCurrentKey(), timestamp)) {
            out.collect(record);
            metrics.billed(record);
            long dayStart = record.getDayStart().toEpochMilli();
            if (record.getVersion() == 1 && timestamp == calendar.closeTime(dayStart)) {
                // Only a day closing on its own close timer says when days close; a late-only day's empty
                // ORIGINAL can come at any time.
                lastDayCloseDelayMillis = System.currentTimeMillis() - record.getDayEnd().toEpochMilli();
            }
            if (record.getVersion() == 1) {
                ctx.timerService().registerEventTimeTimer(
                        calendar.correctionDeadline(record.getDayStart().toEpochMilli()));
            }
        }
        if (AccountBilling.isEmpty(state)) {
            accountState.clear();
        } else {
            accountState.update(state);
        }
    }
}
