package io.tokenmeter.functions;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.logic.MetricLabels;
import java.util.EnumMap;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

/** Passes rejected records on to their sink, counting them by reason ({@code rejected_total{reason}}). */
public class CountRejected extends RichMapFunction<RejectedRecord, RejectedRecord> {

    private transient EnumMap<RejectReason, Counter> byReason;

    @Override
    public void open(OpenContext openContext) {
        MetricGroup group = getRuntimeContext().getMetricGroup().addGroup(MeteringMetrics.GROUP);
        byReason = new EnumMap<>(RejectReason.class);
        for (RejectReason reason : RejectReason.values()) {
            byReason.put(reason, group.addGroup("reason", MetricLabels.of(reason)).counter("rejected_total"));
        }
    }

    @Override
    public RejectedRecord map(RejectedRecord record) {
        byReason.get(record.getReason()).inc();
        return record;
    }
}
