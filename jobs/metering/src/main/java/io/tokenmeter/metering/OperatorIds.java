package io.tokenmeter.metering;

/**
 * Stable operator uids. Savepoints map state to operators by these strings: never rename or reuse one after a
 * release; a new operator gets a new id.
 */
public final class OperatorIds {

    public static final String RAW_USAGE_SOURCE = "raw-usage-source";
    public static final String SPLIT_REJECTED = "split-rejected";
    public static final String DEDUPLICATE = "deduplicate";
    public static final String DAILY_BILLING = "daily-billing";
    public static final String BILLING_SINK = "billing-records-sink";
    public static final String REJECTED_SINK = "rejected-records-sink";

    private OperatorIds() {}
}
