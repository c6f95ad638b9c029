package io.tokenmeter.logic.packages;

import static io.tokenmeter.logic.packages.PackageCatalogTest.ZONE;
import static io.tokenmeter.logic.packages.PackageCatalogTest.local;
import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.PackageNotice;
import io.tokenmeter.avro.SubscriptionAction;
import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.avro.TopUp;
import io.tokenmeter.avro.state.PackagePeriodState;
import io.tokenmeter.avro.state.PackageState;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.UsagePartial;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

class PackageBalancesTest {

    private static final String ACCOUNT = "acct-1";
    private static final long NO_WATERMARK = Long.MIN_VALUE;

    private final BillingCalendar calendar =
            new BillingCalendar(ZONE, Duration.ofMinutes(15), Duration.ofDays(35));
    private final PackageBalances balances =
            new PackageBalances(PackageCatalogTest.testCatalog(), calendar);
    private final PackageState state = PackageBalances.emptyState();

    @Test
    void drawsTheHigherPriorityPackageFirst() {
        // given: a monthly package (priority 10) and a 7-day booster (priority 1) bought later
        balances.applySubscription(
                state,
                subscription("s-monthly", "monthly", "2025-03-01T00:00", "2025-04-01T00:00"));
        balances.applySubscription(
                state,
                subscription("s-booster", "booster", "2025-03-03T00:00", "2025-03-10T00:00"));

        // when: usage draws 150 units, then 100 more
        UsagePartial first = usage("2025-03-04T10:00", 150);
        List<PackageNotice> firstNotices = balances.rate(state, first, NO_WATERMARK, 0).notices();
        UsagePartial second = usage("2025-03-04T11:00", 100);
        List<PackageNotice> secondNotices = balances.rate(state, second, NO_WATERMARK, 0).notices();

        // then: the booster is drawn first and notified at 80% and 100%; the rest comes from the
        // monthly package
        assertThat(firstNotices).isEmpty();
        assertThat(first.includedUnits).isEqualTo(150);
        assertThat(second.includedUnits).isEqualTo(100);
        assertThat(second.overageUnits).isZero();
        assertThat(period("s-booster").getConsumedUnits()).isEqualTo(200);
        assertThat(period("s-monthly").getConsumedUnits()).isEqualTo(50);
        assertThat(secondNotices)
                .extracting(PackageNotice::getSubscriptionId, PackageNotice::getThresholdPercent)
                .containsExactly(Tuple.tuple("s-booster", 80), Tuple.tuple("s-booster", 100));
        assertThat(period("s-booster").getPeriodStart()).isEqualTo(local("2025-03-03T00:00"));
        assertThat(period("s-booster").getPeriodEnd()).isEqualTo(local("2025-03-10T00:00"));
    }

    @Test
    void chargesOverageToTheBasePlanDrawnLast() {
        balances.applySubscription(
                state,
                subscription("s-monthly", "monthly", "2025-03-01T00:00", "2025-04-01T00:00"));
        balances.applySubscription(
                state,
                subscription("s-booster", "booster", "2025-03-03T00:00", "2025-03-10T00:00"));

        UsagePartial usage = usage("2025-03-04T10:00", 1_250);
        balances.rate(state, usage, NO_WATERMARK, 0);

        assertThat(usage.includedUnits).isEqualTo(1_200);
        assertThat(usage.overageUnits).isEqualTo(50);
        assertThat(usage.overageMicros)
                .as("at the monthly package's tariff")
                .isEqualTo(50 * 2_000_000L);
        assertThat(period("s-monthly").getOverageUnits()).isEqualTo(50);
        assertThat(period("s-booster").getOverageUnits()).isZero();
    }

    @Test
    void notifiesEachThresholdOnceThenCountsOverage() {
        balances.applySubscription(
                state, subscription("s-1", "monthly", "2025-03-01T00:00", "2025-04-01T00:00"));

        assertThat(rate("2025-03-10T08:00", 799)).isEmpty();
        assertThat(rate("2025-03-10T09:00", 1))
                .extracting(PackageNotice::getThresholdPercent)
                .containsExactly(80);
        UsagePartial crossing = usage("2025-03-10T10:00", 300);
        List<PackageNotice> notices = balances.rate(state, crossing, NO_WATERMARK, 0).notices();
        assertThat(notices).extracting(PackageNotice::getThresholdPercent).containsExactly(100);
        assertThat(notices.get(0).getConsumedUnits()).isEqualTo(1100);
        assertThat(notices.get(0).getLate()).isFalse();
        assertThat(notices.get(0).getNoticeId())
                .isEqualTo(
                        PackageBalances.noticeId(ACCOUNT, "s-1", local("2025-03-01T00:00"), 100));
        // 100 units over the allowance at 2,000,000 fen per million units: 200 fen, in millionths
        // of a fen
        assertThat(crossing.includedUnits).isEqualTo(200);
        assertThat(crossing.overageUnits).isEqualTo(100);
        assertThat(crossing.overageMicros).isEqualTo(200_000_000L);
        assertThat(rate("2025-03-11T10:00", 5_000)).as("nothing is notified twice").isEmpty();
    }

