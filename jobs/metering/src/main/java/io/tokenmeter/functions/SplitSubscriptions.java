package io.tokenmeter.functions;

import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.io.SubscriptionRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Passes valid subscription events on and sends the ones the source rejected to {@link #REJECTED}.
 */
public class SplitSubscriptions extends ProcessFunction<SubscriptionRecord, SubscriptionEvent> {

    public static final OutputTag<RejectedRecord> REJECTED =
            new OutputTag<>("rejected-subscriptions", TypeInformation.of(RejectedRecord.class));

    @Override
    public void processElement(
            SubscriptionRecord record, Context ctx, Collector<SubscriptionEvent> out) {
        if (record.rejected != null) {
            ctx.output(REJECTED, record.rejected);
        } else {
            out.collect(record.event);
        }
    }
}
