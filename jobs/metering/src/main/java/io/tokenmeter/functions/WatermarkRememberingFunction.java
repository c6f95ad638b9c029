package io.tokenmeter.functions;

import java.util.List;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;

/**
 * A keyed function that remembers the highest watermark it has seen across restarts. Watermarks are not
 * checkpointed: after a restore every operator starts at Long.MIN_VALUE until new ones arrive, and without this an
 * event for a window that closed long ago would be taken for an on-time one and open the window again.
 *
 * <p>Union list state, so that after rescaling every subtask knows the highest watermark of all.
 */
abstract class WatermarkRememberingFunction<K, I, O> extends KeyedProcessFunction<K, I, O>
        implements CheckpointedFunction {

    private transient ListState<Long> checkpointed;
    private transient long highest = Long.MIN_VALUE;

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        highest = Long.MIN_VALUE;
        checkpointed = context.getOperatorStateStore()
                .getUnionListState(new ListStateDescriptor<>("highest-watermark", Types.LONG));
        for (Long watermark : checkpointed.get()) {
            highest = Math.max(highest, watermark);
        }
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        checkpointed.update(List.of(highest));
    }

    /** The current watermark, or the highest one seen before a restore if that is higher. */
    protected long watermark(Context ctx) {
        long current = ctx.timerService().currentWatermark();
        if (current > highest) {
            highest = current;
        }
        return highest;
    }
}
