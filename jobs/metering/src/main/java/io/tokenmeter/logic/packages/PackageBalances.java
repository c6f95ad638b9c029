package io.tokenmeter.logic.packages;

import io.tokenmeter.avro.PackageNotice;
import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.avro.TopUp;
import io.tokenmeter.avro.state.PackagePeriodState;
import io.tokenmeter.avro.state.PackageState;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.RecordIds;
import io.tokenmeter.logic.UsagePartial;
import io.tokenmeter.logic.billing.UsageRows;
import io.tokenmeter.logic.packages.PackageCatalog.Plan;
import io.tokenmeter.logic.packages.PackagePeriods.Period;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The live package balances of one account and the rules that change them (docs/packages.md).
 *
 * <p>Usage is rated when it arrives: converted to package units, drawn from the packages active in
 * its hour in priority order (lower first, then the earlier activation), and what no package covers
 * is overage, charged to the last package drawn (the base plan) at its tariff in force at the
 * usage's hour. Each package period remembers the thresholds it has notified, so a threshold is
 * notified once per subscription and period whatever happens later (late usage, replays after a
 * restore, top-ups). A period's rollover is fixed when the period is first used: the unused units
 * of the previous period, rolled-over units drawn first, at most the package's rollover limit.
 */
public final class PackageBalances {

    /**
     * What rating one piece of usage did: the notices it triggered, and whether a package went into
     * overage.
     */
    public record Rating(List<PackageNotice> notices, boolean enteredOverage) {}

    private final PackageCatalog catalog;
    private final PackagePeriods periods;

    public PackageBalances(PackageCatalog catalog, BillingCalendar calendar) {
        this.catalog = catalog;
        this.periods = new PackagePeriods(calendar);
    }

    public static PackageState emptyState() {
        return PackageState.newBuilder()
                .setSubscriptions(new ArrayList<>())
                .setPeriods(new ArrayList<>())
                .build();
    }

    /**
     * Keeps {@code event} unless a version at least as new is known: replays and the compacted
     * topic's history change nothing. Balances already drawn stay as they are; the change applies
     * to usage rated from now on.
     *
     * @return whether the state changed
     */
    public boolean applySubscription(PackageState state, SubscriptionEvent event) {
        List<SubscriptionEvent> kept = new ArrayList<>(state.getSubscriptions().size() + 1);
        for (SubscriptionEvent known : state.getSubscriptions()) {
            if (known.getSubscriptionId().equals(event.getSubscriptionId())) {
                if (known.getVersion() >= event.getVersion()) {
                    return false;
                }
            } else {
                kept.add(known);
            }
        }
        kept.add(event);
        state.setSubscriptions(kept);
        return true;
    }

