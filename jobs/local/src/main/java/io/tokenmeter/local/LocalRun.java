package io.tokenmeter.local;

import io.tokenmeter.functions.DeduplicateFunction;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.metering.MeteringJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.FileUtils;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The embedded default: a real Kafka broker in a background process, the workload written to it, the metering
 * job on a local Flink MiniCluster with RocksDB state, and a reconciliation of its output against the workload.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Runs Tokenmeter end to end on this machine and reconciles the billing with the workload.")
final class LocalRun implements Callable<Integer> {

    @Mixin
    WorkloadOptions workload;

    @Option(names = "--parallelism", defaultValue = "2", description = "Job parallelism (default ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(names = "--partitions", defaultValue = "4", description = "Partitions of the raw topic (default ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--web-port", defaultValue = "8081", description = "Flink web UI port, 0 for any free one (default ${DEFAULT-VALUE}).")
    int webPort;

    @Option(names = "--work-dir", defaultValue = "target/local-run", description = "Broker data, checkpoints, logs and expected totals (default ${DEFAULT-VALUE}).")
    Path workDir;

    @Option(names = "--config", description = "Metering job YAML configuration (default: config/metering-local.yaml if present).")
    Path configFile;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Overrides one job configuration key.")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        MeteringConfig baseConfig = MeteringConfig.load(configFile(), overrides);
        WorkloadSpec spec = workload.spec(baseConfig.billingZone());

        Path work = workDir.toAbsolutePath();
        for (String stale : List.of("kafka", "checkpoints")) {
            FileUtils.deleteDirectory(work.resolve(stale).toFile());
        }
        Files.createDirectories(work);
        System.out.println("Tokenmeter local run — work folder " + work);

        try (BrokerProcess broker = BrokerProcess.start(Files.createDirectories(work.resolve("kafka")))) {
            System.out.println("Kafka broker (KRaft, pid " + broker.pid() + ") at " + broker.bootstrapServers());
            MeteringConfig config = baseConfig.with(Map.of(
                    MeteringConfig.BOOTSTRAP_SERVERS, broker.bootstrapServers(),
                    MeteringConfig.STOP_AT_LATEST, "true"));
            KafkaTopics kafka = new KafkaTopics(broker.bootstrapServers());
            kafka.create(partitions, List.of(config.rawTopic()));
            kafka.create(partitions, config.outputTopics());

            System.out.printf("Generating %,d records over %,d accounts (seed %d) into %s%n",
                    spec.events(), spec.accounts(), spec.seed(), config.rawTopic());
            ExpectedTotals expected = WorkloadProducer.produce(
                    new WorkloadGenerator(spec), broker.bootstrapServers(), config.rawTopic(), true);
            Path expectedCsv = work.resolve("expected-billing.csv");
            expected.writeCsv(expectedCsv);
            System.out.println("Expected billing written to " + expectedCsv);

            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(localFlink(config, work));
            MeteringJob.onKafka(config).build(env);
            System.out.println("Metering job running on a local MiniCluster, parallelism " + parallelism
                    + " — Flink web UI: http://127.0.0.1:" + env.getConfiguration().get(RestOptions.PORT));
            long started = System.nanoTime();
            JobExecutionResult result = env.execute("Tokenmeter metering (local)");
            double seconds = (System.nanoTime() - started) / 1e9;
            System.out.printf("Metering job finished in %.1f s%n", seconds);

            for (String output : config.outputTopics()) {
                List<?> open = kafka.partitionsWithOpenTransactions(output);
                if (!open.isEmpty()) {
                    System.out.println("WARNING: transactions still open on " + open);
                }
            }
            MeteringOutcome outcome = MeteringOutcome.read(kafka, config);
            Long duplicates = result.getAccumulatorResult(DeduplicateFunction.DUPLICATES_ACCUMULATOR);
            Reconciliation reconciliation = Reconciliation.of(expected, outcome, kafka.countRecords(config.rawTopic()),
                    duplicates == null ? 0 : duplicates);
            System.out.println();
            System.out.println("Summary");
            reconciliation.report().forEach(System.out::println);
            return reconciliation.ok() ? 0 : 1;
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
        flink.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, work.resolve("checkpoints").toUri().toString());
        flink.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 10);
        flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(1));
        return flink;
    }
}
