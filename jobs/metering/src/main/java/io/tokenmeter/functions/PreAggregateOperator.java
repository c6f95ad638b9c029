package io.tokenmeter.functions;

import io.tokenmeter.logic.Bundle;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.function.SerializableSupplier;

/**
 * Sums each subtask's records in a {@link Bundle} before they are shuffled, so the keyed operator
 * after the shuffle sees one record per key and bundle instead of one per input record.
 *
 * <p>The bundle is passed on before a watermark that closes a window it holds usage of ({@link
 * Bundle#closesAt}), so downstream nothing closes before it has seen the records it covers; it is
 * kept across the watermarks that close none of them, so it keeps summing (passing it on at every
 * watermark, about every 200 ms, hardly merged anything). Those watermarks are forwarded at once:
 * the sums were judged against an earlier watermark, and downstream judges nothing about them that
 * a watermark below their windows' ends can change. The bundle is also passed on before every
 * checkpoint barrier, so it never needs to be checkpointed; before a record it does not sum (an
 * hourly correction), so that record never overtakes usage read before it; when it holds {@code
 * maxEntries} sums; and at least every {@code maxDelay}, so the live metrics lag by no more. The
 * highest watermark is kept across restores (union operator state), like the keyed operators
 * downstream keep theirs.
 */
public class PreAggregateOperator<T> extends AbstractStreamOperator<T>
        implements OneInputStreamOperator<T, T> {

    private final SerializableSupplier<Bundle<T>> bundles;
    private final int maxEntries;
    private final long maxDelayMillis;
    private transient Bundle<T> bundle;
    private transient long highestWatermark;
    private transient ListState<Long> checkpointedWatermark;

    public PreAggregateOperator(
            SerializableSupplier<Bundle<T>> bundles, int maxEntries, Duration maxDelay) {
        this.bundles = bundles;
        this.maxEntries = maxEntries;
        this.maxDelayMillis = maxDelay.toMillis();
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        highestWatermark = Long.MIN_VALUE;
        checkpointedWatermark =
                context.getOperatorStateStore()
                        .getUnionListState(
                                new ListStateDescriptor<>("highest-watermark", Types.LONG));
        for (Long watermark : checkpointedWatermark.get()) {
            highestWatermark = Math.max(highestWatermark, watermark);
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        bundle = bundles.get();
        getProcessingTimeService()
                .scheduleWithFixedDelay(time -> emitBundle(), maxDelayMillis, maxDelayMillis);
    }

    @Override
    public void processElement(StreamRecord<T> element) {
        if (!bundle.add(element.getValue(), highestWatermark)) {
            // After what the bundle holds, so no usage overtakes usage read before it: package
            // balances draw usage down in the order it comes.
            emitBundle();
            output.collect(element);
        } else if (bundle.size() >= maxEntries) {
            emitBundle();
        }
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        if (mark.getTimestamp() >= bundle.closesAt()) {
            emitBundle();
        }
        highestWatermark = Math.max(highestWatermark, mark.getTimestamp());
        super.processWatermark(mark);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        emitBundle();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        checkpointedWatermark.update(List.of(highestWatermark));
    }

    @Override
    public void finish() throws Exception {
        emitBundle();
        super.finish();
    }

    private void emitBundle() {
        bundle.drain(sum -> output.collect(new StreamRecord<>(sum)));
    }
}
