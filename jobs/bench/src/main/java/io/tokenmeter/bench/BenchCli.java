package io.tokenmeter.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.apache.flink.util.FileUtils;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The benchmark: without a subcommand, what {@code scripts/bench.sh} runs — every contender in a
 * fresh JVM of its own, back to back, then the report (or, with {@code --curves}, the points of the
 * scaling curves, then the curves). A subcommand runs one contender, or the report, in this JVM.
 */
@Command(
        name = "tokenmeter-bench",
        mixinStandardHelpOptions = true,
        subcommands = {
            MeteringContender.class,
            SqlContender.class,
            LoopContender.class,
            EndToEndContender.class,
            BenchReport.class,
            BenchCurves.class
        },
        description = {
            "Benchmarks Tokenmeter against its peers on one seeded workload: each contender runs in a fresh JVM of"
                    + " its own, back to back, so the machine's noise hits all of them (see docs/benchmarks.md).",
            "Writes the table, the machine and the date into docs/benchmarks.md (between its generated markers) and"
                    + " ends with one line: BENCH events=... metering_eps=... sql_eps=... loop_eps=... e2e_eps=..."
                    + " vs_sql=... metering_cpu_eps=...",
            "With --curves: scaling curves, accounts 10^3..10^7, dedup horizon, parallelism 1..2.",
            "scripts/bench.sh builds the benchmark and runs this without a subcommand; a subcommand runs one"
                    + " contender or the report in this JVM (docs/benchmarks.md)."
        })
public final class BenchCli implements Callable<Integer> {

    private static final Path DOC = Path.of("docs/benchmarks.md");
    private static final Pattern CURVE_POINT_OUTPUT = Pattern.compile("^(RESULT|MISMATCH).*");
    private static final Pattern MACHINE_LSCPU =
            Pattern.compile(
                    "^(Model name|Architecture|CPU\\(s\\)|Thread|Core|Socket|CPU max MHz|L2|L3).*");

    @Option(names = "--quick", description = "1,000,000 events.")
    boolean quick;

    @Option(
            names = "--events",
            paramLabel = "N",
            description =
                    "Records per contender, retries included "
                            + "(default 10,000,000; 1,000,000 with --quick; 200,000 per point with --curves).")
    Long events;

    @Option(
            names = "--accounts",
            paramLabel = "N",
            defaultValue = "1000000",
            description = "Distinct accounts (default ${DEFAULT-VALUE}).")
    long accounts;

    @Option(
            names = "--dedup-horizon",
            paramLabel = "D",
            defaultValue = "24 h",
            description = "Job key dedup.horizon (default ${DEFAULT-VALUE}).")
    String dedupHorizon;

    @Option(
            names = "--parallelism",
            paramLabel = "N",
            defaultValue = "2",
            description = "Flink parallelism (default ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(
            names = "--hot-account-share",
            paramLabel = "S",
            defaultValue = "0",
            description =
                    "Share of events from one single huge account, on top of the Zipf skew (default ${DEFAULT-VALUE}).")
    double hotAccountShare;

    @Option(
            names = "--seed",
            paramLabel = "N",
            defaultValue = "42",
            description = "Workload seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(
            names = "--only",
            paramLabel = "metering,sql,loop,e2e",
            defaultValue = "metering,sql,loop,e2e",
            description = "Contenders to run, comma-separated (default ${DEFAULT-VALUE}).")
    String only;

    @Option(
            names = "--work-dir",
            paramLabel = "DIR",
            description =
                    "Where the runs go "
                            + "(default jobs/bench/target/bench-run; jobs/bench/target/bench-curves with --curves).")
    Path workDir;

    @Option(
            names = "--curves",
            description = "The scaling curves instead: the metering job and the loop per point.")
    boolean curves;

    @Option(names = "--no-doc", description = "Leaves docs/benchmarks.md as it is.")
    boolean noDoc;

    @Spec CommandSpec spec;

    /** The contender running now, stopped with this JVM. */
    private volatile Process child;

    public static void main(String[] args) {
        CommandLine commandLine =
                new CommandLine(new BenchCli())
                        // --only e2e: a contender's name is also its subcommand's
                        .setAllowSubcommandsAsOptionParameters(true)
                        .setExecutionExceptionHandler(
                                (e, cmd, parsed) -> {
                                    if (e instanceof IllegalArgumentException) {
                                        cmd.getErr().println("tokenmeter-bench: " + e.getMessage());
                                        return 2;
                                    }
                                    throw e;
                                });
        System.exit(commandLine.execute(args));
    }

