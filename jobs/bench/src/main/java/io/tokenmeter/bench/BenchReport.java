package io.tokenmeter.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Compares the contenders' results: checks that they billed the same, renders the table into
 * docs/benchmarks.md between its markers and prints the one-line summary.
 */
@Command(
        name = "report",
        mixinStandardHelpOptions = true,
        description =
                "Checks the contenders' totals against each other, writes the table into the doc, prints the BENCH line.")
final class BenchReport implements Callable<Integer> {

    static final List<String> CONTENDERS = List.of("metering", "sql", "loop", "e2e");
    static final String BEGIN = "<!-- BEGIN GENERATED: scripts/bench.sh -->";
    static final String END = "<!-- END GENERATED: scripts/bench.sh -->";

    @Option(
            names = "--work-dir",
            required = true,
            description = "Where the contenders wrote their results.")
    Path workDir;

    @Option(names = "--doc", description = "Markdown file whose generated section is replaced.")
    Path doc;

    @Option(
            names = "--machine",
            description = "Text file describing the machine (lscpu, memory, java -version).")
    Path machine;

    @Option(
            names = "--command",
            defaultValue = "scripts/bench.sh",
            description = "The command line, for the doc.")
    String command;

    @Option(
            names = "--contenders",
            split = ",",
            defaultValue = "metering,sql,loop,e2e",
            description =
                    "The contenders that were run; one of them without a result failed, and the report fails.")
    List<String> contendersRun;

    @Override
    public Integer call() throws IOException {
        Map<String, ContenderResult> results = new LinkedHashMap<>();
        for (String name : CONTENDERS) {
            Path file = workDir.resolve(name + ".properties");
            if (Files.exists(file)) {
                results.put(name, ContenderResult.read(file));
            }
        }
        if (results.isEmpty()) {
            throw new IllegalArgumentException("no contender results in " + workDir);
        }
        List<String> failed =
                contendersRun.stream().filter(name -> !results.containsKey(name)).toList();
        List<String> mismatches = mismatches(results);
        if (doc != null) {
            String machineText = machine == null ? "" : Files.readString(machine);
            replaceSection(
                    doc, BEGIN, END, table(results, failed, mismatches, machineText, command));
            System.out.println("Table written to " + doc);
        }
        failed.forEach(name -> System.out.println("FAILED " + name + ": no result in " + workDir));
        mismatches.forEach(m -> System.out.println("MISMATCH " + m));
        System.out.println(benchLine(results));
        return failed.isEmpty() && mismatches.isEmpty() ? 0 : 1;
    }

    /**
     * Every way the results disagree: metering, sql and loop must bill the same tokens and events,
     * overall and per day; every contender's hourly, daily, regional and national sums must equal
     * its billing; e2e must bill what its workload holds and, for the same workload, what metering
     * billed.
     */
    static List<String> mismatches(Map<String, ContenderResult> results) {
        List<String> problems = new ArrayList<>();
        for (ContenderResult r : results.values()) {
            Long billed = r.totals().get(ContenderResult.BILLED_TOKENS);
            if (billed == null || billed == 0) {
                problems.add(r.contender() + " billed nothing");
                continue;
            }
            for (String key :
                    List.of(
                            "account.HOUR.tokens",
                            "account.DAY.tokens",
                            "regional.HOUR.tokens",
                            "regional.DAY.tokens",
                            "national.HOUR.tokens",
                            "national.DAY.tokens",
                            "expected.billed.tokens")) {
                Long sum = r.totals().get(key);
                if (sum != null && !sum.equals(billed)) {
                    problems.add(
                            String.format(
                                    "%s: %s=%d but billed.tokens=%d",
                                    r.contender(), key, sum, billed));
                }
            }
        }
        ContenderResult reference = null;
        for (String name : List.of("metering", "sql", "loop")) {
            ContenderResult r = results.get(name);
            if (r == null) {
                continue;
            }
            if (reference == null) {
                reference = r;
                continue;
            }
            if (!sameWorkload(reference, r)) {
                problems.add(name + " ran another workload than " + reference.contender());
                continue;
            }
            compare(problems, reference, r, ContenderResult.BILLED_TOKENS);
            compare(problems, reference, r, ContenderResult.BILLED_EVENTS);
            if (!reference.billedTokensByDay().equals(r.billedTokensByDay())) {
                problems.add(
                        String.format(
                                "billed tokens per day: %s %s, %s %s",
                                reference.contender(),
                                reference.billedTokensByDay(),
                                name,
                                r.billedTokensByDay()));
            }
        }
        ContenderResult e2e = results.get("e2e");
        if (e2e != null && reference != null && sameWorkload(reference, e2e)) {
            compare(problems, reference, e2e, ContenderResult.BILLED_TOKENS);
        }
        if (!problems.isEmpty() && reference != null) {
            long reach =
                    Long.parseLong(reference.settings().getOrDefault("retry-reach-minutes", "0"));
            long horizon =
                    Long.parseLong(reference.settings().getOrDefault("dedup-horizon-minutes", "0"));
            if (reach > horizon) {
                problems.add(
                        String.format(
                                "(expected with this workload: its retries reach back up to %d min, beyond "
                                        + "the %d min dedup horizon, so whether a late retry is billed again depends on each "
                                        + "contender's watermark; use more events or a longer horizon)",
                                reach, horizon));
            }
        }
        return problems;
    }

