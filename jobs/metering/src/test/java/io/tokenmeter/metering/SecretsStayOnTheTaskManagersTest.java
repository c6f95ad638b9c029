package io.tokenmeter.metering;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.io.UsageEventDeserializer;
import io.tokenmeter.logic.ingest.EventFingerprints;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.testing.Fixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.util.ListCollector;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.testutils.logging.LoggerAuditingExtension;
import org.apache.flink.util.ExceptionUtils;
import org.apache.flink.util.InstantiationUtil;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.event.Level;

/**
 * Issue #13 items 6 and 9, issue #15 item 1: the dedup key, the warehouse password and the Kafka
 * client secrets are read by the tasks that use them; the job graph the client submits (blobs, HA
 * storage), the configuration and its printouts, and the logs carry where they are, never what they
 * are.
 */
class SecretsStayOnTheTaskManagersTest {

    private static final String DEDUP_KEY = "dedup-key-7f3a9c0e5b1d4f2a8c6e0b9d7f5a3c1e";
    private static final String PASSWORD = "warehouse-password-Zq81xVw";
    private static final String KAFKA_PASSWORD = "kafka-scram-password-Hq27pLm";

    @RegisterExtension
    final LoggerAuditingExtension logs = new LoggerAuditingExtension("", Level.DEBUG);

    @TempDir Path dir;

    @ParameterizedTest(name = "warehouse exactly once: {0}")
    @ValueSource(booleans = {true, false})
    void jobGraphAndConfigurationCarryWhereTheSecretsAreNeverTheSecrets(boolean exactlyOnce)
            throws Exception {
        Path keyFile = Files.writeString(dir.resolve("dedup.key"), DEDUP_KEY + "\n");
        Path passwordFile = Files.writeString(dir.resolve("warehouse.password"), PASSWORD);
        Path kafkaSecrets =
                Files.writeString(
                        dir.resolve("kafka.properties"), "password=" + KAFKA_PASSWORD + "\n");
        String jaasReference = "${file:" + kafkaSecrets + ":password}";
        MeteringConfig config =
                MeteringConfig.defaultConfig()
                        .with(
                                Map.of(
                                        "dedup.key-file",
                                        keyFile.toString(),
                                        "warehouse.postgres.url",
                                        "jdbc:postgresql://127.0.0.1:5432/analytics",
                                        "warehouse.postgres.user",
                                        "loader",
                                        WarehouseConfig.PASSWORD_FILE,
                                        passwordFile.toString(),
                                        "warehouse.postgres.exactly-once",
                                        Boolean.toString(exactlyOnce),
                                        "kafka.properties.config.providers",
                                        "file",
                                        "kafka.properties.config.providers.file.class",
                                        "org.apache.kafka.common.config.provider.FileConfigProvider",
                                        "kafka.properties.security.protocol",
                                        "SASL_SSL",
                                        "kafka.properties.sasl.mechanism",
                                        "SCRAM-SHA-512",
                                        "kafka.properties.sasl.jaas.config",
                                        "org.apache.kafka.common.security.scram.ScramLoginModule required"
                                                + " username=\"metering\" password=\""
                                                + jaasReference
                                                + "\";"));

        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(
                        MeteringJob.flinkConfiguration(config));
        MeteringJob.onKafka(config).build(env);
        JobGraph jobGraph = env.getStreamGraph().getJobGraph();
        String submitted =
                new String(
                        InstantiationUtil.serializeObject(jobGraph), StandardCharsets.ISO_8859_1);

        // The functions that read the secrets are in the graph, with the files they read them
        // from...
        assertThat(submitted)
                .contains(keyFile.toString())
                .contains(passwordFile.toString())
                .contains(jaasReference);
        // ...and the secrets are not.
        assertThat(submitted)
                .doesNotContain(DEDUP_KEY)
                .doesNotContain(PASSWORD)
                .doesNotContain(KAFKA_PASSWORD);
        for (String printed : new String[] {config.toString(), config.asMap().toString()}) {
            assertThat(printed)
                    .contains(keyFile.toString())
                    .contains(passwordFile.toString())
                    .contains(jaasReference)
                    .doesNotContain(DEDUP_KEY)
                    .doesNotContain(PASSWORD)
                    .doesNotContain(KAFKA_PASSWORD);
        }
        assertThat(config.warehouse().postgres().toString())
                .contains(passwordFile.toString())
                .doesNotContain(PASSWORD);
        assertThat(logged())
                .doesNotContain(DEDUP_KEY)
                .doesNotContain(PASSWORD)
                .doesNotContain(KAFKA_PASSWORD);
    }

    /**
     * The source logs the key's check value when it opens, so TaskManagers can be compared; not the
     * key.
     */
    @Test
    void sourceLogsTheKeyCheckValueNotTheKey() throws Exception {
        Path keyFile = Files.writeString(dir.resolve("dedup.key"), DEDUP_KEY);
        MeteringConfig config =
                MeteringConfig.defaultConfig().with(Map.of("dedup.key-file", keyFile.toString()));
        UsageEvent event =
                Fixtures.usageEventBuilder()
                        .setCachedTokens(0)
                        .setEventTime(
                                Instant.now()
                                        .minusSeconds(
                                                60)) // on time by the real clock the source judges
                        // with
                        .build();
        UsageEventDeserializer deserializer =
                new UsageEventDeserializer(
                        config.validation().limits(),
                        config.partitionClock(),
                        config.dedup().key());
        List<IngestedRecord> read = new ArrayList<>();

        deserializer.open(null);
        deserializer.deserialize(
                new ConsumerRecord<>("raw", 0, 1L, null, AvroCodec.usageEvents().encode(event)),
                new ListCollector<>(read));

        EventFingerprints underTheKey = new EventFingerprints(DEDUP_KEY);
        assertThat(read)
                .singleElement()
                .satisfies(
                        r ->
                                assertThat(new long[] {r.dedupKeyHigh, r.dedupKeyLow})
                                        .containsExactly(
                                                underTheKey.dedupKey("gateway-a", "evt-1")));
        assertThat(logged())
                .contains("check value " + underTheKey.keyCheck())
                .contains(keyFile.toString())
                .doesNotContain(DEDUP_KEY);
    }

    private String logged() {
        StringBuilder all = new StringBuilder();
        logs.getEvents()
                .forEach(
                        e -> {
                            all.append(e.getMessage().getFormattedMessage()).append('\n');
                            if (e.getThrown() != null) {
                                all.append(ExceptionUtils.stringifyException(e.getThrown()))
                                        .append('\n');
                            }
                        });
        return all.toString();
    }
}
