package io.tokenmeter.functions;

import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.OutputTag;

/**
 * A keyed function whose idea of the watermark survives restores: the highest watermark its {@link
 * WatermarkRememberingOperator} received, before a restore included. Without it, watermarks are not
 * checkpointed, every operator restarts at Long.MIN_VALUE, and a straggler for an hour, day or
 * window that closed before the checkpoint would be taken for an on-time event and open it again.
 *
 * <p>Runs only in a {@link WatermarkRememberingOperator} (in the job: {@code keyed.transform(name,
 * type, new WatermarkRememberingOperator<>(function))}); in a plain {@code process(...)} its first
 * record fails loudly.
 */
public abstract class WatermarkRememberingFunction<K, I, O> extends KeyedProcessFunction<K, I, O> {

    private transient WatermarkRememberingOperator<?, ?, ?> operator;

    final void rememberedBy(WatermarkRememberingOperator<?, ?, ?> operator) {
        this.operator = operator;
    }

    /**
     * Where {@link #onWatermark} emits: the function's side outputs, each record with its own
     * timestamp.
     */
    public interface SideOutputs {
        <X> void output(OutputTag<X> tag, X value, long timestamp);
    }

    /**
     * Called for every watermark the operator receives, once it has noted it and before the timers
     * it is due to fire do, with no current key: for what the function closes by the watermark
     * itself rather than by a timer per key. Nothing by default.
     */
    protected void onWatermark(long watermark, SideOutputs out) throws Exception {}

    /**
     * The current watermark, or the highest one the operator received before a restore if that is
     * higher.
     */
    protected long watermark(Context ctx) {
        if (operator == null) {
            throw new IllegalStateException(
                    getClass().getSimpleName()
                            + " runs only in a "
                            + WatermarkRememberingOperator.class.getSimpleName()
                            + ", which remembers its watermark across restores; it was wired with process(...)");
        }
        return Math.max(operator.highestWatermark(), ctx.timerService().currentWatermark());
    }

    /**
     * The highest watermark the operator received, before a restore included; Long.MIN_VALUE if
     * none yet.
     */
    protected long highestWatermark() {
        return operator.highestWatermark();
    }

    /** The operator's keyed state backend, for clean-up that no single key's state can do. */
    protected KeyedStateBackend<K> keyedStateBackend() {
        return operator.getKeyedStateBackend();
    }
}
