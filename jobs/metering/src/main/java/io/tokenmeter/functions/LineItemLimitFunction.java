package io.tokenmeter.functions;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.Usage;
import io.tokenmeter.logic.billing.LineItemLimits;
import io.tokenmeter.metering.ValidationConfig;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.common.typeutils.base.MapSerializer;
import org.apache.flink.api.common.typeutils.base.array.StringArraySerializer;
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
 * <p>State: per account one value, the sorted keys of the admitted lines of each of its days whose
 * correction deadline has not passed, kept until the watermark reaches the latest of those
 * deadlines ({@link ExpiringState}: no timer, and on RocksDB no delete — the compaction filter
 * removes it). Days past their deadline are dropped from the value when it is next written.
 *
 * <p>Most events add no line: the account-day's lines were read for its previous event. The values
 * of the {@value #CACHED_ACCOUNTS} accounts read or written last are therefore kept in memory as
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

    /** Per account: billing day start → the day's admitted line keys, sorted. */
    static final String STATE_NAME = "line-items";

    /** Accounts whose lines are kept in memory per subtask: about 200 bytes each. */
    static final int CACHED_ACCOUNTS = 65_536;

    /** Without a compaction filter, sweeps run at most once per day of event time. */
    private static final long SWEEP_BUCKET_MILLIS = 24 * 60 * 60 * 1000L;

    private final BillingCalendar calendar;
    private final int maxLinesPerDay;

    private transient ExpiringState<String, Map<Long, String[]>> linesByDay;
    private transient Map<String, Map<Long, String[]>> recentAccounts;

    public LineItemLimitFunction(BillingCalendar calendar, int maxLinesPerDay) {
        this.calendar = calendar;
        this.maxLinesPerDay = maxLinesPerDay;
    }

    @Override
    public void open(OpenContext openContext) {
        linesByDay =
                new ExpiringState<>(
                        STATE_NAME,
                        new MapSerializer<>(
                                LongSerializer.INSTANCE, StringArraySerializer.INSTANCE),
                        SWEEP_BUCKET_MILLIS,
                        getRuntimeContext(),
                        keyedStateBackend(),
                        highestWatermark());
        recentAccounts =
                new LinkedHashMap<>(CACHED_ACCOUNTS * 4 / 3 + 1) {
                    @Override
                    protected boolean removeEldestEntry(
                            Map.Entry<String, Map<Long, String[]>> eldest) {
                        return size() > CACHED_ACCOUNTS;
                    }
                };
    }

    @Override
    public void processElement(IngestedRecord record, Context ctx, Collector<IngestedRecord> out)
            throws Exception {
        Usage event = record.event;
        long watermark = watermark(ctx);
        long judgedAt = Math.max(watermark, record.clockAtRead);
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
        // A cached value may hold days past their deadline; only this day's entry is read, and
        // its deadline is ahead.
        Map<Long, String[]> days = recentAccounts.get(event.accountId);
        if (days == null) {
            days = linesByDay.value(watermark);
            if (days != null) {
                recentAccounts.put(event.accountId, days);
            }
        }
        String[] known = days == null ? null : days.get(dayStart);
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
            admit(event.accountId, days, dayStart, deadline, admitted, judgedAt);
        }
        out.collect(record);
    }

    /**
     * Writes the account's days with {@code dayStart}'s lines (correction deadline {@code
     * deadline}) now {@code admitted}, dropping days past their deadline at {@code judgedAt}. A new
     * map each time: the heap backend keeps the object it was given, and its snapshots rely on it
     * not changing.
     */
    private void admit(
            String accountId,
            @Nullable Map<Long, String[]> days,
            long dayStart,
            long deadline,
            String[] admitted,
            long judgedAt)
            throws Exception {
        Map<Long, String[]> written = new HashMap<>(days == null ? 2 : days.size() + 1);
        long expiry = deadline;
        if (days != null) {
            for (Map.Entry<Long, String[]> day : days.entrySet()) {
                long dayDeadline = calendar.correctionDeadline(day.getKey());
                if (dayDeadline > judgedAt) {
                    written.put(day.getKey(), day.getValue());
                    expiry = Math.max(expiry, dayDeadline);
                }
            }
        }
        written.put(dayStart, admitted);
        linesByDay.update(written, expiry);
        recentAccounts.put(accountId, written);
    }

    @Override
    protected void onWatermark(long watermark, SideOutputs out) throws Exception {
        linesByDay.advanceTo(Math.max(watermark, highestWatermark()));
    }

    /** Compacts the state on RocksDB now, which removes every expired value (tests). */
    void compactLines() throws Exception {
        linesByDay.compact();
    }
}
