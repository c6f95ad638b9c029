package io.tokenmeter.logic.packages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.testing.Fixtures;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PackageCatalogTest {

    static final ZoneId ZONE = ZoneId.of("Asia/Shanghai");

    static final String TEST_CATALOG = Fixtures.PACKAGE_CATALOG;

    static PackageCatalog testCatalog() {
        return Fixtures.packageCatalog(ZONE);
    }

    @Test
    void loadsTheShippedCatalog() {
        PackageCatalog catalog = PackageCatalog.load(Path.of("../../config/packages.yaml"), ZONE);

        assertThat(catalog.thresholds()).containsExactly(80, 100);
        assertThat(catalog.packages())
                .containsKeys("personal-monthly", "business-monthly", "developer-booster-7d");
        assertThat(catalog.plan("developer-booster-7d").validityDays()).isEqualTo(7);
        assertThat(catalog.rates(Modality.TEXT).units(10, 10, 10)).isEqualTo(10 * 4 + 10 * 16 + 10);
    }

    @Test
    void picksTheTariffInForceAtATime() {
        PackageCatalog.Plan monthly = testCatalog().plan("monthly");

        assertThat(monthly.tariffAt(local("2025-03-14T23:00")).overagePricePerMillion())
                .isEqualTo(2_000_000);
        assertThat(monthly.tariffAt(local("2025-03-15T00:00")).overagePricePerMillion())
                .isEqualTo(3_000_000);
        assertThat(monthly.tariffAt(local("2024-12-01T00:00")).overagePricePerMillion())
                .as("before the first tariff, the first applies")
                .isEqualTo(2_000_000);
    }

    @Test
    void namesThePathOfAnInvalidValue() {
        String halfHour = TEST_CATALOG.replace("2025-03-15T00:00", "2025-03-15T00:30");
        assertThatThrownBy(() -> PackageCatalog.parse(halfHour, ZONE))
                .hasMessage(
                        "packages[0].tariffs[1].effective-from: must be a whole hour, was 2025-03-15T00:30");

        String noVideo = TEST_CATALOG.replace("  VIDEO: {input: 1, output: 2, cached: 0}\n", "");
        assertThatThrownBy(() -> PackageCatalog.parse(noVideo, ZONE))
                .hasMessageStartingWith("units.VIDEO: is missing");

        String typo = TEST_CATALOG.replace("rollover-limit: 300", "rollover-limimt: 300");
        assertThatThrownBy(() -> PackageCatalog.parse(typo, ZONE))
                .hasMessageStartingWith("packages[0].rollover-limimt: is not a known key");

        String badValidity = TEST_CATALOG.replace("validity: 7 days", "validity: weekly");
        assertThatThrownBy(() -> PackageCatalog.parse(badValidity, ZONE))
                .hasMessageStartingWith("packages[1].validity: 'weekly' is neither");

        String tooMuchRollover =
                TEST_CATALOG.replace("rollover-limit: 300", "rollover-limit: 3000");
        assertThatThrownBy(() -> PackageCatalog.parse(tooMuchRollover, ZONE))
                .hasMessageStartingWith("packages[0].rollover-limit: must be between 0 and 1000");
    }

    @Test
    void aBadCatalogFailsTheConfigurationNamingItsKey() {
        assertThatThrownBy(
                        () ->
                                MeteringConfig.defaultConfig()
                                        .with(Map.of("packages.catalog", "no-such-catalog.yaml")))
                .hasMessageStartingWith("Configuration key packages.catalog: ");
        assertThat(MeteringConfig.defaultConfig().packagesEnabled()).isFalse();
        assertThat(
                        MeteringConfig.defaultConfig()
                                .with(Map.of("packages.catalog", "../../config/packages.yaml"))
                                .packagesEnabled())
                .isTrue();
    }

    static long local(String dateTime) {
        return LocalDateTime.parse(dateTime).atZone(ZONE).toInstant().toEpochMilli();
    }
}
