package io.tokenmeter.local;

import io.tokenmeter.avro.PackageNotice;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.schema.DecodeException;
import io.tokenmeter.testkit.KafkaTopics;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The package notices a run committed: how many per threshold, how many late, whether any was
 * repeated, and the notice latency — from the job reading the crossing usage to emitting the
 * notice; a consumer sees it up to one checkpoint interval later, when the transaction commits.
 */
record NoticeSummary(
        Map<Integer, Long> byThreshold,
        long late,
        long repeatedIds,
        long p50LatencyMillis,
        long p99LatencyMillis) {

    static NoticeSummary read(KafkaTopics kafka, String topic) {
        AvroCodec<PackageNotice> codec = AvroCodec.packageNotices();
        Map<Integer, Long> byThreshold = new TreeMap<>();
        Set<String> ids = new HashSet<>();
        long[] late = {0};
        long[] repeated = {0};
        List<Long> latencies = new ArrayList<>();
        kafka.readCommitted(
                topic,
                record -> {
                    PackageNotice notice;
                    try {
                        notice = codec.decode(record.value());
                    } catch (DecodeException e) {
                        throw new IllegalStateException(
                                "undecodable notice at offset " + record.offset(), e);
                    }
                    byThreshold.merge(notice.getThresholdPercent(), 1L, Long::sum);
                    if (notice.getLate()) {
                        late[0]++;
                    }
                    if (!ids.add(notice.getNoticeId())) {
                        repeated[0]++;
                    }
                    latencies.add(
                            notice.getEmittedAt().toEpochMilli()
                                    - notice.getArrivedAt().toEpochMilli());
                });
        long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        return new NoticeSummary(
                byThreshold, late[0], repeated[0], percentile(sorted, 50), percentile(sorted, 99));
    }

    long total() {
        return byThreshold.values().stream().mapToLong(Long::longValue).sum();
    }

    /** One line for the run's summary, in the style of the reconciliation's lines. */
    String line() {
        StringBuilder thresholds = new StringBuilder();
        byThreshold.forEach((t, n) -> thresholds.append(' ').append(t).append("%=").append(n));
        return String.format(
                "NOTICES total=%,d%s late=%,d p50_latency_ms=%d p99_latency_ms=%d repeated_ids=%d status=%s",
                total(),
                thresholds,
                late,
                p50LatencyMillis,
                p99LatencyMillis,
                repeatedIds,
                repeatedIds == 0 ? "OK" : "REPEATED");
    }

    /** Nearest-rank percentile of sorted values; 0 for none. */
    static long percentile(long[] sorted, int percent) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(percent / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }
}