    /**
     * Rates {@code usage}, setting its included and overage units and overage price, and draws it
     * from the balances.
     *
     * @param watermark the operator's event-time watermark: a period whose close time it has passed
     *     is closed
     * @param now the wall clock, for the notices' emission time
     */
    public Rating rate(PackageState state, UsagePartial usage, long watermark, long now) {
        long units =
                catalog.rates(usage.modality)
                        .units(usage.inputTokens, usage.outputTokens, usage.cachedTokens);
        long hourStart = usage.hourStart;
        List<SubscriptionEvent> active = new ArrayList<>();
        for (SubscriptionEvent subscription : state.getSubscriptions()) {
            // A package retired from the catalog since (restored state) is inactive: its usage is
            // metered, not drawn.
            if (catalog.packages().containsKey(subscription.getPackageId())
                    && subscription.getActivatedAt().toEpochMilli()
                            < hourStart + UsageRows.HOUR_MILLIS
                    && subscription.getValidUntil().toEpochMilli() > hourStart) {
                active.add(subscription);
            }
        }
        usage.includedUnits = 0;
        usage.overageUnits = 0;
        usage.overageMicros = 0;
        if (active.isEmpty()) {
            return new Rating(List.of(), false);
        }
        active.sort(
                Comparator.comparingInt(
                                (SubscriptionEvent s) -> catalog.plan(s.getPackageId()).priority())
                        .thenComparing(SubscriptionEvent::getActivatedAt)
                        .thenComparing(SubscriptionEvent::getSubscriptionId));

        long remaining = units;
        List<PackagePeriodState> drawn = new ArrayList<>(active.size());
        for (SubscriptionEvent subscription : active) {
            Plan plan = catalog.plan(subscription.getPackageId());
            PackagePeriodState period = findOrStart(state, subscription, plan, hourStart);
            long free =
                    Math.max(0, allowance(subscription, plan, period) - period.getConsumedUnits());
            long take = Math.min(remaining, free);
            period.setConsumedUnits(Math.addExact(period.getConsumedUnits(), take));
            remaining -= take;
            drawn.add(period);
        }
        usage.includedUnits = units - remaining;
        boolean enteredOverage = false;
        if (remaining > 0) {
            // Overage continues the drawdown order: it is charged to the last package drawn (the
            // base plan, whose priority comes last), at that package's tariff of the usage's hour.
            int last = active.size() - 1;
            PackagePeriodState base = drawn.get(last);
            enteredOverage = base.getOverageUnits() == 0;
            base.setOverageUnits(Math.addExact(base.getOverageUnits(), remaining));
            Plan plan = catalog.plan(active.get(last).getPackageId());
            usage.overageUnits = remaining;
            usage.overageMicros =
                    Math.multiplyExact(
                            remaining, plan.tariffAt(hourStart).overagePricePerMillion());
        }

        List<PackageNotice> notices = new ArrayList<>();
        for (int i = 0; i < active.size(); i++) {
            SubscriptionEvent subscription = active.get(i);
            Plan plan = catalog.plan(subscription.getPackageId());
            PackagePeriodState period = drawn.get(i);
            long allowance = allowance(subscription, plan, period);
            long used = Math.addExact(period.getConsumedUnits(), period.getOverageUnits());
            boolean closed =
                    periods.closeTime(period.getPeriodEnd()) <= watermark
                            || (usage.late
                                    && periods.isLastDay(usage.dayStart, period.getPeriodEnd()));
            for (int threshold : catalog.thresholds()) {
                // used >= allowance * threshold / 100, in exact integers.
                boolean crossed = productAtLeast(used, 100L, allowance, threshold);
                if (crossed && !period.getNotified().contains(threshold)) {
                    period.getNotified().add(threshold);
                    notices.add(
                            notice(usage, subscription, period, threshold, allowance, closed, now));
                }
            }
        }
        return new Rating(notices, enteredOverage);
    }

    /**
     * The earliest event time at which {@link #cleanUp} has something to remove; Long.MAX_VALUE for
     * nothing.
     */
    public long nextCleanUp(PackageState state) {
        long next = Long.MAX_VALUE;
        for (PackagePeriodState period : state.getPeriods()) {
            next = Math.min(next, periods.correctionDeadline(period.getPeriodEnd()));
        }
        for (SubscriptionEvent subscription : state.getSubscriptions()) {
            next = Math.min(next, subscriptionDeadline(subscription));
        }
        return next;
    }

    /** Forgets periods and subscriptions whose correction deadline is at or before {@code time}. */
    public void cleanUp(PackageState state, long time) {
        List<PackagePeriodState> keptPeriods = new ArrayList<>();
        for (PackagePeriodState period : state.getPeriods()) {
            if (periods.correctionDeadline(period.getPeriodEnd()) > time) {
                keptPeriods.add(period);
            }
        }
        state.setPeriods(keptPeriods);
        List<SubscriptionEvent> keptSubscriptions = new ArrayList<>();
        for (SubscriptionEvent subscription : state.getSubscriptions()) {
            if (subscriptionDeadline(subscription) > time) {
                keptSubscriptions.add(subscription);
            }
        }
        state.setSubscriptions(keptSubscriptions);
    }

    public static boolean isEmpty(PackageState state) {
        return state.getPeriods().isEmpty() && state.getSubscriptions().isEmpty();
    }

    /**
     * Whether a × b ≥ c × d for non-negative longs, exactly, whatever their size (128-bit
     * products).
     */
    static boolean productAtLeast(long a, long b, long c, long d) {
        long high1 = Math.multiplyHigh(a, b);
        long high2 = Math.multiplyHigh(c, d);
        if (high1 != high2) {
            return high1 > high2;
        }
        return Long.compareUnsigned(a * b, c * d) >= 0;
    }

    /** Included units, rollover and the top-ups bought for the period. */
    private long allowance(SubscriptionEvent subscription, Plan plan, PackagePeriodState period) {
        return Math.addExact(
                Math.addExact(plan.includedUnits(), period.getRolloverUnits()),
                topUps(subscription, period.getPeriodStart(), period.getPeriodEnd()));
    }