    @Override
    public Integer call() throws Exception {
        List<String> selected = Arrays.asList(only.split(","));
        for (String name : selected) {
            if (!BenchReport.CONTENDERS.contains(name)) {
                System.err.println(
                        "bench.sh: unknown contender '" + name + "' (metering, sql, loop, e2e)");
                return 2;
            }
        }
        long eventCount =
                events != null ? events : quick ? 1_000_000 : curves ? 200_000 : 10_000_000;
        Path work =
                workDir != null
                        ? workDir
                        : Path.of(
                                curves
                                        ? "jobs/bench/target/bench-curves"
                                        : "jobs/bench/target/bench-run");
        FileUtils.deleteDirectory(work.toFile());
        Files.createDirectories(work.resolve("tmp"));
        work = work.toAbsolutePath();
        String command = String.join(" ", commandLine());
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(
                                () -> {
                                    Process running = child;
                                    if (running != null) {
                                        running.destroy();
                                    }
                                }));
        Files.write(work.resolve("machine.txt"), machine(), StandardCharsets.UTF_8);

        return curves
                ? curves(work, eventCount, command)
                : contenders(work, eventCount, command, selected);
    }

    /** Every selected contender, then the report, whose verdict is the exit status. */
    private int contenders(Path work, long eventCount, String command, List<String> selected)
            throws IOException, InterruptedException {
        List<String> common =
                List.of(
                        "--events",
                        Long.toString(eventCount),
                        "--accounts",
                        Long.toString(accounts),
                        "--dedup-horizon",
                        dedupHorizon,
                        "--parallelism",
                        Integer.toString(parallelism),
                        "--seed",
                        Long.toString(seed),
                        "--hot-account-share",
                        Double.toString(hotAccountShare),
                        "--work-dir",
                        work.toString());
        for (String name : selected) {
            println("== " + name);
            // A failed contender is reported and the others still run; the report then names what
            // is missing.
            if (run(work, name, heap(name), common, false) != 0) {
                System.err.println("bench.sh: contender " + name + " failed");
            }
        }
        println("== report");
        List<String> report =
                new ArrayList<>(
                        List.of(
                                "--work-dir",
                                work.toString(),
                                "--machine",
                                work.resolve("machine.txt").toString(),
                                "--command",
                                command,
                                "--contenders",
                                only));
        report.addAll(docArgs());
        return run(work, "report", "512m", report, false);
    }

    /**
     * Each curve point: the metering job (throughput, state on disk) and the loop (exact state
     * entry counts).
     */
    private int curves(Path work, long eventCount, String command)
            throws IOException, InterruptedException {
        List<String> p = List.of("--parallelism", Integer.toString(parallelism));
        List<List<String>> points = new ArrayList<>();
        for (long a : new long[] {1_000, 10_000, 100_000, 1_000_000, 10_000_000}) {
            points.add(
                    point(
                            "accounts-" + a,
                            "--accounts",
                            Long.toString(a),
                            "--dedup-horizon",
                            dedupHorizon,
                            p));
        }
        for (String h : List.of("1h", "6h", "12h", "24h")) {
            points.add(point("horizon-" + h, "--accounts", "100000", "--dedup-horizon", h, p));
        }
        for (int n = 1; n <= 2; n++) {
            points.add(
                    point(
                            "parallelism-" + n,
                            "--accounts",
                            "100000",
                            "--dedup-horizon",
                            dedupHorizon,
                            List.of("--parallelism", Integer.toString(n))));
        }
        for (List<String> point : points) {
            String name = point.get(0);
            println("== curve point " + name);
            for (String contender : List.of("metering", "loop")) {
                // Checkpoints every second: the largest one then catches the state near its peak.
                List<String> args =
                        new ArrayList<>(
                                List.of(
                                        "--events",
                                        Long.toString(eventCount),
                                        "--seed",
                                        Long.toString(seed),
                                        "--set",
                                        "checkpoints.interval=1 s",
                                        "--work-dir",
                                        work.resolve(name).toString()));
                args.addAll(point.subList(1, point.size()));
                if (run(work, contender, heap(contender), args, true) != 0) {
                    System.err.println(contender + " failed at " + name);
                    return 1;
                }
            }
        }
        List<String> render =
                new ArrayList<>(List.of("--work-dir", work.toString(), "--command", command));
        render.addAll(docArgs());
        return run(work, "curves", "1g", render, false);
    }

    /** A curve point: its name, then its contender options. */
    private static List<String> point(
            String name,
            String accountsOption,
            String accountCount,
            String horizonOption,
            String horizon,
            List<String> parallelismOptions) {
        List<String> point =
                new ArrayList<>(
                        List.of(name, accountsOption, accountCount, horizonOption, horizon));
        point.addAll(parallelismOptions);
        return point;
    }

    private List<String> docArgs() {
        return noDoc ? List.of() : List.of("--doc", DOC.toString());
    }

    /**
     * The loop holds the whole workload in memory (~1 GB at 10M records) and every live dedup id.
     */
    private static String heap(String contender) {
        return contender.equals("loop") ? "6g" : "2g";
    }

    /**
     * Runs a subcommand of this class in a JVM of its own on this JVM's class path.
     *
     * @param resultsOnly print only its RESULT and MISMATCH lines; without one, it counts as failed
     * @return its exit status
     */
    private int run(
            Path work, String subcommand, String heap, List<String> args, boolean resultsOnly)
            throws IOException, InterruptedException {
        List<String> command =
                new ArrayList<>(
                        List.of(
                                java(),
                                "-Xmx" + heap,
                                "-Dtokenmeter.log.dir=" + work.resolve("logs"),
                                "-Djava.io.tmpdir=" + work.resolve("tmp"),
                                "-cp",
                                System.getProperty("java.class.path"),
                                BenchCli.class.getName(),
                                subcommand));
        command.addAll(args);
        ProcessBuilder builder =
                new ProcessBuilder(command)
                        .redirectInput(ProcessBuilder.Redirect.INHERIT)
                        .redirectError(ProcessBuilder.Redirect.INHERIT);
        if (!resultsOnly) {
            builder.redirectOutput(ProcessBuilder.Redirect.INHERIT);
        }
        System.out.flush();
        Process process = builder.start();
        child = process;
        boolean resulted = false;
        if (resultsOnly) {
            try (BufferedReader out =
                    new BufferedReader(
                            new InputStreamReader(
                                    process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    if (CURVE_POINT_OUTPUT.matcher(line).matches()) {
                        println(line);
                        resulted = true;
                    }
                }
            }
        }
        int exit = process.waitFor();
        child = null;
        return resultsOnly && exit == 0 && !resulted ? 1 : exit;
    }

    /** The machine, for the doc: date, cores, CPU, memory, load and the JVM. */
    private static List<String> machine() throws InterruptedException {
        List<String> lines = new ArrayList<>();
        lines.add(
                "date: "
                        + ZonedDateTime.now(ZoneOffset.UTC)
                                .format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm"))
                        + " UTC");
        lines.add("cores (nproc): " + String.join(" ", output("nproc")));
        output("lscpu").stream()
                .filter(l -> MACHINE_LSCPU.matcher(l).matches())
                .forEach(lines::add);
        output("free", "-h").stream().limit(2).forEach(lines::add);
        lines.add("load average before the run: " + loadAverage());
        output(java(), "-version").stream().limit(3).forEach(lines::add);
        return lines;
    }

    private static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return String.join(" ", Arrays.asList(fields).subList(0, Math.min(3, fields.length)));
        } catch (IOException e) {
            return "";
        }
    }

    /** The output lines of a command, standard error included; none when it cannot run. */
    private static List<String> output(String... command) throws InterruptedException {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            List<String> lines;
            try (BufferedReader in =
                    new BufferedReader(
                            new InputStreamReader(
                                    process.getInputStream(), StandardCharsets.UTF_8))) {
                lines = in.lines().toList();
            }
            process.waitFor();
            return lines;
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The command line as the user typed it, for the doc: scripts/bench.sh and its options. */
    private List<String> commandLine() {
        List<String> line = new ArrayList<>(List.of("scripts/bench.sh"));
        line.addAll(spec.commandLine().getParseResult().originalArgs());
        return line;
    }

    private static void println(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
