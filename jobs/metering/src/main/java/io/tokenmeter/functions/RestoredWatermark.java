package io.tokenmeter.functions;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;

/**
 * The highest watermark an operator has seen, kept across restarts. Watermarks are not checkpointed: after a
 * restore every operator starts at Long.MIN_VALUE until new ones arrive, and without this an event for a window
 * that closed long ago would be taken for an on-time one and open the window again.
 *
 * <p>Union list state, so that after rescaling every subtask knows the highest watermark of all.
 */
final class RestoredWatermark implements java.io.Serializable {

    private transient ListState<Long> checkpointed;
    private long highest = Long.MIN_VALUE;

    void initializeState(FunctionInitializationContext context) throws Exception {
        checkpointed = context.getOperatorStateStore()
                .getUnionListState(new ListStateDescriptor<>("highest-watermark", Types.LONG));
        for (Long watermark : checkpointed.get()) {
            highest = Math.max(highest, watermark);
        }
    }

    void snapshotState(FunctionSnapshotContext context) throws Exception {
        checkpointed.update(java.util.List.of(highest));
    }

    /** The current watermark, or the highest one seen before a restore if that is higher. */
    long effective(long currentWatermark) {
        if (currentWatermark > highest) {
            highest = currentWatermark;
        }
        return highest;
    }
}
