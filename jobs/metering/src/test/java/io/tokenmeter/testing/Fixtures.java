package io.tokenmeter.testing;

import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.avro.state.UsageLineState;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.Usage;
import io.tokenmeter.logic.UsagePartial;
import io.tokenmeter.logic.ingest.EventFingerprints;
import io.tokenmeter.logic.ingest.SecretSource;
import io.tokenmeter.logic.packages.PackageCatalog;
import java.io.Serializable;
import java.time.Instant;
import java.time.ZoneId;
import java.util.function.UnaryOperator;

/** Small builders the metering tests share. */
public final class Fixtures {

    /**
     * The catalog the package tests share: units are tokens for TEXT input, output counts double.
     */
    public static final String PACKAGE_CATALOG =
            """
            currency: CNY
            units:
              TEXT:  {input: 1, output: 2, cached: 0}
              CODE:  {input: 1, output: 2, cached: 0}
              IMAGE: {input: 1, output: 2, cached: 0}
              AUDIO: {input: 1, output: 2, cached: 0}
              VIDEO: {input: 1, output: 2, cached: 0}
              OTHER: {input: 1, output: 2, cached: 0}
            packages:
              - id: monthly
                included-units: 1000
                validity: month
                priority: 10
                rollover-limit: 300
                tariffs:
                  - {effective-from: "2025-01-01T00:00", overage-price-per-million: 2000000}
                  - {effective-from: "2025-03-15T00:00", overage-price-per-million: 3000000}
              - id: booster
                included-units: 200
                validity: 7 days
                priority: 1
                tariffs:
                  - {effective-from: "2025-01-01T00:00", overage-price-per-million: 1000000}
            """;

    /** The dedup key of the tests, as if from the TaskManagers' environment. */
    public static final String DEDUP_KEY_TEXT = "test-dedup-key-0123456789abcdef0123456789";

    /**
     * Where the tests' dedup key is: an environment of their own holding {@link #DEDUP_KEY_TEXT}.
     */
    public static final SecretSource DEDUP_KEY =
            new SecretSource(
                    "",
                    "TOKENMETER_DEDUP_KEY",
                    "dedup.key-file",
                    (UnaryOperator<String> & Serializable) name -> DEDUP_KEY_TEXT);

    private Fixtures() {}

    /** {@code record} with the dedup key the source gives it under {@link #DEDUP_KEY_TEXT}. */
    public static IngestedRecord fingerprinted(IngestedRecord record) {
        return record.fingerprint(new EventFingerprints(DEDUP_KEY_TEXT));
    }

    public static PackageCatalog packageCatalog(ZoneId zone) {
        return PackageCatalog.parse(PACKAGE_CATALOG, zone);
    }

    public static long millis(String instant) {
        return Instant.parse(instant).toEpochMilli();
    }

    /**
     * The usage event every test starts from, to change what its case is about: evt-1 from
     * gateway-a, account acct-1 in region CN-GD, model qwen-max, TEXT, 10 input, 20 output and 30
     * cached tokens at 2026-03-10T01:00:00Z.
     */
    public static UsageEvent.Builder usageEventBuilder() {
        return UsageEvent.newBuilder()
                .setEventId("evt-1")
                .setSource("gateway-a")
                .setAccountId("acct-1")
                .setRegion("CN-GD")
                .setModel("qwen-max")
                .setModality(Modality.TEXT)
                .setInputTokens(10)
                .setOutputTokens(20)
                .setCachedTokens(30)
                .setEventTime(Instant.parse("2026-03-10T01:00:00Z"));
    }

    /** A usage event from gateway-a in region CN-GD. */
    public static UsageEvent usageEvent(
            String id,
            String account,
            String model,
            Modality modality,
            long input,
            long output,
            long cached,
            String time) {
        return usageEventBuilder()
                .setEventId(id)
                .setAccountId(account)
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

    /*
     * The partials below are judged as if each event id had been read at a position of its own: the offset is the
     * id's hash, so equal events give equal rows and distinct ones (in practice) distinct rows.
     */

    /** One event as deduplication passes it on when neither its day nor its hour had closed. */
    public static UsagePartial onTime(UsageEvent event, BillingCalendar calendar) {
        return UsagePartial.judge(
                Usage.of(event),
                "raw",
                0,
                event.getEventId().hashCode(),
                false,
                Long.MIN_VALUE,
                Long.MIN_VALUE,
                calendar);
    }

    /**
     * One event as deduplication passes it on when its hour had closed: with its own correction id.
     */
    public static UsagePartial hourCorrection(UsageEvent event, BillingCalendar calendar) {
        return UsagePartial.judge(
                Usage.of(event),
                "raw",
                0,
                event.getEventId().hashCode(),
                false,
                Long.MAX_VALUE,
                Long.MIN_VALUE,
                calendar);
    }
}
