package io.tokenmeter.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * CPU time and memory of processes, as Linux reports them in {@code /proc/<pid>/stat} and {@code
 * /proc/<pid>/status}. CPU is counted in clock ticks: utime + stime of the process, plus cutime +
 * cstime of the children it has waited for, so a child's CPU lands in its parent's count once the
 * parent has reaped it.
 */
public final class ProcFs {

    /**
     * Clock ticks per second (USER_HZ); 100 on every mainstream Linux, asked of getconf once to be
     * sure.
     */
    public static final long TICKS_PER_SECOND = ticksPerSecond();

    private ProcFs() {}

    /** CPU ticks of a process, split as the kernel counts them. */
    public record CpuTicks(long user, long system, long childrenUser, long childrenSystem) {

        public long own() {
            return user + system;
        }

        public long withChildren() {
            return own() + childrenUser + childrenSystem;
        }

        public static double seconds(long ticks) {
            return (double) ticks / TICKS_PER_SECOND;
        }
    }

    public static CpuTicks cpu(long pid) {
        return parseStat(read(Path.of("/proc", Long.toString(pid), "stat")));
    }

    /** Peak resident set size (VmHWM) in bytes, or 0 when the process is gone. */
    public static long peakRssBytes(long pid) {
        return statusKilobytes(pid, "VmHWM:") * 1024;
    }

    /** Current resident set size (VmRSS) in bytes, or 0 when the process is gone. */
    public static long rssBytes(long pid) {
        return statusKilobytes(pid, "VmRSS:") * 1024;
    }

    static long statusKilobytes(long pid, String field) {
        try {
            return parseStatusKilobytes(
                    Files.readString(Path.of("/proc", Long.toString(pid), "status")), field);
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Parses a {@code /proc/<pid>/stat} line. The command name (field 2) is in parentheses and may
     * itself hold spaces and parentheses, so the fields are counted from the last ')'.
     */
    static CpuTicks parseStat(String line) {
        int close = line.lastIndexOf(')');
        if (close < 0) {
            throw new IllegalArgumentException("not a /proc/<pid>/stat line: " + line);
        }
        // After ") ": field 3 (state) is index 0, so field n is index n - 3; utime is field 14.
        String[] f = line.substring(close + 2).trim().split(" +");
        return new CpuTicks(
                Long.parseLong(f[11]),
                Long.parseLong(f[12]),
                Long.parseLong(f[13]),
                Long.parseLong(f[14]));
    }

    /** The value of a "Name: 1234 kB" line of {@code /proc/<pid>/status}, in kB; 0 when absent. */
    static long parseStatusKilobytes(String status, String field) {
        for (String line : status.split("\n")) {
            if (line.startsWith(field)) {
                String value = line.substring(field.length()).trim();
                int space = value.indexOf(' ');
                return Long.parseLong(space < 0 ? value : value.substring(0, space));
            }
        }
        return 0;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long ticksPerSecond() {
        try {
            Process getconf =
                    new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out =
                    new String(getconf.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)
                            .trim();
            if (getconf.waitFor(5, TimeUnit.SECONDS) && getconf.exitValue() == 0) {
                return Long.parseLong(out);
            }
        } catch (IOException | NumberFormatException e) {
            // fall through to the Linux default
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 100;
    }
}
