package io.tokenmeter.testing;

import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.state.UsageLineState;
import java.time.Instant;

/** Small builders the metering tests share. */
public final class Fixtures {

    private Fixtures() {}

    public static long millis(String instant) {
        return Instant.parse(instant).toEpochMilli();
    }

    /** A billing record's line item. */
    public static BillingLineItem billingLine(
            String model, Modality modality, long input, long output, long cached, long events) {
        return BillingLineItem.newBuilder()
                .setModel(model)
                .setModality(modality)
                .setInputTokens(input)
                .setOutputTokens(output)
                .setCachedTokens(cached)
                .setEvents(events)
                .build();
    }

    /** A usage line as kept in state. */
    public static UsageLineState usageLine(
            String model, Modality modality, long input, long output, long cached, long events) {
        return UsageLineState.newBuilder()
                .setModel(model)
                .setModality(modality)
                .setInputTokens(input)
                .setOutputTokens(output)
                .setCachedTokens(cached)
                .setEvents(events)
                .build();
    }
}
