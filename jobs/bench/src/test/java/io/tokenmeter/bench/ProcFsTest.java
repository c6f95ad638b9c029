package io.tokenmeter.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ProcFsTest {

    @Test
    void readsCpuTicksAfterACommandNameWithSpacesAndParentheses() {
        String stat =
                "4242 (java (bench) x) S 1 4242 4242 0 -1 4194560 51393 0 4 0 1234 567 89 10 20 0 58 0 "
                        + "3389 7466102784 353215 18446744073709551615 1 1 0 0 0 0 0 4096 16796879 0 0 0 17 1 0 0 0 0 0";

        ProcFs.CpuTicks cpu = ProcFs.parseStat(stat);

        assertThat(cpu.user()).isEqualTo(1234);
        assertThat(cpu.system()).isEqualTo(567);
        assertThat(cpu.own()).isEqualTo(1801);
        assertThat(cpu.withChildren()).isEqualTo(1801 + 89 + 10);
    }

    @Test
    void readsKilobyteFieldsOfStatus() {
        String status =
                "Name:\tjava\nVmPeak:\t 7466100 kB\nVmHWM:\t  1412860 kB\nVmRSS:\t  1300000 kB\nThreads:\t58\n";

        assertThat(ProcFs.parseStatusKilobytes(status, "VmHWM:")).isEqualTo(1_412_860);
        assertThat(ProcFs.parseStatusKilobytes(status, "VmRSS:")).isEqualTo(1_300_000);
        assertThat(ProcFs.parseStatusKilobytes(status, "VmSwap:")).isZero();
    }

    @Test
    void measuresThisProcess() throws Exception {
        long pid = ProcessHandle.current().pid();

        assertThat(ProcFs.cpu(pid).own()).isPositive();
        assertThat(ProcFs.rssBytes(pid)).isPositive();
        assertThat(ProcFs.peakRssBytes(pid)).isPositive();
        // Only within one read is the peak at least the resident size: between two reads the kernel
        // may reclaim pages without raising its high-water mark first (seen in CI: 98,738,176 B
        // peak after 99,041,280 B resident).
        String status = Files.readString(Path.of("/proc", Long.toString(pid), "status"));
        assertThat(ProcFs.parseStatusKilobytes(status, "VmHWM:"))
                .isGreaterThanOrEqualTo(ProcFs.parseStatusKilobytes(status, "VmRSS:"));
        assertThat(ProcFs.peakRssBytes(Long.MAX_VALUE)).as("a process that is gone").isZero();
    }
}
