package io.tokenmeter.local;

import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.io.KafkaClientProperties;
import io.tokenmeter.logic.ingest.SecretSource;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.metering.MeteringJob;
import io.tokenmeter.testkit.BrokerSecurity;
import io.tokenmeter.testkit.EmbeddedKafkaBroker;
import io.tokenmeter.testkit.ExpectedTotals;
import io.tokenmeter.testkit.JobAcls;
import io.tokenmeter.testkit.KafkaTopics;
import io.tokenmeter.testkit.MeteringOutcome;
import io.tokenmeter.testkit.Reconciliation;
import io.tokenmeter.testkit.Warehouse;
import io.tokenmeter.testkit.WorkloadGenerator;
import io.tokenmeter.testkit.WorkloadProducer;
import io.tokenmeter.testkit.WorkloadSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.FileUtils;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.resource.PatternType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The embedded default: a real Kafka broker in a background process, the metering job running live
 * on a local Flink MiniCluster with RocksDB state (web UI and Prometheus metrics on printed ports),
 * the workload written to the broker while the job meters it, and a reconciliation of every output
 * against the workload.
 */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description =
                "Runs Tokenmeter end to end on this machine and reconciles the billing with the workload.")
final class LocalRun implements Callable<Integer> {

    /**
     * Outputs unchanged for this many polls (several checkpoints) count as complete enough to
     * reconcile.
     */
    /**
     * Longer than a few scrape intervals: Prometheus sees the final counts before the drain ends
     * the job.
     */
    private static final Duration SCRAPE_PAUSE = Duration.ofSeconds(5);

    @Mixin WorkloadOptions workload;

    @Option(
            names = "--parallelism",
            defaultValue = "2",
            description = "Job parallelism (default ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(
            names = "--partitions",
            defaultValue = "4",
            description = "Partitions of the raw topic (default ${DEFAULT-VALUE}).")
    int partitions;

    @Option(
            names = "--web-port",
            defaultValue = "8081",
            description = "Flink web UI port, 0 for any free one (default ${DEFAULT-VALUE}).")
    int webPort;

    @Option(
            names = "--metrics-port",
            defaultValue = "9249",
            description = "Prometheus metrics port (default ${DEFAULT-VALUE}).")
    int metricsPort;

    @Option(
            names = "--linger",
            paramLabel = "SECONDS",
            defaultValue = "0",
            description =
                    "Keep the broker up this long after the summary (default ${DEFAULT-VALUE}).")
    int lingerSeconds;

    private boolean drained;

    @Option(
            names = "--timeout",
            paramLabel = "SECONDS",
            defaultValue = "1800",
            description =
                    "Give up waiting for the outputs to reconcile after this long (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(
            names = "--work-dir",
            defaultValue = "target/local-run",
            description =
                    "Broker data, checkpoints, logs and expected totals (default ${DEFAULT-VALUE}).")
    Path workDir;

    @Option(
            names = "--config",
            description =
                    "Metering job YAML configuration (default: config/metering-local.yaml if present).")
    Path configFile;

    @Option(
            names = "--set",
            paramLabel = "KEY=VALUE",
            description = "Overrides one job configuration key.")
    List<String> overrides = new ArrayList<>();

    @Option(
            names = "--secure",
            description =
                    "Runs against a secured broker: TLS with a throwaway CA, the job as SCRAM-SHA-512"
                            + " user 'metering' over SASL_SSL with only its ACLs, its secrets referenced through Kafka's"
                            + " FileConfigProvider; the tools connect as the admin certificate over mTLS (docs/operations.md).")
    boolean secure;

    @Option(
            names = "--postgres",
            paramLabel = "JDBC_URL",
            description =
                    "Also upsert into this PostgreSQL warehouse (jdbc:postgresql://HOST:PORT/DB); its tables "
                            + "are created if missing. Password: the variable warehouse.postgres.password-env names.")
    String postgresUrl;

