package io.tokenmeter.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.testkit.GeneratedRecord;
import io.tokenmeter.testkit.WorkloadGenerator;
import io.tokenmeter.testkit.WorkloadSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

class WorkloadGeneratorTest {

    /**
     * A retry must come within the dedup horizon of its first delivery, or the job rightly bills it
     * again while the expected totals count it as a duplicate: in a thin workload 10,000 records
     * span days.
     */
    @Test
    void repeatsOnlyRecordsWellInsideTheDedupHorizonEvenInAThinWorkload() {
        Instant start = Instant.parse("2026-11-01T00:00:00+08:00");
        Duration span = Duration.ofDays(2);
        long events = 10_000;
        WorkloadSpec spec =
                WorkloadSpec.clean(events, 500, 7)
                        .withRates(0.05, 0, 0)
                        .during(start, span, ZoneId.of("Asia/Shanghai"));
        WorkloadGenerator generator = new WorkloadGenerator(spec);
        long furthestBackMillis = 0;
        int retries = 0;
        for (long i = 0; i < events; i++) {
            GeneratedRecord record = generator.record(i);
            if (record.kind() == GeneratedRecord.Kind.DUPLICATE) {
                retries++;
                long streamTime = start.toEpochMilli() + span.toMillis() * i / events;
                furthestBackMillis =
                        Math.max(
                                furthestBackMillis,
                                streamTime - record.event().getEventTime().toEpochMilli());
            }
        }
        assertThat(retries).isGreaterThan(100);
        // 12 h of lookback plus the generator's 30 s jitter; the dedup horizon is 24 h.
        assertThat(Duration.ofMillis(furthestBackMillis))
                .isLessThanOrEqualTo(Duration.ofHours(12).plusMinutes(1));
    }
}