    @Test
    void convertsTokensToUnitsByTokenType() {
        balances.applySubscription(
                state, subscription("s-1", "monthly", "2025-03-01T00:00", "2025-04-01T00:00"));
        UsagePartial usage = usage("2025-03-10T08:00", 10);
        usage.outputTokens = 20;
        usage.cachedTokens = 1_000;

        balances.rate(state, usage, NO_WATERMARK, 0);

        assertThat(usage.includedUnits)
                .as("input 1, output 2, cached 0 units per token")
                .isEqualTo(50);
    }

    @Test
    void pricesOverageByTheTariffInForceAtTheUsageHour() {
        balances.applySubscription(
                state, subscription("s-1", "monthly", "2025-03-01T00:00", "2025-04-01T00:00"));
        rate("2025-03-10T08:00", 1_000);

        UsagePartial before = usage("2025-03-14T23:00", 10);
        balances.rate(state, before, NO_WATERMARK, 0);
        UsagePartial after = usage("2025-03-15T00:00", 10);
        balances.rate(state, after, NO_WATERMARK, 0);

        assertThat(before.overageMicros).isEqualTo(10 * 2_000_000L);
        assertThat(after.overageMicros).isEqualTo(10 * 3_000_000L);
    }

    @Test
    void rollsUnusedUnitsIntoTheNextPeriodWithinTheLimit() {
        // given: 900 of February's 1,000 units used, so 100 roll over; a second account used only
        // 200 in February, so its 800 unused units are capped at the limit, 300
        balances.applySubscription(
                state, subscription("s-1", "monthly", "2025-02-01T00:00", "2025-04-01T00:00"));
        rate("2025-02-20T10:00", 900);
        PackageState other = PackageBalances.emptyState();
        balances.applySubscription(
                other, subscription("s-2", "monthly", "2025-02-01T00:00", "2025-04-01T00:00"));
        balances.rate(other, usage("2025-02-20T10:00", 200), NO_WATERMARK, 0);

        // when: March is used
        List<PackageNotice> march = rate("2025-03-02T10:00", 880);
        balances.rate(other, usage("2025-03-02T10:00", 1), NO_WATERMARK, 0);

        // then: 80% of 1,100 is 880
        assertThat(period("s-1", local("2025-03-01T00:00")).getRolloverUnits()).isEqualTo(100);
        assertThat(march)
                .extracting(PackageNotice::getAllowanceUnits, PackageNotice::getThresholdPercent)
                .containsExactly(Tuple.tuple(1_100L, 80));
        assertThat(other.getPeriods())
                .filteredOn(p -> p.getPeriodStart() == local("2025-03-01T00:00"))
                .extracting(PackagePeriodState::getRolloverUnits)
                .containsExactly(300L);
    }

    @Test
    void marksANoticeLateWhenItsPeriodHadClosed() {
        balances.applySubscription(
                state, subscription("s-1", "monthly", "2025-03-01T00:00", "2025-05-01T00:00"));
        long aprilSecond = local("2025-04-02T00:00");

        // by the watermark
        List<PackageNotice> byWatermark =
                balances.rate(state, usage("2025-03-20T10:00", 800), aprilSecond, 0).notices();
        // by the source's verdict: the usage's day, the period's last, had closed when it was read
        UsagePartial lateOnLastDay = usage("2025-03-31T23:00", 200);
        lateOnLastDay.late = true;
        List<PackageNotice> byVerdict =
                balances.rate(state, lateOnLastDay, NO_WATERMARK, 0).notices();

        assertThat(byWatermark)
                .extracting(PackageNotice::getThresholdPercent, PackageNotice::getLate)
                .containsExactly(Tuple.tuple(80, true));
        assertThat(byVerdict)
                .extracting(PackageNotice::getThresholdPercent, PackageNotice::getLate)
                .containsExactly(Tuple.tuple(100, true));
    }

    @Test
    void aTopUpAfterOneHundredPercentBuysIncludedUnitsWithoutNotifyingAgain() {
        balances.applySubscription(
                state, subscription("s-1", "monthly", "2025-03-01T00:00", "2025-04-01T00:00"));
        assertThat(rate("2025-03-10T08:00", 1_050))
                .extracting(PackageNotice::getThresholdPercent)
                .containsExactly(80, 100);

        SubscriptionEvent toppedUp =
                subscription(
                        "s-1",
                        "monthly",
                        "2025-03-01T00:00",
                        "2025-04-01T00:00",
                        new TopUp("t-1", 500L, Instant.ofEpochMilli(local("2025-03-12T09:00"))));
        assertThat(balances.applySubscription(state, toppedUp)).isTrue();
        UsagePartial after = usage("2025-03-12T10:00", 400);
        List<PackageNotice> notices = balances.rate(state, after, NO_WATERMARK, 0).notices();

        assertThat(notices).isEmpty();
        assertThat(after.includedUnits).isEqualTo(400);
        assertThat(after.overageUnits).isZero();
        assertThat(period("s-1").getOverageUnits())
                .as("overage before the top-up stays overage")
                .isEqualTo(50);
    }

