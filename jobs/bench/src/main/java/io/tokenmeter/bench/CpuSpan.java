package io.tokenmeter.bench;

import java.util.Arrays;

/**
 * Wall time and CPU time of a span of work. CPU is that of this JVM (with the children it has
 * reaped) plus that of other processes named at the start, as long as they are still running when
 * the span stops.
 */
final class CpuSpan {

    private final long startNanos;
    private final long[] otherPids;
    private final long startTicks;

    private CpuSpan(long[] otherPids) {
        this.otherPids = otherPids;
        this.startTicks = ticks();
        this.startNanos = System.nanoTime();
    }

    static CpuSpan start(long... otherPids) {
        return new CpuSpan(otherPids);
    }

    /** Seconds since the start. */
    double wallSeconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** CPU seconds since the start. */
    double cpuSeconds() {
        return ProcFs.CpuTicks.seconds(ticks() - startTicks);
    }

    private long ticks() {
        long self = ProcFs.cpu(ProcessHandle.current().pid()).withChildren();
        return self + Arrays.stream(otherPids).map(pid -> ProcFs.cpu(pid).withChildren()).sum();
    }
}