    @Override
    public Integer call() throws Exception {
        List<String> settings = new ArrayList<>(overrides);
        if (postgresUrl != null) {
            settings.add("warehouse.postgres.url=" + postgresUrl);
        }
        MeteringConfig baseConfig = MeteringConfig.load(configFile(), settings);
        WorkloadSpec spec = workload.spec(baseConfig.billing().timeZone());

        Path work = workDir.toAbsolutePath();
        for (String stale : List.of("kafka", "checkpoints")) {
            FileUtils.deleteDirectory(work.resolve(stale).toFile());
        }
        Files.createDirectories(work);
        System.out.println("Tokenmeter local run — work folder " + work);
        baseConfig = withDedupKey(baseConfig, work);

        Path kafkaDir = Files.createDirectories(work.resolve("kafka"));
        try (BrokerProcess broker =
                secure ? BrokerProcess.startSecured(kafkaDir) : BrokerProcess.start(kafkaDir)) {
            System.out.println(
                    "Kafka broker (KRaft, pid "
                            + broker.pid()
                            + ") at "
                            + broker.bootstrapServers());
            // scripts/sql.sh connects to the broker of the running local run through this file.
            Files.writeString(work.resolve("bootstrap-servers"), broker.bootstrapServers());
            Map<String, String> brokerSettings = new HashMap<>();
            brokerSettings.put("kafka.bootstrap-servers", broker.bootstrapServers());
            BrokerSecurity security = broker.security();
            if (security != null) {
                brokerSettings.putAll(security.scramSettings(BrokerSecurity.JOB));
            }
            MeteringConfig config = baseConfig.with(brokerSettings);
            // The tools (topics, workload, reconciliation) act for the operator and the gateways:
            // on a secured broker as the admin certificate over mTLS, for the job's own principal
            // may only do the job.
            KafkaClientProperties toolClients =
                    security == null ? config.kafka().clients() : security.admin();
            String toolBootstrap =
                    security == null ? config.kafka().bootstrapServers() : security.mtlsBootstrap();
            KafkaTopics kafka = new KafkaTopics(toolBootstrap, toolClients);
            kafka.create(partitions, List.of(config.kafka().topics().raw()));
            kafka.create(partitions, config.outputTopics());
            if (config.packagesEnabled()) {
                kafka.create(partitions, List.of(config.kafka().topics().subscriptions()));
            }
            if (security != null) {
                describeSecurity(security, config, kafka);
            }
            if (config.packagesEnabled()) {
                // Bought before the first event: the job rates usage against the subscriptions it
                // has read.
                List<SubscriptionEvent> subscriptions =
                        SubscriptionWorkload.generate(spec, config.packageCatalog());
                SubscriptionWorkload.produce(
                        subscriptions,
                        toolClients,
                        toolBootstrap,
                        config.kafka().topics().subscriptions());
                System.out.printf(
                        "Subscriptions (catalog %s) into %s: %s%n",
                        config.packages().catalog(),
                        config.kafka().topics().subscriptions(),
                        SubscriptionWorkload.byAction(subscriptions));
            }

            System.out.printf(
                    "Generating %,d records over %,d accounts (seed %d) into %s%n",
                    spec.events(), spec.accounts(), spec.seed(), config.kafka().topics().raw());
            ExpectedTotals expected =
                    WorkloadProducer.produce(
                            new WorkloadGenerator(spec),
                            toolClients,
                            toolBootstrap,
                            config.kafka().topics().raw(),
                            true);
            Path expectedCsv = work.resolve("expected-billing.csv");
            expected.writeCsv(expectedCsv);
            System.out.println("Expected billing written to " + expectedCsv);
            if (config.warehouse().postgres().enabled()) {
                prepareWarehouse(config, spec);
            }
            // The workload is written first: a job started on empty partitions would see them
            // quiet, let their watermarks follow the wall clock and close the workload's days
            // (weeks ago) before a single event.
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(
                            localFlink(config, work));
            MeteringJob.onKafka(config).build(env);
            JobClient job = env.executeAsync("Tokenmeter metering (local)");
            long started = System.nanoTime();
            System.out.println(
                    "Metering job running on a local MiniCluster, parallelism " + parallelism);
            System.out.println(
                    "  Flink web UI:       http://127.0.0.1:"
                            + env.getConfiguration().get(RestOptions.PORT));
            System.out.println(
                    "  Prometheus metrics: http://127.0.0.1:" + metricsPort + "/metrics");
            try {
                System.out.println(
                        "Waiting for the job to read the whole workload; then it is stopped with a drained"
                                + " savepoint, whose end of event time closes the last hours and days (I9: a replayed backlog"
                                + " gone quiet never closes them by the wall clock)...");
                Reconciliation reconciliation =
                        drainAndReconcile(kafka, config, job, expected, work);
                System.out.printf(
                        "Metering complete after %.1f s%n", (System.nanoTime() - started) / 1e9);
                for (String output : config.outputTopics()) {
                    List<?> open = kafka.partitionsWithOpenTransactions(output);
                    if (!open.isEmpty()) {
                        System.out.println("WARNING: transactions still open on " + open);
                    }
                }
                System.out.println();
                System.out.println("Summary");
                reconciliation.report().forEach(System.out::println);
                boolean noticesOk = true;
                if (config.packagesEnabled()) {
                    NoticeSummary notices =
                            NoticeSummary.read(kafka, config.kafka().topics().notices());
                    System.out.println(notices.line());
                    noticesOk = notices.repeatedIds() == 0;
                }
                boolean warehouseOk =
                        !config.warehouse().postgres().enabled() || warehouseMatches(kafka, config);
                if (lingerSeconds > 0) {
                    System.out.printf(
                            "The broker stays up for %d s (Ctrl-C ends the run)%n", lingerSeconds);
                    Thread.sleep(lingerSeconds * 1000L);
                }
                return reconciliation.ok() && warehouseOk && noticesOk ? 0 : 1;
            } finally {
                if (!drained) {
                    job.cancel().get();
                }
            }
        }
    }

