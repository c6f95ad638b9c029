package io.tokenmeter.bench.loop;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.logic.ingest.SecretSource;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.testkit.GeneratedRecord;
import io.tokenmeter.testkit.WorkloadGenerator;
import io.tokenmeter.testkit.WorkloadSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rewritten loop must meter exactly what the old one did — every total the benchmark compares
 * (billed tokens and events overall and per day, rows and tokens of every level, rejected,
 * duplicates) and the state counts of the curves — on the benchmark's workload and on a hostile
 * one.
 */
class MeteringLoopTest {

    @TempDir Path dir;

    @Test
    void metersTheBenchmarkWorkloadExactlyAsTheOldLoop() throws Exception {
        MeteringConfig config = config("24 h");
        WorkloadSpec spec = spec(config, 200_000, 20_000, 2, 0.02, 0, 0);
        Map<String, Long> expected = reference(spec, config);
        assertThat(expected.get("billed.tokens")).isPositive();
        assertThat(expected.get("duplicates")).isPositive();
        for (int batch : new int[] {1, 5, MeteringLoop.BATCH}) {
            assertThat(meter(spec, config, batch))
                    .as("batch size %d", batch)
                    .containsAllEntriesOf(expected);
        }
    }

    @Test
    void metersAHostileWorkloadExactlyAsTheOldLoop() throws Exception {
        // Malformed, oversized, conflicting, too-late and late records; a one-hour horizon, so that
        // retries come back after their ids were forgotten and ids are swept out of the table.
        MeteringConfig config = config("1 h");
        WorkloadSpec spec = spec(config, 120_000, 5_000, 3, 0.08, 0.05, 0.05);
        Map<String, Long> expected = reference(spec, config);
        Map<String, Long> actual = meter(spec, config, MeteringLoop.BATCH);
        assertThat(actual).containsAllEntriesOf(expected);
        assertThat(actual)
                .containsKeys(
                        "rejected.MALFORMED",
                        "rejected.UNKNOWN_SCHEMA",
                        "rejected.OVERSIZED",
                        "rejected.TOO_LATE",
                        "rejected.CONFLICTING_DUPLICATE");
        long rejected = actual.get("rejected");
        assertThat(actual.get("billed.events") + actual.get("duplicates") + rejected)
                .as("every record once")
                .isEqualTo(spec.events());
    }

    private MeteringConfig config(String horizon) throws Exception {
        Path key =
                SecretSource.writeRandom(
                        dir.resolve("dedup-" + horizon.replace(' ', '-') + ".key"));
        return MeteringConfig.load(
                null, List.of("dedup.horizon=" + horizon, "dedup.key-file=" + key));
    }

    private static WorkloadSpec spec(
            MeteringConfig config,
            long events,
            int accounts,
            int days,
            double duplicates,
            double late,
            double malformed) {
        Duration span = Duration.ofDays(days);
        return new WorkloadSpec(
                events,
                accounts,
                1.0,
                WorkloadSpec.defaultStart(config.billing().timeZone(), span),
                span,
                config.billing().timeZone(),
                duplicates,
                late,
                malformed,
                0,
                42);
    }

    private static Map<String, Long> reference(WorkloadSpec spec, MeteringConfig config) {
        ReferenceLoop.Loop loop = new ReferenceLoop.Loop(spec, config);
        loop.run();
        Map<String, Long> totals = new TreeMap<>(loop.tally);
        totals.put("duplicates", loop.duplicates);
        totals.put("state.dedup-ids.max", loop.maxLiveIds);
        totals.put("state.account-days", loop.accountDays);
        totals.put("state.account-day-lines", loop.accountDayLines);
        totals.put("state.account-hour-lines", loop.accountHourLines);
        return totals;
    }

    private static Map<String, Long> meter(WorkloadSpec spec, MeteringConfig config, int batch) {
        WorkloadGenerator generator = new WorkloadGenerator(spec);
        List<byte[]> values = new ArrayList<>();
        for (long i = 0; i < spec.events(); i++) {
            GeneratedRecord record = generator.record(i);
            values.add(record.value());
        }
        MeteringLoop loop = new MeteringLoop(config, 1_000, 100, 100, batch);
        WorkloadBytes.of(values).forEach(loop::process);
        loop.finish();
        return loop.totals();
    }
}
