package io.tokenmeter.bench;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.metering.MeteringJob;

/**
 * How the metering job's outputs add up in the {@link Tally}, whether they come from sinks or from
 * Kafka.
 */
final class OutputTallies {

    static final String BILLING_RECORDS = "billing.records";
    static final String REJECTED = "rejected";

    /** Duplicates dropped, from the job's ledger. */
    static final String DUPLICATES = "duplicates";

    private OutputTallies() {}

    /** The metering job's five outputs and its ledger, each only tallied. */
    static MeteringJob.Outputs outputs() {
        return new MeteringJob.Outputs(
                        Tally.sink(OutputTallies::billing),
                        Tally.sink(rejected -> Tally.add(REJECTED, 1)),
                        Tally.sink(OutputTallies::accountUsage),
                        Tally.sink(usage -> area("regional", usage)),
                        Tally.sink(usage -> area("national", usage)))
                .withLedger(Tally.sink(entry -> Tally.add(DUPLICATES, entry.getDuplicates())));
    }

    static void billing(BillingRecord record) {
        billed(record.getBillingDay().toString(), record.getTotalTokens(), record.getEvents());
        Tally.add(BILLING_RECORDS, 1);
    }

    /** Billed usage of one account-day (or a correction of it). */
    static void billed(String day, long tokens, long events) {
        Tally.add(ContenderResult.BILLED_TOKENS, tokens);
        Tally.add(ContenderResult.BILLED_TOKENS_DAY + day, tokens);
        Tally.add(ContenderResult.BILLED_EVENTS, events);
    }

    static void accountUsage(AccountUsage usage) {
        usage("account", usage.getGranularity().name(), usage.getTotalTokens());
    }

    static void area(String area, AreaUsage usage) {
        usage(area, usage.getGranularity().name(), usage.getTotalTokens());
    }

    /** Tokens of one usage row: account, regional or national, HOUR or DAY. */
    static void usage(String level, String granularity, long tokens) {
        Tally.add(level + "." + granularity + ".tokens", tokens);
        Tally.add(level + "." + granularity + ".rows", 1);
    }
}
