package io.tokenmeter.functions;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.Usage;
import io.tokenmeter.logic.UsagePartial;
import io.tokenmeter.logic.ingest.EventFingerprints;
import java.time.Duration;
import java.time.Instant;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.metrics.Counter;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Passes each (source, event_id) on once within the dedup horizon, judged for billing. Keyed by
 * {@link #KEY}, the keyed 128-bit fingerprint of (source, event_id) the source computed ({@link
 * IngestedRecord#fingerprint}). A repeat with the same content is a producer retry: counted and
 * dropped. A repeat with different content is a conflicting reuse of the id: the first one stays
 * billed and the repeat goes to {@link #CONFLICTING} with its original bytes. Every retry dropped
 * leaves on {@link #DUPLICATES} for the ledger ({@link LedgerCounter}); the metric {@code
 * duplicates_total} counts them only since the task last started.
 *
 * <p>This is the last operator that holds an event's original bytes, so every rejection after
 * decoding happens here: an event whose billing day is past its correction deadline goes to {@link
 * #TOO_LATE}. Every other event leaves as a {@link UsagePartial} judged against this operator's
 * watermark (day closed: billed late; hour closed: its own hourly correction row). The operators
 * downstream never see a watermark this one has not seen before them — the combiner between flushes
 * before it forwards one — so their view of what has closed never runs ahead of these judgements.
 *
 * <p>State per id: one value, its expiry and its 64-bit content hash — one read and, for a new id,
 * one write; no timer. The expiry is max(event time, watermark when first seen, its partition's
 * clock when read) + horizon, so every id is remembered for at least the horizon of event-time
 * progress, late events included, also when the watermark is not known yet after a start or a
 * restore. An id whose expiry the watermark reached is forgotten at once (a read treats it as
 * absent), and removed later: on RocksDB by the compaction filter of its column family, whose clock
 * is this operator's highest watermark ({@link EventTimeCompactionFilter}); on any other backend by
 * a sweep over all ids once the watermark passes the end of the bucket (a {@link #SWEEP_SHARE}th of
 * the horizon) that holds the earliest expiry. Both follow event time only, remembered across
 * restores: no outage, stall or replay removes an id early.
 */
public class DeduplicateFunction
        extends WatermarkRememberingFunction<Tuple2<Long, Long>, IngestedRecord, UsagePartial> {

    public static final OutputTag<RejectedRecord> CONFLICTING =
            new OutputTag<>(
                    "rejected-conflicting-duplicate", TypeInformation.of(RejectedRecord.class));

    public static final OutputTag<RejectedRecord> TOO_LATE =
            new OutputTag<>("rejected-too-late", TypeInformation.of(RejectedRecord.class));

    /** Each retry dropped, as it was read: the ledger counts them (I1). */
    public static final OutputTag<IngestedRecord> DUPLICATES =
            new OutputTag<>("duplicates", TypeInformation.of(IngestedRecord.class));

    /**
     * The dedup key the source computed under the secret key ({@link
     * io.tokenmeter.io.UsageEventDeserializer}); it only reads it, so neither the partitioning
     * upstream nor this operator needs the secret.
     */
    public static final KeySelector<IngestedRecord, Tuple2<Long, Long>> KEY =
            new DedupKeySelector();

    public static final TypeInformation<Tuple2<Long, Long>> KEY_TYPE =
            Types.TUPLE(Types.LONG, Types.LONG);

    /**
     * The ids' state: per id its content hash, kept until the watermark reaches its expiry ({@link
     * ExpiringState}).
     */
    static final String STATE_NAME = "dedup-ids";

    /**
     * Without a compaction filter, sweeps run at most once per this share of the horizon of event
     * time.
     */
    static final int SWEEP_SHARE = 24;

    private final long horizonMillis;
    private final BillingCalendar calendar;

    private transient ExpiringState<Tuple2<Long, Long>, Long> seenIds;
    private transient Counter duplicatesMetric;

    public DeduplicateFunction(Duration horizon, BillingCalendar calendar) {
        this.horizonMillis = horizon.toMillis();
        this.calendar = calendar;
    }

    @Override
    public void open(OpenContext openContext) {
        seenIds =
                new ExpiringState<>(
                        STATE_NAME,
                        LongSerializer.INSTANCE,
                        horizonMillis / SWEEP_SHARE,
                        getRuntimeContext(),
                        keyedStateBackend(),
                        highestWatermark());
        duplicatesMetric = MeteringMetrics.duplicates(getRuntimeContext().getMetricGroup());
    }

    @Override
    public void processElement(IngestedRecord record, Context ctx, Collector<UsagePartial> out)
            throws Exception {
        Usage event = record.event;
        long watermark = watermark(ctx);
        long dayStart = calendar.dayStart(event.eventTime);
        if (calendar.correctionDeadline(dayStart) <= watermark) {
            ctx.output(
                    TOO_LATE,
                    record.reject(
                            RejectReason.TOO_LATE,
                            "billing day "
                                    + calendar.billingDay(event.eventTime)
                                    + " takes no more corrections; watermark is "
                                    + Instant.ofEpochMilli(watermark),
                            ctx.timerService().currentProcessingTime()));
            return;
        }
        long contentHash = EventFingerprints.contentHash(event);
        Long seen = seenIds.value(watermark);
        if (seen == null) {
            // The partition's clock too: right after a start or restore the watermark is not known
            // yet, and a late event would otherwise be forgotten a horizon after its own (old)
            // event time.
            long seenAt = Math.max(Math.max(event.eventTime, watermark), record.clockAtRead);
            seenIds.update(
                    contentHash,
                    seenAt > Long.MAX_VALUE - horizonMillis
                            ? Long.MAX_VALUE
                            : seenAt + horizonMillis);
            out.collect(
                    UsagePartial.judge(
                            event,
                            record.topic,
                            record.partition,
                            record.offset,
                            record.late,
                            record.clockAtRead,
                            watermark,
                            calendar));
        } else if (seen == contentHash) {
            ctx.output(DUPLICATES, record);
            duplicatesMetric.inc();
        } else {
            ctx.output(
                    CONFLICTING,
                    record.reject(
                            RejectReason.CONFLICTING_DUPLICATE,
                            "source "
                                    + event.source
                                    + " reused event_id "
                                    + event.eventId
                                    + " for different usage; the first one seen is billed",
                            ctx.timerService().currentProcessingTime()));
        }
    }

    @Override
    protected void onWatermark(long watermark, SideOutputs out) throws Exception {
        seenIds.advanceTo(Math.max(watermark, highestWatermark()));
    }

    /** Compacts the ids' column family on RocksDB now, which removes every expired id (tests). */
    void compactIds() throws Exception {
        seenIds.compact();
    }

    /** Reads the dedup key the source put in the record; computes nothing. */
    private static final class DedupKeySelector
            implements KeySelector<IngestedRecord, Tuple2<Long, Long>> {

        private static final long serialVersionUID = 1L;

        @Override
        public Tuple2<Long, Long> getKey(IngestedRecord record) {
            return Tuple2.of(record.dedupKeyHigh, record.dedupKeyLow);
        }
    }
}
