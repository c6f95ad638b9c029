package io.tokenmeter.functions;

import org.apache.flink.streaming.api.functions.KeyedProcessFunction;

/**
 * A keyed function whose idea of the watermark survives restores: the highest watermark its
 * {@link WatermarkRememberingOperator} received, before a restore included. Without it, watermarks are not
 * checkpointed, every operator restarts at Long.MIN_VALUE, and a straggler for an hour, day or window that closed
 * before the checkpoint would be taken for an on-time event and open it again.
 *
 * <p>Runs only in a {@link WatermarkRememberingOperator} (in the job: {@code keyed.transform(name, type, new
 * WatermarkRememberingOperator<>(function))}); in a plain {@code process(...)} its first record fails loudly.
 */
public abstract class WatermarkRememberingFunction<K, I, O> extends KeyedProcessFunction<K, I, O> {

    private transient WatermarkRememberingOperator<?, ?, ?> operator;

    final void rememberedBy(WatermarkRememberingOperator<?, ?, ?> operator) {
        this.operator = operator;
    }

    /** The current watermark, or the highest one the operator received before a restore if that is higher. */
    protected long watermark(Context ctx) {
        if (operator == null) {
            throw new IllegalStateException(getClass().getSimpleName() + " runs only in a "
                    + WatermarkRememberingOperator.class.getSimpleName()
                    + ", which remembers its watermark across restores; it was wired with process(...)");
        }
        return Math.max(operator.highestWatermark(), ctx.timerService().currentWatermark());
    }
}
