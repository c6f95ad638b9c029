package io.tokenmeter.logic;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.UsageEvent;

/**
 * The billable facts of one valid usage event as they travel between operators. A flat Flink POJO
 * rather than the Avro {@link UsageEvent}: Flink's Avro serializer costs several times more per
 * record than its POJO serializer, and every event crosses a network shuffle on its way to
 * deduplication.
 */
public class Usage {

    public String source;
    public String eventId;
    public String accountId;
    public String region;
    public String model;
    public Modality modality;
    public long inputTokens;
    public long outputTokens;
    public long cachedTokens;

    /** Epoch millis. */
    public long eventTime;

    /** Wall clock (epoch millis) when the source read the event. */
    public long readAt;

    public Usage() {}

    public static Usage of(UsageEvent event) {
        Usage usage = new Usage();
        usage.source = event.getSource();
        usage.eventId = event.getEventId();
        usage.accountId = event.getAccountId();
        usage.region = event.getRegion();
        usage.model = event.getModel();
        usage.modality = event.getModality();
        usage.inputTokens = event.getInputTokens();
        usage.outputTokens = event.getOutputTokens();
        usage.cachedTokens = event.getCachedTokens();
        usage.eventTime = event.getEventTime().toEpochMilli();
        return usage;
    }
}
