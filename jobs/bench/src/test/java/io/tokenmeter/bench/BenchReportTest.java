package io.tokenmeter.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchReportTest {

    private static final Map<String, String> WORKLOAD =
            Map.of(
                    "accounts",
                    "1000",
                    "seed",
                    "42",
                    "days",
                    "2.0",
                    "duplicate-rate",
                    "0.02",
                    "parallelism",
                    "2");

    private static ContenderResult result(
            String name, double wall, double cpu, Map<String, Long> totals) {
        return new ContenderResult(name, 1_000_000, wall, cpu, 1L << 30, 0, 0, WORKLOAD, totals);
    }

    private static Map<String, Long> billed(long day1, long day2) {
        return Map.of(
                "billed.tokens",
                day1 + day2,
                "billed.events",
                10L,
                "billed.tokens.day.2026-11-01",
                day1,
                "billed.tokens.day.2026-11-02",
                day2,
                "national.DAY.tokens",
                day1 + day2);
    }

    @Test
    void agreeingContendersGiveTheBenchLine() {
        Map<String, ContenderResult> results = new LinkedHashMap<>();
        results.put("metering", result("metering", 4.0, 8.0, billed(100, 200)));
        results.put("sql", result("sql", 10.0, 16.0, billed(100, 200)));
        results.put("loop", result("loop", 1.0, 1.0, billed(100, 200)));

        assertThat(BenchReport.mismatches(results)).isEmpty();
        assertThat(BenchReport.benchLine(results))
                .isEqualTo(
                        "BENCH events=1000000 metering_eps=250000 "
                                + "sql_eps=100000 loop_eps=1000000 e2e_eps=0 vs_sql=2.50 metering_cpu_eps=125000 loop_cpu_eps=1000000");
    }

    @Test
    void namesEveryDisagreement() {
        Map<String, ContenderResult> results = new LinkedHashMap<>();
        results.put("metering", result("metering", 1, 1, billed(100, 200)));
        results.put("sql", result("sql", 1, 1, billed(90, 200)));
        Map<String, Long> lopsided = new LinkedHashMap<>(billed(100, 200));
        lopsided.put("national.DAY.tokens", 299L);
        results.put("loop", result("loop", 1, 1, lopsided));

        List<String> mismatches = BenchReport.mismatches(results);

        assertThat(mismatches).anyMatch(m -> m.startsWith("billed.tokens: metering 300, sql 290"));
        assertThat(mismatches).anyMatch(m -> m.startsWith("billed tokens per day"));
        assertThat(mismatches).anyMatch(m -> m.startsWith("loop: national.DAY.tokens=299"));
        assertThat(mismatches).noneMatch(m -> m.startsWith("(expected"));
    }

    @Test
    void explainsAMismatchWhenRetriesReachBeyondTheHorizon() {
        Map<String, String> shortHorizon = new HashMap<>(WORKLOAD);
        shortHorizon.put("dedup-horizon-minutes", "60");
        shortHorizon.put("retry-reach-minutes", "288");
        Map<String, ContenderResult> results = new LinkedHashMap<>();
        results.put(
                "metering",
                new ContenderResult(
                        "metering", 100_000, 1, 1, 0, 0, 0, shortHorizon, billed(100, 200)));
        results.put(
                "loop",
                new ContenderResult(
                        "loop", 100_000, 1, 1, 0, 0, 0, shortHorizon, billed(101, 200)));

        assertThat(BenchReport.mismatches(results))
                .last()
                .asString()
                .startsWith("(expected with this workload");
    }

    @Test
    void aContenderThatLeftNoResultFailsTheReport(@TempDir Path dir) throws Exception {
        result("metering", 4.0, 8.0, billed(100, 200)).write(dir.resolve("metering.properties"));
        result("loop", 1.0, 1.0, billed(100, 200)).write(dir.resolve("loop.properties"));
        Path doc = dir.resolve("benchmarks.md");
        BenchReport report = new BenchReport();
        report.workDir = dir;
        report.doc = doc;
        report.command = "scripts/bench.sh";
        report.contendersRun = List.of("metering", "sql", "loop");

        assertThat(report.call()).isEqualTo(1);
        assertThat(Files.readString(doc))
                .contains(
                        "| sql | **failed: no result** |",
                        "**Failed:** sql",
                        "Totals check: **OK** — metering and loop billed the same");

        report.contendersRun = List.of("metering", "loop");
        assertThat(report.call()).isZero();
        assertThat(Files.readString(doc))
                .contains("sql_eps=0 loop_eps=1000000 e2e_eps=0 vs_sql=n/a");
    }

    @Test
    void replacesOnlyTheGeneratedSection(@TempDir Path dir) throws Exception {
        Path doc = dir.resolve("benchmarks.md");
        Files.writeString(doc, "# Benchmarks\n\nHand-written intro.\n");

        BenchReport.replaceSection(doc, BenchReport.BEGIN, BenchReport.END, "table one\n");
        Files.writeString(doc, Files.readString(doc) + "\nHand-written analysis.\n");
        BenchReport.replaceSection(doc, BenchReport.BEGIN, BenchReport.END, "table two\n");

        String text = Files.readString(doc);
        assertThat(text)
                .contains("Hand-written intro.", "table two", "Hand-written analysis.")
                .doesNotContain("table one");
        assertThat(text.indexOf("Hand-written analysis."))
                .isGreaterThan(text.indexOf(BenchReport.END));
    }

    @Test
    void resultsSurviveTheirFile(@TempDir Path dir) throws Exception {
        ContenderResult written = result("loop", 2.5, 3.25, billed(100, 200));
        written.write(dir.resolve("loop.properties"));

        ContenderResult read = ContenderResult.read(dir.resolve("loop.properties"));

        assertThat(read)
                .isEqualTo(
                        new ContenderResult(
                                "loop",
                                1_000_000,
                                2.5,
                                3.25,
                                1L << 30,
                                0,
                                0,
                                new TreeMap<>(WORKLOAD),
                                new TreeMap<>(billed(100, 200))));
        assertThat(read.billedTokensByDay())
                .containsExactly(Map.entry("2026-11-01", 100L), Map.entry("2026-11-02", 200L));
    }

    @Test
    void stateCostIsTheSlopeOfStateOverEntries() {
        assertThat(
                        BenchCurves.leastSquaresSlope(
                                List.of(
                                        new double[] {100, 5_000},
                                        new double[] {200, 9_000},
                                        new double[] {300, 13_000})))
                .isEqualTo(40.0);
        assertThat(BenchCurves.leastSquaresSlope(List.of(new double[] {100, 5_000}))).isNaN();
        assertThat(BenchCurves.order("30min")).isLessThan(BenchCurves.order("6h"));
        assertThat(BenchCurves.order("6h")).isLessThan(BenchCurves.order("1d"));
    }
}
