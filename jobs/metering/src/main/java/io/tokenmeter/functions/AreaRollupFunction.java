package io.tokenmeter.functions;

import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.rollups.AreaRollups;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.util.Collector;

/**
 * Sums usage partials of one area (region or nation), window, model and modality — keyed by {@link
 * AreaRollups#key}. Partials are already aggregated per account (or per region), so no instance
 * sees every event and a huge account is one partial per window like any other.
 *
 * <p>When the watermark passes the window's close (an hour's end; a billing day's end plus grace),
 * the sum is emitted as the ORIGINAL row. A partial arriving after that becomes an ADJUSTMENT row
 * of its own at once. State: the running sum, cleared by the close timer.
 */
public class AreaRollupFunction extends WatermarkRememberingFunction<String, AreaUsage, AreaUsage> {

    public static final KeySelector<AreaUsage, String> KEY = AreaRollups::key;

    private final BillingCalendar calendar;
    private transient ValueState<AreaUsage> sum;

    public AreaRollupFunction(BillingCalendar calendar) {
        this.calendar = calendar;
    }

    @Override
    public void open(OpenContext openContext) {
        sum =
                getRuntimeContext()
                        .getState(
                                new ValueStateDescriptor<>(
                                        "area-sum", TypeInformation.of(AreaUsage.class)));
    }

    @Override
    public void processElement(AreaUsage partial, Context ctx, Collector<AreaUsage> out)
            throws Exception {
        long closeTime = AreaRollups.closeTime(partial, calendar);
        if (closeTime <= watermark(ctx)) {
            out.collect(AreaRollups.correction(partial));
            return;
        }
        AreaUsage current = sum.value();
        if (current == null) {
            ctx.timerService().registerEventTimeTimer(closeTime);
        }
        sum.update(AreaRollups.add(current, partial));
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<AreaUsage> out)
            throws Exception {
        AreaUsage current = sum.value();
        if (current != null) {
            out.collect(AreaRollups.original(current));
            sum.clear();
        }
    }
}