    private PackagePeriodState findOrStart(
            PackageState state, SubscriptionEvent subscription, Plan plan, long time) {
        Period period = periods.periodAt(subscription, plan.validityDays(), time);
        PackagePeriodState found = find(state, subscription.getSubscriptionId(), period.start());
        if (found != null) {
            return found;
        }
        PackagePeriodState started =
                PackagePeriodState.newBuilder()
                        .setSubscriptionId(subscription.getSubscriptionId())
                        .setPeriodStart(period.start())
                        .setPeriodEnd(period.end())
                        .setRolloverUnits(rolloverInto(state, subscription, plan, period))
                        .setConsumedUnits(0)
                        .setOverageUnits(0)
                        .setNotified(new ArrayList<>())
                        .build();
        state.getPeriods().add(started);
        return started;
    }

    private long rolloverInto(
            PackageState state, SubscriptionEvent subscription, Plan plan, Period period) {
        Period previous = periods.previous(period, plan.validityDays());
        if (plan.rolloverLimit() == 0
                || subscription.getActivatedAt().toEpochMilli() >= previous.end()) {
            return 0;
        }
        long own =
                Math.addExact(
                        plan.includedUnits(),
                        topUps(subscription, previous.start(), previous.end()));
        PackagePeriodState before = find(state, subscription.getSubscriptionId(), previous.start());
        long ownUsed =
                before == null
                        ? 0
                        : Math.max(0, before.getConsumedUnits() - before.getRolloverUnits());
        return Math.min(plan.rolloverLimit(), Math.max(0, own - ownUsed));
    }

    private static long topUps(SubscriptionEvent subscription, long start, long end) {
        long units = 0;
        for (TopUp topUp : subscription.getTopUps()) {
            long at = topUp.getAt().toEpochMilli();
            if (at >= start && at < end) {
                units = Math.addExact(units, topUp.getUnits());
            }
        }
        return units;
    }

    private long subscriptionDeadline(SubscriptionEvent subscription) {
        Plan plan = catalog.packages().get(subscription.getPackageId());
        long lastUsable =
                Math.max(
                        subscription.getActivatedAt().toEpochMilli(),
                        subscription.getValidUntil().toEpochMilli() - 1);
        int validityDays = plan == null ? 0 : plan.validityDays();
        return periods.correctionDeadline(
                periods.periodAt(subscription, validityDays, lastUsable).end());
    }

    private static PackagePeriodState find(
            PackageState state, String subscriptionId, long periodStart) {
        for (PackagePeriodState period : state.getPeriods()) {
            if (period.getPeriodStart() == periodStart
                    && period.getSubscriptionId().equals(subscriptionId)) {
                return period;
            }
        }
        return null;
    }

    private static PackageNotice notice(
            UsagePartial usage,
            SubscriptionEvent subscription,
            PackagePeriodState period,
            int threshold,
            long allowance,
            boolean late,
            long now) {
        return PackageNotice.newBuilder()
                .setNoticeId(
                        noticeId(
                                usage.accountId,
                                subscription.getSubscriptionId(),
                                period.getPeriodStart(),
                                threshold))
                .setAccountId(usage.accountId)
                .setSubscriptionId(subscription.getSubscriptionId())
                .setPackageId(subscription.getPackageId())
                .setThresholdPercent(threshold)
                .setPeriodStart(Instant.ofEpochMilli(period.getPeriodStart()))
                .setPeriodEnd(Instant.ofEpochMilli(period.getPeriodEnd()))
                .setAllowanceUnits(allowance)
                .setConsumedUnits(
                        Math.addExact(period.getConsumedUnits(), period.getOverageUnits()))
                .setUsageHour(Instant.ofEpochMilli(usage.hourStart))
                .setLate(late)
                .setArrivedAt(Instant.ofEpochMilli(usage.arrivedAt))
                .setEmittedAt(Instant.ofEpochMilli(now))
                .build();
    }

    /**
     * The notice of one threshold of one subscription's period: the same whenever and however often
     * it is judged.
     */
    public static String noticeId(
            String accountId, String subscriptionId, long periodStart, int threshold) {
        return RecordIds.of("package-notice", accountId, subscriptionId, periodStart, threshold);
    }
}
