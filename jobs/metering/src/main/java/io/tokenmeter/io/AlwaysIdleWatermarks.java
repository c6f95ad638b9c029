package io.tokenmeter.io;

import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;

/**
 * For a control stream such as subscriptions: it never holds event time back. Its records carry
 * their own business times, are rare, and must be applied as soon as they are read, so the stream
 * declares itself idle and the operators it feeds follow the usage watermark alone.
 */
public final class AlwaysIdleWatermarks<T> implements WatermarkGenerator<T> {

    @Override
    public void onEvent(T event, long eventTimestamp, WatermarkOutput output) {
        output.markIdle();
    }

    @Override
    public void onPeriodicEmit(WatermarkOutput output) {
        output.markIdle();
    }
}
