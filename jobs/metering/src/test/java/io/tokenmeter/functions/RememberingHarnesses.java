package io.tokenmeter.functions;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

/** Harnesses around a {@link WatermarkRememberingFunction} in the operator the job runs it in. */
final class RememberingHarnesses {

    private RememberingHarnesses() {}

    /**
     * An opened harness, as {@code ProcessFunctionTestHarnesses.forKeyedProcessFunction} makes for
     * plain functions.
     */
    static <K, I, O> KeyedOneInputStreamOperatorTestHarness<K, I, O> forFunction(
            WatermarkRememberingFunction<K, I, O> function,
            KeySelector<I, K> key,
            TypeInformation<K> keyType)
            throws Exception {
        var harness =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new WatermarkRememberingOperator<>(function), key, keyType);
        harness.open();
        return harness;
    }
}
