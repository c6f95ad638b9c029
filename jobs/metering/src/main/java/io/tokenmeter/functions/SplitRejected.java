package io.tokenmeter.functions;

import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.io.IngestedRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/** Passes valid events on and sends records the source already rejected to {@link #REJECTED}. */
public class SplitRejected extends ProcessFunction<IngestedRecord, IngestedRecord> {

    public static final OutputTag<RejectedRecord> REJECTED =
            new OutputTag<>("rejected-at-ingest", TypeInformation.of(RejectedRecord.class));

    @Override
    public void processElement(IngestedRecord record, Context ctx, Collector<IngestedRecord> out) {
        if (record.isRejected()) {
            ctx.output(REJECTED, record.rejected);
        } else {
            out.collect(record);
        }
    }
}