    private static void compare(
            List<String> problems, ContenderResult a, ContenderResult b, String key) {
        long x = a.totals().getOrDefault(key, 0L);
        long y = b.totals().getOrDefault(key, 0L);
        if (x != y) {
            problems.add(
                    String.format(
                            "%s: %s %d, %s %d (difference %d)",
                            key, a.contender(), x, b.contender(), y, y - x));
        }
    }

    private static boolean sameWorkload(ContenderResult a, ContenderResult b) {
        return a.events() == b.events()
                && Objects.equals(a.settings().get("accounts"), b.settings().get("accounts"))
                && Objects.equals(a.settings().get("seed"), b.settings().get("seed"))
                && Objects.equals(a.settings().get("days"), b.settings().get("days"))
                && Objects.equals(
                        a.settings().get("duplicate-rate"), b.settings().get("duplicate-rate"));
    }

    /**
     * The one-line summary; a contender without a result counts 0, and vs_sql is n/a without both.
     */
    static String benchLine(Map<String, ContenderResult> results) {
        long events = results.values().iterator().next().events();
        double metering = eps(results, "metering");
        double sql = eps(results, "sql");
        String vsSql =
                metering > 0 && sql > 0
                        ? String.format(Locale.ROOT, "%.2f", metering / sql)
                        : "n/a";
        return String.format(
                Locale.ROOT,
                "BENCH events=%d metering_eps=%.0f sql_eps=%.0f loop_eps=%.0f e2e_eps=%.0f vs_sql=%s "
                        + "metering_cpu_eps=%.0f loop_cpu_eps=%.0f",
                events,
                metering,
                sql,
                eps(results, "loop"),
                eps(results, "e2e"),
                vsSql,
                cpuEps(results, "metering"),
                cpuEps(results, "loop"));
    }

    private static double eps(Map<String, ContenderResult> results, String name) {
        ContenderResult r = results.get(name);
        return r == null ? 0 : r.eventsPerSecond();
    }

    private static double cpuEps(Map<String, ContenderResult> results, String name) {
        ContenderResult r = results.get(name);
        return r == null ? 0 : r.eventsPerCpuSecond();
    }

