package io.tokenmeter.bench;

import io.tokenmeter.bench.loop.MeteringLoop;
import io.tokenmeter.bench.loop.WorkloadBytes;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.testkit.WorkloadSpec;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What one core can do: the metering job's work — decode and validate every raw record with the
 * job's rules, deduplicate on the job's keyed 128-bit (source, event_id) key within the horizon,
 * sum per account × model × modality per hour and per billing day, close them into account rows,
 * regional and national rollups and one billing record per account-day — in one thread, written as
 * a performance engineer would ({@link MeteringLoop}: the Avro body read field by field, primitive
 * open-addressing tables, no object per record), with no state backend, no checkpoints and no
 * serialization between steps.
 *
 * <p>The workload's bytes are generated first, into memory and outside the timed span: the wall and
 * CPU time reported are those of the metering work alone (the CPU of the whole JVM over that span,
 * JIT and GC included; the metering thread's own CPU is reported beside it, total {@code
 * loop.thread-cpu.ms}). The generation's time is reported too ({@code loop.generate.ms}).
 */
@Command(
        name = "loop",
        mixinStandardHelpOptions = true,
        description =
                "A single-threaded Java loop doing the metering job's work in primitive tables.")
final class LoopContender implements Callable<Integer> {

    @Mixin BenchOptions options;

    @Option(
            names = "--warm-up",
            defaultValue = "0",
            paramLabel = "RECORDS",
            description =
                    "Meter the first RECORDS records once on a throwaway loop before the clock starts, so that "
                            + "the JIT has compiled the hot path: the steady state of a long-running process (default "
                            + "${DEFAULT-VALUE}: a cold JVM, its compilation inside the timed span).")
    long warmUpRecords;

    @Override
    public Integer call() throws Exception {
        MeteringConfig config = options.config();
        WorkloadSpec spec = options.spec(config.billing().timeZone());
        Contenders.freshWorkDir(options, "loop");
        Contenders.announce("loop", spec, options);
        try (ResourceSampler sampler = new ResourceSampler(null, null)) {
            CpuSpan generation = CpuSpan.start();
            WorkloadBytes workload = WorkloadBytes.generate(spec);
            double generationWall = generation.wallSeconds();
            double generationCpu = generation.cpuSeconds();
            System.out.printf(
                    Locale.ROOT,
                    "loop: generated %,d records (%,d bytes) in %.1f s (%.1f CPU s), not timed%n",
                    workload.records(),
                    workload.inputBytes(),
                    generationWall,
                    generationCpu);
            if (warmUpRecords > 0) {
                MeteringLoop warmUp = new MeteringLoop(config, 1 << 16, 1 << 12, 1 << 12);
                workload.forEachOfFirst(warmUpRecords, warmUp::process);
                warmUp.finish();
            }
            // The generator's garbage is collected before the clock starts, not inside the timed
            // span.
            System.gc();

            MeteringLoop loop =
                    new MeteringLoop(
                            config,
                            expectedLiveIds(spec, config),
                            spec.accounts(),
                            expectedDayLines(spec));
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            CpuSpan span = CpuSpan.start();
            long threadCpuStart = threads.getCurrentThreadCpuTime();
            workload.forEach(loop::process);
            loop.finish();
            long threadCpuNanos = threads.getCurrentThreadCpuTime() - threadCpuStart;
            double wall = span.wallSeconds();
            double cpu = span.cpuSeconds();
            sampler.close();

            Map<String, Long> totals = new TreeMap<>(loop.totals());
            totals.put("input.bytes", workload.inputBytes());
            totals.put("loop.decode-fallbacks", loop.decodeFallbacks());
            totals.put("loop.dedup-sweeps", loop.dedupSweeps());
            totals.put("loop.generate.ms", Math.round(generationWall * 1000));
            // The metering thread's own CPU; the rest of the JVM's CPU over the span is the JIT and
            // the GC.
            totals.put("loop.thread-cpu.ms", threadCpuNanos / 1_000_000);
            Map<String, String> settings = options.settings();
            settings.put("parallelism", "1");
            settings.put("source", "pre-generated in memory (generation untimed), one thread");
            settings.put("generate-seconds", String.format(Locale.ROOT, "%.1f", generationWall));
            settings.put("warm-up-records", Long.toString(warmUpRecords));
            return Contenders.finish(
                    new ContenderResult(
                            "loop",
                            spec.events(),
                            wall,
                            cpu,
                            sampler.peakRssBytes(),
                            0,
                            0,
                            settings,
                            totals),
                    options);
        }
    }

    /**
     * The dedup ids live at once if events are spread evenly: those of one horizon (all of them
     * when the horizon covers the workload), with a tenth more for the jitter — sized as capacity
     * planning would from the rates.
     */
    /**
     * A billing day's lines: about two per account (model × modality), at most one per event of the
     * day.
     */
    static int expectedDayLines(WorkloadSpec spec) {
        double days = Math.max(1.0, spec.span().toMillis() / 86_400_000.0);
        return (int)
                Math.min(
                        2L * spec.accounts(),
                        Math.min(1 << 27, (long) Math.ceil(spec.events() / days)));
    }

    static int expectedLiveIds(WorkloadSpec spec, MeteringConfig config) {
        double share =
                Math.min(
                        1.0,
                        (double) config.dedup().horizon().toMillis()
                                / Math.max(1, spec.span().toMillis()));
        return (int) Math.min(1 << 28, Math.ceil(spec.events() * Math.min(1.0, share * 1.1)));
    }
}
