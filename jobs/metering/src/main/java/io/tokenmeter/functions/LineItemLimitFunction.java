package io.tokenmeter.functions;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.Usage;
import io.tokenmeter.logic.billing.LineItemLimits;
import io.tokenmeter.metering.ValidationConfig;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Caps the distinct line items (model × modality) of each account and billing day ({@link
 * LineItemLimits}), before deduplication, while every event still carries its original bytes: usage
 * that would add a line beyond the cap goes to {@link #REJECTED} as TOO_MANY_LINE_ITEMS, exactly as
 * it was read. Keyed by account id.
 *
 * <p>Days whose correction deadline this operator's watermark (or the event's partition clock) has
 * passed are rejected here as TOO_LATE, as deduplication would: a day's line set is forgotten at
 * its deadline, so admitting usage for it afterwards would count its lines afresh.
 *
 * <p>State: per account and billing day the sorted keys of its admitted lines (MapState day start →
 * keys), and one event-time timer at its clean-up time ({@link BillingCalendar#cleanUpTime}: the
 * correction deadline rounded up to a week, shared by the days of that week) that removes them;
 * after the last day the key has none.
 *
 * <p>Most events add no line: the account-day's lines were read for its previous event. The lines
 * of the {@value #CACHED_DAYS} account-days read or written last are therefore kept in memory as
 * well — always equal to the state, since every change of the state goes through this function and
 * updates both — so such an event costs no state read. A restarted task starts with none and reads
 * the state again.
 */
public class LineItemLimitFunction
        extends WatermarkRememberingFunction<String, IngestedRecord, IngestedRecord> {

    public static final OutputTag<RejectedRecord> REJECTED =
            new OutputTag<>("line-item-limit-rejected", TypeInformation.of(RejectedRecord.class));

    /** Keyed by the account the usage is billed to. */
    public static final KeySelector<IngestedRecord, String> KEY = record -> record.event.accountId;

    private final BillingCalendar calendar;
    private final int maxLinesPerDay;

    /** Account-days whose lines are kept in memory per subtask: about 100 bytes each. */
    static final int CACHED_DAYS = 65_536;

    private transient MapState<Long, String[]> linesByDay;
    private transient Map<AccountDay, String[]> recentDays;

    private record AccountDay(String accountId, long dayStart) {}

    public LineItemLimitFunction(BillingCalendar calendar, int maxLinesPerDay) {
        this.calendar = calendar;
        this.maxLinesPerDay = maxLinesPerDay;
    }

    @Override
    public void open(OpenContext openContext) {
        linesByDay =
                getRuntimeContext()
                        .getMapState(
                                new MapStateDescriptor<>(
                                        "line-items-by-day",
                                        Types.LONG,
                                        Types.OBJECT_ARRAY(Types.STRING)));
        recentDays =
                new LinkedHashMap<>(CACHED_DAYS * 4 / 3 + 1) {
                    @Override
                    protected boolean removeEldestEntry(Map.Entry<AccountDay, String[]> eldest) {
                        return size() > CACHED_DAYS;
                    }
                };
    }

    @Override
    public void processElement(IngestedRecord record, Context ctx, Collector<IngestedRecord> out)
            throws Exception {
        Usage event = record.event;
        long judgedAt = Math.max(watermark(ctx), record.clockAtRead);
        long dayStart = calendar.dayStart(event.eventTime);
        long deadline = calendar.correctionDeadline(dayStart);
        if (deadline <= judgedAt) {
            ctx.output(
                    REJECTED,
                    record.reject(
                            RejectReason.TOO_LATE,
                            "billing day "
                                    + calendar.billingDay(event.eventTime)
                                    + " takes no more corrections; watermark is "
                                    + Instant.ofEpochMilli(judgedAt),
                            ctx.timerService().currentProcessingTime()));
            return;
        }
        AccountDay accountDay = new AccountDay(event.accountId, dayStart);
        String[] known = recentDays.get(accountDay);
        if (known == null) {
            known = linesByDay.get(dayStart);
            if (known != null) {
                recentDays.put(accountDay, known);
            }
        }
        String[] admitted =
                LineItemLimits.admit(
                        known, LineItemLimits.lineKey(event.modality, event.model), maxLinesPerDay);
        if (admitted == null) {
            ctx.output(
                    REJECTED,
                    record.reject(
                            RejectReason.TOO_MANY_LINE_ITEMS,
                            "account "
                                    + event.accountId
                                    + " already has "
                                    + maxLinesPerDay
                                    + " line items (model x modality) on billing day "
                                    + calendar.billingDay(event.eventTime)
                                    + "; model "
                                    + event.model
                                    + " ("
                                    + event.modality
                                    + ") would exceed "
                                    + ValidationConfig.MAX_LINE_ITEMS_PER_DAY,
                            ctx.timerService().currentProcessingTime()));
            return;
        }
        if (admitted != known) {
            if (known == null) {
                ctx.timerService().registerEventTimeTimer(calendar.cleanUpTime(dayStart));
            }
            linesByDay.put(dayStart, admitted);
            recentDays.put(accountDay, admitted);
        }
        out.collect(record);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<IngestedRecord> out)
            throws Exception {
        var days = linesByDay.keys().iterator();
        while (days.hasNext()) {
            long dayStart = days.next();
            if (calendar.correctionDeadline(dayStart) <= timestamp) {
                days.remove();
                recentDays.remove(new AccountDay(ctx.getCurrentKey(), dayStart));
            }
        }
        if (linesByDay.isEmpty()) {
            linesByDay.clear(); // an emptied map would still be an entry of the key
        }
    }
}
