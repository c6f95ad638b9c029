package io.tokenmeter.metering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenmeter.schema.Framing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchemaRegistryConfigTest {

    @Test
    void hasNoRegistryAndWritesEveryOutputInSingleObjectEncodingByDefault() {
        SchemaRegistryConfig registry = MeteringConfig.defaultConfig().schemaRegistry();

        assertThat(registry.enabled()).isFalse();
        assertThat(registry.settings()).isNull();
        assertThat(SchemaRegistryConfig.OUTPUTS)
                .allSatisfy(
                        output ->
                                assertThat(registry.framing(output))
                                        .isEqualTo(Framing.SINGLE_OBJECT));
    }

    @Test
    void readsTheRegistryAndPerTopicFramingFromYaml(@TempDir Path dir) throws Exception {
        Path yaml =
                Files.writeString(
                        dir.resolve("metering.yaml"),
                        """
                schema-registry:
                  url: http://registry.internal:8081/
                  cache-size: 50
                  request-timeout: 2 s
                  give-up-after: 30 s
                  output-framing:
                    billing: registry
                    account-usage: registry
                """);

        SchemaRegistryConfig registry = MeteringConfig.load(yaml, List.of()).schemaRegistry();

        assertThat(registry.settings().url()).isEqualTo("http://registry.internal:8081");
        assertThat(registry.settings().cacheSize()).isEqualTo(50);
        assertThat(registry.settings().requestTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(registry.settings().giveUpAfter()).isEqualTo(Duration.ofSeconds(30));
        assertThat(registry.framing(SchemaRegistryConfig.BILLING)).isEqualTo(Framing.REGISTRY);
        assertThat(registry.framing(SchemaRegistryConfig.ACCOUNT_USAGE))
                .isEqualTo(Framing.REGISTRY);
        assertThat(registry.framing(SchemaRegistryConfig.REJECTED))
                .isEqualTo(Framing.SINGLE_OBJECT);
    }

    @Test
    void survivesTheRoundTripThroughItsKeys() {
        MeteringConfig config =
                MeteringConfig.defaultConfig()
                        .with(
                                Map.of(
                                        "schema-registry.url",
                                                "https://registry:8081/apis/ccompat/v7",
                                        "schema-registry.output-framing.ledger", "registry"));

        assertThat(MeteringConfig.fromMap(config.asMap())).isEqualTo(config);
    }

    @Test
    void refusesRegistryFramingWithoutARegistryNamingTheKey() {
        assertThatThrownBy(
                        () ->
                                MeteringConfig.defaultConfig()
                                        .with(
                                                Map.of(
                                                        "schema-registry.output-framing.billing",
                                                        "registry")))
                .hasMessageContaining("schema-registry.output-framing.billing")
                .hasMessageContaining("schema-registry.url");
    }

    @Test
    void refusesAnUnknownFramingNamingTheKey() {
        assertThatThrownBy(
                        () ->
                                MeteringConfig.defaultConfig()
                                        .with(
                                                Map.of(
                                                        "schema-registry.output-framing.rejected",
                                                        "confluent")))
                .hasMessageContaining("schema-registry.output-framing.rejected")
                .hasMessageContaining("single-object or registry");
    }

    @Test
    void refusesAnOutputThatDoesNotExist() {
        assertThatThrownBy(
                        () ->
                                MeteringConfig.defaultConfig()
                                        .with(
                                                Map.of(
                                                        "schema-registry.output-framing.raw",
                                                        "registry")))
                .hasMessageContaining("Unknown configuration key")
                .hasMessageContaining("schema-registry.output-framing.raw");
    }

    @Test
    void refusesAUrlThatIsNotHttpOrCarriesCredentials() {
        assertThatThrownBy(
                        () ->
                                MeteringConfig.defaultConfig()
                                        .with(Map.of("schema-registry.url", "registry:8081")))
                .hasMessageContaining("schema-registry.url");
        assertThatThrownBy(
                        () ->
                                MeteringConfig.defaultConfig()
                                        .with(
                                                Map.of(
                                                        "schema-registry.url",
                                                        "https://user:secret@registry:8081")))
                .hasMessageContaining("schema-registry.url")
                .hasMessageContaining("must not carry credentials")
                .hasMessageNotContaining("secret");
    }

    @Test
    void refusesHostileNumbersNamingTheKey() {
        assertThatThrownBy(
                        () ->
                                MeteringConfig.defaultConfig()
                                        .with(Map.of("schema-registry.cache-size", "0")))
                .hasMessageContaining("schema-registry.cache-size");
        assertThatThrownBy(
                        () ->
                                MeteringConfig.defaultConfig()
                                        .with(Map.of("schema-registry.cache-size", "99999999999")))
                .hasMessageContaining("schema-registry.cache-size");
        assertThatThrownBy(
                        () ->
                                MeteringConfig.defaultConfig()
                                        .with(Map.of("schema-registry.request-timeout", "0 s")))
                .hasMessageContaining("schema-registry.request-timeout");
    }
}