    /**
     * Grants the job's principal its ACLs, and says how the job and the tools connect, secrets not
     * included.
     */
    private static void describeSecurity(
            BrokerSecurity security, MeteringConfig config, KafkaTopics kafka)
            throws InterruptedException {
        String principal = "User:" + BrokerSecurity.JOB;
        List<AclBinding> acls = JobAcls.bindings(config, principal);
        try (Admin admin = kafka.admin()) {
            JobAcls.grant(admin, acls);
        }
        System.out.println(
                "Secured broker: TLS (throwaway CA), StandardAuthorizer; certificates and secrets in "
                        + security.dir());
        System.out.println(
                "  job:   SCRAM-SHA-512 user '"
                        + BrokerSecurity.JOB
                        + "' over SASL_SSL at "
                        + security.saslSslBootstrap()
                        + ", password from "
                        + security.secretReference(BrokerSecurity.passwordKey(BrokerSecurity.JOB)));
        System.out.println(
                "  tools: client certificate CN="
                        + BrokerSecurity.ADMIN
                        + " (super user) over mTLS at "
                        + security.mtlsBootstrap());
        System.out.println("  ACLs of " + principal + " (nothing else is allowed):");
        for (AclBinding acl : acls) {
            System.out.println(
                    "    "
                            + acl.entry().operation()
                            + " "
                            + acl.pattern().resourceType()
                            + " "
                            + acl.pattern().name()
                            + (acl.pattern().patternType() == PatternType.PREFIXED ? "*" : ""));
        }
    }

    /**
     * The configuration with a dedup key: the one it names, the environment's, or else a new random
     * key in the work folder (the run is on this machine; its ids need to be remembered by this run
     * only).
     */
    static MeteringConfig withDedupKey(MeteringConfig config, Path work) throws IOException {
        if (config.dedup().key().read() != null) {
            return config;
        }
        Path key = SecretSource.writeRandom(work.resolve("dedup.key"));
        System.out.println("Dedup key: a new random one in " + key);
        return config.with(Map.of("dedup.key-file", key.toString()));
    }

