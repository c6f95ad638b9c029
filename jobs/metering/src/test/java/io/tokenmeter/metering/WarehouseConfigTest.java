package io.tokenmeter.metering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WarehouseConfigTest {

    @TempDir Path dir;

    @Test
    void warehouseIsOffByDefault() {
        assertThat(MeteringConfig.defaultConfig().warehouse().postgres().enabled()).isFalse();
    }

    @Test
    void readsTheWarehouseFromYamlAndKeepsItThroughACopy() throws Exception {
        Path yaml =
                Files.writeString(
                        dir.resolve("metering.yaml"),
                        """
                warehouse:
                  postgres:
                    url: jdbc:postgresql://127.0.0.1:5432/analytics
                    user: loader
                    batch-size: 200
                    batch-interval: 500 ms
                """);

        MeteringConfig config =
                MeteringConfig.load(yaml, List.of("warehouse.postgres.max-retries=5"));

        WarehouseConfig warehouse = config.warehouse().postgres();
        assertThat(warehouse.enabled()).isTrue();
        assertThat(warehouse.url()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/analytics");
        assertThat(warehouse.user()).isEqualTo("loader");
        assertThat(warehouse.passwordEnv()).isEqualTo("TOKENMETER_WAREHOUSE_PASSWORD");
        assertThat(warehouse.exactlyOnce()).isTrue();
        assertThat(warehouse.batchSize()).isEqualTo(200);
        assertThat(warehouse.batchInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(warehouse.maxRetries()).isEqualTo(5);
        assertThat(config.with(Map.of()).warehouse().postgres()).isEqualTo(warehouse);
    }

    @Test
    void badWarehouseSettingsFailNamingTheKey() {
        assertThatThrownBy(() -> withSetting("warehouse.postgres.url", "postgres://db/analytics"))
                .hasMessageContaining("'warehouse.postgres.url'");
        assertThatThrownBy(() -> withSetting("warehouse.postgres.batch-size", "0"))
                .hasMessageContaining("'warehouse.postgres.batch-size'");
        assertThatThrownBy(() -> withSetting("warehouse.postgres.batch-size", "many"))
                .hasMessageContaining(
                        "'warehouse.postgres.batch-size' has an invalid value 'many'");
        assertThatThrownBy(() -> withSetting("warehouse.postgres.batch-interval", "soon"))
                .hasMessageContaining("'warehouse.postgres.batch-interval'");
        assertThatThrownBy(() -> withSetting("warehouse.postgres.exactly-once", "yes"))
                .hasMessageContaining(
                        "'warehouse.postgres.exactly-once' has an invalid value 'yes'");
        assertThatThrownBy(() -> withSetting("warehouse.postgres.max-retries", "-1"))
                .hasMessageContaining("'warehouse.postgres.max-retries'");
        assertThatThrownBy(() -> withSetting("warehouse.postgres.password-env", "my password"))
                .hasMessageContaining("'warehouse.postgres.password-env'");
        assertThatThrownBy(() -> withSetting("warehouse.postgres.passwd", "x"))
                .hasMessageContaining("Unknown configuration key(s) [warehouse.postgres.passwd]");
    }

    /**
     * Issue #13 item 9: a password in the URL would travel into the job graph and every message
     * naming the URL.
     */
    @Test
    void refusesAPasswordInTheUrlAndARelativePasswordFile() {
        assertThatThrownBy(
                        () ->
                                withSetting(
                                        "warehouse.postgres.url",
                                        "jdbc:postgresql://db/analytics?user=a&password=hunter2"))
                .hasMessageContaining("'warehouse.postgres.url' must not carry a password")
                .hasMessageContaining(WarehouseConfig.PASSWORD_FILE)
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(
                        () ->
                                withSetting(
                                        "warehouse.postgres.url",
                                        "jdbc:postgresql://db/analytics?PASSWORD=hunter2"))
                .hasMessageContaining("'warehouse.postgres.url'");
        assertThatThrownBy(() -> withSetting(WarehouseConfig.PASSWORD_FILE, "secrets/warehouse"))
                .hasMessageContaining("'warehouse.postgres.password-file'")
                .hasMessageContaining("absolute");
    }

    @Test
    void readsThePasswordFromTheFileBeforeTheVariable() throws Exception {
        Path file = Files.writeString(dir.resolve("password"), "from-the-file\n");

        WarehouseConfig warehouse =
                MeteringConfig.fromMap(
                                Map.of(
                                        "warehouse.postgres.url",
                                        "jdbc:postgresql://db/analytics",
                                        WarehouseConfig.PASSWORD_FILE,
                                        file.toString()))
                        .warehouse()
                        .postgres();

        assertThat(warehouse.password().read()).isEqualTo("from-the-file");
        assertThat(warehouse.toString()).contains(file.toString()).doesNotContain("from-the-file");
        assertThat(MeteringConfig.defaultConfig().warehouse().postgres().password().toString())
                .isEqualTo("environment variable TOKENMETER_WAREHOUSE_PASSWORD");
    }

    private static MeteringConfig withSetting(String key, String value) {
        return MeteringConfig.fromMap(Map.of(key, value));
    }
}
