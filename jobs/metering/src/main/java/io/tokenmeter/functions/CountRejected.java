package io.tokenmeter.functions;

import io.tokenmeter.avro.RejectedRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;

/**
 * Passes rejected records on to their sink, counting them by reason ({@code
 * rejected_total{reason}}).
 */
public class CountRejected extends RichMapFunction<RejectedRecord, RejectedRecord> {

    private transient MeteringMetrics.Rejections metrics;

    @Override
    public void open(OpenContext openContext) {
        metrics = MeteringMetrics.rejections(getRuntimeContext().getMetricGroup());
    }

    @Override
    public RejectedRecord map(RejectedRecord record) {
        metrics.rejected(record.getReason());
        return record;
    }
}
