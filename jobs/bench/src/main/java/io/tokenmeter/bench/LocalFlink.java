package io.tokenmeter.bench;

import java.nio.file.Path;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.TaskManagerOptions;

/**
 * The MiniCluster every Flink contender runs on: one task manager with a slot per parallel task.
 */
final class LocalFlink {

    /** Where RocksDB keeps its working files, relative to the contender's work folder. */
    static final String ROCKSDB_DIR = "rocksdb";

    static final String CHECKPOINT_DIR = "checkpoints";

    private LocalFlink() {}

    /**
     * {@code jobSettings} plus the cluster: parallelism, memory, folders; no restarts (the tally
     * would double); then the options' {@code --flink-set} overrides.
     */
    static Configuration configure(Configuration jobSettings, BenchOptions options, Path work) {
        Configuration flink = new Configuration(jobSettings);
        flink.set(CoreOptions.DEFAULT_PARALLELISM, options.parallelism);
        flink.set(TaskManagerOptions.NUM_TASK_SLOTS, options.parallelism);
        // The same RocksDB memory for every Flink contender: by default 2 GB, the SQL peer's best
        // (docs/benchmarks.md); the metering job runs the same with 512 MB.
        flink.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, options.managedMemory());
        flink.set(RestOptions.BIND_PORT, "0");
        flink.set(
                CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                work.resolve(CHECKPOINT_DIR).toUri().toString());
        flink.setString("state.backend.rocksdb.localdir", work.resolve(ROCKSDB_DIR).toString());
        flink.setString("io.tmp.dirs", work.resolve("tmp").toString());
        flink.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        options.flinkOverrides.forEach(flink::setString);
        return flink;
    }
}