    @Test
    void keepsOnlyTheNewestVersionOfASubscription() {
        SubscriptionEvent v2 =
                subscription("s-1", "monthly", "2025-03-01T00:00", "2025-05-01T00:00");
        v2.setVersion(2);
        assertThat(balances.applySubscription(state, v2)).isTrue();
        assertThat(
                        balances.applySubscription(
                                state,
                                subscription(
                                        "s-1", "monthly", "2025-03-01T00:00", "2025-04-01T00:00")))
                .isFalse();

        assertThat(state.getSubscriptions()).containsExactly(v2);
    }

    @Test
    void usageOutsideEveryPackageIsPassedOnUnrated() {
        balances.applySubscription(
                state, subscription("s-1", "monthly", "2025-03-01T00:00", "2025-03-20T12:00"));
        UsagePartial cancelled = usage("2025-03-20T12:00", 100);

        assertThat(balances.rate(state, cancelled, NO_WATERMARK, 0).notices()).isEmpty();
        assertThat(cancelled.includedUnits + cancelled.overageUnits + cancelled.overageMicros)
                .isZero();
    }

    @Test
    void forgetsPeriodsAndSubscriptionsAfterTheirCorrectionDeadline() {
        balances.applySubscription(
                state, subscription("s-1", "monthly", "2025-03-01T00:00", "2025-04-01T00:00"));
        rate("2025-03-10T08:00", 10);
        long deadline = local("2025-04-01T00:00") + Duration.ofDays(35).toMillis();

        assertThat(balances.nextCleanUp(state)).isEqualTo(deadline);
        balances.cleanUp(state, deadline - 1);
        assertThat(PackageBalances.isEmpty(state)).isFalse();
        balances.cleanUp(state, deadline);
        assertThat(PackageBalances.isEmpty(state)).isTrue();
    }

    private List<PackageNotice> rate(String localHour, long inputTokens) {
        return balances.rate(state, usage(localHour, inputTokens), NO_WATERMARK, 0).notices();
    }

    private UsagePartial usage(String localHour, long inputTokens) {
        UsagePartial usage = new UsagePartial();
        usage.accountId = ACCOUNT;
        usage.region = "CN-GD";
        usage.model = "qwen3-max";
        usage.modality = Modality.TEXT;
        usage.hourStart = local(localHour);
        usage.dayStart = calendar.dayStart(usage.hourStart);
        usage.inputTokens = inputTokens;
        usage.events = 1;
        return usage;
    }

    private PackagePeriodState period(String subscriptionId) {
        return state.getPeriods().stream()
                .filter(p -> p.getSubscriptionId().equals(subscriptionId))
                .findFirst()
                .orElseThrow();
    }

    private PackagePeriodState period(String subscriptionId, long start) {
        return state.getPeriods().stream()
                .filter(
                        p ->
                                p.getSubscriptionId().equals(subscriptionId)
                                        && p.getPeriodStart() == start)
                .findFirst()
                .orElseThrow();
    }

    static SubscriptionEvent subscription(
            String id, String packageId, String activatedAt, String validUntil, TopUp... topUps) {
        return SubscriptionEvent.newBuilder()
                .setSubscriptionId(id)
                .setAccountId(ACCOUNT)
                .setPackageId(packageId)
                .setVersion(1 + topUps.length)
                .setAction(
                        topUps.length == 0
                                ? SubscriptionAction.ACTIVATE
                                : SubscriptionAction.TOP_UP)
                .setChangedAt(Instant.ofEpochMilli(local(activatedAt)))
                .setActivatedAt(Instant.ofEpochMilli(local(activatedAt)))
                .setValidUntil(Instant.ofEpochMilli(local(validUntil)))
                .setTopUps(List.of(topUps))
                .build();
    }

    /**
     * Threshold crossings compare used × 100 with allowance × threshold exactly, beyond the long
     * range too.
     */
    @Test
    void comparesThresholdProductsExactlyWithoutOverflow() {
        assertThat(PackageBalances.productAtLeast(80, 100, 100, 80)).isTrue();
        assertThat(PackageBalances.productAtLeast(79, 100, 100, 80)).isFalse();
        long big = Long.MAX_VALUE / 10;
        assertThat(PackageBalances.productAtLeast(big, 100, big, 100)).isTrue();
        assertThat(PackageBalances.productAtLeast(big - 1, 100, big, 100)).isFalse();
        assertThat(PackageBalances.productAtLeast(big, 100, big, 99)).isTrue();
        assertThat(PackageBalances.productAtLeast(Long.MAX_VALUE, 1000, Long.MAX_VALUE, 1000))
                .isTrue();
    }
}
