package io.tokenmeter.bench;

import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.local.BrokerProcess;
import io.tokenmeter.local.LocalCli;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.metering.MeteringJob;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.testkit.Await;
import io.tokenmeter.testkit.KafkaTopics;
import io.tokenmeter.testkit.WorkloadSpec;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The metering job as deployed ({@link MeteringJob#onKafka}): Avro from a real Kafka broker, every
 * output written back in Kafka transactions committed with the checkpoints. Three processes share
 * the machine's cores: the broker (its own JVM), the workload producer (its own JVM, producing
 * while the job meters) and this JVM with the job on a MiniCluster and a read_committed consumer of
 * the billing topic. The clock runs from the producer's start until the consumer has read the
 * billing of every event; CPU is that of all three processes over the same span.
 */
@Command(
        name = "e2e",
        mixinStandardHelpOptions = true,
        description =
                "The metering job from and to a real local Kafka broker, exactly once, producer running alongside.")
final class EndToEndContender implements Callable<Integer> {

    @Mixin BenchOptions options;

    @Option(
            names = "--partitions",
            defaultValue = "4",
            description = "Partitions of every topic (default ${DEFAULT-VALUE}).")
    int partitions;

    @Option(
            names = "--source-idleness",
            defaultValue = "5 s",
            description =
                    "Quiet spell after which a partition's watermark follows the wall clock; once the producer "
                            + "is done, the last days close this long after the last record (default ${DEFAULT-VALUE}).")
    String sourceIdleness;

    @Option(
            names = "--timeout",
            paramLabel = "SECONDS",
            defaultValue = "3600",
            description =
                    "Give up when the billing is not complete after this long (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Override
    public Integer call() throws Exception {
        Path work = Contenders.freshWorkDir(options, "e2e");
        MeteringConfig base = options.config();
        WorkloadSpec spec = options.spec(base.billing().timeZone());
        Contenders.announce("e2e", spec, options);
        try (BrokerProcess broker =
                BrokerProcess.start(Files.createDirectories(work.resolve("kafka")))) {
            MeteringConfig config =
                    base.with(
                            Map.of(
                                    "kafka.bootstrap-servers",
                                    broker.bootstrapServers(),
                                    "event-time.source-idleness",
                                    sourceIdleness,
                                    "kafka.transactional-id-prefix",
                                    "tokenmeter-bench-" + ProcessHandle.current().pid()));
            KafkaTopics kafka =
                    new KafkaTopics(broker.bootstrapServers(), config.kafka().clients());
            kafka.create(partitions, List.of(config.kafka().topics().raw()));
            kafka.create(partitions, config.outputTopics());
            System.out.printf(
                    "Kafka broker (pid %d) at %s; %d partitions per topic%n",
                    broker.pid(), broker.bootstrapServers(), partitions);

            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.createLocalEnvironment(
                            LocalFlink.configure(
                                    MeteringJob.flinkConfiguration(config), options, work));
            MeteringJob.onKafka(config).build(env);

            try (ResourceSampler sampler =
                    new ResourceSampler(
                            work.resolve(LocalFlink.ROCKSDB_DIR),
                            work.resolve(LocalFlink.CHECKPOINT_DIR))) {
                sampler.watch(broker.pid());
                CpuSpan span = CpuSpan.start(broker.pid());
                long self = ProcessHandle.current().pid();
                ProcFs.CpuTicks jobAtStart = ProcFs.cpu(self);
                ProcFs.CpuTicks brokerAtStart = ProcFs.cpu(broker.pid());
                Path expectedCsv = work.resolve("expected-billing.csv");
                Process producer = startProducer(config, spec, expectedCsv, work);
                sampler.watch(producer.pid());
                // A job started on empty partitions would let their watermarks follow the wall
                // clock and close the workload's days before its first event: start it once the raw
                // topic has records.
                awaitRecords(kafka, config.kafka().topics().raw(), producer);
                JobClient job = env.executeAsync("bench: e2e");
                try (BillingReader billing = new BillingReader(config)) {
                    int exit = producer.waitFor();
                    double producerSeconds = span.wallSeconds();
                    if (exit != 0) {
                        throw new IllegalStateException(
                                "the producer failed (exit "
                                        + exit
                                        + "); see "
                                        + work.resolve("producer.log"));
                    }
                    long[] expected = expectedBilledEventsAndTokens(expectedCsv);
                    // The workload is a backlog: once it is read, its end closes the last days (a
                    // drained savepoint), as the end of the input does for the other contenders.
                    kafka.awaitConsumed(
                            config.kafka().consumerGroup(),
                            config.kafka().topics().raw(),
                            Duration.ofSeconds(timeoutSeconds));
                    job.stopWithSavepoint(
                                    true,
                                    work.resolve("savepoints").toUri().toString(),
                                    SavepointFormatType.CANONICAL)
                            .get(timeoutSeconds, TimeUnit.SECONDS);
                    billing.awaitEvents(expected[0], Duration.ofSeconds(timeoutSeconds));
                    double wall = span.wallSeconds();
                    double cpu = span.cpuSeconds();
                    ProcFs.CpuTicks jobAtEnd = ProcFs.cpu(self);
                    ProcFs.CpuTicks brokerAtEnd = ProcFs.cpu(broker.pid());
                    sampler.close();
                    Map<String, Long> totals = new TreeMap<>(Tally.snapshot());
                    // Who used the CPU: this JVM (job and billing reader), the broker, the producer
                    // (a reaped child).
                    totals.put("cpu.job.ms", ticksToMillis(jobAtEnd.own() - jobAtStart.own()));
                    totals.put(
                            "cpu.broker.ms",
                            ticksToMillis(brokerAtEnd.own() - brokerAtStart.own()));
                    totals.put(
                            "cpu.producer.ms",
                            ticksToMillis(
                                    jobAtEnd.withChildren()
                                            - jobAtEnd.own()
                                            - (jobAtStart.withChildren() - jobAtStart.own())));
                    totals.put("expected.billed.events", expected[0]);
                    totals.put("expected.billed.tokens", expected[1]);
                    Map<String, String> settings = options.settings();
                    settings.put("partitions", Integer.toString(partitions));
                    settings.put(
                            "producer-seconds",
                            String.format(Locale.ROOT, "%.1f", producerSeconds));
                    settings.put("checkpoints", Long.toString(sampler.checkpoints()));
                    settings.put("source", "kafka");
                    ContenderResult result =
                            new ContenderResult(
                                    "e2e",
                                    spec.events(),
                                    wall,
                                    cpu,
                                    sampler.peakRssBytes(),
                                    sampler.maxRocksDbBytes(),
                                    sampler.maxCheckpointBytes(),
                                    settings,
                                    totals);
                    if (expected[1] != totals.getOrDefault(ContenderResult.BILLED_TOKENS, 0L)) {
                        System.out.printf(
                                "MISMATCH e2e billed %d tokens, the workload holds %d%n",
                                totals.getOrDefault(ContenderResult.BILLED_TOKENS, 0L),
                                expected[1]);
                    }
                    return Contenders.finish(result, options);
                } finally {
                    producer.destroy();
                    cancelIfRunning(job);
                }
            }
        }
    }

    /**
     * Cancels the job unless it has ended. A finished job's local cluster shuts down with it, and
     * then answers no status: that too means the job has ended.
     */
    private static void cancelIfRunning(JobClient job) throws Exception {
        JobStatus status;
        try {
            status = job.getJobStatus().get();
        } catch (IllegalStateException | ExecutionException clusterGone) {
            return;
        }
        if (!status.isGloballyTerminalState()) {
            job.cancel().get();
        }
    }

    private static long ticksToMillis(long ticks) {
        return ticks * 1000 / ProcFs.TICKS_PER_SECOND;
    }

    /** The workload producer (LocalCli generate) in a JVM of its own, on this JVM's classpath. */
    private Process startProducer(
            MeteringConfig config, WorkloadSpec spec, Path expectedCsv, Path work)
            throws IOException {
        List<String> command =
                new ArrayList<>(
                        List.of(
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "-Xmx1g",
                                "-Dtokenmeter.log.dir=" + work,
                                "-cp",
                                System.getProperty("java.class.path"),
                                LocalCli.class.getName(),
                                "generate",
                                "--bootstrap-servers",
                                config.kafka().bootstrapServers(),
                                "--topic",
                                config.kafka().topics().raw(),
                                "--billing-zone",
                                config.billing().timeZone().getId(),
                                "--events",
                                Long.toString(spec.events()),
                                "--accounts",
                                Integer.toString(spec.accounts()),
                                "--days",
                                Double.toString(spec.span().toMillis() / 86_400_000.0),
                                "--start",
                                spec.start()
                                        .atZone(config.billing().timeZone())
                                        .toOffsetDateTime()
                                        .toString(),
                                "--duplicate-rate",
                                Double.toString(spec.duplicateRate()),
                                "--hot-account-share",
                                Double.toString(spec.hotAccountShare()),
                                "--late-rate",
                                "0",
                                "--malformed-rate",
                                "0",
                                "--seed",
                                Long.toString(spec.seed()),
                                "--expected-out",
                                expectedCsv.toString()));
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(work.resolve("producer.log").toFile())
                .start();
    }

    private static void awaitRecords(KafkaTopics kafka, String topic, Process producer)
            throws InterruptedException {
        while (kafka.countRecords(topic) == 0) {
            if (!producer.isAlive()) {
                return; // it failed or was very quick; the caller finds out which
            }
            Thread.sleep(200); // the producer is starting up
        }
    }

    /**
     * Billed events and tokens of the workload, from the CSV the producer wrote (see
     * ExpectedTotals#writeCsv).
     */
    static long[] expectedBilledEventsAndTokens(Path csv) throws IOException {
        long events = 0;
        long tokens = 0;
        try (BufferedReader in = Files.newBufferedReader(csv)) {
            String header = in.readLine();
            if (header == null || !header.startsWith("account_id,billing_day,")) {
                throw new IllegalStateException(csv + " is not an expected-billing CSV");
            }
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                String[] f = line.split(",");
                tokens += Long.parseLong(f[5]);
                events += Long.parseLong(f[6]);
            }
        }
        return new long[] {events, tokens};
    }

    /**
     * Reads the billing topic as a billing system would (read_committed), tallying every record
     * once.
     */
    private static final class BillingReader implements AutoCloseable {

        private final Thread thread;
        private final AtomicReference<Exception> failure = new AtomicReference<>();
        private volatile boolean running = true;

        BillingReader(MeteringConfig config) {
            Properties props = config.kafka().clients().consumer(config.kafka().bootstrapServers());
            props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            props.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-billing-reader");
            thread =
                    new Thread(
                            () -> {
                                AvroCodec<BillingRecord> codec = AvroCodec.billingRecords();
                                try (KafkaConsumer<byte[], byte[]> consumer =
                                        new KafkaConsumer<>(
                                                props,
                                                new ByteArrayDeserializer(),
                                                new ByteArrayDeserializer())) {
                                    consumer.subscribe(List.of(config.kafka().topics().billing()));
                                    while (running) {
                                        for (ConsumerRecord<byte[], byte[]> r :
                                                consumer.poll(Duration.ofMillis(500))) {
                                            OutputTallies.billing(codec.decode(r.value()));
                                        }
                                    }
                                } catch (Exception e) {
                                    failure.set(e);
                                }
                            },
                            "billing-reader");
            thread.setDaemon(true);
            thread.start();
        }

        /**
         * Waits until the billing reader has counted {@code events}. Called once the job has
         * stopped with its savepoint: its output is complete, and the local cluster it ran on has
         * shut down with it.
         */
        void awaitEvents(long events, Duration timeout) throws Exception {
            long billed =
                    Await.poll(
                            timeout,
                            Duration.ofMillis(100),
                            () -> {
                                long sofar = Tally.get(ContenderResult.BILLED_EVENTS);
                                if (sofar >= events) {
                                    return sofar;
                                }
                                if (failure.get() != null) {
                                    throw new IllegalStateException(
                                            "reading the billing topic failed", failure.get());
                                }
                                return sofar;
                            },
                            sofar -> sofar >= events);
            if (billed < events) {
                throw new IllegalStateException(
                        "billing incomplete after "
                                + timeout
                                + ": "
                                + billed
                                + " of "
                                + events
                                + " events billed");
            }
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(10_000);
        }
    }
}
