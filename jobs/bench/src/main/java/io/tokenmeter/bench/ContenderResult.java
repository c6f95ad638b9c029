package io.tokenmeter.bench;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * What one contender measured, and the totals it billed so the contenders can be checked against
 * each other. Written by the contender's JVM as a properties file, read back by the report.
 *
 * @param contender metering, sql, loop or e2e
 * @param events input records, duplicates included
 * @param wallSeconds from the start of processing to the last output
 * @param cpuSeconds user + system CPU of every process involved over the same span
 * @param peakRssBytes sum of the peak resident memory of every process involved
 * @param rocksDbBytes the largest the RocksDB working folders grew (0 without RocksDB)
 * @param checkpointBytes the largest completed checkpoint (0 without checkpoints)
 * @param settings the run's parameters (accounts, dedup horizon, parallelism, ...), for the report
 * @param totals named sums of the outputs (billed tokens overall and per day, ...)
 */
public record ContenderResult(
        String contender,
        long events,
        double wallSeconds,
        double cpuSeconds,
        long peakRssBytes,
        long rocksDbBytes,
        long checkpointBytes,
        Map<String, String> settings,
        Map<String, Long> totals) {

    public static final String BILLED_TOKENS = "billed.tokens";
    public static final String BILLED_EVENTS = "billed.events";

    /** Prefix of the billed tokens of one billing day: billed.tokens.day.2026-11-01. */
    public static final String BILLED_TOKENS_DAY = "billed.tokens.day.";

    public double eventsPerSecond() {
        return wallSeconds > 0 ? events / wallSeconds : 0;
    }

    public double eventsPerCpuSecond() {
        return cpuSeconds > 0 ? events / cpuSeconds : 0;
    }

    public void write(Path file) throws IOException {
        Properties p = new Properties();
        p.setProperty("contender", contender);
        p.setProperty("events", Long.toString(events));
        p.setProperty("wall.seconds", Double.toString(wallSeconds));
        p.setProperty("cpu.seconds", Double.toString(cpuSeconds));
        p.setProperty("peak.rss.bytes", Long.toString(peakRssBytes));
        p.setProperty("rocksdb.bytes", Long.toString(rocksDbBytes));
        p.setProperty("checkpoint.bytes", Long.toString(checkpointBytes));
        settings.forEach((k, v) -> p.setProperty("setting." + k, v));
        totals.forEach((k, v) -> p.setProperty("total." + k, Long.toString(v)));
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (Writer w = Files.newBufferedWriter(file)) {
            p.store(w, "tokenmeter bench result");
        }
    }

    public static ContenderResult read(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        }
        Map<String, String> settings = new TreeMap<>();
        Map<String, Long> totals = new TreeMap<>();
        for (String key : p.stringPropertyNames()) {
            if (key.startsWith("setting.")) {
                settings.put(key.substring("setting.".length()), p.getProperty(key));
            } else if (key.startsWith("total.")) {
                totals.put(key.substring("total.".length()), Long.parseLong(p.getProperty(key)));
            }
        }
        return new ContenderResult(
                required(p, "contender", file),
                Long.parseLong(required(p, "events", file)),
                Double.parseDouble(required(p, "wall.seconds", file)),
                Double.parseDouble(required(p, "cpu.seconds", file)),
                Long.parseLong(required(p, "peak.rss.bytes", file)),
                Long.parseLong(p.getProperty("rocksdb.bytes", "0")),
                Long.parseLong(p.getProperty("checkpoint.bytes", "0")),
                settings,
                totals);
    }

    /** The billed tokens per billing day, in day order. */
    public Map<String, Long> billedTokensByDay() {
        Map<String, Long> byDay = new LinkedHashMap<>();
        new TreeMap<>(totals)
                .forEach(
                        (k, v) -> {
                            if (k.startsWith(BILLED_TOKENS_DAY)) {
                                byDay.put(k.substring(BILLED_TOKENS_DAY.length()), v);
                            }
                        });
        return byDay;
    }

    /** One line for the console. */
    public String summary() {
        return String.format(
                Locale.ROOT,
                "RESULT contender=%s events=%d wall_s=%.2f eps=%.0f cpu_s=%.2f cpu_eps=%.0f peak_rss_mb=%d "
                        + "rocksdb_mb=%.1f checkpoint_mb=%.1f billed_tokens=%d",
                contender,
                events,
                wallSeconds,
                eventsPerSecond(),
                cpuSeconds,
                eventsPerCpuSecond(),
                peakRssBytes >> 20,
                rocksDbBytes / 1048576.0,
                checkpointBytes / 1048576.0,
                totals.getOrDefault(BILLED_TOKENS, 0L));
    }

    private static String required(Properties p, String key, Path file) {
        String value = p.getProperty(key);
        if (value == null) {
            throw new IllegalArgumentException(
                    file + " has no '" + key + "': not a contender result");
        }
        return value;
    }
}
