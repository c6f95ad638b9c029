package io.tokenmeter.logic;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.logic.billing.UsageRows;
import javax.annotation.Nullable;

/**
 * Usage of one account, billing day, local hour, model and modality, summed over one or more unique
 * events that were all judged alike: billed on time or late ({@link #late}). It is what
 * deduplication hands to billing, one per event, and what {@link UsageBundle} sums before the
 * shuffle by account.
 *
 * <p>An event whose hour had already closed when it was judged carries {@link #hourCorrectionId},
 * the id of the ADJUSTMENT row it adds to its hour; such a partial is never summed with others, so
 * that each late event keeps its own deterministic row id. The id is of the raw record's position
 * (topic, partition, offset), not of its (source, event_id): an event re-sent after the dedup
 * horizon is billed again, and its row must not replace the first one's in a table upserted on the
 * id; a replay of the same records still yields the same ids.
 */
public class UsagePartial {

    public String accountId;
    public String region;
    public String model;
    public Modality modality;
    public long dayStart;
    public long hourStart;
    public long inputTokens;
    public long outputTokens;
    public long cachedTokens;
    public long events;

    /** Its billing day had closed when the events were judged: billed in an ADJUSTMENT. */
    public boolean late;

    /**
     * Set when its hour had closed: the event's own hourly ADJUSTMENT row id, of its record's
     * position.
     */
    @Nullable public String hourCorrectionId;

    /**
     * Wall clock when the source read the earliest of its events, for the package notice latency.
     */
    public long arrivedAt;

    /**
     * Package units drawn from the account's packages; set by package rating, 0 without packages.
     */
    public long includedUnits;

    /** Package units beyond every active package's allowance; set by package rating. */
    public long overageUnits;

    /** Price of the overage units in millionths of a minor currency unit; set by package rating. */
    public long overageMicros;

    public UsagePartial() {}

    /**
     * One unique event, judged against its partition's clock when it was read and against the
     * current watermark.
     *
     * @param topic the raw topic it was read from; with {@code partition} and {@code offset} it
     *     names its record
     * @param lateAtRead whether its partition's clock had passed its day's close when it was read
     * @param clockAtRead its partition's clock when it was read ({@link PartitionClock}),
     *     Long.MIN_VALUE if unknown
     */
    public static UsagePartial judge(
            Usage usage,
            String topic,
            int partition,
            long offset,
            boolean lateAtRead,
            long clockAtRead,
            long watermark,
            BillingCalendar calendar) {
        UsagePartial p = new UsagePartial();
        p.accountId = usage.accountId;
        p.region = usage.region;
        p.model = usage.model;
        p.modality = usage.modality;
        p.dayStart = calendar.dayStart(usage.eventTime);
        p.hourStart = calendar.hourStart(usage.eventTime);
        p.inputTokens = usage.inputTokens;
        p.outputTokens = usage.outputTokens;
        p.cachedTokens = usage.cachedTokens;
        p.events = 1;
        p.arrivedAt = usage.readAt;
        p.late = lateAtRead || calendar.closeTime(p.dayStart) <= watermark;
        long hourEnd = p.hourStart + UsageRows.HOUR_MILLIS;
        if (hourEnd <= clockAtRead || hourEnd <= watermark) {
            p.hourCorrectionId = hourCorrectionId(topic, partition, offset);
        }
        return p;
    }

    /** The id of the hourly ADJUSTMENT row of the record at this position. */
    public static String hourCorrectionId(String topic, int partition, long offset) {
        return RecordIds.of("account-usage/hour-correction", topic, partition, offset);
    }

    public long totalTokens() {
        return Math.addExact(Math.addExact(inputTokens, outputTokens), cachedTokens);
    }

    /**
     * Adds {@code other}'s tokens and events, which must be of the same account, hour, model and
     * modality.
     */
    public void add(UsagePartial other) {
        inputTokens = Math.addExact(inputTokens, other.inputTokens);
        outputTokens = Math.addExact(outputTokens, other.outputTokens);
        cachedTokens = Math.addExact(cachedTokens, other.cachedTokens);
        events = Math.addExact(events, other.events);
        arrivedAt = Math.min(arrivedAt, other.arrivedAt);
    }
}
