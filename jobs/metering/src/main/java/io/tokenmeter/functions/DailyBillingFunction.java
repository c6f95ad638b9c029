package io.tokenmeter.functions;

import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.BillingStatements;
import io.tokenmeter.logic.UsageLineKey;
import io.tokenmeter.logic.UsageTotals;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Bills each account's usage per billing day, in event time. Keyed by account id.
 *
 * <p>When the watermark passes a day's close time (local midnight + grace) the day's lines are emitted as the
 * ORIGINAL billing record (version 1). A valid event for a day that has already closed is billed as soon as the
 * watermark moves on, as an ADJUSTMENT (version 2, 3, ...) carrying only the new usage. An event older than the
 * correction horizon goes to {@link #TOO_LATE} — no event is ever dropped silently.
 *
 * <p>State and its clean-up:
 * <ul>
 *   <li>{@code unbilled}: usage lines not billed yet, keyed by {@link UsageLineKey}; each line is removed when the
 *       timer that bills it fires (at the day's close time, or at the next watermark for a correction).
 *   <li>{@code billedVersions}: day start → last version billed, so corrections of closed days need only this
 *       one integer per day rather than the day's lines; removed by a timer at the day's correction deadline.
 * </ul>
 */
public class DailyBillingFunction extends KeyedProcessFunction<String, IngestedRecord, BillingRecord> {

    public static final OutputTag<RejectedRecord> TOO_LATE =
            new OutputTag<>("rejected-too-late", TypeInformation.of(RejectedRecord.class));

    private final BillingCalendar calendar;

    private transient MapState<String, UsageTotals> unbilled;
    private transient MapState<Long, Integer> billedVersions;

    public DailyBillingFunction(BillingCalendar calendar) {
        this.calendar = calendar;
    }

    @Override
    public void open(OpenContext openContext) {
        unbilled = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("unbilled-lines", Types.STRING, TypeInformation.of(UsageTotals.class)));
        billedVersions = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("billed-versions", Types.LONG, Types.INT));
    }

    @Override
    public void processElement(IngestedRecord record, Context ctx, Collector<BillingRecord> out) throws Exception {
        UsageEvent event = record.event;
        long eventTime = event.getEventTime().toEpochMilli();
        long dayStart = calendar.dayStart(eventTime);
        long watermark = ctx.timerService().currentWatermark();
        if (calendar.correctionDeadline(dayStart) <= watermark) {
            ctx.output(TOO_LATE, record.reject(RejectReason.TOO_LATE,
                    "billing day " + calendar.billingDay(eventTime) + " takes no more corrections; watermark is "
                            + Instant.ofEpochMilli(watermark),
                    ctx.timerService().currentProcessingTime()));
            return;
        }
        String lineKey = new UsageLineKey(dayStart, event.getModel(), event.getModality().name()).encode();
        UsageTotals line = unbilled.get(lineKey);
        if (line == null) {
            line = new UsageTotals();
            long closeTime = calendar.closeTime(dayStart);
            // A closed day is corrected as soon as the watermark moves past the current one.
            ctx.timerService().registerEventTimeTimer(closeTime > watermark ? closeTime : watermark + 1);
        }
        unbilled.put(lineKey, line.addEvent(event.getInputTokens(), event.getOutputTokens(), event.getCachedTokens()));
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<BillingRecord> out) throws Exception {
        billDueDays(timestamp, ctx, out);
        forgetDaysPastCorrection(timestamp);
    }

    private void billDueDays(long timestamp, OnTimerContext ctx, Collector<BillingRecord> out) throws Exception {
        Map<Long, Map<UsageLineKey, UsageTotals>> dueByDay = new TreeMap<>();
        List<String> billedKeys = new ArrayList<>();
        for (Map.Entry<String, UsageTotals> entry : unbilled.entries()) {
            long dayStart = UsageLineKey.dayStartOf(entry.getKey());
            if (calendar.closeTime(dayStart) <= timestamp) {
                dueByDay.computeIfAbsent(dayStart, d -> new LinkedHashMap<>())
                        .put(UsageLineKey.decode(entry.getKey()), entry.getValue());
                billedKeys.add(entry.getKey());
            }
        }
        for (Map.Entry<Long, Map<UsageLineKey, UsageTotals>> day : dueByDay.entrySet()) {
            long dayStart = day.getKey();
            Integer lastVersion = billedVersions.get(dayStart);
            int version = lastVersion == null ? 1 : lastVersion + 1;
            out.collect(BillingStatements.build(ctx.getCurrentKey(), dayStart, version, day.getValue(), calendar));
            billedVersions.put(dayStart, version);
            if (lastVersion == null) {
                ctx.timerService().registerEventTimeTimer(calendar.correctionDeadline(dayStart));
            }
        }
        for (String key : billedKeys) {
            unbilled.remove(key);
        }
    }

    private void forgetDaysPastCorrection(long timestamp) throws Exception {
        Iterator<Map.Entry<Long, Integer>> days = billedVersions.iterator();
        while (days.hasNext()) {
            if (calendar.correctionDeadline(days.next().getKey()) <= timestamp) {
                days.remove();
            }
        }
    }
}
