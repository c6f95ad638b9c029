package io.tokenmeter.functions;

import java.util.List;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

/**
 * Runs a {@link WatermarkRememberingFunction} and remembers across restores the highest watermark
 * the operator received before the checkpoint barrier — records or not. Watermarks are not
 * checkpointed: a restored operator starts at Long.MIN_VALUE. A function that could only note the
 * watermark when a record arrives would forget those of a quiet spell, in which timers close hours,
 * days, correction deadlines and rollup windows; after a restore a straggler would find them open
 * again (I8). Only the operator sees every watermark, so it keeps the memory.
 *
 * <p>The value is union list state: after rescaling every subtask takes the highest of all.
 * Upstream operators snapshot before downstream ones have seen anything newer than what was sent
 * before the barrier, so what deduplication remembers is never behind what the operators after it
 * remember (also across subtasks: a downstream watermark is the minimum over its inputs); its
 * judgements stay ahead of their closes.
 *
 * <p>{@link Watermark#MAX_WATERMARK} (end of input, {@code stop --drain}) is remembered like any
 * other: it closed everything, so a job restored from such a snapshot rejects every event as
 * TOO_LATE rather than bill closed days again.
 */
public final class WatermarkRememberingOperator<K, I, O> extends KeyedProcessOperator<K, I, O> {

    /**
     * The operator state's name; the same as the function-level state it replaced, so its layout is
     * unchanged.
     */
    static final String STATE_NAME = "highest-watermark";

    private transient ListState<Long> checkpointed;
    private transient long highest;

    public WatermarkRememberingOperator(WatermarkRememberingFunction<K, I, O> function) {
        super(function);
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        highest = Long.MIN_VALUE;
        checkpointed =
                context.getOperatorStateStore()
                        .getUnionListState(new ListStateDescriptor<>(STATE_NAME, Types.LONG));
        for (Long watermark : checkpointed.get()) {
            highest = Math.max(highest, watermark);
        }
        ((WatermarkRememberingFunction<?, ?, ?>) userFunction).rememberedBy(this);
    }

    /** Noted before timers fire, so they and the records after them see it. */
    @Override
    public void processWatermark(Watermark mark) throws Exception {
        if (mark.getTimestamp() > highest) {
            highest = mark.getTimestamp();
        }
        ((WatermarkRememberingFunction<?, ?, ?>) userFunction)
                .onWatermark(mark.getTimestamp(), sideOutputs);
        super.processWatermark(mark);
    }

    private transient WatermarkRememberingFunction.SideOutputs sideOutputs;

    @Override
    public void open() throws Exception {
        sideOutputs =
                new WatermarkRememberingFunction.SideOutputs() {
                    @Override
                    public <X> void output(OutputTag<X> tag, X value, long timestamp) {
                        output.collect(tag, new StreamRecord<>(value, timestamp));
                    }
                };
        super.open();
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        checkpointed.update(List.of(highest));
    }

    /** The highest watermark received, before a restore included; Long.MIN_VALUE if none yet. */
    long highestWatermark() {
        return highest;
    }
}
