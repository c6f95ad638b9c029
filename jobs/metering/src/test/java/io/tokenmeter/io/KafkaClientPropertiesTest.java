package io.tokenmeter.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenmeter.metering.MeteringConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.types.Password;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.yaml.snakeyaml.Yaml;

/**
 * Issue #15 item 1: Kafka client settings passed through to every client, the job's own refused,
 * secrets referenced.
 */
class KafkaClientPropertiesTest {

    private static final String JAAS_WITH_REFERENCE =
            "org.apache.kafka.common.security.scram.ScramLoginModule required"
                    + " username=\"metering\" password=\"${file:/etc/tokenmeter/kafka.properties:password}\";";

    @TempDir Path dir;

    @Test
    void commonSettingsReachEveryClientAndSectionSettingsOnlyTheirOwn() {
        MeteringConfig config =
                MeteringConfig.defaultConfig()
                        .with(
                                Map.of(
                                        "kafka.properties.security.protocol", "SASL_SSL",
                                        "kafka.properties.sasl.mechanism", "SCRAM-SHA-512",
                                        "kafka.properties.sasl.jaas.config", JAAS_WITH_REFERENCE,
                                        "kafka.consumer.properties.fetch.max.bytes", "1048576",
                                        "kafka.producer.properties.linger.ms", "50",
                                        "kafka.producer.properties.sasl.mechanism", "PLAIN",
                                        "kafka.admin.properties.default.api.timeout.ms", "90000"));

        Properties consumer = config.kafka().clients().consumer("broker:9093");
        Properties producer = config.kafka().clients().producer();
        Properties admin = config.kafka().clients().admin();

        assertThat(consumer)
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("fetch.max.bytes", "1048576")
                .containsEntry("bootstrap.servers", "broker:9093")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .doesNotContainKey("linger.ms");
        // A section wins over the common settings.
        assertThat(producer)
                .containsEntry("sasl.mechanism", "PLAIN")
                .containsEntry("linger.ms", "50")
                .containsEntry("sasl.jaas.config", JAAS_WITH_REFERENCE)
                .doesNotContainKey("fetch.max.bytes");
        assertThat(admin)
                .containsEntry("default.api.timeout.ms", "90000")
                .containsEntry("security.protocol", "SASL_SSL");
    }

