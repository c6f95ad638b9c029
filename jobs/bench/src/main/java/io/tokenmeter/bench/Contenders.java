package io.tokenmeter.bench;

import io.tokenmeter.testkit.WorkloadSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.util.FileUtils;

/** What every contender does before and after its run. */
final class Contenders {

    private Contenders() {}

    /** The contender's own, empty work folder. */
    static Path freshWorkDir(BenchOptions options, String contender) throws IOException {
        Path work = options.workDir(contender);
        FileUtils.deleteDirectory(work.toFile());
        Files.createDirectories(work.resolve("tmp"));
        return work;
    }

    static void announce(String contender, WorkloadSpec spec, BenchOptions options) {
        System.out.printf(
                "%s: %,d events over %,d accounts (%.0f%% duplicates, seed %d), dedup horizon %s, "
                        + "parallelism %d%n",
                contender,
                spec.events(),
                spec.accounts(),
                spec.duplicateRate() * 100,
                spec.seed(),
                options.dedupHorizon,
                options.parallelism);
        Duration reach = BenchOptions.retryReach(spec);
        if (reach.compareTo(options.config().dedup().horizon()) > 0) {
            System.out.printf(
                    "WARNING: retries reach back up to %d min of event time, beyond the dedup horizon (%s): "
                            + "totals may differ between contenders; use more events or a longer horizon%n",
                    reach.toMinutes(), options.dedupHorizon);
        }
    }

    /** Writes the result where the report will look for it and prints its summary line. */
    static int finish(ContenderResult result, BenchOptions options) throws IOException {
        Path file = options.resultFile(result.contender());
        result.write(file);
        System.out.println(result.summary());
        System.out.println("Result written to " + file);
        return 0;
    }
}
