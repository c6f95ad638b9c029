package io.tokenmeter.logic.billing;

import static io.tokenmeter.testing.Fixtures.hourCorrection;
import static io.tokenmeter.testing.Fixtures.onTime;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.Usage;
import io.tokenmeter.logic.UsagePartial;
import io.tokenmeter.testing.Fixtures;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.types.PojoTestUtils;
import org.junit.jupiter.api.Test;

class UsageBundleTest {

    private static final BillingCalendar CALENDAR =
            new BillingCalendar(
                    ZoneId.of("Asia/Shanghai"), Duration.ofMinutes(15), Duration.ofDays(35));
    private static final long NO_WATERMARK = Long.MIN_VALUE;

    @Test
    void partialsAndUsageTravelAsPojosWithoutKryo() {
        PojoTestUtils.assertSerializedAsPojoWithoutKryo(UsagePartial.class);
        PojoTestUtils.assertSerializedAsPojoWithoutKryo(Usage.class);
    }

    @Test
    void sumsEventsOfOneAccountHourModelAndModality() {
        UsageBundle bundle = new UsageBundle();
        assertThat(add(bundle, event("a", "m", Modality.TEXT, 1, "2026-03-10T02:10:00Z"))).isTrue();
        add(bundle, event("a", "m", Modality.TEXT, 10, "2026-03-10T02:50:00Z"));
        add(bundle, event("a", "m", Modality.TEXT, 100, "2026-03-10T02:59:59.999Z"));

        assertThat(bundle.size()).isEqualTo(1);
        assertThat(drain(bundle))
                .extracting(p -> p.inputTokens, p -> p.outputTokens, p -> p.events)
                .containsExactly(tuple(111L, 6L, 3L));
        assertThat(bundle.size()).isZero();
    }

    @Test
    void keepsApartWhatIsBilledApart() {
        UsageBundle bundle = new UsageBundle();
        add(bundle, event("a", "m", Modality.TEXT, 1, "2026-03-10T02:10:00Z"));
        add(bundle, event("b", "m", Modality.TEXT, 1, "2026-03-10T02:10:00Z")); // account
        add(bundle, event("a", "n", Modality.TEXT, 1, "2026-03-10T02:10:00Z")); // model
        add(bundle, event("a", "m", Modality.CODE, 1, "2026-03-10T02:10:00Z")); // modality
        add(bundle, event("a", "m", Modality.TEXT, 1, "2026-03-10T03:10:00Z")); // hour
        UsagePartial late =
                onTime(event("a", "m", Modality.TEXT, 1, "2026-03-10T02:10:00Z"), CALENDAR);
        late.late = true;
        bundle.add(late, NO_WATERMARK); // billed in an adjustment
        UsagePartial otherRegion =
                onTime(event("a", "m", Modality.TEXT, 1, "2026-03-10T02:10:00Z"), CALENDAR);
        otherRegion.region = "CN-BJ";
        bundle.add(otherRegion, NO_WATERMARK);

        assertThat(bundle.size()).isEqualTo(7);
        assertThat(drain(bundle)).extracting(p -> p.events).containsOnly(1L);
    }

    @Test
    void refusesEventsWithTheirOwnHourlyCorrectionId() {
        UsageBundle bundle = new UsageBundle();
        UsagePartial correction =
                hourCorrection(event("a", "m", Modality.TEXT, 1, "2026-03-10T02:10:00Z"), CALENDAR);

        assertThat(bundle.add(correction, NO_WATERMARK)).isFalse();
        assertThat(bundle.size()).isZero();
    }

    /** Adds one on-time event; usage bundles ignore the watermark. */
    private static boolean add(UsageBundle bundle, UsageEvent event) {
        return bundle.add(onTime(event, CALENDAR), NO_WATERMARK);
    }

    private static List<UsagePartial> drain(UsageBundle bundle) {
        List<UsagePartial> out = new ArrayList<>();
        bundle.drain(out::add);
        return out;
    }

    private static UsageEvent event(
            String account, String model, Modality modality, long input, String time) {
        return Fixtures.usageEventBuilder()
                .setEventId(account + time + input)
                .setAccountId(account)
                .setModel(model)
                .setModality(modality)
                .setInputTokens(input)
                .setOutputTokens(2)
                .setCachedTokens(0)
                .setEventTime(Instant.parse(time))
                .build();
    }
}
