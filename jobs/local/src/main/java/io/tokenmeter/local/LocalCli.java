package io.tokenmeter.local;

import io.tokenmeter.io.KafkaClientProperties;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.testkit.EmbeddedKafkaBroker;
import io.tokenmeter.testkit.ExpectedTotals;
import io.tokenmeter.testkit.WorkloadGenerator;
import io.tokenmeter.testkit.WorkloadProducer;
import io.tokenmeter.testkit.WorkloadSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Tokenmeter on one machine: the embedded run, the workload generator and a stand-alone broker. */
@Command(
        name = "tokenmeter-local",
        mixinStandardHelpOptions = true,
        subcommands = {
            LocalRun.class,
            LocalCli.Generate.class,
            LocalCli.Broker.class,
            FaultSuite.class,
            ApplyTopics.class,
            FlinkCluster.Cli.class
        },
        description = "Tokenmeter on one machine.")
public final class LocalCli {

    public static void main(String[] args) {
        CommandLine commandLine =
                new CommandLine(new LocalCli())
                        // A bad option or setting is the user's to fix: say what is wrong, without
                        // a stack trace.
                        .setExecutionExceptionHandler(
                                (e, cmd, parsed) -> {
                                    if (e instanceof IllegalArgumentException) {
                                        cmd.getErr().println("tokenmeter-local: " + e.getMessage());
                                        return 2;
                                    }
                                    throw e;
                                });
        System.exit(commandLine.execute(args));
    }

    @Command(
            name = "generate",
            mixinStandardHelpOptions = true,
            description =
                    "Writes a seeded workload to a Kafka topic and its expected billing to a CSV file.")
    static final class Generate implements Callable<Integer> {

        @Option(names = "--bootstrap-servers", required = true)
        String bootstrapServers;

        @Option(
                names = "--topic",
                defaultValue = "tokenmeter.usage.raw",
                description = "Raw topic (default ${DEFAULT-VALUE}).")
        String topic;

        @Option(
                names = "--billing-zone",
                defaultValue = "Asia/Shanghai",
                description =
                        "Zone whose days late records reach back into (default ${DEFAULT-VALUE}).")
        ZoneId billingZone;

        @Mixin WorkloadOptions workload;

        @Option(
                names = "--expected-out",
                description = "CSV file for the expected billing per account and day.")
        Path expectedOut;

        @Option(
                names = "--config",
                description =
                        "A metering job YAML whose kafka.properties.* and "
                                + "kafka.producer.properties.* settings (TLS, SASL) the producer uses.")
        Path config;

        @Override
        public Integer call() throws IOException {
            WorkloadSpec spec = workload.spec(billingZone);
            KafkaClientProperties clients =
                    config == null
                            ? KafkaClientProperties.none()
                            : MeteringConfig.load(config, List.of()).kafka().clients();
            ExpectedTotals expected =
                    WorkloadProducer.produce(
                            new WorkloadGenerator(spec), clients, bootstrapServers, topic, true);
            if (expectedOut != null) {
                expected.writeCsv(expectedOut);
            }
            System.out.printf(
                    "Wrote %,d records to %s; expected billed tokens %,d%n",
                    expected.totalRecords(), topic, expected.billedTokens());
            return 0;
        }
    }

    @Command(
            name = "broker",
            mixinStandardHelpOptions = true,
            description =
                    "Runs a single-node KRaft broker on loopback until stopped or until standard input closes.")
    static final class Broker implements Callable<Integer> {

        @Option(names = "--data-dir", required = true)
        Path dataDir;

        @Option(
                names = "--port",
                defaultValue = "0",
                description = "Client port, 0 for any free one.")
        int port;

        @Option(
                names = "--secure",
                description =
                        "SASL_SSL (SCRAM-SHA-512) and mTLS listeners with new certificates,"
                                + " SCRAM users and the StandardAuthorizer; certificates and secrets in DATA_DIR/data/security.")
        boolean secure;

        /** Where a secured broker started on {@code dataDir} keeps its certificates and secrets. */
        static Path securityDir(Path dataDir) {
            return dataDir.resolve("data").resolve("security");
        }

        @Override
        public Integer call() throws IOException {
            if (secure && port != 0) {
                throw new IllegalArgumentException(
                        "--port applies to the plaintext broker; a --secure one picks free ports");
            }
            EmbeddedKafkaBroker broker =
                    secure
                            ? EmbeddedKafkaBroker.startSecured(dataDir.resolve("data"), false)
                            : EmbeddedKafkaBroker.start(dataDir.resolve("data"), port, false);
            Runtime.getRuntime().addShutdownHook(new Thread(broker::close, "broker-shutdown"));
            System.out.println(BrokerProcess.READY_PREFIX + broker.bootstrapServers());
            System.out.flush();
            // The parent holds our standard input open: when it ends, however it ends, so do we.
            while (System.in.read() != -1) {
                // keep waiting
            }
            return 0;
        }
    }
}
