package io.tokenmeter.logic.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.metering.MeteringConfig;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Metric labels must never carry an account or event id: every label value comes from a small fixed
 * set.
 */
class MetricLabelsTest {

    private final MetricLabels labels = MeteringConfig.defaultConfig().metrics().labels();

    @Test
    void foldsAnyRegionOrModelOutsideTheConfiguredListsIntoOther() {
        assertThat(labels.region("CN-GD")).isEqualTo("CN-GD");
        assertThat(labels.model("qwen3-max")).isEqualTo("qwen3-max");
        assertThat(labels.region("acct-0000042")).isEqualTo(MetricLabels.OTHER);
        assertThat(labels.model("gpt-unknown")).isEqualTo(MetricLabels.OTHER);
    }

    @Test
    void neverTurnsIdsOrArbitraryInputIntoALabelValue() {
        // Account ids, event ids and random text fed where regions and models go: the set of label
        // values that comes out stays within the configured lists plus "other".
        Random random = new Random(1);
        Set<String> regionValues = new HashSet<>();
        Set<String> modelValues = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String id =
                    switch (i % 3) {
                        case 0 -> "acct-" + random.nextInt(1_000_000);
                        case 1 -> UUID.randomUUID().toString();
                        default -> Long.toHexString(random.nextLong()) + "-" + i;
                    };
            regionValues.add(labels.region(id));
            modelValues.add(labels.model(id));
        }
        assertThat(regionValues).containsExactly(MetricLabels.OTHER);
        assertThat(modelValues).containsExactly(MetricLabels.OTHER);
        assertThat(labels.regionValues()).isLessThanOrEqualTo(101);
        assertThat(labels.modelValues()).isLessThanOrEqualTo(51);
    }

    @Test
    void writesEnumConstantsAsLowerCaseLabelValues() {
        assertThat(MetricLabels.of(Modality.TEXT)).isEqualTo("text");
        assertThat(MetricLabels.of(RejectReason.TOO_LATE)).isEqualTo("too_late");
        assertThat(MetricLabels.of(BillingRecordKind.ADJUSTMENT)).isEqualTo("adjustment");
    }
}
