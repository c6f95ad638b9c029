package io.tokenmeter.functions;

import io.tokenmeter.avro.PackageNotice;
import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.avro.state.PackageState;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.UsagePartial;
import io.tokenmeter.logic.packages.PackageBalances;
import io.tokenmeter.logic.packages.PackageCatalog;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Live token-package balances per account (rules in {@link PackageBalances}, docs/packages.md).
 * Keyed by account id; input 1 is the account's usage as the pre-aggregation passes it on, input 2
 * its subscription events. Usage is rated as it arrives and passed on with its included units,
 * overage units and overage price, for billing; a crossed threshold goes to {@link #NOTICES} at
 * once, and is remembered in state so it is never notified twice.
 *
 * <p>Rating sets the rating fields of the usage it is handed and passes that same object on: with
 * object reuse that is safe only because the usage arrives through the shuffle by account, so no
 * other operator holds it.
 *
 * <p>State: one Avro {@code PackageState} per account. Clean-up: one event-time timer at the
 * earliest correction deadline of its periods and subscriptions; it removes what has passed it, and
 * the state when nothing is left.
 */
public class PackageBalanceFunction
        extends KeyedCoProcessFunction<String, UsagePartial, SubscriptionEvent, UsagePartial> {

    public static final OutputTag<PackageNotice> NOTICES =
            new OutputTag<>("package-notices", TypeInformation.of(PackageNotice.class));

    private final PackageCatalog catalog;
    private final BillingCalendar calendar;

    private transient PackageBalances balances;
    private transient ValueState<PackageState> packageState;
    private transient MeteringMetrics.Packages metrics;

    public PackageBalanceFunction(PackageCatalog catalog, BillingCalendar calendar) {
        this.catalog = catalog;
        this.calendar = calendar;
    }

    @Override
    public void open(OpenContext openContext) {
        balances = new PackageBalances(catalog, calendar);
        packageState =
                getRuntimeContext()
                        .getState(
                                new ValueStateDescriptor<>(
                                        "package-state", TypeInformation.of(PackageState.class)));
        metrics = MeteringMetrics.packages(getRuntimeContext().getMetricGroup());
    }

    @Override
    public void processElement1(UsagePartial usage, Context ctx, Collector<UsagePartial> out)
            throws Exception {
        PackageState state = packageState.value();
        if (state == null) {
            out.collect(usage); // no package known: passed on unrated
            return;
        }
        PackageBalances.Rating rating =
                balances.rate(
                        state,
                        usage,
                        ctx.timerService().currentWatermark(),
                        System.currentTimeMillis());
        for (PackageNotice notice : rating.notices()) {
            ctx.output(NOTICES, notice);
            metrics.notice(notice);
        }
        if (rating.enteredOverage()) {
            metrics.enteredOverage();
        }
        packageState.update(state);
        scheduleCleanUp(state, ctx);
        out.collect(usage);
    }

    @Override
    public void processElement2(
            SubscriptionEvent subscription, Context ctx, Collector<UsagePartial> out)
            throws Exception {
        PackageState state = packageState.value();
        if (state == null) {
            state = PackageBalances.emptyState();
        }
        if (balances.applySubscription(state, subscription)) {
            packageState.update(state);
            scheduleCleanUp(state, ctx);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<UsagePartial> out)
            throws Exception {
        PackageState state = packageState.value();
        if (state == null) {
            return;
        }
        balances.cleanUp(state, timestamp);
        if (PackageBalances.isEmpty(state)) {
            packageState.clear();
        } else {
            packageState.update(state);
            scheduleCleanUp(state, ctx);
        }
    }

    private void scheduleCleanUp(PackageState state, Context ctx) {
        long next = balances.nextCleanUp(state);
        if (next != Long.MAX_VALUE) {
            ctx.timerService().registerEventTimeTimer(next);
        }
    }
}
