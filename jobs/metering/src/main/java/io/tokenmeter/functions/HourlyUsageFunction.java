package io.tokenmeter.functions;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.avro.state.AccountHoursState;
import io.tokenmeter.avro.state.OpenHourState;
import io.tokenmeter.avro.state.UsageLineState;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.logic.AccountHours;
import io.tokenmeter.logic.BillingCalendar;
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
 * closed — by its partition's clock when read, or here — is emitted at once as an ADJUSTMENT row of its own,
 * whose id is the event's, so no state is kept for closed hours at all.
 *
 * <p>State: one Avro {@link AccountHoursState} per account holding its open hours; an hour is removed by its timer
 * at the hour's end, and the state is cleared when no hour is open.
 */
public class HourlyUsageFunction extends WatermarkRememberingFunction<String, IngestedRecord, AccountUsage> {

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
    public void processElement(IngestedRecord record, Context ctx, Collector<AccountUsage> out) throws Exception {
        UsageEvent event = record.event;
        long hourStart = calendar.hourStart(event.getEventTime().toEpochMilli());
        long hourEnd = hourStart + UsageRows.HOUR_MILLIS;
        long watermark = watermark(ctx);
        if (hourEnd <= record.clockAtRead || hourEnd <= watermark) {
            out.collect(UsageRows.hourCorrection(event, hourStart, calendar));
            return;
        }
        AccountHoursState state = hoursState.value();
        if (state == null) {
            state = AccountHours.emptyState();
        }
        if (AccountHours.addUsage(state, event, hourStart)) {
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
