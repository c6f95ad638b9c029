package io.tokenmeter.bench;

import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.metering.MeteringJob;
import io.tokenmeter.testkit.WorkloadSpec;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * The real metering job, unchanged, on a local MiniCluster with its own Flink settings (RocksDB,
 * exactly-once checkpoints), fed by the generator as an in-memory source; its five outputs are
 * tallied in this JVM.
 */
@Command(
        name = "metering",
        mixinStandardHelpOptions = true,
        description =
                "The metering job on the in-memory workload source (RocksDB, exactly-once checkpoints).")
final class MeteringContender implements Callable<Integer> {

    @Mixin BenchOptions options;

    @Override
    public Integer call() throws Exception {
        MeteringConfig config = options.config();
        WorkloadSpec spec = options.spec(config.billing().timeZone());
        Path work = Contenders.freshWorkDir(options, "metering");

        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(
                        LocalFlink.configure(
                                MeteringJob.flinkConfiguration(config), options, work));
        new MeteringJob(config, options.source(spec, config), OutputTallies.outputs()).build(env);

        Contenders.announce("metering", spec, options);
        ContenderResult result;
        try (ResourceSampler sampler =
                new ResourceSampler(
                        work.resolve(LocalFlink.ROCKSDB_DIR),
                        work.resolve(LocalFlink.CHECKPOINT_DIR))) {
            // The MiniCluster is up once executeAsync returns: its start-up is not the job's time.
            JobClient job = env.executeAsync("bench: metering");
            CpuSpan span = CpuSpan.start();
            job.getJobExecutionResult().get();
            double wall = span.wallSeconds();
            double cpu = span.cpuSeconds();
            sampler.close();
            Map<String, Long> totals = new TreeMap<>(Tally.snapshot());
            totals.putIfAbsent(OutputTallies.DUPLICATES, 0L);
            Map<String, String> settings = options.settings();
            settings.put("checkpoints", Long.toString(sampler.checkpoints()));
            result =
                    new ContenderResult(
                            "metering",
                            spec.events(),
                            wall,
                            cpu,
                            sampler.peakRssBytes(),
                            sampler.maxRocksDbBytes(),
                            sampler.maxCheckpointBytes(),
                            settings,
                            totals);
        }
        return Contenders.finish(result, options);
    }
}
