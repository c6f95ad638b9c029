package io.tokenmeter.functions;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.state.AccountState;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.UsagePartial;
import io.tokenmeter.logic.billing.AccountBilling;
import io.tokenmeter.logic.billing.OpenHours;
import io.tokenmeter.logic.billing.UsageRows;
import io.tokenmeter.logic.ingest.MetricLabels;
import java.time.LocalDate;
import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Meters each account in event time: bills its usage per billing day, and reports its usage per
 * local hour and per billing day. Keyed by account id; one state value per account holds both, so
 * every piece of usage costs one state read and one write.
 *
 * <p>Billing (the rules are in {@link AccountBilling}): when the watermark passes a day's close
 * time (local midnight + grace) the day's on-time usage is emitted as the ORIGINAL billing record
 * (version 1). Late usage — judged late by its partition's clock at the source or by
 * deduplication's watermark, or arriving after its day closed here — is billed as an ADJUSTMENT
 * (version 2, 3, ...) carrying only the new usage, as soon as the day has closed and the watermark
 * moves on. Events for days past their correction deadline never get here: deduplication rejects
 * them as TOO_LATE with their original bytes.
 *
 * <p>Account usage rows, to {@link #ACCOUNT_USAGE}: when the watermark passes an hour's end, the
 * hour's ORIGINAL rows. The open hours are kept in memory ({@link OpenHours}) and checkpointed as
 * union operator state in blocks ({@link OpenHoursBlocks}), each account-hour restored by the
 * subtask that owns its account: an hour lives about an hour of event time, and closing it by the
 * watermark costs no timer and no keyed-state read or write per account-hour. An event for an hour
 * already closed comes with its own correction id and is emitted at once as an ADJUSTMENT row of
 * its own, so nothing is kept for closed hours. With every billing record, its day rows (one per
 * line item, of the record's kind). Emitting them here rather than from a separate stream keeps the
 * rows in this task: the sink and the regional pre-aggregation that read them are chained to it.
 *
 * <p>Clean-up: a day's lines are cleared when billed; the day itself (its version number) is
 * removed by a timer at its clean-up time (its correction deadline rounded up to a week, {@link
 * BillingCalendar#cleanUpTime}); the state is cleared when nothing is left; an hour leaves memory
 * when it closes. Timers: one at each day's close time, one at the next watermark for a correction,
 * one per week in which billed days reach their deadline.
 */
public class AccountMeteringFunction
        extends WatermarkRememberingFunction<String, UsagePartial, BillingRecord>
        implements CheckpointedFunction {

    public static final OutputTag<AccountUsage> ACCOUNT_USAGE =
            new OutputTag<>("account-usage", TypeInformation.of(AccountUsage.class));

    private final BillingCalendar calendar;
    private final MetricLabels labels;

    private transient AccountBilling billing;
    private transient MeteringMetrics.Billing metrics;

    /**
     * For the health gauges: the wall-clock lag of event time, and how late after midnight the last
     * day closed.
     */
    private transient volatile long lastWatermark;

    private transient volatile long lastDayCloseDelayMillis;

    /**
     * Tokens of events whose billing day is today on the wall clock, for the "today so far" gauge.
     */
    private transient long todayStart;

    private transient volatile long todayEnd;
    private transient volatile long todayTokens;
    private transient ValueState<AccountState> accountState;
    private transient OpenHours openHours;
    private transient ListState<byte[]> checkpointedHours;

    public AccountMeteringFunction(BillingCalendar calendar, MetricLabels labels) {
        this.calendar = calendar;
        this.labels = labels;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        openHours = new OpenHours();
        checkpointedHours =
                context.getOperatorStateStore()
                        .getUnionListState(
                                new ListStateDescriptor<>(
                                        "open-hours", BytePrimitiveArraySerializer.INSTANCE));
        if (context.isRestored()) {
            TaskInfo task = getRuntimeContext().getTaskInfo();
            KeyGroupRange owned =
                    KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(
                            task.getMaxNumberOfParallelSubtasks(),
                            task.getNumberOfParallelSubtasks(),
                            task.getIndexOfThisSubtask());
            OpenHoursBlocks.read(
                    checkpointedHours.get(),
                    accountId ->
                            owned.contains(
                                    KeyGroupRangeAssignment.assignToKeyGroup(
                                            accountId, task.getMaxNumberOfParallelSubtasks())),
                    openHours);
        }
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        checkpointedHours.update(OpenHoursBlocks.write(openHours));
    }

    @Override
    public void open(OpenContext openContext) {
        billing = new AccountBilling(calendar);
        metrics = MeteringMetrics.billing(getRuntimeContext().getMetricGroup(), labels);
        lastWatermark = Long.MIN_VALUE;
        metrics.gauges(
                () ->
                        lastWatermark == Long.MIN_VALUE
                                ? 0L
                                : Math.max(0L, (System.currentTimeMillis() - lastWatermark) / 1000),
                () -> lastDayCloseDelayMillis / 1000,
                this::tokensToday);
        accountState =
                getRuntimeContext()
                        .getState(
                                new ValueStateDescriptor<>(
                                        "account-state", AccountStateSerializer.INSTANCE));
    }

    @Override
    public void processElement(UsagePartial usage, Context ctx, Collector<BillingRecord> out)
            throws Exception {
        long watermark = watermark(ctx);
        lastWatermark = watermark;
        long hourEnd = usage.hourStart + UsageRows.HOUR_MILLIS;
        if (usage.hourCorrectionId == null && hourEnd <= watermark) {
            // Deduplication judges hours against a watermark never behind this one, restores
            // included (see WatermarkRememberingOperator), so no input gets here; reopening a
            // closed hour would emit its ORIGINAL rows a second time, so stop rather than write a
            // wrong hour.
            throw new IllegalStateException(
                    "usage of account "
                            + usage.accountId
                            + " for an hour closed at "
                            + hourEnd
                            + " arrived without a correction id at watermark "
                            + watermark);
        }
        AccountState state = accountState.value();
        if (state == null) {
            state = AccountBilling.emptyState();
        }
        state.setRegion(usage.region);

        long closeTime = calendar.closeTime(usage.dayStart);
        boolean late = usage.late || closeTime <= watermark;
        if (billing.addUsage(state, usage, late)) {
            // An open day is billed when it closes; a closed day is corrected as soon as the
            // watermark moves on.
            ctx.timerService().registerEventTimeTimer(Math.max(closeTime, watermark + 1));
        }
        if (usage.hourCorrectionId != null) {
            ctx.output(ACCOUNT_USAGE, UsageRows.hourCorrection(usage, calendar));
            openHours.noteRegion(usage.accountId, usage.region);
        } else {
            openHours.add(usage);
        }
        accountState.update(state);
        metrics.counted(usage, late);
        countToday(usage);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<BillingRecord> out)
            throws Exception {
        AccountState state = accountState.value();
        if (state == null) {
            return;
        }
        lastWatermark = ctx.timerService().currentWatermark();
        String accountId = ctx.getCurrentKey();
        for (BillingRecord record : billing.billDue(state, accountId, timestamp)) {
            out.collect(record);
            for (AccountUsage dayRow : UsageRows.dayRows(record, calendar)) {
                ctx.output(ACCOUNT_USAGE, dayRow);
            }
            metrics.billed(record);
            long dayStart = record.getDayStart().toEpochMilli();
            if (record.getVersion() == 1 && timestamp == calendar.closeTime(dayStart)) {
                // Only a day closing on its own close timer says when days close; a late-only day's
                // empty ORIGINAL can come at any time.
                lastDayCloseDelayMillis =
                        System.currentTimeMillis() - record.getDayEnd().toEpochMilli();
            }
            if (record.getVersion() == 1) {
                ctx.timerService().registerEventTimeTimer(calendar.cleanUpTime(dayStart));
            }
        }
        if (AccountBilling.isEmpty(state)) {
            accountState.clear();
        } else {
            accountState.update(state);
        }
    }

    /**
     * Closes the hours the watermark has passed: before the timers of the same watermark close
     * their days.
     */
    @Override
    protected void onWatermark(long watermark, SideOutputs out) {
        openHours.closeUpTo(
                watermark,
                (accountId, region, hourStart, line) ->
                        out.output(
                                ACCOUNT_USAGE,
                                UsageRows.hourOriginal(
                                        accountId, region, hourStart, line, calendar),
                                hourStart + UsageRows.HOUR_MILLIS));
    }

    /** How many account-hours are open in this subtask. */
    int openHourCount() {
        return openHours.size();
    }

    private void countToday(UsagePartial usage) {
        long now = System.currentTimeMillis();
        if (now >= todayEnd) {
            // Not the calendar's cached methods: the gauge below runs on the metrics reporter's
            // thread.
            LocalDate today = LocalDate.now(calendar.zone());
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
}
