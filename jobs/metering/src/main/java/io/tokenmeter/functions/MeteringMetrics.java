package io.tokenmeter.functions;

import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.PackageNotice;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.logic.UsagePartial;
import io.tokenmeter.logic.ingest.MetricLabels;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * Every business metric of the metering job, under the metric group {@code tokenmeter}
 * (docs/metrics.md): the one place that names them and their labels. Each operator opens the part
 * it updates — {@link #billing}, {@link #duplicates}, {@link #rejections}, {@link #packages}. Label
 * values come only from {@link MetricLabels} or closed enums, so the number of series is bounded:
 * regions × modalities × 3 token types for tokens, modalities × models for events.
 */
final class MeteringMetrics {

    static final String GROUP = "tokenmeter";

    /** Window of the notice latency histogram: enough for stable percentiles, small on the heap. */
    private static final int LATENCY_WINDOW = 10_000;

    private MeteringMetrics() {}

    /**
     * The billing operator's metrics: tokens, events, late events, billing records and the health
     * gauges.
     */
    static Billing billing(MetricGroup operatorGroup, MetricLabels labels) {
        return new Billing(operatorGroup.addGroup(GROUP), labels);
    }

    /** {@code duplicates_total}: retries dropped by deduplication. */
    static Counter duplicates(MetricGroup operatorGroup) {
        return operatorGroup.addGroup(GROUP).counter("duplicates_total");
    }

    /** {@code rejected_total{reason}}, one series per reason from the start. */
    static Rejections rejections(MetricGroup operatorGroup) {
        return new Rejections(operatorGroup.addGroup(GROUP));
    }

    /**
     * The package rating operator's metrics: notices by threshold, their latency, and entries into
     * overage.
     */
    static Packages packages(MetricGroup operatorGroup) {
        return new Packages(operatorGroup.addGroup(GROUP));
    }

    /** The metrics of the billing operator. */
    static final class Billing {

        private final MetricGroup group;
        private final MetricLabels labels;
        private final Map<String, Counter[]> tokensByRegionAndModality = new HashMap<>();
        private final Map<String, Counter> eventsByModalityAndModel = new HashMap<>();
        private final Map<String, Counter> billingRecordsByKind = new HashMap<>();
        private final Counter lateEvents;

        private Billing(MetricGroup group, MetricLabels labels) {
            this.group = group;
            this.labels = labels;
            this.lateEvents = group.counter("late_events_total");
        }

        /**
         * The health gauges: the wall-clock lag of event time, how late after midnight the last day
         * closed, and the tokens of today's billing day so far.
         */
        void gauges(
                Gauge<Long> eventTimeLagSeconds,
                Gauge<Long> dayCloseDelaySeconds,
                Gauge<Long> todayTokens) {
            group.gauge("event_time_lag_seconds", eventTimeLagSeconds);
            group.gauge("day_close_delay_seconds", dayCloseDelaySeconds);
            group.gauge("today_tokens", todayTokens);
        }

        /** Unique events counted for billing; late ones are billed through ADJUSTMENTs. */
        void counted(UsagePartial usage, boolean late) {
            String region = labels.region(usage.region);
            String modality = MetricLabels.of(usage.modality);
            Counter[] tokens =
                    tokensByRegionAndModality.computeIfAbsent(
                            region + '|' + modality,
                            k ->
                                    new Counter[] {
                                        tokenCounter(region, modality, "input"),
                                        tokenCounter(region, modality, "output"),
                                        tokenCounter(region, modality, "cached")
                                    });
            tokens[0].inc(usage.inputTokens);
            tokens[1].inc(usage.outputTokens);
            tokens[2].inc(usage.cachedTokens);
            String model = labels.model(usage.model);
            eventsByModalityAndModel
                    .computeIfAbsent(
                            modality + '|' + model,
                            k ->
                                    group.addGroup("modality", modality)
                                            .addGroup("model", model)
                                            .counter("events_total"))
                    .inc(usage.events);
            if (late) {
                lateEvents.inc(usage.events);
            }
        }

        void billed(BillingRecord record) {
            String kind = MetricLabels.of(record.getKind());
            billingRecordsByKind
                    .computeIfAbsent(
                            kind,
                            k -> group.addGroup("kind", kind).counter("billing_records_total"))
                    .inc();
        }

        private Counter tokenCounter(String region, String modality, String tokenType) {
            return group.addGroup("region", region)
                    .addGroup("modality", modality)
                    .addGroup("token_type", tokenType)
                    .counter("tokens_total");
        }
    }

    /** Rejected records by reason. */
    static final class Rejections {

        private final EnumMap<RejectReason, Counter> byReason = new EnumMap<>(RejectReason.class);

        private Rejections(MetricGroup group) {
            for (RejectReason reason : RejectReason.values()) {
                byReason.put(
                        reason,
                        group.addGroup("reason", MetricLabels.of(reason))
                                .counter("rejected_total"));
            }
        }

        void rejected(RejectReason reason) {
            byReason.get(reason).inc();
        }
    }

    /** The metrics of package rating. */
    static final class Packages {

        private final MetricGroup group;
        private final Map<Integer, Counter> noticesByThreshold = new HashMap<>();
        private final Counter enteredOverage;
        private final Histogram noticeLatency;

        private Packages(MetricGroup group) {
            this.group = group;
            this.enteredOverage = group.counter("package_overage_entered_total");
            this.noticeLatency =
                    group.histogram(
                            "package_notice_latency_ms",
                            new DescriptiveStatisticsHistogram(LATENCY_WINDOW));
        }

        /** A notice sent: counted by threshold, its latency from the usage's arrival recorded. */
        void notice(PackageNotice notice) {
            noticesByThreshold
                    .computeIfAbsent(
                            notice.getThresholdPercent(),
                            threshold ->
                                    group.addGroup("threshold", Integer.toString(threshold))
                                            .counter("package_notices_total"))
                    .inc();
            noticeLatency.update(
                    notice.getEmittedAt().toEpochMilli() - notice.getArrivedAt().toEpochMilli());
        }

        /** An account's usage went beyond every active package's allowance. */
        void enteredOverage() {
            enteredOverage.inc();
        }
    }
}
