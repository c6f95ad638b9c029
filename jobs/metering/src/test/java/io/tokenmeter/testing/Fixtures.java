package io.tokenmeter.testing;

import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.avro.state.UsageLineState;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.Usage;
import io.tokenmeter.logic.UsagePartial;
import java.time.Instant;

/** Small builders the metering tests share. */
public final class Fixtures {

    private Fixtures() {}

    public static long millis(String instant) {
        return Instant.parse(instant).toEpochMilli();
    }

    /** A usage event from gateway-a in region CN-GD. */
    public static UsageEvent usageEvent(String id, String account, String model, Modality modality,
            long input, long output, long cached, String time) {
        return UsageEvent.newBuilder()
                .setEventId(id)
                .setSource("gateway-a")
                .setAccountId(account)
                .setRegion("CN-GD")
                .setModel(model)
                .setModality(modality)
                .setInputTokens(input)
                .setOutputTokens(output)
                .setCachedTokens(cached)
                .setEventTime(Instant.parse(time))
                .build();
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

    /** One event as deduplication passes it on when neither its day nor its hour had closed. */
    public static UsagePartial onTime(UsageEvent event, BillingCalendar calendar) {
        return UsagePartial.judge(Usage.of(event), false, Long.MIN_VALUE, Long.MIN_VALUE, calendar);
    }

    /** One event as deduplication passes it on when its hour had closed: with its own correction id. */
    public static UsagePartial hourCorrection(UsageEvent event, BillingCalendar calendar) {
        return UsagePartial.judge(Usage.of(event), false, Long.MAX_VALUE, Long.MIN_VALUE, calendar);
    }
}
