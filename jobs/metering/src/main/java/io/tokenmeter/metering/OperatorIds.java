package io.tokenmeter.metering;

/**
 * Stable operator uids. Savepoints map state to operators by these strings: never rename or reuse one after a
 * release; a new operator gets a new id.
 */
public final class OperatorIds {

    public static final String RAW_USAGE_SOURCE = "raw-usage-source";
    public static final String FAULT_INJECTION = "fault-injection";
    public static final String SPLIT_REJECTED = "split-rejected";
    public static final String DEDUPLICATE = "deduplicate";
    public static final String DAILY_BILLING = "daily-billing";
    public static final String HOURLY_ACCOUNT_USAGE = "hourly-account-usage";
    public static final String DAILY_ACCOUNT_USAGE = "daily-account-usage";
    public static final String REGIONAL_PARTIALS = "regional-partials";
    public static final String REGIONAL_ROLLUP = "regional-rollup";
    public static final String NATIONAL_PARTIALS = "national-partials";
    public static final String NATIONAL_ROLLUP = "national-rollup";
    public static final String COUNT_REJECTED = "count-rejected";
    public static final String BILLING_SINK = "billing-records-sink";
    public static final String ACCOUNT_USAGE_SINK = "account-usage-sink";
    public static final String REGIONAL_USAGE_SINK = "regional-usage-sink";
    public static final String NATIONAL_USAGE_SINK = "national-usage-sink";
    public static final String REJECTED_SINK = "rejected-records-sink";

    private OperatorIds() {}
}
