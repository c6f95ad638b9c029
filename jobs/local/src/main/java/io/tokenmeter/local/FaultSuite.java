package io.tokenmeter.local;

import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.functions.FaultInjection;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.schema.AvroCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.flink.util.FileUtils;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * I4 under the faults a cluster sees: the metering job on a real multi-process Flink cluster, against a Kafka broker
 * in its own process, each fault on a fresh seeded workload, each reconciled with the workload afterwards — billed
 * tokens per account and day exactly as expected, no billing record id twice, no Kafka transaction left open.
 *
 * <p>The cluster is given (scripts/fault-suite.sh starts one with scripts/cluster.sh); the suite drives it through
 * the same script and starts, stops and restarts the broker itself.
 */
@Command(name = "faults", mixinStandardHelpOptions = true,
        description = "Runs the fault suite against a Flink session cluster and a broker process it starts.")
final class FaultSuite implements Callable<Integer> {

    /** A fault and how it is inflicted on a running job. */
    private record Scenario(String name, String description, int parallelism, Map<String, String> jobSettings,
            Injection injection) {}

    @FunctionalInterface
    private interface Injection {
        void inflict(Run run) throws Exception;
    }

    private static final Duration WORKLOAD_SPAN = Duration.ofDays(2);
    private static final Duration CHECKPOINT_INTERVAL = Duration.ofSeconds(2);
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(180);
    /** How long to wait for a fault hook before writing a few more events. */
    private static final Duration TRAFFIC_INTERVAL = Duration.ofSeconds(5);
    private static final Duration BROKER_OUTAGE = CHECKPOINT_INTERVAL.multipliedBy(5);
    private static final int TASK_MANAGER_KILLS = 3;
    private static final int TASK_MANAGERS = 2;

    @Option(names = "--flink-address", required = true, description = "REST address of the Flink cluster, host:port.")
    String flinkAddress;

    @Option(names = "--cluster-script", defaultValue = "scripts/cluster.sh", description = "Default ${DEFAULT-VALUE}.")
    Path clusterScript;

    @Option(names = "--config", defaultValue = "config/metering.yaml", description = "Job configuration (default ${DEFAULT-VALUE}).")
    Path configFile;

    @Option(names = "--work-dir", defaultValue = "target/fault-suite", description = "Broker data and logs (default ${DEFAULT-VALUE}).")
    Path workDir;

    @Option(names = "--events", defaultValue = "100000", description = "Records per fault (default ${DEFAULT-VALUE}).")
    long events;

    @Option(names = "--accounts", defaultValue = "5000", description = "Accounts per workload (default ${DEFAULT-VALUE}).")
    int accounts;

    @Option(names = "--partitions", defaultValue = "4", description = "Partitions per topic (default ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--only", split = ",", description = "Run only these faults (names as listed in the output).")
    List<String> only = new ArrayList<>();

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "420",
            description = "Per fault, give up waiting for the output to reconcile after this long (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    private FlinkCluster cluster;
    private Path brokerDir;
    private Path dedupKeyFile;
    private int brokerPort;
    private BrokerProcess broker;

    /** One fault's job(s) as they come and go. */
    private final class Run {
        final Map<String, String> settings;
        String jobId;
        long restartsOfEarlierJobs;
        /** Writes a few more events, so a hook that fires on a record after a checkpoint gets one. */
        Runnable moreTraffic = () -> {};

        Run(Map<String, String> settings) {
            this.settings = settings;
        }

        /** Replaces the job by one submitted from {@code savepoint}, with extra job settings. */
        void resubmit(int parallelism, String savepoint, Map<String, String> extra) {
            restartsOfEarlierJobs += cluster.restarts(jobId);
            Map<String, String> all = new LinkedHashMap<>(settings);
            all.putAll(extra);
            jobId = cluster.submit(parallelism, savepoint, jobArgs(all));
        }

        long restarts() {
            return restartsOfEarlierJobs + cluster.restarts(jobId);
        }

        void log(String line) {
            System.out.println("   " + java.time.LocalTime.now().withNano(0) + " " + line);
        }
    }

