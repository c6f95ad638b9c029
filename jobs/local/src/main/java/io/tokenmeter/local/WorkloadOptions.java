package io.tokenmeter.local;

import io.tokenmeter.testkit.WorkloadSpec;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import picocli.CommandLine.Option;

/** The workload's command-line options, shared by the commands that generate one. */
final class WorkloadOptions {

    @Option(
            names = "--events",
            defaultValue = "1000000",
            description = "Records to produce (default ${DEFAULT-VALUE}).")
    long events;

    @Option(
            names = "--accounts",
            defaultValue = "100000",
            description = "Distinct accounts, Zipf-skewed (default ${DEFAULT-VALUE}).")
    int accounts;

    @Option(
            names = "--days",
            defaultValue = "2",
            description = "Event-time span in days (default ${DEFAULT-VALUE}).")
    double days;

    @Option(
            names = "--start",
            description =
                    "Event time of the first record, e.g. 2026-11-01T00:00:00+08:00"
                            + " (default: local midnight in the billing zone --days + 1 days ago, so every day is past and still correctable).")
    OffsetDateTime start;

    @Option(
            names = "--duplicate-rate",
            defaultValue = "0.01",
            description =
                    "Share of records that repeat an earlier event, like a producer retry (default ${DEFAULT-VALUE}).")
    double duplicateRate;

    @Option(
            names = "--late-rate",
            defaultValue = "0.001",
            description =
                    "Share of records for an already closed billing day (default ${DEFAULT-VALUE}).")
    double lateRate;

    @Option(
            names = "--malformed-rate",
            defaultValue = "0.001",
            description = "Share of records that cannot be billed (default ${DEFAULT-VALUE}).")
    double malformedRate;

    @Option(
            names = "--hot-account-share",
            defaultValue = "0",
            description =
                    "Share of events from one huge account, on top of the Zipf skew (default ${DEFAULT-VALUE}).")
    double hotAccountShare;

    @Option(
            names = "--seed",
            defaultValue = "42",
            description = "Workload seed (default ${DEFAULT-VALUE}).")
    long seed;

    WorkloadSpec spec(ZoneId billingZone) {
        Duration span = Duration.ofMillis(Math.round(days * Duration.ofDays(1).toMillis()));
        return new WorkloadSpec(
                events,
                accounts,
                1.0,
                start == null ? WorkloadSpec.defaultStart(billingZone, span) : start.toInstant(),
                span,
                billingZone,
                duplicateRate,
                lateRate,
                malformedRate,
                hotAccountShare,
                seed);
    }
}
