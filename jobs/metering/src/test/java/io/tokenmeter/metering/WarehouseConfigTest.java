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

    @TempDir
    Path dir;

    @Test
    void warehouseIsOffByDefault() {
        assertThat(MeteringConfig.defaultConfig().warehouse().enabled()).isFalse();
    }

    @Test
    void readsTheWarehouseFromYamlAndKeepsItThroughACopy() throws Exception {
        Path yaml = Files.writeString(dir.resolve("metering.yaml"), """
                warehouse:
                  postgres:
                    url: jdbc:postgresql://127.0.0.1:5432/analytics
                    user: loader
                    batch-size: 200
                    batch-interval: 500 ms
                """);

        MeteringConfig config = MeteringConfig.load(yaml, List.of("warehouse.postgres.max-retries=5"));

        WarehouseConfig warehouse = config.warehouse();
        assertThat(warehouse.enabled()).isTrue();
        assertThat(warehouse.url()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/analytics");
        assertThat(warehouse.user()).isEqualTo("loader");
        assertThat(warehouse.passwordEnv()).isEqualTo("TOKENMETER_WAREHOUSE_PASSWORD");
        assertThat(warehouse.exactlyOnce()).isTrue();
        assertThat(warehouse.batchSize()).isEqualTo(200);
        assertThat(warehouse.batchInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(warehouse.maxRetries()).isEqualTo(5);
        assertThat(config.with(Map.of()).warehouse()).isEqualTo(warehouse);
    }

    @Test
    void badWarehouseSettingsFailNamingTheKey() {
        assertThatThrownBy(() -> withSetting(WarehouseConfig.URL, "postgres://db/analytics"))
                .hasMessageContaining("'warehouse.postgres.url'");
        assertThatThrownBy(() -> withSetting(WarehouseConfig.BATCH_SIZE, "0"))
                .hasMessageContaining("'warehouse.postgres.batch-size'");
        assertThatThrownBy(() -> withSetting(WarehouseConfig.BATCH_SIZE, "many"))
                .hasMessageContaining("'warehouse.postgres.batch-size' has an invalid value 'many'");
        assertThatThrownBy(() -> withSetting(WarehouseConfig.BATCH_INTERVAL, "soon"))
                .hasMessageContaining("'warehouse.postgres.batch-interval'");
        assertThatThrownBy(() -> withSetting(WarehouseConfig.EXACTLY_ONCE, "yes"))
                .hasMessageContaining("'warehouse.postgres.exactly-once' has an invalid value 'yes'");
        assertThatThrownBy(() -> withSetting(WarehouseConfig.MAX_RETRIES, "-1"))
                .hasMessageContaining("'warehouse.postgres.max-retries'");
        assertThatThrownBy(() -> withSetting(WarehouseConfig.PASSWORD_ENV, "my password"))
                .hasMessageContaining("'warehouse.postgres.password-env'");
        assertThatThrownBy(() -> withSetting("warehouse.postgres.passwd", "x"))
                .hasMessageContaining("Unknown configuration key(s) [warehouse.postgres.passwd]");
    }

    /** Issue #13 item 9: a password in the URL would travel into the job graph and every message naming the URL. */
    @Test
    void refusesAPasswordInTheUrlAndARelativePasswordFile() {
        assertThatThrownBy(() -> withSetting(WarehouseConfig.URL, "jdbc:postgresql://db/analytics?user=a&password=hunter2"))
                .hasMessageContaining("'warehouse.postgres.url' must not carry a password")
                .hasMessageContaining(WarehouseConfig.PASSWORD_FILE)
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> withSetting(WarehouseConfig.URL, "jdbc:postgresql://db/analytics?PASSWORD=hunter2"))
                .hasMessageContaining("'warehouse.postgres.url'");
        assertThatThrownBy(() -> withSetting(WarehouseConfig.PASSWORD_FILE, "secrets/warehouse"))
                .hasMessageContaining("'warehouse.postgres.password-file'")
                .hasMessageContaining("absolute");
    }

    @Test
    void readsThePasswordFromTheFileBeforeTheVariable() throws Exception {
        Path file = Files.writeString(dir.resolve("password"), "from-the-file\n");

        WarehouseConfig warehouse = MeteringConfig.fromMap(Map.of(
                WarehouseConfig.URL, "jdbc:postgresql://db/analytics",
                WarehouseConfig.PASSWORD_FILE, file.toString())).warehouse();

        assertThat(warehouse.password().read()).isEqualTo("from-the-file");
        assertThat(warehouse.toString()).contains(file.toString()).doesNotContain("from-the-file");
        assertThat(MeteringConfig.defaultConfig().warehouse().password().toString())
                .isEqualTo("environment variable TOKENMETER_WAREHOUSE_PASSWORD");
    }

    private static MeteringConfig withSetting(String key, String value) {
        return MeteringConfig.fromMap(Map.of(key, value));
    }
}