    private List<Scenario> scenarios() {
        return List.of(
                new Scenario("taskmanager-kills", "kill -9 a TaskManager running the job, " + TASK_MANAGER_KILLS
                        + " times, each once the job recovered from the last", 2, Map.of(), this::killTaskManagers),
                new Scenario("fail-before-barrier", "a task fails on the first record after checkpoint 2, before the "
                        + "next barrier", 2, fault("fail-before-barrier"), run -> awaitInjected(run, false)),
                new Scenario("kill-during-snapshot", "the TaskManager of subtask 0 dies during the asynchronous part of "
                        + "checkpoint 3", 2, fault("kill-during-snapshot"), run -> awaitInjected(run, true)),
                new Scenario("kill-after-checkpoint", "the TaskManager of subtask 0 dies once checkpoint 2 completed, "
                        + "before the Kafka commit", 2, fault("kill-after-checkpoint"), run -> awaitInjected(run, true)),
                new Scenario("broker-outage", "the Kafka broker stops for " + BROKER_OUTAGE.toSeconds() + " s ("
                        + BROKER_OUTAGE.dividedBy(CHECKPOINT_INTERVAL) + " checkpoint intervals), then starts again",
                        2, Map.of(), this::brokerOutage),
                new Scenario("rescale", "stop-with-savepoint at parallelism 1, resume at 2; stop-with-savepoint, resume "
                        + "at 1", 1, Map.of(), this::rescale),
                new Scenario("same-checkpoint-twice", "cancel; restore the last retained checkpoint, cancel before "
                        + "its first checkpoint; restore the same checkpoint again", 2, Map.of(),
                        this::restoreSameCheckpointTwice));
    }

    private static Map<String, String> fault(String kind) {
        return Map.of(MeteringConfig.FAULTS_INJECT, kind, MeteringConfig.FAULTS_AFTER_CHECKPOINTS, "2");
    }

