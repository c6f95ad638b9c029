package io.tokenmeter.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The benchmark's contenders, each meant to run in a JVM of its own (scripts/bench.sh starts them one after the
 * other), and the report that compares their results.
 */
@Command(name = "tokenmeter-bench", mixinStandardHelpOptions = true,
        subcommands = {MeteringContender.class, SqlContender.class, LoopContender.class, EndToEndContender.class,
            BenchReport.class, BenchCurves.class},
        description = "Tokenmeter benchmark contenders and report.")
public final class BenchCli {

    public static void main(String[] args) {
        CommandLine commandLine = new CommandLine(new BenchCli())
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    if (e instanceof IllegalArgumentException) {
                        cmd.getErr().println("tokenmeter-bench: " + e.getMessage());
                        return 2;
                    }
                    throw e;
                });
        System.exit(commandLine.execute(args));
    }
}
