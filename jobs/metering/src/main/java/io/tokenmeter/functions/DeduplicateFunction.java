package io.tokenmeter.functions;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.EventFingerprints;
import io.tokenmeter.logic.SecretSource;
import io.tokenmeter.logic.Usage;
import io.tokenmeter.logic.UsagePartial;
import java.time.Duration;
import java.time.Instant;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Passes each (source, event_id) on once within the dedup horizon, judged for billing. Keyed by {@link #key}, the
 * keyed 128-bit fingerprint of (source, event_id). A repeat with the same content is a producer retry: counted and
 * dropped. A repeat with different content is a conflicting reuse of the id: the first one stays billed and the
 * repeat goes to {@link #CONFLICTING} with its original bytes. Every retry dropped leaves on {@link #DUPLICATES}
 * for the ledger ({@link LedgerCounter}); the metric {@code duplicates_total} counts them only since the task last
 * started.
 *
 * <p>This is the last operator that holds an event's original bytes, so every rejection after decoding happens
 * here: an event whose billing day is past its correction deadline goes to {@link #TOO_LATE}. Every other event
 * leaves as a {@link UsagePartial} judged against this operator's watermark (day closed: billed late; hour closed:
 * its own hourly correction row). The operators downstream never see a watermark this one has not seen before
 * them — the combiner between flushes before it forwards one — so their view of what has closed never runs ahead
 * of these judgements.
 *
 * <p>State per id: one 64-bit content hash, plus its clean-up timer, at
 * max(event time, watermark when first seen, its partition's clock when read) + horizon — so every id is
 * remembered for at least the horizon of event-time progress, late events included, also when the watermark is not
 * known yet after a start or a restore. Both are gone after the timer fires.
 */
public class DeduplicateFunction extends WatermarkRememberingFunction<Tuple2<Long, Long>, IngestedRecord, UsagePartial> {

    public static final OutputTag<RejectedRecord> CONFLICTING =
            new OutputTag<>("rejected-conflicting-duplicate", TypeInformation.of(RejectedRecord.class));

    public static final OutputTag<RejectedRecord> TOO_LATE =
            new OutputTag<>("rejected-too-late", TypeInformation.of(RejectedRecord.class));

    /** Each retry dropped, as it was read: the ledger counts them (I1). */
    public static final OutputTag<IngestedRecord> DUPLICATES =
            new OutputTag<>("duplicates", TypeInformation.of(IngestedRecord.class));

    /**
     * The dedup key of a valid event, under the secret key {@code dedupKey} holds. The selector is serialized into
     * the job graph and runs twice per event, in the upstream task to partition and here for the state: it carries
     * only where the secret is, and each copy reads it on its first event, on whichever TaskManager it runs. Every
     * TaskManager must therefore hold the same key; they log its check value when the operator opens.
     */
    public static KeySelector<IngestedRecord, Tuple2<Long, Long>> key(SecretSource dedupKey) {
        return new DedupKeySelector(dedupKey);
    }

    public static final TypeInformation<Tuple2<Long, Long>> KEY_TYPE = Types.TUPLE(Types.LONG, Types.LONG);

    private static final Logger LOG = LoggerFactory.getLogger(DeduplicateFunction.class);

    private final long horizonMillis;
    private final BillingCalendar calendar;
    @javax.annotation.Nullable private final SecretSource dedupKey;

    private transient ValueState<Long> firstContentHash;
    private transient org.apache.flink.metrics.Counter duplicatesMetric;

    /** Without a start-up check of the dedup key: the key selector still fails on the first event without one. */
    public DeduplicateFunction(Duration horizon, BillingCalendar calendar) {
        this(horizon, calendar, null);
    }

    /** Fails the job when it opens, not at its first event, if {@code dedupKey} holds no usable key. */
    public DeduplicateFunction(Duration horizon, BillingCalendar calendar, @javax.annotation.Nullable SecretSource dedupKey) {
        this.horizonMillis = horizon.toMillis();
        this.calendar = calendar;
        this.dedupKey = dedupKey;
    }

    @Override
    public void open(OpenContext openContext) {
        if (dedupKey != null) {
            LOG.info("Dedup key from {}: check value {}", dedupKey, DedupKeySelector.load(dedupKey).keyCheck());
        }
        firstContentHash = getRuntimeContext().getState(new ValueStateDescriptor<>("first-content-hash", Types.LONG));
        duplicatesMetric = getRuntimeContext().getMetricGroup()
                .addGroup(MeteringMetrics.GROUP)
                .counter("duplicates_total");
    }

    @Override
    public void processElement(IngestedRecord record, Context ctx, Collector<UsagePartial> out) throws Exception {
        Usage event = record.event;
        long watermark = watermark(ctx);
        long dayStart = calendar.dayStart(event.eventTime);
        if (calendar.correctionDeadline(dayStart) <= watermark) {
            ctx.output(TOO_LATE, record.reject(RejectReason.TOO_LATE,
                    "billing day " + calendar.billingDay(event.eventTime) + " takes no more corrections; watermark is "
                            + Instant.ofEpochMilli(watermark),
                    ctx.timerService().currentProcessingTime()));
            return;
        }
        long contentHash = EventFingerprints.contentHash(event);
        Long first = firstContentHash.value();
        if (first == null) {
            firstContentHash.update(contentHash);
            // The partition's clock too: right after a start or restore the watermark is not known yet, and a late
            // event would otherwise be forgotten a horizon after its own (old) event time.
            long seenAt = Math.max(Math.max(event.eventTime, watermark), record.clockAtRead);
            ctx.timerService().registerEventTimeTimer(seenAt + horizonMillis);
            out.collect(UsagePartial.judge(event, record.topic, record.partition, record.offset,
                    record.late, record.clockAtRead, watermark, calendar));
        } else if (first == contentHash) {
            ctx.output(DUPLICATES, record);
            duplicatesMetric.inc();
        } else {
            ctx.output(CONFLICTING, record.reject(RejectReason.CONFLICTING_DUPLICATE,
                    "source " + event.source + " reused event_id " + event.eventId
                            + " for different usage; the first one seen is billed",
                    ctx.timerService().currentProcessingTime()));
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<UsagePartial> out) {
        firstContentHash.clear();
    }

    /** Computes dedup keys with its own {@link EventFingerprints} (a Mac is not thread-safe), loaded lazily. */
    private static final class DedupKeySelector implements KeySelector<IngestedRecord, Tuple2<Long, Long>> {

        private static final long serialVersionUID = 1L;

        private final SecretSource dedupKey;
        private transient EventFingerprints fingerprints;

        DedupKeySelector(SecretSource dedupKey) {
            this.dedupKey = dedupKey;
        }

        @Override
        public Tuple2<Long, Long> getKey(IngestedRecord record) {
            if (fingerprints == null) {
                fingerprints = load(dedupKey);
            }
            long[] key = fingerprints.dedupKey(record.event.source, record.event.eventId);
            return Tuple2.of(key[0], key[1]);
        }

        /** A missing or short key is a deployment error no restart can mend: the job fails for good, saying why. */
        static EventFingerprints load(SecretSource dedupKey) {
            try {
                return EventFingerprints.load(dedupKey);
            } catch (IllegalStateException e) {
                throw new SuppressRestartsException(e);
            }
        }
    }
}
