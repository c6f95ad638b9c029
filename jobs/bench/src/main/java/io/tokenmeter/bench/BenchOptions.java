package io.tokenmeter.bench;

import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.logic.ingest.SecretSource;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.testkit.WorkloadSource;
import io.tokenmeter.testkit.WorkloadSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.MemorySize;
import picocli.CommandLine.Option;

/** The options every contender shares: the workload, the job's settings and where results go. */
final class BenchOptions {

    @Option(
            names = "--events",
            defaultValue = "10000000",
            description = "Records to process, duplicates included (default ${DEFAULT-VALUE}).")
    long events;

    @Option(
            names = "--accounts",
            defaultValue = "1000000",
            description = "Distinct accounts, Zipf-skewed (default ${DEFAULT-VALUE}).")
    int accounts;

    @Option(
            names = "--days",
            defaultValue = "2",
            description = "Event-time span of the workload in days (default ${DEFAULT-VALUE}).")
    double days;

    @Option(
            names = "--start",
            description =
                    "Event time of the first record, e.g. 2026-11-01T00:00:00+08:00"
                            + " (default: local midnight in the billing zone --days + 1 days ago, so every day is past and still correctable).")
    OffsetDateTime start;

    @Option(
            names = "--duplicate-rate",
            defaultValue = "0.02",
            description =
                    "Share of records that repeat an earlier event (default ${DEFAULT-VALUE}).")
    double duplicateRate;

    @Option(
            names = "--hot-account-share",
            defaultValue = "0",
            description =
                    "Share of events from one single huge account, on top of the Zipf skew (default ${DEFAULT-VALUE}).")
    double hotAccountShare;

    @Option(
            names = "--seed",
            defaultValue = "42",
            description = "Workload seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(
            names = "--dedup-horizon",
            defaultValue = "24 h",
            description =
                    "How long an event id is remembered (job key dedup.horizon; default ${DEFAULT-VALUE}).")
    String dedupHorizon;

    @Option(
            names = "--parallelism",
            defaultValue = "2",
            description = "Flink parallelism (default ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(
            names = "--managed-memory",
            defaultValue = "2g",
            description =
                    "Flink managed memory of the contender's task manager: RocksDB's block cache and write buffers (default ${DEFAULT-VALUE}).")
    String managedMemory;

    @Option(
            names = "--flink-set",
            paramLabel = "KEY=VALUE",
            description =
                    "Overrides one Flink setting of the contender's cluster and job (e.g. state.backend.rocksdb.writebuffer.size=8mb); repeatable.")
    Map<String, String> flinkOverrides = new LinkedHashMap<>();

    @Option(
            names = "--work-dir",
            defaultValue = "target/bench",
            description = "Checkpoints, RocksDB files, broker data (default ${DEFAULT-VALUE}).")
    Path workDir;

    @Option(
            names = "--result-file",
            description = "Where to write the result (default: <work-dir>/<contender>.properties).")
    Path resultFile;

    @Option(
            names = "--set",
            paramLabel = "KEY=VALUE",
            description = "Overrides one metering job configuration key.")
    List<String> overrides = new ArrayList<>();

    /**
     * The job configuration: defaults (config/metering.yaml), the dedup horizon, a dedup key file
     * in the work folder (one key for every contender, made on first use), then the overrides.
     */
    MeteringConfig config() {
        List<String> all = new ArrayList<>();
        all.add("dedup.horizon=" + dedupHorizon);
        all.add("dedup.key-file=" + dedupKeyFile());
        all.addAll(overrides);
        return MeteringConfig.load(null, all);
    }

    private Path dedupKeyFile() {
        Path file = workDir.toAbsolutePath().resolve("dedup.key");
        try {
            return Files.exists(file) ? file : SecretSource.writeRandom(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the benchmark's dedup key " + file, e);
        }
    }

    /**
     * The benchmark workload: retries but no late or poison records, so that every contender (the
     * SQL one drops late rows; the in-memory source is exact only without poison) must bill exactly
     * the same.
     */
    WorkloadSpec spec(ZoneId billingZone) {
        Duration span = Duration.ofMillis(Math.round(days * Duration.ofDays(1).toMillis()));
        return spec(
                billingZone,
                start == null ? WorkloadSpec.defaultStart(billingZone, span) : start.toInstant());
    }

    WorkloadSpec spec(ZoneId billingZone, Instant start) {
        return new WorkloadSpec(
                events,
                accounts,
                1.0,
                start,
                Duration.ofMillis(Math.round(days * Duration.ofDays(1).toMillis())),
                billingZone,
                duplicateRate,
                0,
                0,
                hotAccountShare,
                seed);
    }

    /** The workload as an in-memory Flink source. */
    Source<IngestedRecord, ?, ?> source(WorkloadSpec spec, MeteringConfig config) {
        return WorkloadSource.of(spec, config);
    }

    /**
     * How far back the generator draws a retry from: WorkloadGenerator's DUPLICATE_LOOKBACK
     * records.
     */
    static final long RETRY_LOOKBACK_RECORDS = 10_000;

    /**
     * The event time a retry can lie behind its original. Beyond the dedup horizon a retry may find
     * its id already forgotten, and whether it does depends on the watermark: the contenders may
     * then bill differently.
     */
    static Duration retryReach(WorkloadSpec spec) {
        return spec.span()
                .multipliedBy(Math.min(spec.events(), RETRY_LOOKBACK_RECORDS))
                .dividedBy(spec.events());
    }

    MemorySize managedMemory() {
        return MemorySize.parse(managedMemory);
    }

    Path resultFile(String contender) {
        return resultFile != null ? resultFile : workDir.resolve(contender + ".properties");
    }

    Path workDir(String contender) {
        return workDir.toAbsolutePath().resolve(contender);
    }

    Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("accounts", Integer.toString(accounts));
        s.put("days", Double.toString(days));
        s.put("duplicate-rate", Double.toString(duplicateRate));
        s.put("hot-account-share", Double.toString(hotAccountShare));
        s.put("seed", Long.toString(seed));
        s.put("dedup-horizon", dedupHorizon);
        s.put("parallelism", Integer.toString(parallelism));
        s.put("managed-memory", managedMemory);
        flinkOverrides.forEach((key, value) -> s.put("flink." + key, value));
        s.put("source", "interleaved");
        MeteringConfig config = config();
        s.put("dedup-horizon-minutes", Long.toString(config.dedup().horizon().toMinutes()));
        s.put(
                "retry-reach-minutes",
                Long.toString(retryReach(spec(config.billing().timeZone())).toMinutes()));
        return s;
    }
}