    @Test
    void settingsSurviveTheRoundTripThroughTheConfigurationMap() {
        MeteringConfig config =
                MeteringConfig.defaultConfig()
                        .with(
                                Map.of(
                                        "kafka.properties.security.protocol",
                                        "SSL",
                                        "kafka.properties.config.providers",
                                        "file,env",
                                        "kafka.properties.config.providers.file.class",
                                        "org.apache.kafka.common.config.provider.FileConfigProvider",
                                        "kafka.properties.ssl.keystore.password",
                                        "${env:KAFKA_KEYSTORE_PASSWORD}"));

        MeteringConfig again = MeteringConfig.fromMap(config.asMap());

        assertThat(again.kafka().clients()).isEqualTo(config.kafka().clients());
        assertThat(again).isEqualTo(config);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "kafka.properties.isolation.level|read_uncommitted|is set by the job itself",
                "kafka.consumer.properties.isolation.level|read_uncommitted|is set by the job itself",
                "kafka.producer.properties.transactional.id|mine|use kafka.transactional-id-prefix",
                "kafka.producer.properties.enable.idempotence|false|is set by the job itself",
                "kafka.producer.properties.acks|1|is set by the job itself",
                "kafka.consumer.properties.group.id|other|use kafka.consumer-group",
                "kafka.properties.bootstrap.servers|elsewhere:9092|use kafka.bootstrap-servers",
                "kafka.producer.properties.transaction.timeout.ms|60000|use kafka.transaction-timeout",
                "kafka.producer.properties.max.request.size|99999999|use kafka.producer.max-request-size",
                "kafka.consumer.properties.enable.auto.commit|true|is set by the job itself",
                "kafka.consumer.properties.value.deserializer|x.Y|is set by the job itself",
                "kafka.properties.securty.protocol|SSL|is not a setting every Kafka client",
                "kafka.properties.fetch.max.bytes|1|a setting of one kind of client goes under kafka.consumer.properties.",
                "kafka.consumer.properties.linger.ms|5|is not a setting the Kafka consumer knows",
                "kafka.admin.properties.linger.ms|5|is not a setting the Kafka admin client knows",
                "kafka.properties.|x|names no Kafka client setting",
            })
    void refusesSettingsTheJobOwnsOrNoClientKnowsNamingTheKey(
            String key, String value, String problem) {
        assertThatThrownBy(() -> MeteringConfig.defaultConfig().with(Map.of(key, value)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + key + "'")
                .hasMessageContaining(problem);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "kafka.properties.ssl.truststore.password|changeit",
                "kafka.properties.ssl.keystore.password|s3cret",
                "kafka.properties.ssl.key.password|s3cret",
                "kafka.producer.properties.sasl.jaas.config|org.apache.kafka.common.security.plain.PlainLoginModule required username=\"a\" password=\"s3cret\";",
                "kafka.properties.sasl.jaas.config|org.apache.kafka.common.security.scram.ScramLoginModule required username=\"a\" password=\"s3cret\" x=\"${env:X}\";",
                "kafka.properties.sasl.jaas.config|org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId=\"a\" clientSecret=\"s3cret\";",
                "kafka.properties.sasl.jaas.config|org.apache.kafka.common.security.plain.PlainLoginModule required username=a password=s3cret;",
            })
    void refusesSecretsWrittenInPlainTextWithoutEchoingThem(String key, String value) {
        assertThatThrownBy(() -> MeteringConfig.defaultConfig().with(Map.of(key, value)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + key + "'")
                .hasMessageContaining("${file:")
                .hasMessageNotContaining("s3cret")
                .hasMessageNotContaining("changeit");
    }

    @Test
    void theExampleInConfigMeteringYamlLoadsWhenUncommented() throws Exception {
        List<String> lines = Files.readAllLines(Path.of("../../config/metering.yaml"));
        int from = lines.indexOf("  # properties:");
        int to = lines.indexOf("  #     fetch.max.bytes: 52428800");
        assertThat(from).as("the example's first line").isPositive();
        assertThat(to).as("the example's last line").isGreaterThan(from);
        for (int i = from; i <= to; i++) {
            lines.set(i, lines.get(i).replaceFirst("^  # ", "  "));
        }
        Path uncommented = Files.write(dir.resolve("metering.yaml"), lines);

        KafkaClientProperties clients =
                MeteringConfig.load(uncommented, List.of()).kafka().clients();

        assertThat(clients.consumer())
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("fetch.max.bytes", "52428800")
                .containsEntry(
                        "sasl.jaas.config",
                        "org.apache.kafka.common.security.scram.ScramLoginModule required"
                                + " username=\"tokenmeter-metering\""
                                + " password=\"${file:/etc/tokenmeter/kafka/client.properties:password}\";");
        assertThat(clients.producer())
                .containsEntry("ssl.truststore.location", "/etc/tokenmeter/kafka/ca.crt")
                .doesNotContainKey("fetch.max.bytes");
    }

    @Test
    @SuppressWarnings("unchecked")
    void theKubernetesManifestsSettingsAreValidAndCarryOnlyReferences() throws Exception {
        Map<String, Object> manifest;
        try (var reader =
                Files.newBufferedReader(Path.of("../../config/kubernetes/flinkdeployment.yaml"))) {
            manifest = new Yaml().load(reader);
        }
        List<String> args =
                (List<String>)
                        ((Map<String, Object>)
                                        ((Map<String, Object>) manifest.get("spec")).get("job"))
                                .get("args");
        List<String> overrides = new ArrayList<>();
        for (int i = 0; i + 1 < args.size(); i++) {
            if (args.get(i).equals("--set")) {
                overrides.add(args.get(i + 1));
            }
        }

        MeteringConfig config = MeteringConfig.load(null, overrides);

        assertThat(config.kafka().clients().producer())
                .containsEntry("security.protocol", "SASL_SSL")
                .containsKey("sasl.jaas.config");
        assertThat(config.kafka().clients().producer().getProperty("sasl.jaas.config"))
                .contains("password=\"${file:/etc/tokenmeter/kafka/client.properties:password}\"");
    }

    @Test
    void unknownKeysOutsideTheSectionsAreStillRefused() {
        assertThatThrownBy(
                        () ->
                                MeteringConfig.defaultConfig()
                                        .with(Map.of("kafka.security.protocol", "SSL")))
                .hasMessageContaining("Unknown configuration key(s) [kafka.security.protocol]")
                .hasMessageContaining("kafka.properties.*");
    }

    /**
     * The references travel unresolved; the Kafka client resolves them when it is built
     * (kafka-clients' AbstractConfig reads config.providers), which on a cluster happens on the
     * TaskManager.
     */
    @Test
    void kafkaClientsResolveFileReferencesThemselves() throws Exception {
        Path secrets =
                Files.writeString(
                        dir.resolve("kafka.properties"), "password=resolved-on-the-task-manager\n");
        MeteringConfig config =
                MeteringConfig.defaultConfig()
                        .with(
                                Map.of(
                                        "kafka.properties.config.providers",
                                        "file",
                                        "kafka.properties.config.providers.file.class",
                                        "org.apache.kafka.common.config.provider.FileConfigProvider",
                                        "kafka.properties.ssl.truststore.password",
                                        "${file:" + secrets + ":password}"));

        assertThat(config.kafka().clients().producer())
                .containsEntry("ssl.truststore.password", "${file:" + secrets + ":password}");
        assertThat(config.toString()).doesNotContain("resolved-on-the-task-manager");

        Properties producer = config.kafka().clients().producer("127.0.0.1:9092");
        producer.put(
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                "org.apache.kafka.common.serialization.ByteArraySerializer");
        producer.put(
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                "org.apache.kafka.common.serialization.ByteArraySerializer");
        Password resolved = new ProducerConfig(producer).getPassword("ssl.truststore.password");
        assertThat(resolved.value()).isEqualTo("resolved-on-the-task-manager");
        Properties consumer = config.kafka().clients().consumer("127.0.0.1:9092");
        consumer.put(
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                "org.apache.kafka.common.serialization.ByteArrayDeserializer");
        consumer.put(
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                "org.apache.kafka.common.serialization.ByteArrayDeserializer");
        assertThat(new ConsumerConfig(consumer).getPassword("ssl.truststore.password").value())
                .isEqualTo("resolved-on-the-task-manager");
        assertThat(
                        new AdminClientConfig(config.kafka().clients().admin("127.0.0.1:9092"))
                                .getPassword("ssl.truststore.password")
                                .value())
                .isEqualTo("resolved-on-the-task-manager");
    }
}