    @Override
    public Integer call() throws Exception {
        cluster = new FlinkCluster(clusterScript.toAbsolutePath(), flinkAddress);
        configFile = configFile.toAbsolutePath();
        Path work = workDir.toAbsolutePath();
        FileUtils.deleteDirectory(work.toFile());
        brokerDir = Files.createDirectories(work.resolve("kafka"));
        // The TaskManagers run on this machine as this user: they read the key file the jobs' settings name.
        dedupKeyFile = io.tokenmeter.logic.SecretSource.writeRandom(work.resolve("dedup.key"));
        brokerPort = EmbeddedKafkaBroker.freePort();

        List<Scenario> selected = scenarios().stream()
                .filter(s -> only.isEmpty() || only.contains(s.name()))
                .toList();
        if (selected.isEmpty()) {
            throw new IllegalArgumentException("--only names no fault; the faults are "
                    + scenarios().stream().map(Scenario::name).toList());
        }
        broker = BrokerProcess.start(brokerDir, brokerPort);
        System.out.println("Tokenmeter fault suite: Flink cluster at http://" + flinkAddress + ", Kafka broker (pid "
                + broker.pid() + ") at " + broker.bootstrapServers() + ", " + String.format("%,d", events)
                + " records per fault");
        Map<String, Boolean> results = new LinkedHashMap<>();
        try {
            int number = 0;
            for (Scenario scenario : selected) {
                number++;
                System.out.printf("%n== fault %d/%d %s: %s%n", number, selected.size(), scenario.name(),
                        scenario.description());
                boolean ok;
                try {
                    ok = run(scenario, number);
                } catch (Exception e) {
                    System.out.println("   ERROR " + e);
                    for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
                        System.out.println("     caused by " + cause);
                    }
                    ok = false;
                }
                results.put(scenario.name(), ok);
                System.out.println("FAULT " + scenario.name() + " " + (ok ? "OK" : "FAILED"));
                restoreTaskManagers();
            }
        } finally {
            broker.close();
        }
        System.out.println();
        results.forEach((name, ok) -> System.out.printf("  %-24s %s%n", name, ok ? "OK" : "FAILED"));
        boolean all = results.values().stream().allMatch(ok -> ok);
        System.out.println("FAULT SUITE " + (all ? "OK" : "FAILED") + " (" + results.values().stream().filter(ok -> ok)
                .count() + " of " + results.size() + " faults reconciled)");
        return all ? 0 : 1;
    }

    private boolean run(Scenario scenario, int number) throws Exception {
        Map<String, String> settings = new LinkedHashMap<>(baseSettings(scenario.name()));
        settings.putAll(scenario.jobSettings());
        MeteringConfig config = MeteringConfig.load(configFile, overrides(settings));
        KafkaTopics kafka = new KafkaTopics(broker.bootstrapServers());
        kafka.create(partitions, List.of(config.rawTopic()));
        kafka.create(partitions, config.outputTopics());

        // The workload goes in first: a job started on empty partitions would let their watermarks follow the wall
        // clock and close the workload's days before its first event. It ends a day ago, so whatever arrives after
        // the watermark followed the wall clock is still within the correction horizon.
        Instant start = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(WORKLOAD_SPAN).minus(Duration.ofDays(1));
        WorkloadSpec spec = WorkloadSpec.clean(events, accounts, 1000 + number).withRates(0.01, 0.005, 0.005)
                .during(start, WORKLOAD_SPAN, config.billingZone());
        ExpectedTotals expected = WorkloadProducer.produce(
                new WorkloadGenerator(spec), broker.bootstrapServers(), config.rawTopic(), false);

        Run run = new Run(settings);
        int[] batches = {0};
        run.moreTraffic = () -> sendTrailingEvents(spec, config, expected, "more-" + batches[0]++);
        run.log(String.format("wrote %,d records to %s", expected.totalRecords(), config.rawTopic()));
        Reconciliation reconciliation;
        List<String> open;
        long restarts;
        try {
            run.jobId = cluster.submit(scenario.parallelism(), null, jobArgs(settings));
            run.log("job " + run.jobId + " submitted at parallelism " + scenario.parallelism());
            scenario.injection().inflict(run);
            sendTrailingEvents(spec, config, expected, "trailing");
            run.log("wrote one more event to each of the " + partitions + " partitions (traffic goes on)");

            reconciliation = awaitReconciliation(kafka, config, expected);
            open = awaitNoOpenTransactions(kafka, config);
            restarts = run.restarts();
        } finally {
            // A job left running would outlive its broker, and a sink that cannot abort its transaction on a
            // later failure takes its whole TaskManager down.
            cancelIfRunning(run.jobId);
        }

        MeteringOutcome outcome = reconciliation.outcome();
        run.log(String.format("expected  billed tokens %,d · billed events %,d · account-days %,d · rejected %,d",
                expected.billedTokens(), expected.billedEvents(), expected.billedByAccountDay().size(),
                expected.rejectedRecords()));
        run.log(String.format("observed  billed tokens %,d · billed events %,d · account-days %,d (%,d differ) · "
                        + "rejected %,d · repeated record ids %,d · open transactions %s · job restarts %d",
                outcome.billedTokens(), reconciliation.billedEvents(), outcome.billedByAccountDay().size(),
                reconciliation.differingAccountDays(), outcome.rejected(), outcome.repeatedRecordIds(),
                open.isEmpty() ? "0" : open, restarts));
        MeteringOutcome.Ledger ledger = outcome.ledger();
        run.log(String.format("ledger    read %,d (raw topic %,d) = billed %,d + duplicates %,d (expected %,d) + "
                        + "rejected %,d (ledger %,d): I1 %s",
                ledger.read(), reconciliation.rawRecords(), reconciliation.billedEvents(), ledger.duplicates(),
                expected.records(GeneratedRecord.Kind.DUPLICATE), outcome.rejected(), ledger.rejected(),
                reconciliation.conserved() ? "OK" : "FAILED"));
        if (!reconciliation.ok()) {
            reconciliation.report().forEach(line -> run.log(line.strip()));
        }
        return reconciliation.ok() && open.isEmpty();
    }

    // ---- the faults ----

    private void killTaskManagers(Run run) throws Exception {
        for (int kill = 1; kill <= TASK_MANAGER_KILLS; kill++) {
            long checkpoints = cluster.completedCheckpoints(run.jobId);
            cluster.awaitCheckpoints(run.jobId, checkpoints + 2, STEP_TIMEOUT);
            List<Integer> busy = cluster.busyTaskManagers();
            if (busy.isEmpty()) {
                throw new IllegalStateException("no TaskManager runs the job");
            }
            int victim = busy.get(0);
            long restarts = cluster.restarts(run.jobId);
            long completed = cluster.completedCheckpoints(run.jobId);
            cluster.killTaskManager(victim);
            run.log("kill " + kill + ": taskmanager-" + victim + " killed with SIGKILL after " + completed
                    + " completed checkpoints");
            FlinkCluster.await(() -> cluster.restarts(run.jobId) > restarts, STEP_TIMEOUT, "the job to restart");
            cluster.awaitCheckpoints(run.jobId, completed + 1, STEP_TIMEOUT);
            run.log("kill " + kill + ": job restarted and checkpointed again (" + cluster.completedCheckpoints(run.jobId)
                    + " completed); taskmanager-" + victim + " started again");
            cluster.startTaskManager(victim);
        }
    }

    /** Waits for the hook to fire: a restart, and for a kill, a TaskManager gone. */
    private void awaitInjected(Run run, boolean killsTaskManager) throws Exception {
        // A fast job may have read the whole workload before its hook's checkpoint: keep a trickle of traffic
        // going until the hook has fired.
        long[] lastTraffic = {System.nanoTime()};
        FlinkCluster.await(() -> {
            if (cluster.restarts(run.jobId) > 0) {
                return true;
            }
            if (System.nanoTime() - lastTraffic[0] > TRAFFIC_INTERVAL.toNanos()) {
                run.moreTraffic.run();
                lastTraffic[0] = System.nanoTime();
            }
            return false;
        }, STEP_TIMEOUT, "the injected fault");
        if (killsTaskManager) {
            List<Integer> dead = deadTaskManagers();
            if (dead.isEmpty()) {
                throw new IllegalStateException("the job restarted, but no TaskManager died");
            }
            run.log("taskmanager-" + dead.get(0) + " halted by the job's fault hook; the job restarted");
        } else {
            String cause = cluster.failures(run.jobId).stream()
                    .flatMap(String::lines)
                    .filter(line -> line.contains(FaultInjection.InjectedFault.class.getSimpleName()))
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException("the job restarted, but not for the injected fault: "
                            + cluster.failures(run.jobId).stream().map(f -> f.lines().findFirst().orElse("")).toList()));
            run.log("task failed: " + cause.strip());
        }
        long completed = cluster.completedCheckpoints(run.jobId);
        cluster.awaitCheckpoints(run.jobId, completed + 1, STEP_TIMEOUT);
        run.log("job recovered: " + cluster.completedCheckpoints(run.jobId) + " checkpoints completed so far");
    }

    private void brokerOutage(Run run) throws Exception {
        cluster.awaitCheckpoints(run.jobId, 2, STEP_TIMEOUT);
        long completed = cluster.completedCheckpoints(run.jobId);
        broker.close();
        run.log("broker stopped after " + completed + " completed checkpoints");
        Thread.sleep(BROKER_OUTAGE.toMillis());
        run.log("checkpoints completed while the broker was down: " + (cluster.completedCheckpoints(run.jobId) - completed));
        broker = BrokerProcess.start(brokerDir, brokerPort);
        run.log("broker started again (pid " + broker.pid() + ") at " + broker.bootstrapServers());
        long afterRestart = cluster.completedCheckpoints(run.jobId);
        cluster.awaitCheckpoints(run.jobId, afterRestart + 1, STEP_TIMEOUT);
        run.log("job checkpoints again after the outage (" + cluster.completedCheckpoints(run.jobId) + " completed)");
    }

    private void rescale(Run run) throws Exception {
        int[] parallelisms = {2, 1};
        for (int next : parallelisms) {
            cluster.awaitCheckpoints(run.jobId, 2, STEP_TIMEOUT);
            String savepoint = cluster.stopWithSavepoint(run.jobId);
            run.log("job " + run.jobId + " stopped with savepoint " + savepoint);
            run.resubmit(next, savepoint, Map.of());
            run.log("job " + run.jobId + " resumed from it at parallelism " + next);
        }
    }

    private void restoreSameCheckpointTwice(Run run) throws Exception {
        cluster.awaitCheckpoints(run.jobId, 3, STEP_TIMEOUT);
        String first = run.jobId;
        cluster.cancel(first);
        String checkpoint = cluster.latestCheckpoint(first);
        run.log("job " + first + " cancelled; its last checkpoint " + checkpoint + " is retained");
        // The first restore writes output but never completes a checkpoint, so nothing of it may become visible.
        // Flink starts the first checkpoint at a random point between min-pause and interval: both at 9 min put it
        // well after the cancel (and inside the 10 min transaction timeout).
        run.resubmit(2, checkpoint, Map.of(MeteringConfig.CHECKPOINT_INTERVAL, "9 min",
                MeteringConfig.CHECKPOINT_MIN_PAUSE, "9 min"));
        FlinkCluster.await(() -> "RUNNING".equals(cluster.jobState(run.jobId)), STEP_TIMEOUT, "the first restore to run");
        Thread.sleep(CHECKPOINT_INTERVAL.multipliedBy(4).toMillis());
        long checkpointsOfFirstRestore = cluster.completedCheckpoints(run.jobId);
        cluster.cancel(run.jobId);
        if (checkpointsOfFirstRestore > 0) {
            throw new IllegalStateException("the first restore completed " + checkpointsOfFirstRestore
                    + " checkpoints before it was cancelled; the scenario needs it to complete none");
        }
        run.log("restore 1: job " + run.jobId + " ran " + CHECKPOINT_INTERVAL.multipliedBy(4).toSeconds()
                + " s, completed " + checkpointsOfFirstRestore + " checkpoints, cancelled");
        run.resubmit(2, checkpoint, Map.of());
        run.log("restore 2: job " + run.jobId + " from the same checkpoint");
    }

    // ---- helpers ----

    /**
     * Writes a new event to every raw partition after the fault, as gateways keep sending, each at the end of the
     * workload's span and added to the expected totals. A restored job moves a partition's watermark only once that
     * partition delivered an event again (watermarks are not in checkpoints): without new traffic, a job restored
     * after it had read everything would never close the workload's last days.
     */
    private void sendTrailingEvents(WorkloadSpec spec, MeteringConfig config, ExpectedTotals expected, String batch) {
        WorkloadGenerator generator = new WorkloadGenerator(spec);
        GeneratedRecord last = null;
        for (long i = spec.events() - 1; i >= 0 && last == null; i--) {
            GeneratedRecord record = generator.record(i);
            if (record.kind() == GeneratedRecord.Kind.VALID) {
                last = record;
            }
        }
        if (last == null) {
            throw new IllegalStateException("the workload has no valid event to follow");
        }
        AvroCodec<UsageEvent> codec = AvroCodec.usageEvents();
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int partition = 0; partition < partitions; partition++) {
                UsageEvent event = UsageEvent.newBuilder(last.event())
                        .setEventId(last.event().getEventId() + "-" + batch + "-" + partition)
                        .setEventTime(spec.start().plus(spec.span()))
                        .build();
                byte[] value = codec.encode(event);
                producer.send(new ProducerRecord<>(config.rawTopic(), partition,
                        last.key().getBytes(StandardCharsets.UTF_8), value)).get();
                expected.add(new GeneratedRecord(last.key(), value, GeneratedRecord.Kind.VALID, event));
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot write the trailing events", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private Map<String, String> baseSettings(String name) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put(MeteringConfig.BOOTSTRAP_SERVERS, "127.0.0.1:" + brokerPort);
        String prefix = "faults." + name + ".";
        s.put(MeteringConfig.RAW_TOPIC, prefix + "usage.raw");
        s.put(MeteringConfig.BILLING_TOPIC, prefix + "billing.records");
        s.put(MeteringConfig.REJECTED_TOPIC, prefix + "usage.rejected");
        s.put(MeteringConfig.ACCOUNT_USAGE_TOPIC, prefix + "usage.account");
        s.put(MeteringConfig.REGIONAL_USAGE_TOPIC, prefix + "usage.regional");
        s.put(MeteringConfig.NATIONAL_USAGE_TOPIC, prefix + "usage.national");
        s.put(MeteringConfig.LEDGER_TOPIC, prefix + "ledger");
        s.put(MeteringConfig.CONSUMER_GROUP, "faults-" + name);
        s.put(MeteringConfig.TRANSACTIONAL_ID_PREFIX, "faults-" + name);
        s.put(MeteringConfig.CHECKPOINT_INTERVAL, CHECKPOINT_INTERVAL.toSeconds() + " s");
        // Days close once the input has been quiet this long.
        s.put(MeteringConfig.SOURCE_IDLENESS, "5 s");
        s.put(MeteringConfig.DEDUP_KEY_FILE, dedupKeyFile.toString());
        return s;
    }

    private static List<String> overrides(Map<String, String> settings) {
        return settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }

    private List<String> jobArgs(Map<String, String> settings) {
        List<String> args = new ArrayList<>(List.of("--config", configFile.toString()));
        for (String override : overrides(settings)) {
            args.add("--set");
            args.add(override);
        }
        return args;
    }

    /**
     * Waits until the outputs stop growing, then reconciles them with the workload; repeats while they do not agree
     * (the job may be restarting) until the timeout. Conservation (I1) is checked from the outputs alone: the job's
     * ledger topic, committed with the records it counts, against the raw topic, billing records and rejected topic.
     */
    private Reconciliation awaitReconciliation(KafkaTopics kafka, MeteringConfig config, ExpectedTotals expected)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(timeoutSeconds).toNanos();
        long rawRecords = kafka.countRecords(config.rawTopic());
        long lastSize = -1;
        int quietPolls = 0;
        while (true) {
            Thread.sleep(CHECKPOINT_INTERVAL.toMillis());
            long size = 0;
            for (String topic : config.outputTopics()) {
                size += kafka.countRecords(topic);
            }
            quietPolls = size == lastSize ? quietPolls + 1 : 0;
            lastSize = size;
            boolean timedOut = System.nanoTime() > deadline;
            if (quietPolls >= 3 || timedOut) {
                Reconciliation reconciliation =
                        Reconciliation.of(expected, MeteringOutcome.read(kafka, config), rawRecords);
                if (reconciliation.ok() || timedOut) {
                    return reconciliation;
                }
                quietPolls = 0;
            }
        }
    }

    /** Output partitions with a transaction still open, after a few checkpoints' grace for the last one. */
    private static List<String> awaitNoOpenTransactions(KafkaTopics kafka, MeteringConfig config)
            throws InterruptedException {
        List<String> open = new ArrayList<>();
        for (int attempt = 0; attempt < 10; attempt++) {
            open.clear();
            for (String topic : config.outputTopics()) {
                kafka.partitionsWithOpenTransactions(topic).forEach(tp -> open.add(tp.toString()));
            }
            if (open.isEmpty()) {
                break;
            }
            Thread.sleep(CHECKPOINT_INTERVAL.toMillis());
        }
        return open;
    }

    private void cancelIfRunning(String jobId) {
        if (jobId != null && !List.of("CANCELED", "FINISHED", "FAILED").contains(cluster.jobState(jobId))) {
            cluster.cancel(jobId);
        }
    }

    private List<Integer> deadTaskManagers() {
        List<Integer> dead = new ArrayList<>();
        for (int i = 1; i <= TASK_MANAGERS; i++) {
            if (!cluster.taskManagerAlive(i)) {
                dead.add(i);
            }
        }
        return dead;
    }

    /** Starts again every TaskManager a fault took down, so each fault meets the full cluster. */
    private void restoreTaskManagers() {
        for (int i : deadTaskManagers()) {
            cluster.startTaskManager(i);
            System.out.println("   taskmanager-" + i + " started again");
        }
    }
}
