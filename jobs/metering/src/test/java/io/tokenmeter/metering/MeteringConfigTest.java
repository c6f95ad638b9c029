package io.tokenmeter.metering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.tokenmeter.logic.ingest.ValidationLimits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.configuration.CheckpointingOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeteringConfigTest {

    @TempDir Path dir;

    @Test
    void defaultsMatchDesign() {
        MeteringConfig config = MeteringConfig.defaultConfig();

        assertThat(config.billing().timeZone()).isEqualTo(ZoneId.of("Asia/Shanghai"));
        assertThat(config.billing().dayCloseGrace()).isEqualTo(Duration.ofMinutes(15));
        assertThat(config.billing().correctionHorizon()).isEqualTo(Duration.ofDays(35));
        assertThat(config.eventTime().outOfOrderness()).isEqualTo(Duration.ofMinutes(2));
        assertThat(config.eventTime().sourceIdleness()).isEqualTo(Duration.ofMinutes(1));
        assertThat(config.kafka().transactionTimeout())
                .isGreaterThan(config.checkpoints().interval());
        assertThat(config.kafka().transactionTimeout()).isLessThanOrEqualTo(Duration.ofMinutes(15));
    }

    /**
     * Issue #13 item 6: the dedup key is read on the TaskManagers from a file named by absolute
     * path, or the environment.
     */
    @Test
    void dedupKeyComesFromAnAbsoluteKeyFileOrTheEnvironment() throws Exception {
        assertThat(MeteringConfig.defaultConfig().dedup().key().toString())
                .isEqualTo("environment variable TOKENMETER_DEDUP_KEY");
        Path key =
                Files.writeString(dir.resolve("dedup.key"), "0123456789abcdef0123456789abcdef\n");

        MeteringConfig config = MeteringConfig.fromMap(Map.of("dedup.key-file", key.toString()));

        assertThat(config.dedup().key().read()).isEqualTo("0123456789abcdef0123456789abcdef");
        assertThat(config.with(Map.of()).dedup().keyFile()).isEqualTo(key.toString());
        assertThatThrownBy(() -> MeteringConfig.fromMap(Map.of("dedup.key-file", "dedup.key")))
                .hasMessageContaining("'dedup.key-file'")
                .hasMessageContaining("absolute");
    }

    @Test
    void defaultsDedupAndValidationLimits() {
        MeteringConfig config = MeteringConfig.defaultConfig();

        assertThat(config.dedup().horizon()).isEqualTo(Duration.ofHours(24));
        assertThat(config.validation().maxTokensPerEvent()).isEqualTo(10_000_000L);
        assertThat(config.validation().futureSkew()).isEqualTo(Duration.ofMinutes(5));
        assertThat(config.validation().maxRecordBytes()).isEqualTo(65_536);
        assertThat(config.validation().limits())
                .isEqualTo(
                        new ValidationLimits(
                                10_000_000L, Duration.ofMinutes(5).toMillis(), 65_536));
    }

    @Test
    void readsDedupAndValidationKeysFromYaml() throws Exception {
        Path yaml =
                write(
                        """
                dedup:
                  horizon: 35 d
                validation:
                  max-tokens-per-event: 2000000
                  future-skew: 0 s
                  max-record-bytes: 64
                """);

        MeteringConfig config = MeteringConfig.load(yaml, List.of());

        assertThat(config.dedup().horizon()).isEqualTo(Duration.ofDays(35));
        assertThat(config.validation().maxTokensPerEvent()).isEqualTo(2_000_000L);
        assertThat(config.validation().futureSkew()).isZero();
        assertThat(config.validation().maxRecordBytes()).isEqualTo(64);
        assertThat(config.validation().limits())
                .isEqualTo(new ValidationLimits(2_000_000L, 0L, 64));
    }

    @Test
    void failsOnDedupHorizonAboveMaximumNamingKey() {
        assertThatThrownBy(() -> MeteringConfig.load(null, List.of("dedup.horizon=36 d")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dedup.horizon")
                .hasMessageContaining("35 d");
    }

    @Test
    void failsOnZeroDedupHorizonNamingKey() {
        assertThatThrownBy(() -> MeteringConfig.fromMap(Map.of("dedup.horizon", "0 s")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dedup.horizon")
                .hasMessageContaining("positive");
    }

    @Test
    void failsOnBadDedupHorizonNamingKey() {
        assertThatThrownBy(() -> MeteringConfig.fromMap(Map.of("dedup.horizon", "one day")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dedup.horizon")
                .hasMessageContaining("one day");
    }

    @Test
    void failsOnZeroMaxTokensPerEventNamingKey() {
        assertThatThrownBy(
                        () ->
                                MeteringConfig.fromMap(
                                        Map.of("validation.max-tokens-per-event", "0")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("validation.max-tokens-per-event")
                .hasMessageContaining("at least 1");
    }

    @Test
    void failsOnNonNumericMaxTokensPerEventNamingKey() {
        assertThatThrownBy(
                        () ->
                                MeteringConfig.fromMap(
                                        Map.of("validation.max-tokens-per-event", "10M")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("validation.max-tokens-per-event")
                .hasMessageContaining("10M");
    }

    @Test
    void failsOnNegativeFutureSkewNamingKey() {
        assertThatThrownBy(() -> MeteringConfig.fromMap(Map.of("validation.future-skew", "-1 s")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("validation.future-skew");
    }

    @Test
    void failsOnATransactionalIdPrefixTooLongToNameWarehouseTransactionsNamingKey() {
        assertThatThrownBy(
                        () ->
                                MeteringConfig.fromMap(
                                        Map.of("kafka.transactional-id-prefix", "p".repeat(101))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kafka.transactional-id-prefix")
                .hasMessageContaining("at most 100");
    }

    @Test
    void defaultsCapsThatFitTheDefaultProducerLimit() {
        MeteringConfig config = MeteringConfig.defaultConfig();

        assertThat(config.validation().limits().maxModelBytes()).isEqualTo(128);
        assertThat(config.validation().maxLineItemsPerDay()).isEqualTo(1000);
        assertThat(config.kafka().producer().maxRequestSize()).isEqualTo(1_048_576);
        assertThat(MeteringConfig.fromMap(config.asMap())).isEqualTo(config);
    }

    /**
     * I10: settings under which an accepted day could make a billing record the producer refuses.
     */
    @Test
    void failsWhenLineItemsTimesModelLengthCouldExceedTheProducerLimitNamingKey() {
        assertThatThrownBy(
                        () ->
                                MeteringConfig.fromMap(
                                        Map.of("validation.max-line-items-per-day", "6000")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'validation.max-line-items-per-day'")
                .hasMessageContaining("kafka.producer.max-request-size (1048576)");
        assertThatThrownBy(
                        () -> MeteringConfig.fromMap(Map.of("validation.max-model-bytes", "4096")))
                .hasMessageContaining("'validation.max-line-items-per-day'");
        // A larger producer limit makes room for them.
        assertThat(
                        MeteringConfig.fromMap(
                                        Map.of(
                                                "validation.max-line-items-per-day",
                                                "6000",
                                                "kafka.producer.max-request-size",
                                                "4194304"))
                                .validation()
                                .maxLineItemsPerDay())
                .isEqualTo(6000);
    }

    @Test
    void failsWhenTheRejectedEnvelopeCouldExceedTheProducerLimitNamingKey() {
        assertThatThrownBy(
                        () ->
                                MeteringConfig.fromMap(
                                        Map.of("validation.max-record-bytes", "1048576")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'validation.max-record-bytes'")
                .hasMessageContaining("rejected-record envelope");
        assertThatThrownBy(
                        () ->
                                MeteringConfig.fromMap(
                                        Map.of(
                                                "kafka.producer.max-request-size",
                                                "60000",
                                                "validation.max-line-items-per-day",
                                                "100")))
                .hasMessageContaining("'validation.max-record-bytes'");
    }

    @Test
    void failsOnAStringCapOutOfRangeNamingKey() {
        for (String key :
                List.of(
                        "validation.max-event-id-bytes",
                        "validation.max-source-bytes",
                        "validation.max-account-id-bytes",
                        "validation.max-region-bytes",
                        "validation.max-model-bytes")) {
            assertThatThrownBy(() -> MeteringConfig.fromMap(Map.of(key, "0")))
                    .hasMessageContaining("'" + key + "'");
            assertThatThrownBy(() -> MeteringConfig.fromMap(Map.of(key, "4097")))
                    .hasMessageContaining("'" + key + "'");
        }
    }

    @Test
    void failsOnMaxRecordBytesBelow64NamingKey() {
        assertThatThrownBy(
                        () -> MeteringConfig.fromMap(Map.of("validation.max-record-bytes", "63")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("validation.max-record-bytes")
                .hasMessageContaining("at least 64");
    }

    @Test
    void failsOnMaxRecordBytesAboveIntRangeNamingKey() {
        assertThatThrownBy(
                        () ->
                                MeteringConfig.fromMap(
                                        Map.of("validation.max-record-bytes", "3000000000")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("validation.max-record-bytes");
    }

    @Test
    void flattensNestedYaml() throws Exception {
        Path yaml =
                write(
                        """
                kafka:
                  bootstrap-servers: broker-1:9092,broker-2:9092
                  topics:
                    raw: usage.raw.test
                  stop-at-latest-offsets: true
                billing:
                  time-zone: Europe/Berlin
                  day-close-grace: 30 min
                max-parallelism: 128
                """);

        MeteringConfig config = MeteringConfig.load(yaml, List.of());

        assertThat(config.kafka().bootstrapServers()).isEqualTo("broker-1:9092,broker-2:9092");
        assertThat(config.kafka().topics().raw()).isEqualTo("usage.raw.test");
        assertThat(config.kafka().stopAtLatestOffsets()).isTrue();
        assertThat(config.billing().timeZone()).isEqualTo(ZoneId.of("Europe/Berlin"));
        assertThat(config.billing().dayCloseGrace()).isEqualTo(Duration.ofMinutes(30));
        assertThat(config.maxParallelism()).isEqualTo(128);
        // Keys the file does not mention keep their defaults.
        assertThat(config.kafka().topics().billing())
                .isEqualTo(MeteringConfig.defaultConfig().kafka().topics().billing());
        assertThat(config.billing().correctionHorizon()).isEqualTo(Duration.ofDays(35));
    }

    @Test
    void letsCommandLineOverridesWinOverYaml() throws Exception {
        Path yaml =
                write(
                        """
                billing:
                  day-close-grace: 30 min
                kafka:
                  topics:
                    raw: from-yaml
                """);

        MeteringConfig config =
                MeteringConfig.load(
                        yaml,
                        List.of("billing.day-close-grace=5 min", " kafka.topics.raw = from-cli "));

        assertThat(config.billing().dayCloseGrace()).isEqualTo(Duration.ofMinutes(5));
        assertThat(config.kafka().topics().raw()).isEqualTo("from-cli");
    }

    @Test
    void appliesOverridesWithoutYamlFile() {
        MeteringConfig config =
                MeteringConfig.load(null, List.of("event-time.out-of-orderness=30 s"));

        assertThat(config.eventTime().outOfOrderness()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void failsOnUnknownKeyNamingIt() throws Exception {
        Path yaml =
                write(
                        """
                billing:
                  timezone: Europe/Berlin
                """);

        assertThatThrownBy(() -> MeteringConfig.load(yaml, List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("billing.timezone");
    }

    @Test
    void failsOnAKeyWithoutValueNamingIt() throws Exception {
        Path yaml =
                write(
                        """
                schema-registry:
                  url:
                """);

        assertThatThrownBy(() -> MeteringConfig.load(yaml, List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Configuration key 'schema-registry.url' has no value");
    }

    @Test
    void readsDottedKeysInTheFileAsNestedOnes() throws Exception {
        Path yaml =
                write(
                        """
                kafka.topics.raw: dotted
                kafka:
                  properties.security.protocol: SSL
                  producer:
                    properties:
                      linger.ms: 5
                """);

        MeteringConfig config = MeteringConfig.load(yaml, List.of());

        assertThat(config.kafka().topics().raw()).isEqualTo("dotted");
        assertThat(config.kafka().clients().producer())
                .containsEntry("security.protocol", "SSL")
                .containsEntry("linger.ms", "5");
    }

    @Test
    void failsOnUnknownOverrideKeyNamingIt() {
        assertThatThrownBy(() -> MeteringConfig.load(null, List.of("kafka.topic.raw=x")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kafka.topic.raw");
    }

    @Test
    void failsOnBadDurationNamingKey() {
        assertThatThrownBy(
                        () ->
                                MeteringConfig.load(
                                        null, List.of("billing.day-close-grace=fifteen minutes")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("billing.day-close-grace")
                .hasMessageContaining("fifteen minutes");
    }

    @Test
    void failsOnBadZoneNamingKey() {
        assertThatThrownBy(
                        () -> MeteringConfig.fromMap(Map.of("billing.time-zone", "Mars/Olympus")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("billing.time-zone");
    }

    @Test
    void failsWhenTransactionTimeoutIsNotAboveCheckpointInterval() {
        assertThatThrownBy(
                        () ->
                                MeteringConfig.fromMap(
                                        Map.of(
                                                "kafka.transaction-timeout",
                                                "10 s",
                                                "checkpoints.interval",
                                                "10 s")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kafka.transaction-timeout");
    }

    @Test
    void failsOnNegativeCheckpointMinPauseNamingKey() {
        assertThatThrownBy(() -> MeteringConfig.fromMap(Map.of("checkpoints.min-pause", "-1 s")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("checkpoints.min-pause");
    }

    @Test
    void setsTheCheckpointMinPauseOnTheFlinkConfiguration() {
        MeteringConfig config =
                MeteringConfig.defaultConfig().with(Map.of("checkpoints.min-pause", "9 min"));
        assertThat(
                        MeteringJob.flinkConfiguration(config)
                                .get(CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS))
                .isEqualTo(Duration.ofMinutes(9));
    }

    @Test
    void failsOnOverrideWithoutEqualsSign() {
        assertThatThrownBy(() -> MeteringConfig.load(null, List.of("billing.time-zone")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("billing.time-zone");
    }

    @Test
    void readsBackItsOwnMapWithDedupAndValidationKeys() {
        MeteringConfig config =
                MeteringConfig.defaultConfig()
                        .with(
                                Map.of(
                                        "dedup.horizon", "90 min",
                                        "validation.max-tokens-per-event", "123456",
                                        "validation.future-skew", "30 s",
                                        "validation.max-record-bytes", "1024"));

        assertThat(MeteringConfig.fromMap(config.asMap())).isEqualTo(config);
        assertThat(config.dedup().horizon()).isEqualTo(Duration.ofMinutes(90));
    }

    @Test
    void readsBackItsOwnMap() {
        MeteringConfig config =
                MeteringConfig.defaultConfig()
                        .with(
                                Map.of(
                                        "billing.time-zone",
                                        "Europe/Berlin",
                                        "max-parallelism",
                                        "64"));

        assertThat(MeteringConfig.fromMap(config.asMap())).isEqualTo(config);
    }

    /**
     * Issue 16: config/metering.yaml shows every setting, each at the default its section declares.
     */
    @Test
    void theShippedFileHoldsEverySettingAtItsDeclaredDefault() throws Exception {
        Path shipped = Path.of("../../config/metering.yaml");

        assertThat(MeteringConfig.load(shipped, List.of()))
                .isEqualTo(MeteringConfig.defaultConfig());
        Map<String, String> written =
                new YAMLMapper()
                        .readTree(shipped.toFile()).properties().stream()
                                .flatMap(
                                        section ->
                                                leaves(section.getKey(), section.getValue())
                                                        .stream())
                                .collect(Collectors.toMap(key -> key, key -> ""));
        assertThat(written.keySet())
                .containsExactlyInAnyOrderElementsOf(
                        MeteringConfig.defaultConfig().asMap().keySet());
    }

    @Test
    void loadsTheShippedLocalConfiguration() {
        // Its catalog path is relative to the repository root, where scripts/run-local.sh runs.
        MeteringConfig local =
                MeteringConfig.load(
                        Path.of("../../config/metering-local.yaml"),
                        List.of("packages.catalog=../../config/packages.yaml"));

        assertThat(local.kafka().transactionalIdPrefix()).isEqualTo("tokenmeter-local");
        assertThat(local.packagesEnabled()).isTrue();
    }

    @Test
    void refusesTheCatalogItLoadsAsASettingNamingTheKey() {
        assertThatThrownBy(() -> MeteringConfig.fromMap(Map.of("package-catalog", "x")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Unknown configuration key(s) [package-catalog]");
    }

    @Test
    void failsOnASectionGivenAsAValueNamingTheKey() {
        assertThatThrownBy(() -> MeteringConfig.load(null, List.of("billing=Europe/Berlin")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'billing'");
    }

    /** The dotted keys of the leaves below {@code node}. */
    private static List<String> leaves(String key, JsonNode node) {
        if (!node.isObject()) {
            return List.of(key);
        }
        return node.properties().stream()
                .flatMap(child -> leaves(key + "." + child.getKey(), child.getValue()).stream())
                .toList();
    }

    private Path write(String yaml) throws Exception {
        Path file = dir.resolve("metering.yaml");
        Files.writeString(file, yaml);
        return file;
    }
}