    static String table(
            Map<String, ContenderResult> results,
            List<String> failed,
            List<String> mismatches,
            String machine,
            String command) {
        StringBuilder md = new StringBuilder();
        ContenderResult first = results.values().iterator().next();
        md.append("Run: `")
                .append(command)
                .append("` on ")
                .append(ZonedDateTime.now(ZoneOffset.UTC).withNano(0))
                .append(" — ")
                .append(String.format(Locale.ROOT, "%,d", first.events()))
                .append(" events, ")
                .append(first.settings().getOrDefault("accounts", "?"))
                .append(" accounts, ")
                .append(first.settings().getOrDefault("duplicate-rate", "?"))
                .append(" duplicates, dedup horizon ")
                .append(first.settings().getOrDefault("dedup-horizon", "?"))
                .append(", seed ")
                .append(first.settings().getOrDefault("seed", "?"))
                .append(".\n\n");
        md.append(
                "| contender | events/s (wall) | events per CPU-second | CPU s | wall s | peak RSS MiB | RocksDB dir MiB (max) | checkpoint MiB (max) | billed tokens | settings |\n");
        md.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
        for (ContenderResult r : results.values()) {
            md.append(
                    String.format(
                            Locale.ROOT,
                            "| %s | %,.0f | %,.0f | %.1f | %.1f | %,d | %.1f | %.1f | %,d | %s |\n",
                            r.contender(),
                            r.eventsPerSecond(),
                            r.eventsPerCpuSecond(),
                            r.cpuSeconds(),
                            r.wallSeconds(),
                            r.peakRssBytes() >> 20,
                            r.rocksDbBytes() / 1048576.0,
                            r.checkpointBytes() / 1048576.0,
                            r.totals().getOrDefault(ContenderResult.BILLED_TOKENS, 0L),
                            settingsText(r)));
        }
        for (String name : failed) {
            md.append("| ").append(name).append(" | **failed: no result** | | | | | | | | |\n");
        }
        md.append("\n");
        if (!failed.isEmpty()) {
            md.append("**Failed:** ")
                    .append(String.join(", ", failed))
                    .append(
                            " left no result; the BENCH line counts it as 0 (and vs_sql as n/a without sql).\n\n");
        }
        md.append(
                mismatches.isEmpty()
                        ? "Totals check: **OK** — " + totalsAgreement(results) + "\n"
                        : "Totals check: **MISMATCH**\n\n"
                                + mismatches.stream()
                                        .map(m -> "- " + m + "\n")
                                        .reduce("", String::concat));
        md.append("\n```\n").append(benchLine(results)).append("\n```\n");
        if (!machine.isBlank()) {
            md.append("\nMachine:\n\n```\n").append(machine.strip()).append("\n```\n");
        }
        return md.toString();
    }

    /** What an OK totals check established, naming only the contenders that have results. */
    static String totalsAgreement(Map<String, ContenderResult> results) {
        List<String> compared =
                List.of("metering", "sql", "loop").stream().filter(results::containsKey).toList();
        StringBuilder text = new StringBuilder();
        if (compared.size() > 1) {
            text.append(String.join(", ", compared.subList(0, compared.size() - 1)))
                    .append(" and ")
                    .append(compared.get(compared.size() - 1))
                    .append(" billed the same tokens and events, overall and per billing day; ");
        }
        text.append(
                "every contender's hourly, daily, regional and national sums equal its billing");
        if (results.containsKey("e2e")) {
            text.append("; e2e billed exactly its workload")
                    .append(compared.isEmpty() ? "" : " and what " + compared.get(0) + " billed");
        }
        return text.append('.').toString();
    }

    private static String settingsText(ContenderResult r) {
        List<String> parts = new ArrayList<>();
        if (r.totals().containsKey("cpu.job.ms")) {
            parts.add(
                    String.format(
                            Locale.ROOT,
                            "CPU s job %.1f / broker %.1f / producer %.1f",
                            r.totals().get("cpu.job.ms") / 1000.0,
                            r.totals().getOrDefault("cpu.broker.ms", 0L) / 1000.0,
                            r.totals().getOrDefault("cpu.producer.ms", 0L) / 1000.0));
        }
        for (String key :
                List.of("parallelism", "source", "partitions", "checkpoints", "producer-seconds")) {
            String v = r.settings().get(key);
            if (v != null) {
                parts.add(key + " " + v);
            }
        }
        return String.join(", ", parts);
    }

    /**
     * Replaces what lies between the two marker lines (adding both at the end if absent), keeping
     * the rest.
     */
    static void replaceSection(Path file, String begin, String end, String content)
            throws IOException {
        String text = Files.exists(file) ? Files.readString(file) : "";
        Files.writeString(file, replaceSection(text, begin, end, content));
    }

    static String replaceSection(String text, String begin, String end, String content) {
        int b = text.indexOf(begin);
        int e = text.indexOf(end);
        String section = begin + "\n" + content + end;
        if (b < 0 || e < b) {
            return text
                    + (text.isEmpty() || text.endsWith("\n") ? "" : "\n")
                    + "\n"
                    + section
                    + "\n";
        }
        return text.substring(0, b) + section + text.substring(e + end.length());
    }
}
