package io.tokenmeter.functions;

import io.tokenmeter.logic.UsageBundle;
import io.tokenmeter.logic.UsagePartial;
import java.time.Duration;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Sums the unique events of each subtask in a {@link UsageBundle} before they are shuffled by account, so the
 * per-account operators see one record per account, hour, model and modality per bundle instead of one per event.
 *
 * <p>The bundle is emitted before every watermark is passed on, so downstream nothing closes before it has seen
 * the usage it covers; before every checkpoint barrier, so the bundle never needs to be checkpointed; when it
 * holds {@code maxEntries} partials; and at least every {@code maxDelay}, so that the live metrics lag by no more.
 */
public class CombineUsageOperator extends AbstractStreamOperator<UsagePartial>
        implements OneInputStreamOperator<UsagePartial, UsagePartial> {

    private final int maxEntries;
    private final long maxDelayMillis;
    private transient UsageBundle bundle;

    public CombineUsageOperator(int maxEntries, Duration maxDelay) {
        this.maxEntries = maxEntries;
        this.maxDelayMillis = maxDelay.toMillis();
    }

    @Override
    public void open() throws Exception {
        super.open();
        bundle = new UsageBundle();
        getProcessingTimeService().scheduleWithFixedDelay(time -> emitBundle(), maxDelayMillis, maxDelayMillis);
    }

    @Override
    public void processElement(StreamRecord<UsagePartial> element) {
        if (!bundle.add(element.getValue())) {
            output.collect(element);
        } else if (bundle.size() >= maxEntries) {
            emitBundle();
        }
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        emitBundle();
        super.processWatermark(mark);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        emitBundle();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        emitBundle();
        super.finish();
    }

    private void emitBundle() {
        bundle.drain(partial -> output.collect(new StreamRecord<>(partial)));
    }
}
