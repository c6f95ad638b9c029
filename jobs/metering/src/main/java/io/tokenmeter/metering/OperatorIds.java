package io.tokenmeter.metering;

/**
 * Stable operator uids. Savepoints map state to operators by these strings: never rename or reuse
 * one after a release; a new operator gets a new id.
 */
public final class OperatorIds {

    public static final String RAW_USAGE_SOURCE = "raw-usage-source";
    public static final String FAULT_INJECTION = "fault-injection";
    public static final String SPLIT_REJECTED = "split-rejected";
    public static final String LINE_ITEM_LIMIT = "line-item-limit-v2";

    /**
     * v2 since issue 14: (expiry, content hash) per id and no timers; v3 stores the expiry as a
     * stamp far above any wall clock ({@code EventTimeCompactionFilter.stamp}). The state of an
     * earlier uid does not restore into it: a savepoint holding one fails to restore rather than
     * silently forget its ids.
     */
    public static final String DEDUPLICATE = "deduplicate-v3";

    public static final String PRE_AGGREGATE_USAGE = "pre-aggregate-usage";
    public static final String ACCOUNT_METERING = "account-metering";
    public static final String REGIONAL_PARTIALS = "regional-partials";
    public static final String PRE_AGGREGATE_REGIONAL_USAGE = "pre-aggregate-regional-usage";
    public static final String REGIONAL_ROLLUP = "regional-rollup";
    public static final String NATIONAL_PARTIALS = "national-partials";
    public static final String NATIONAL_ROLLUP = "national-rollup";
    public static final String COUNT_REJECTED = "count-rejected";
    public static final String LEDGER_COUNT_READ = "ledger-count-read";
    public static final String LEDGER_COUNT_DUPLICATES = "ledger-count-duplicates";
    public static final String LEDGER_COUNT_REJECTED = "ledger-count-rejected";
    public static final String LEDGER_SINK = "ledger-sink";
    public static final String BILLING_SINK = "billing-records-sink";
    public static final String ACCOUNT_USAGE_SINK = "account-usage-sink";
    public static final String REGIONAL_USAGE_SINK = "regional-usage-sink";
    public static final String NATIONAL_USAGE_SINK = "national-usage-sink";
    public static final String REJECTED_SINK = "rejected-records-sink";
    public static final String WAREHOUSE_BILLING_ROWS = "warehouse-billing-rows";
    public static final String WAREHOUSE_ACCOUNT_DAYS = "warehouse-account-days";
    public static final String WAREHOUSE_ACCOUNT_ROWS = "warehouse-account-rows";
    public static final String WAREHOUSE_REGIONAL_ROWS = "warehouse-regional-rows";
    public static final String WAREHOUSE_NATIONAL_ROWS = "warehouse-national-rows";
    public static final String WAREHOUSE_SINK = "warehouse-sink";
    public static final String SUBSCRIPTIONS_SOURCE = "subscriptions-source";
    public static final String SPLIT_SUBSCRIPTIONS = "split-subscriptions";
    public static final String PACKAGE_BALANCES = "package-balances";
    public static final String NOTICES_SINK = "package-notices-sink";

    private OperatorIds() {}
}
