package io.tokenmeter.logic.rollups;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.UsageGranularity;
import java.time.Instant;
import java.time.LocalDate;
import org.junit.jupiter.api.Test;

class AreaRollupsTest {

    @Test
    void keepsAreasApartWhateverCharactersTheirNamesHold() {
        // Joined naively with "|", both would read "HOUR|0|TEXT|CN|x|m".
        AreaUsage a = row("CN|x", "m");
        AreaUsage b = row("CN", "x|m");

        assertThat(AreaRollups.key(a)).isNotEqualTo(AreaRollups.key(b));
    }

    @Test
    void sumsPartialsExactlyAndCountsOriginalsAsActiveAccounts() {
        AreaUsage sum = AreaRollups.add(null, row("CN-GD", "m"));
        sum =
                AreaRollups.add(
                        sum, AreaUsage.newBuilder(row("CN-GD", "m")).setActiveAccounts(0).build());

        assertThat(sum.getTotalTokens()).isEqualTo(6);
        assertThat(sum.getActiveAccounts()).isEqualTo(1);
        assertThat(AreaRollups.nationalPartial(sum).getRegion()).isEqualTo(AreaRollups.NATIONAL);
    }

    private static AreaUsage row(String region, String model) {
        return AreaUsage.newBuilder()
                .setRecordId("r")
                .setKind(BillingRecordKind.ORIGINAL)
                .setGranularity(UsageGranularity.HOUR)
                .setRegion(region)
                .setBillingDay(LocalDate.of(1970, 1, 1))
                .setTimeZone("UTC")
                .setWindowStart(Instant.EPOCH)
                .setWindowEnd(Instant.ofEpochMilli(3_600_000))
                .setModel(model)
                .setModality(Modality.TEXT)
                .setInputTokens(1)
                .setOutputTokens(1)
                .setCachedTokens(1)
                .setTotalTokens(3)
                .setEvents(1)
                .setActiveAccounts(1)
                .build();
    }
}
