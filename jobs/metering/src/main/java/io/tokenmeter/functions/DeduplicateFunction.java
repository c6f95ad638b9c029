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
import java.util.List;
import java.util.stream.Stream;
import javax.annotation.Nullable;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.ttl.TtlStateFactory;
import org.apache.flink.runtime.state.ttl.TtlValue;
import org.apache.flink.state.rocksdb.RocksDBKeyedStateBackend;
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
     * The ids' state: per id, in the layout of a Flink TTL value, its expiry (where Flink keeps a
     * TTL timestamp, which RocksDB's TTL compaction filter reads) and its content hash. Never
     * configured for Flink's TTL.
     */
    static final String STATE_NAME = "dedup-ids";

    /**
     * Without a compaction filter, sweeps run at most once per this share of the horizon of event
     * time.
     */
    static final int SWEEP_SHARE = 24;

    private final long horizonMillis;
    private final BillingCalendar calendar;

    private transient ValueState<TtlValue<Long>> seenIds;
    private transient Counter duplicatesMetric;

    /** The compaction filter's clock on RocksDB; null on other backends, which sweep. */
    @Nullable private transient EventTimeCompactionFilter compactionClock;

    /**
     * Sweeps only: the watermark at which the next one runs (after a start or restore: at the first
     * one).
     */
    private transient long nextSweepAt;

    public DeduplicateFunction(Duration horizon, BillingCalendar calendar) {
        this.horizonMillis = horizon.toMillis();
        this.calendar = calendar;
    }

    static ValueStateDescriptor<TtlValue<Long>> idsDescriptor() {
        return new ValueStateDescriptor<>(
                STATE_NAME,
                new TtlStateFactory.TtlSerializer<>(
                        LongSerializer.INSTANCE, LongSerializer.INSTANCE));
    }

    @Override
    public void open(OpenContext openContext) {
        seenIds = getRuntimeContext().getState(idsDescriptor());
        duplicatesMetric = MeteringMetrics.duplicates(getRuntimeContext().getMetricGroup());
        if (keyedStateBackend() instanceof RocksDBKeyedStateBackend<?> rocksDb) {
            compactionClock =
                    EventTimeCompactionFilter.install(rocksDb, STATE_NAME, highestWatermark());
        } else {
            compactionClock = null;
            nextSweepAt = Long.MIN_VALUE;
        }
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
        TtlValue<Long> seen = seenIds.value();
        if (seen == null || expiry(seen) <= watermark) {
            // The partition's clock too: right after a start or restore the watermark is not known
            // yet, and a late event would otherwise be forgotten a horizon after its own (old)
            // event time.
            long seenAt = Math.max(Math.max(event.eventTime, watermark), record.clockAtRead);
            long stamp =
                    EventTimeCompactionFilter.stamp(
                            seenAt > Long.MAX_VALUE - horizonMillis
                                    ? Long.MAX_VALUE
                                    : seenAt + horizonMillis);
            seenIds.update(new TtlValue<>(contentHash, stamp));
            if (compactionClock == null) {
                nextSweepAt =
                        Math.min(
                                nextSweepAt,
                                sweepBucketEnd(EventTimeCompactionFilter.expiry(stamp)));
            }
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
        } else if (seen.getUserValue() == contentHash) {
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
        long highestWatermark = Math.max(watermark, highestWatermark());
        if (compactionClock != null) {
            compactionClock.advanceTo(highestWatermark);
        } else if (highestWatermark >= nextSweepAt) {
            sweep(highestWatermark);
        }
    }

    /** Removes every id whose expiry {@code watermark} reached; schedules the next sweep. */
    private void sweep(long watermark) throws Exception {
        KeyedStateBackend<Tuple2<Long, Long>> backend = keyedStateBackend();
        Tuple2<Long, Long> current = backend.getCurrentKey();
        List<Tuple2<Long, Long>> ids;
        // Collected first: the heap backend's key stream does not allow removing while it runs.
        try (Stream<Tuple2<Long, Long>> keys =
                backend.getKeys(STATE_NAME, VoidNamespace.INSTANCE)) {
            ids = keys.toList();
        }
        long earliestLeft = Long.MAX_VALUE;
        for (Tuple2<Long, Long> id : ids) {
            backend.setCurrentKey(id);
            TtlValue<Long> seen = seenIds.value();
            if (seen == null) {
                continue;
            }
            if (expiry(seen) <= watermark) {
                seenIds.clear();
            } else {
                earliestLeft = Math.min(earliestLeft, expiry(seen));
            }
        }
        if (current != null) {
            backend.setCurrentKey(current);
        }
        nextSweepAt =
                earliestLeft == Long.MAX_VALUE ? Long.MAX_VALUE : sweepBucketEnd(earliestLeft);
    }

    /**
     * The end of the sweep bucket (a {@link #SWEEP_SHARE}th of the horizon, aligned to the epoch)
     * that holds {@code expiry}: sweeps wait for it, so they run about once per bucket of event
     * time however many ids expire.
     */
    private long sweepBucketEnd(long expiry) {
        long bucket = Math.max(1, horizonMillis / SWEEP_SHARE);
        return Math.floorDiv(expiry - 1, bucket) * bucket + bucket;
    }

    /** Compacts the ids' column family on RocksDB now, which removes every expired id (tests). */
    void compactIds() throws Exception {
        ((RocksDBKeyedStateBackend<?>) keyedStateBackend()).compactState(idsDescriptor());
    }

    /**
     * Where a Flink TTL value keeps its timestamp, this state keeps the id's expiry, as a stamp.
     */
    private static long expiry(TtlValue<Long> seen) {
        return EventTimeCompactionFilter.expiry(seen.getLastAccessTimestamp());
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
