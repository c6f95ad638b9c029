package io.tokenmeter.functions;

import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.logic.MetricLabels;
import io.tokenmeter.logic.UsagePartial;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

/**
 * The business metrics of the billing operator, under the metric group {@code tokenmeter}. Label values come only
 * from {@link MetricLabels}, so the number of series is bounded: regions × modalities × 3 token types for tokens,
 * modalities × models for events.
 */
final class MeteringMetrics {

    static final String GROUP = "tokenmeter";

    private final MetricGroup group;
    private final MetricLabels labels;
    private final Map<String, Counter[]> tokensByRegionAndModality = new HashMap<>();
    private final Map<String, Counter> eventsByModalityAndModel = new HashMap<>();
    private final Map<String, Counter> billingRecordsByKind = new HashMap<>();
    private final Counter lateEvents;

    MeteringMetrics(MetricGroup operatorGroup, MetricLabels labels) {
        this.group = operatorGroup.addGroup(GROUP);
        this.labels = labels;
        this.lateEvents = group.counter("late_events_total");
    }

    /** Unique events counted for billing; late ones are billed through ADJUSTMENTs. */
    void counted(UsagePartial usage, boolean late) {
        String region = labels.region(usage.region);
        String modality = MetricLabels.of(usage.modality);
        Counter[] tokens = tokensByRegionAndModality.computeIfAbsent(region + '|' + modality, k -> new Counter[] {
            tokenCounter(region, modality, "input"),
            tokenCounter(region, modality, "output"),
            tokenCounter(region, modality, "cached")
        });
        tokens[0].inc(usage.inputTokens);
        tokens[1].inc(usage.outputTokens);
        tokens[2].inc(usage.cachedTokens);
        String model = labels.model(usage.model);
        eventsByModalityAndModel.computeIfAbsent(modality + '|' + model, k -> group
                        .addGroup("modality", modality)
                        .addGroup("model", model)
                        .counter("events_total"))
                .inc(usage.events);
        if (late) {
            lateEvents.inc(usage.events);
        }
    }

    void billed(BillingRecord record) {
        String kind = MetricLabels.of(record.getKind());
        billingRecordsByKind.computeIfAbsent(kind, k -> group.addGroup("kind", kind).counter("billing_records_total"))
                .inc();
    }

    MetricGroup group() {
        return group;
    }

    private Counter tokenCounter(String region, String modality, String tokenType) {
        return group.addGroup("region", region)
                .addGroup("modality", modality)
                .addGroup("token_type", tokenType)
                .counter("tokens_total");
    }
}
