package io.tokenmeter.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.SubscriptionAction;
import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.logic.packages.PackageCatalog;
import io.tokenmeter.testkit.WorkloadSpec;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SubscriptionWorkloadTest {

    private static final WorkloadSpec SPEC = WorkloadSpec.clean(100_000, 5_000, 42);
    private static final PackageCatalog CATALOG =
            PackageCatalog.load(Path.of("../../config/packages.yaml"), SPEC.billingZone());

    @Test
    void isTheSameForTheSameSeedAndHoldsEveryKindOfChange() {
        List<SubscriptionEvent> events = SubscriptionWorkload.generate(SPEC, CATALOG);

        assertThat(SubscriptionWorkload.generate(SPEC, CATALOG)).isEqualTo(events);
        assertThat(SubscriptionWorkload.byAction(events))
                .containsOnlyKeys(SubscriptionAction.values())
                .allSatisfy((action, count) -> assertThat(count).isPositive());
        assertThat(
                        SubscriptionWorkload.generate(
                                new WorkloadSpec(
                                        SPEC.events(),
                                        SPEC.accounts(),
                                        1.0,
                                        SPEC.start(),
                                        SPEC.span(),
                                        SPEC.billingZone(),
                                        0,
                                        0,
                                        0,
                                        0,
                                        7),
                                CATALOG))
                .isNotEqualTo(events);
    }

    @Test
    void numbersEachSubscriptionsVersionsFromOneAndBuysEverythingBeforeTheFirstEvent() {
        Map<String, Integer> lastVersion = new HashMap<>();
        for (SubscriptionEvent event : SubscriptionWorkload.generate(SPEC, CATALOG)) {
            int expected = lastVersion.getOrDefault(event.getSubscriptionId(), 0) + 1;
            assertThat(event.getVersion()).isEqualTo(expected);
            lastVersion.put(event.getSubscriptionId(), expected);
            assertThat(event.getActivatedAt()).isBefore(SPEC.start());
            assertThat(CATALOG.packages()).containsKey(event.getPackageId());
        }
        assertThat(lastVersion).containsKey("sub-acct-0001-m").containsKey("sub-acct-0050-m");
    }
}
