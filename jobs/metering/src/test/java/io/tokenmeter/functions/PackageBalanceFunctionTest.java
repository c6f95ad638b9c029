package io.tokenmeter.functions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.PackageNotice;
import io.tokenmeter.avro.SubscriptionAction;
import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.io.SubscriptionRecord;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.UsagePartial;
import io.tokenmeter.logic.packages.PackageCatalog;
import io.tokenmeter.testing.Fixtures;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.types.PojoTestUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PackageBalanceFunctionTest {

    private static final ZoneId ZONE = ZoneId.of("Asia/Shanghai");
    private static final BillingCalendar CALENDAR =
            new BillingCalendar(ZONE, Duration.ofMinutes(15), Duration.ofDays(35));

    private KeyedTwoInputStreamOperatorTestHarness<
                    String, UsagePartial, SubscriptionEvent, UsagePartial>
            harness;

    @AfterEach
    void tearDown() throws Exception {
        if (harness != null) {
            harness.close();
        }
    }

    @Test
    void ratesUsageAndNotifiesAThresholdOnceAcrossARestore() throws Exception {
        // given: a subscription, and usage reaching 80% of it
        harness = open(null);
        harness.processElement2(new StreamRecord<>(subscription(), 0));
        harness.processElement1(new StreamRecord<>(usage(800), 0));
        assertThat(notices()).extracting(PackageNotice::getThresholdPercent).containsExactly(80);
        assertThat(harness.extractOutputValues())
                .singleElement()
                .satisfies(u -> assertThat(u.includedUnits).isEqualTo(800));
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        harness.close();

        // when: the job restores and the same usage arrives again (a replay after a failure), then
        // more
        harness = open(snapshot);
        harness.processElement1(new StreamRecord<>(usage(800), 0));

        // then: 80% is not notified again; 100% is, and what is beyond the allowance is overage
        assertThat(notices()).extracting(PackageNotice::getThresholdPercent).containsExactly(100);
        assertThat(harness.extractOutputValues())
                .singleElement()
                .satisfies(
                        u -> {
                            assertThat(u.includedUnits).isEqualTo(200);
                            assertThat(u.overageUnits).isEqualTo(600);
                        });
    }

    @Test
    void passesUsageOfAnAccountWithoutPackagesOnUnratedAndKeepsNoState() throws Exception {
        harness = open(null);
        harness.processElement1(new StreamRecord<>(usage(800), 0));

        assertThat(harness.extractOutputValues())
                .singleElement()
                .satisfies(u -> assertThat(u.includedUnits + u.overageUnits).isZero());
        assertThat(harness.numKeyedStateEntries()).isZero();
    }

    @Test
    void clearsStateAndTimersAfterTheCorrectionDeadline() throws Exception {
        harness = open(null);
        harness.processElement2(new StreamRecord<>(subscription(), 0));
        harness.processElement1(new StreamRecord<>(usage(10), 0));
        assertThat(harness.numEventTimeTimers()).isEqualTo(1);

        long deadline = local("2025-04-01T00:00") + Duration.ofDays(35).toMillis();
        harness.processBothWatermarks(new Watermark(deadline - 1));
        assertThat(harness.numKeyedStateEntries()).isEqualTo(1);
        harness.processBothWatermarks(new Watermark(deadline));

        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    @Test
    void subscriptionRecordIsAPojo() {
        PojoTestUtils.assertSerializedAsPojoWithoutKryo(SubscriptionRecord.class);
    }

    /**
     * I7: a package retired from the catalog while restored state still holds a subscription to it.
     * Before: the next usage of the account threw IllegalArgumentException (unknown package) — a
     * restart loop.
     */
    @Test
    void treatsAPackageRetiredFromTheCatalogAsInactiveAfterARestoreAndAppliesItsCancel()
            throws Exception {
        // given: a booster subscription that has drawn usage, in a snapshot
        harness = open(null);
        harness.processElement2(new StreamRecord<>(booster(1, SubscriptionAction.ACTIVATE), 0));
        harness.processElement1(new StreamRecord<>(usage(50), 0));
        assertThat(harness.extractOutputValues())
                .singleElement()
                .satisfies(u -> assertThat(u.includedUnits).isEqualTo(50));
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        harness.close();

        // when: the job restores with a catalog that no longer has the booster, and usage and a
        // CANCEL arrive
        PackageCatalog retired =
                PackageCatalog.parse(
                        Fixtures.PACKAGE_CATALOG.substring(
                                0, Fixtures.PACKAGE_CATALOG.indexOf("  - id: booster")),
                        ZONE);
        harness = open(snapshot, retired);
        harness.processElement1(new StreamRecord<>(usage(70), 0));
        harness.processElement2(new StreamRecord<>(booster(2, SubscriptionAction.CANCEL), 0));
        harness.processElement1(new StreamRecord<>(usage(30), 0));

        // then: the usage is metered (passed on, unrated), nothing is drawn from the retired
        // package, no notice
        assertThat(harness.extractOutputValues())
                .extracting(u -> u.inputTokens, u -> u.includedUnits, u -> u.overageUnits)
                .containsExactly(tuple(70L, 0L, 0L), tuple(30L, 0L, 0L));
        assertThat(notices()).isEmpty();
        // and the CANCEL replaced the subscription's state: it is the version kept
        OperatorSubtaskState after = harness.snapshot(2, 2);
        harness.close();
        harness = open(after, retired);
        harness.processElement2(new StreamRecord<>(booster(2, SubscriptionAction.CANCEL), 0));
        harness.processElement1(new StreamRecord<>(usage(1), 0));
        assertThat(harness.extractOutputValues())
                .singleElement()
                .satisfies(u -> assertThat(u.includedUnits).isZero());
    }

    /** A harness around a fresh function, restored from {@code snapshot} unless it is null. */
    private static KeyedTwoInputStreamOperatorTestHarness<
                    String, UsagePartial, SubscriptionEvent, UsagePartial>
            open(OperatorSubtaskState snapshot) throws Exception {
        return open(snapshot, Fixtures.packageCatalog(ZONE));
    }

    private static KeyedTwoInputStreamOperatorTestHarness<
                    String, UsagePartial, SubscriptionEvent, UsagePartial>
            open(OperatorSubtaskState snapshot, PackageCatalog catalog) throws Exception {
        var harness =
                new KeyedTwoInputStreamOperatorTestHarness<>(
                        new KeyedCoProcessOperator<>(new PackageBalanceFunction(catalog, CALENDAR)),
                        (UsagePartial u) -> u.accountId,
                        SubscriptionEvent::getAccountId,
                        Types.STRING);
        if (snapshot != null) {
            harness.initializeState(snapshot);
        }
        harness.open();
        return harness;
    }

    private List<PackageNotice> notices() {
        if (harness.getSideOutput(PackageBalanceFunction.NOTICES) == null) {
            return List.of(); // no notice was ever emitted
        }
        List<PackageNotice> notices =
                harness.getSideOutput(PackageBalanceFunction.NOTICES).stream()
                        .map(StreamRecord::getValue)
                        .toList();
        harness.getSideOutput(PackageBalanceFunction.NOTICES).clear();
        return notices;
    }

    private static SubscriptionEvent subscription() {
        return SubscriptionEvent.newBuilder()
                .setSubscriptionId("s-1")
                .setAccountId("acct-1")
                .setPackageId("monthly")
                .setVersion(1)
                .setAction(SubscriptionAction.ACTIVATE)
                .setChangedAt(Instant.ofEpochMilli(local("2025-03-01T00:00")))
                .setActivatedAt(Instant.ofEpochMilli(local("2025-03-01T00:00")))
                .setValidUntil(Instant.ofEpochMilli(local("2025-04-01T00:00")))
                .build();
    }

    private static SubscriptionEvent booster(int version, SubscriptionAction action) {
        return SubscriptionEvent.newBuilder()
                .setSubscriptionId("s-boost")
                .setAccountId("acct-1")
                .setPackageId("booster")
                .setVersion(version)
                .setAction(action)
                .setChangedAt(
                        Instant.ofEpochMilli(
                                local(version == 1 ? "2025-03-08T00:00" : "2025-03-10T12:00")))
                .setActivatedAt(Instant.ofEpochMilli(local("2025-03-08T00:00")))
                .setValidUntil(
                        Instant.ofEpochMilli(
                                local(version == 1 ? "2025-03-15T00:00" : "2025-03-10T12:00")))
                .build();
    }

    private static UsagePartial usage(long inputTokens) {
        UsagePartial usage = new UsagePartial();
        usage.accountId = "acct-1";
        usage.region = "CN-GD";
        usage.model = "qwen3-max";
        usage.modality = Modality.TEXT;
        usage.hourStart = local("2025-03-10T10:00");
        usage.dayStart = CALENDAR.dayStart(usage.hourStart);
        usage.inputTokens = inputTokens;
        usage.events = 1;
        return usage;
    }

    private static long local(String dateTime) {
        return LocalDateTime.parse(dateTime).atZone(ZONE).toInstant().toEpochMilli();
    }
}