    /**
     * Waits until the job has read every raw record and completed a checkpoint covering them, stops
     * it with a drained savepoint — the end of the input: every open hour and day closes and is
     * committed with that savepoint — and reconciles its outputs with the workload. The job's
     * counters are final before the drain; a moment is left for a metrics scraper to see them while
     * the job still runs.
     */
    private Reconciliation drainAndReconcile(
            KafkaTopics kafka,
            MeteringConfig config,
            JobClient job,
            ExpectedTotals expected,
            Path work)
            throws Exception {
        long rawRecords = kafka.countRecords(config.kafka().topics().raw());
        kafka.awaitConsumed(
                config.kafka().consumerGroup(),
                config.kafka().topics().raw(),
                Duration.ofSeconds(timeoutSeconds));
        Thread.sleep(SCRAPE_PAUSE.toMillis());
        String savepoint =
                job.stopWithSavepoint(
                                true,
                                work.resolve("savepoints").toUri().toString(),
                                SavepointFormatType.CANONICAL)
                        .get(timeoutSeconds, TimeUnit.SECONDS);
        job.getJobExecutionResult().get(timeoutSeconds, TimeUnit.SECONDS);
        drained = true; // and the MiniCluster shut down with the job
        System.out.println("Job stopped with drained savepoint " + savepoint);
        return Reconciliation.of(expected, MeteringOutcome.read(kafka, config), rawRecords);
    }

    private static void prepareWarehouse(MeteringConfig config, WorkloadSpec spec)
            throws Exception {
        LocalDate first = LocalDate.ofInstant(spec.start(), spec.billingZone()).minusDays(1);
        LocalDate last =
                LocalDate.ofInstant(spec.start().plus(spec.span()), spec.billingZone()).plusDays(1);
        try (Warehouse warehouse = Warehouse.connect(config.warehouse().postgres())) {
            warehouse.prepare(Warehouse.SCHEMA, first, last);
        }
        System.out.println(
                "Warehouse tables ready at "
                        + config.warehouse().postgres().url()
                        + " (daily partitions "
                        + first
                        + " to "
                        + last
                        + ")");
    }

    /** Prints and checks that the warehouse holds exactly the billing the Kafka topic holds. */
    private static boolean warehouseMatches(KafkaTopics kafka, MeteringConfig config)
            throws Exception {
        MeteringOutcome outcome = MeteringOutcome.read(kafka, config);
        try (Warehouse warehouse = Warehouse.connect(config.warehouse().postgres())) {
            long rows = warehouse.number("SELECT count(*) FROM billing_records");
            boolean ok =
                    warehouse.billedByAccountDay().equals(outcome.billedByAccountDay())
                            && rows == outcome.billingRecords();
            System.out.printf(
                    "WAREHOUSE billing_records=%,d (topic %,d) account_daily_usage=%,d regional_usage=%,d "
                            + "national_usage=%,d status=%s%n",
                    rows,
                    outcome.billingRecords(),
                    warehouse.number("SELECT count(*) FROM account_daily_usage"),
                    warehouse.number("SELECT count(*) FROM regional_usage"),
                    warehouse.number("SELECT count(*) FROM national_usage"),
                    ok ? "OK" : "MISMATCH");
            return ok;
        }
    }

    private Path configFile() {
        if (configFile != null) {
            return configFile;
        }
        Path local = Path.of("config", "metering-local.yaml");
        return Files.exists(local) ? local : null;
    }

    private Configuration localFlink(MeteringConfig config, Path work) {
        Configuration flink = MeteringJob.flinkConfiguration(config);
        flink.set(CoreOptions.DEFAULT_PARALLELISM, parallelism);
        flink.set(TaskManagerOptions.NUM_TASK_SLOTS, parallelism);
        flink.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ofMebiBytes(512));
        flink.set(RestOptions.PORT, webPort == 0 ? EmbeddedKafkaBroker.freePort() : webPort);
        flink.set(
                CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                work.resolve("checkpoints").toUri().toString());
        flink.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 10);
        flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(1));
        flink.setString(
                "metrics.reporter.prom.factory.class",
                "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        flink.setString("metrics.reporter.prom.port", Integer.toString(metricsPort));
        return flink;
    }
}
