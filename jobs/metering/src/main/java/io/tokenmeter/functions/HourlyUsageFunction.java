package io.tokenmeter.functions;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.state.AccountHoursState;
import io.tokenmeter.avro.state.OpenHourState;
import io.tokenmeter.avro.state.UsageLineState;
import io.tokenmeter.logic.AccountHours;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.UsagePartial;
import io.tokenmeter.logic.UsageRows;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.Collector;

/**
 * Each account's usage per local hour, model and modality. Keyed by account id.
 *
 * <p>When the watermark passes an hour's end, the hour's ORIGINAL rows are emitted. An event for an hour already
 * closed — by its partition's clock when read, or by deduplication's watermark — comes with its own correction id
 * and is emitted at once as an ADJUSTMENT row of its own, so no state is kept for closed hours at all.
 *
 * <p>State: one Avro {@link AccountHoursState} per account holding its open hours; an hour is removed by its timer
 * at the hour's end, and the state is cleared when no hour is open.
 */
public class HourlyUsageFunction extends WatermarkRememberingFunction<String, UsagePartial, AccountUsage> {

    private final BillingCalendar calendar;
    private transient ValueState<AccountHoursState> hoursState;

    public HourlyUsageFunction(BillingCalendar calendar) {
        this.calendar = calendar;
    }

    @Override
    public void open(OpenContext openContext) {
        hoursState = getRuntimeContext().getState(
                new ValueStateDescriptor<>("account-hours", TypeInformation.of(AccountHoursState.class)));
    }

    @Override
    public void processElement(UsagePartial usage, Context ctx, Collector<AccountUsage> out) throws Exception {
        if (usage.hourCorrectionId != null) {
            out.collect(UsageRows.hourCorrection(usage, calendar));
            return;
        }
        long hourEnd = usage.hourStart + UsageRows.HOUR_MILLIS;
        long watermark = watermark(ctx);
        if (hourEnd <= watermark) {
            // Deduplication judges hours against a watermark never behind this one; reopening a closed hour would
            // overwrite its ORIGINAL rows, so stop rather than write a wrong hour.
            throw new IllegalStateException("usage of account " + usage.accountId + " for an hour closed at "
                    + hourEnd + " arrived without a correction id at watermark " + watermark);
        }
        AccountHoursState state = hoursState.value();
        if (state == null) {
            state = AccountHours.emptyState();
        }
        if (AccountHours.addUsage(state, usage)) {
            ctx.timerService().registerEventTimeTimer(hourEnd);
        }
        hoursState.update(state);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<AccountUsage> out) throws Exception {
        AccountHoursState state = hoursState.value();
        if (state == null) {
            return;
        }
        for (OpenHourState hour : AccountHours.takeClosedHours(state, timestamp)) {
            for (UsageLineState line : hour.getLines()) {
                out.collect(UsageRows.hourOriginal(
                        ctx.getCurrentKey(), state.getRegion(), hour.getHourStart(), line, calendar));
            }
        }
        if (state.getHours().isEmpty()) {
            hoursState.clear();
        } else {
            hoursState.update(state);
        }
    }
}
