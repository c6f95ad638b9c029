package io.tokenmeter.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.logic.WallClock;
import io.tokenmeter.logic.ingest.SecretSource;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.metering.MeteringJob;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.client.program.rest.RestClusterClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

/**
 * Running the metering job to the end of its input on the test's MiniCluster, over fresh topics of
 * a broker.
 */
public final class TestRuns {

    public static final int PARALLELISM = 2;

    /**
     * The MiniCluster every ITCase runs its jobs on: one task manager with a slot per parallel
     * task.
     */
    public static MiniClusterExtension miniCluster() {
        return new MiniClusterExtension(
                new MiniClusterResourceConfiguration.Builder()
                        .setNumberTaskManagers(1)
                        .setNumberSlotsPerTaskManager(PARALLELISM)
                        .build());
    }

    /**
     * A wall clock at the epoch, for workloads on fixed dates long past (the cookbook's,
     * daylight-saving days): lateness is then judged by the partitions' own events only, as if the
     * run happened right after them.
     */
    public static final WallClock LONG_PAST = WallClock.fixed(0);

    private TestRuns() {}

    /**
     * A configuration whose topics, consumer group and transactional ids no other run uses; topics
     * created.
     */
    public static MeteringConfig freshTopics(
            KafkaBrokerExtension kafka, Map<String, String> overrides) throws InterruptedException {
        Map<String, String> settings =
                OwnTopics.settings(kafka.bootstrapServers(), kafka.freshTopic("run"));
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
    public static synchronized Path dedupKeyFile() {
        if (dedupKeyFile == null) {
            try {
                dedupKeyFile =
                        SecretSource.writeRandom(
                                Files.createTempDirectory("tokenmeter-it")
                                        .resolve("dedup.key")
                                        .toAbsolutePath());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dedupKeyFile;
    }

    private static Path dedupKeyFile;

    public static ExpectedTotals produce(WorkloadSpec spec, MeteringConfig config) {
        return WorkloadProducer.produce(
                new WorkloadGenerator(spec),
                config.kafka().clients(),
                config.kafka().bootstrapServers(),
                config.kafka().topics().raw(),
                false);
    }

    /**
     * Runs the job with {@code source} to its end; with a restart strategy when {@code
     * restartOnFailure}.
     */
    public static JobExecutionResult run(
            MeteringConfig config, Source<IngestedRecord, ?, ?> source, boolean restartOnFailure)
            throws Exception {
        return environment(config, source, restartOnFailure).execute("metering-it");
    }

    /**
     * Starts the job with {@code source} and returns at once; for unbounded runs the test stops
     * itself.
     */
    public static JobClient start(
            MeteringConfig config, Source<IngestedRecord, ?, ?> source, boolean restartOnFailure)
            throws Exception {
        return environment(config, source, restartOnFailure).executeAsync("metering-it");
    }

    /**
     * The workload's expected totals, worked out from its records without writing them anywhere.
     */
    public static ExpectedTotals expected(WorkloadSpec spec) {
        ExpectedTotals expected = new ExpectedTotals(spec.billingZone());
        WorkloadGenerator generator = new WorkloadGenerator(spec);
        for (long i = 0; i < spec.events(); i++) {
            expected.add(generator.record(i));
        }
        return expected;
    }

    /** Fails, with the whole report, unless the reconciliation ends in status=OK. */
    public static void assertReconciled(Reconciliation reconciliation) {
        assertThat(reconciliation.report())
                .as(String.join("\n", reconciliation.report()))
                .last()
                .asString()
                .endsWith("status=OK");
    }

    private static StreamExecutionEnvironment environment(
            MeteringConfig config, Source<IngestedRecord, ?, ?> source, boolean restartOnFailure) {
        Configuration flink = MeteringJob.flinkConfiguration(config);
        if (restartOnFailure) {
            flink.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
            flink.set(
                    RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY,
                    Duration.ofMillis(200));
        } else {
            flink.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        env.setParallelism(PARALLELISM);
        new MeteringJob(config, source, MeteringJob.Outputs.kafka(config)).build(env);
        return env;
    }

    /** The stack traces of the job's exception history on the MiniCluster: one per failover. */
    public static List<String> failures(RestClusterClient<?> flink, JobClient job)
            throws Exception {
        HttpResponse<String> response =
                HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(
                                                URI.create(
                                                        flink.getWebInterfaceURL()
                                                                + "/jobs/"
                                                                + job.getJobID()
                                                                + "/exceptions"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode history = new ObjectMapper().readTree(response.body()).path("exceptionHistory");
        assertThat(history.isMissingNode()).as(response.body()).isFalse();
        List<String> failures = new ArrayList<>();
        for (JsonNode entry : history.path("entries")) {
            failures.add(entry.path("stacktrace").asText());
        }
        return failures;
    }
}
