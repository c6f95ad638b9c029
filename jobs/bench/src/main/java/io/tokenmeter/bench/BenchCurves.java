package io.tokenmeter.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Scaling curves from the runs of {@code scripts/bench.sh --curves}: one folder per point, named
 * {@code <curve>-<value>} (accounts-1000, horizon-6h, parallelism-1), each with the metering job's
 * result and the loop's (whose hash maps count the state entries exactly: live dedup ids,
 * account-days, account-hour lines). The state cost per entry is the least-squares slope of the
 * checkpoint size over the entry count along a curve.
 */
@Command(
        name = "curves",
        mixinStandardHelpOptions = true,
        description = "Renders the scaling curves and the per-entry state costs into the doc.")
final class BenchCurves implements Callable<Integer> {

    static final String BEGIN = "<!-- BEGIN GENERATED: scripts/bench.sh --curves -->";
    static final String END = "<!-- END GENERATED: scripts/bench.sh --curves -->";

    @Option(
            names = "--work-dir",
            required = true,
            description = "Folder holding one folder per curve point.")
    Path workDir;

    @Option(
            names = "--doc",
            description = "Markdown file whose generated curves section is replaced.")
    Path doc;

    @Option(
            names = "--command",
            defaultValue = "scripts/bench.sh --curves",
            description = "The command line, for the doc.")
    String command;

    /**
     * One point of a curve: the metering job's result and the loop's entry counts for the same
     * workload.
     */
    record Point(String curve, String value, ContenderResult metering, ContenderResult loop) {

        long total(String key) {
            return loop == null ? 0 : loop.totals().getOrDefault(key, 0L);
        }
    }

    @Override
    public Integer call() throws IOException {
        List<Point> points = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(workDir)) {
            for (Path dir : dirs.filter(Files::isDirectory).sorted().toList()) {
                String name = dir.getFileName().toString();
                int dash = name.indexOf('-');
                Path metering = dir.resolve("metering.properties");
                if (dash < 0 || !Files.exists(metering)) {
                    continue;
                }
                Path loop = dir.resolve("loop.properties");
                points.add(
                        new Point(
                                name.substring(0, dash),
                                name.substring(dash + 1),
                                ContenderResult.read(metering),
                                Files.exists(loop) ? ContenderResult.read(loop) : null));
            }
        }
        if (points.isEmpty()) {
            throw new IllegalArgumentException("no curve points in " + workDir);
        }
        String md = render(points, command);
        if (doc != null) {
            BenchReport.replaceSection(doc, BEGIN, END, md);
            System.out.println("Curves written to " + doc);
        }
        System.out.print(md);
        return 0;
    }

    static String render(List<Point> points, String command) {
        StringBuilder md = new StringBuilder();
        md.append("Run: `")
                .append(command)
                .append("` on ")
                .append(ZonedDateTime.now(ZoneOffset.UTC).withNano(0))
                .append(".\n");
        for (String curve : List.of("accounts", "horizon", "parallelism")) {
            List<Point> line =
                    points.stream()
                            .filter(p -> p.curve().equals(curve))
                            .sorted(Comparator.comparingDouble(p -> order(p.value())))
                            .toList();
            if (line.isEmpty()) {
                continue;
            }
            ContenderResult any = line.get(0).metering();
            md.append(
                    String.format(
                            Locale.ROOT,
                            "%n**%s** (%,d events per point)%n%n",
                            curve,
                            any.events()));
            md.append("| ")
                    .append(curve)
                    .append(
                            " | events/s | events per CPU-s | checkpoint MiB (max) | RocksDB dir MiB (max) "
                                    + "| peak RSS MiB | live dedup ids (max) | account-days | account-hour lines |\n");
            md.append("|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
            for (Point p : line) {
                ContenderResult m = p.metering();
                md.append(
                        String.format(
                                Locale.ROOT,
                                "| %s | %,.0f | %,.0f | %.1f | %.1f | %,d | %,d | %,d | %,d |%n",
                                p.value(),
                                m.eventsPerSecond(),
                                m.eventsPerCpuSecond(),
                                m.checkpointBytes() / 1048576.0,
                                m.rocksDbBytes() / 1048576.0,
                                m.peakRssBytes() >> 20,
                                p.total("state.dedup-ids.max"),
                                p.total("state.account-days"),
                                p.total("state.account-hour-lines")));
            }
        }
        md.append(
                "\nState cost per entry (least-squares slope of the largest checkpoint over the loop's exact entry count):\n\n");
        double perId = slope(points, "horizon", "state.dedup-ids.max");
        double perAccountDay = slope(points, "accounts", "state.account-days");
        md.append(
                String.format(
                        Locale.ROOT,
                        "- `state_bytes_per_dedup_id` = %s (along the horizon curve)%n",
                        bytes(perId)));
        md.append(
                String.format(
                        Locale.ROOT,
                        "- `state_bytes_per_account_day` = %s (along the accounts curve; includes the "
                                + "account-day's hourly lines and its share of dedup ids' key-group overhead)%n",
                        bytes(perAccountDay)));
        return md.toString();
    }

    private static String bytes(double b) {
        return Double.isNaN(b)
                ? "n/a (fewer than two points)"
                : String.format(Locale.ROOT, "%.0f B", b);
    }

    /**
     * The slope of checkpoint bytes over {@code countKey} along one curve, NaN with fewer than two
     * distinct x.
     */
    static double slope(List<Point> points, String curve, String countKey) {
        List<double[]> xy =
                points.stream()
                        .filter(p -> p.curve().equals(curve) && p.loop() != null)
                        .map(p -> new double[] {p.total(countKey), p.metering().checkpointBytes()})
                        .toList();
        return leastSquaresSlope(xy);
    }

    static double leastSquaresSlope(List<double[]> xy) {
        int n = xy.size();
        if (n < 2) {
            return Double.NaN;
        }
        double mx = xy.stream().mapToDouble(p -> p[0]).average().orElse(0);
        double my = xy.stream().mapToDouble(p -> p[1]).average().orElse(0);
        double sxy = 0;
        double sxx = 0;
        for (double[] p : xy) {
            sxy += (p[0] - mx) * (p[1] - my);
            sxx += (p[0] - mx) * (p[0] - mx);
        }
        return sxx == 0 ? Double.NaN : sxy / sxx;
    }

    /** Orders "1000", "6h", "30min", "2" numerically, by hours for durations. */
    static double order(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        try {
            if (v.endsWith("min")) {
                return Double.parseDouble(v.substring(0, v.length() - 3)) / 60;
            }
            if (v.endsWith("h")) {
                return Double.parseDouble(v.substring(0, v.length() - 1));
            }
            if (v.endsWith("d")) {
                return Double.parseDouble(v.substring(0, v.length() - 1)) * 24;
            }
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            return Double.MAX_VALUE;
        }
    }
}
