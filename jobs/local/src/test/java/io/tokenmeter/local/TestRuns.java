package io.tokenmeter.local;

import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.logic.WallClock;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.metering.MeteringJob;
import io.tokenmeter.logic.SecretSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

/** Running the metering job to the end of its input on the test's MiniCluster, over fresh topics of a broker. */
final class TestRuns {

    static final int PARALLELISM = 2;

    /** The MiniCluster every ITCase runs its jobs on: one task manager with a slot per parallel task. */
    static MiniClusterExtension miniCluster() {
        return new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
                .setNumberTaskManagers(1)
                .setNumberSlotsPerTaskManager(PARALLELISM)
                .build());
    }

    /**
     * A wall clock at the epoch, for workloads on fixed dates long past (the cookbook's, daylight-saving days):
     * lateness is then judged by the partitions' own events only, as if the run happened right after them.
     */
    static final WallClock LONG_PAST = WallClock.fixed(0);

    private TestRuns() {}

    /** A configuration whose topics, consumer group and transactional ids no other run uses; topics created. */
    static MeteringConfig freshTopics(KafkaBrokerExtension kafka, Map<String, String> overrides)
            throws InterruptedException {
        String run = kafka.freshTopic("run");
        Map<String, String> settings = new HashMap<>();
        settings.put("kafka.bootstrap-servers", kafka.bootstrapServers());
        settings.put("kafka.topics.raw", run + ".raw");
        settings.put("kafka.topics.billing", run + ".billing");
        settings.put("kafka.topics.rejected", run + ".rejected");
        settings.put("kafka.topics.account-usage", run + ".usage.account");
        settings.put("kafka.topics.regional-usage", run + ".usage.regional");
        settings.put("kafka.topics.national-usage", run + ".usage.national");
        settings.put("kafka.topics.ledger", run + ".ledger");
        settings.put("kafka.topics.subscriptions", run + ".subscriptions");
        settings.put("kafka.topics.notices", run + ".notices");
        settings.put("kafka.consumer-group", run);
        settings.put("kafka.transactional-id-prefix", run);
        settings.put("kafka.stop-at-latest-offsets", "true");
        settings.put("checkpoints.interval", "200 ms");
        settings.put("dedup.key-file", dedupKeyFile().toString());
        settings.putAll(overrides);
        MeteringConfig config = MeteringConfig.defaultConfig().with(settings);
        kafka.topics().create(4, List.of(config.kafka().topics().raw()));
        kafka.topics().create(4, config.outputTopics());
        if (config.packagesEnabled()) {
            kafka.topics().create(2, List.of(config.kafka().topics().subscriptions()));
        }
        return config;
    }

    /** One random dedup key per test JVM, in a file under java.io.tmpdir (the build folder). */
    static synchronized Path dedupKeyFile() {
        if (dedupKeyFile == null) {
            try {
                dedupKeyFile = SecretSource.writeRandom(
                        Files.createTempDirectory("tokenmeter-it").resolve("dedup.key").toAbsolutePath());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dedupKeyFile;
    }

    private static Path dedupKeyFile;

    static ExpectedTotals produce(WorkloadSpec spec, MeteringConfig config) {
        return WorkloadProducer.produce(new WorkloadGenerator(spec), config.kafka().clients(), config.kafka().bootstrapServers(),
                config.kafka().topics().raw(), false);
    }

    /** Runs the job with {@code source} to its end; with a restart strategy when {@code restartOnFailure}. */
    static JobExecutionResult run(MeteringConfig config, Source<IngestedRecord, ?, ?> source, boolean restartOnFailure)
            throws Exception {
        return environment(config, source, restartOnFailure).execute("metering-it");
    }

    /** Starts the job with {@code source} and returns at once; for unbounded runs the test stops itself. */
    static JobClient start(MeteringConfig config, Source<IngestedRecord, ?, ?> source, boolean restartOnFailure)
            throws Exception {
        return environment(config, source, restartOnFailure).executeAsync("metering-it");
    }

    private static StreamExecutionEnvironment environment(
            MeteringConfig config, Source<IngestedRecord, ?, ?> source, boolean restartOnFailure) {
        Configuration flink = MeteringJob.flinkConfiguration(config);
        if (restartOnFailure) {
            flink.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
            flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        } else {
            flink.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        env.setParallelism(PARALLELISM);
        new MeteringJob(config, source, MeteringJob.Outputs.kafka(config)).build(env);
        return env;
    }
}
