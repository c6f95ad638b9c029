package io.tokenmeter.local;

import com.fasterxml.jackson.databind.JsonNode;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.functions.FaultInjection;
import io.tokenmeter.logic.UsageTotals;
import io.tokenmeter.logic.ingest.SecretSource;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.schema.DecodeException;
import io.tokenmeter.testkit.Await;
import io.tokenmeter.testkit.EmbeddedKafkaBroker;
import io.tokenmeter.testkit.ExpectedTotals;
import io.tokenmeter.testkit.ExpectedTotals.AccountDay;
import io.tokenmeter.testkit.GeneratedRecord;
import io.tokenmeter.testkit.KafkaTopics;
import io.tokenmeter.testkit.MeteringOutcome;
import io.tokenmeter.testkit.OwnTopics;
import io.tokenmeter.testkit.Reconciliation;
import io.tokenmeter.testkit.WorkloadGenerator;
import io.tokenmeter.testkit.WorkloadProducer;
import io.tokenmeter.testkit.WorkloadSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import javax.annotation.Nullable;
import org.apache.flink.util.FileUtils;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * I4 under the faults a cluster sees: the metering job on a real multi-process Flink cluster,
 * against a Kafka broker in its own process, each fault on a fresh seeded workload, each reconciled
 * with the workload afterwards — billed tokens per account and day exactly as expected, no billing
 * record id twice, no Kafka transaction left open.
 *
 * <p>The cluster is given (scripts/fault-suite.sh starts one with scripts/cluster.sh); the suite
 * drives it through the same script and starts, stops and restarts the broker itself.
 */
@Command(
        name = "faults",
        mixinStandardHelpOptions = true,
        description =
                "Runs the fault suite against a Flink session cluster and a broker process it starts.")
final class FaultSuite implements Callable<Integer> {

    /** A fault and how it is inflicted on a running job. */
    private record Scenario(
            String name,
            String description,
            int parallelism,
            Map<String, String> jobSettings,
            Injection injection,
            @Nullable Supplier<OwnWorkload> ownWorkload) {

        Scenario(
                String name,
                String description,
                int parallelism,
                Map<String, String> jobSettings,
                Injection injection) {
            this(name, description, parallelism, jobSettings, injection, null);
        }
    }

    @FunctionalInterface
    private interface Injection {
        void inflict(Run run) throws Exception;
    }

    /**
     * A fault that brings its own workload instead of the suite's: job settings decided when the
     * fault starts (event times near the wall clock need them), the records written before the job
     * starts, the fault itself, and checks of its own on top of the reconciliation.
     */
    private interface OwnWorkload extends Injection {
        Map<String, String> settings();

        /**
         * Writes what the job finds on its raw topic when it starts; returns the spec the trailing
         * events follow.
         */
        WorkloadSpec produce(MeteringConfig config, ExpectedTotals expected);

        /** What is wrong with the output beyond the reconciliation; empty when nothing is. */
        List<String> problems(
                KafkaTopics kafka, MeteringConfig config, Reconciliation reconciliation, Run run);
    }

    private static final Duration WORKLOAD_SPAN = Duration.ofDays(2);
    private static final Duration CHECKPOINT_INTERVAL = Duration.ofSeconds(2);
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(180);

    /** How long to wait for a fault hook before writing a few more events. */
    private static final Duration TRAFFIC_INTERVAL = Duration.ofSeconds(5);

    private static final Duration BROKER_OUTAGE = CHECKPOINT_INTERVAL.multipliedBy(5);
    private static final int TASK_MANAGER_KILLS = 3;

    /**
     * replay-with-stall: the source idleness, and how long the broker stays down (before its ~10 s
     * start-up).
     */
    /**
     * How long a halted TaskManager's process may take to exit once the job restarted without it.
     */
    private static final Duration TASK_MANAGER_EXIT = Duration.ofSeconds(30);

    /** How long the job's exception history may take to record a failure once it restarted. */
    private static final Duration FAILURE_RECORDED = Duration.ofSeconds(30);

    /**
     * How far past the previous day's correction deadline the wall clock goes in quiet-then-restore
     * before the watermark, following it 5 s behind, surely passed the deadline too.
     */
    private static final Duration QUIET_WATERMARK_LAG = Duration.ofSeconds(30);

    private static final Duration REPLAY_IDLENESS = Duration.ofSeconds(5);
    private static final Duration REPLAY_STALL = REPLAY_IDLENESS.multipliedBy(3);
    private static final String ACCOUNT_OPERATOR_NAME = "Bill and meter usage per account";

    /**
     * quiet-then-restore: at most this many events, so that the job has read them all well before
     * midnight.
     */
    private static final long LIVE_EVENTS = 30_000;

    private static final int TASK_MANAGERS = 2;

    @Option(
            names = "--flink-address",
            required = true,
            description = "REST address of the Flink cluster, host:port.")
    String flinkAddress;

    @Option(
            names = "--cluster-script",
            defaultValue = "scripts/cluster.sh",
            description = "Default ${DEFAULT-VALUE}.")
    Path clusterScript;

    @Option(
            names = "--config",
            defaultValue = "config/metering.yaml",
            description = "Job configuration (default ${DEFAULT-VALUE}).")
    Path configFile;

    @Option(
            names = "--work-dir",
            defaultValue = "target/fault-suite",
            description = "Broker data and logs (default ${DEFAULT-VALUE}).")
    Path workDir;

    @Option(
            names = "--events",
            defaultValue = "100000",
            description = "Records per fault (default ${DEFAULT-VALUE}).")
    long events;

    @Option(
            names = "--accounts",
            defaultValue = "5000",
            description = "Accounts per workload (default ${DEFAULT-VALUE}).")
    int accounts;

    @Option(
            names = "--partitions",
            defaultValue = "4",
            description = "Partitions per topic (default ${DEFAULT-VALUE}).")
    int partitions;

    @Option(
            names = "--only",
            split = ",",
            description = "Run only these faults (names as listed in the output).")
    List<String> only = new ArrayList<>();

    @Option(
            names = "--timeout",
            paramLabel = "SECONDS",
            defaultValue = "420",
            description =
                    "Per fault, give up waiting for the output to reconcile after this long (default ${DEFAULT-VALUE}).")
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

        /**
         * Writes a few more events, so a hook that fires on a record after a checkpoint gets one.
         */
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
            System.out.println("   " + LocalTime.now().withNano(0) + " " + line);
        }
    }

    private List<Scenario> scenarios() {
        return List.of(
                new Scenario(
                        "taskmanager-kills",
                        "kill -9 a TaskManager running the job, "
                                + TASK_MANAGER_KILLS
                                + " times, each once the job recovered from the last",
                        2,
                        Map.of(),
                        this::killTaskManagers),
                new Scenario(
                        "fail-before-barrier",
                        "a task fails on the first record after checkpoint 2, before the "
                                + "next barrier",
                        2,
                        fault("fail-before-barrier"),
                        run -> awaitInjected(run, false)),
                new Scenario(
                        "kill-during-snapshot",
                        "the TaskManager of subtask 0 dies during the asynchronous part of "
                                + "checkpoint 3",
                        2,
                        fault("kill-during-snapshot"),
                        run -> awaitInjected(run, true)),
                new Scenario(
                        "kill-after-checkpoint",
                        "the TaskManager of subtask 0 dies once checkpoint 2 completed, "
                                + "before the Kafka commit",
                        2,
                        fault("kill-after-checkpoint"),
                        run -> awaitInjected(run, true)),
                new Scenario(
                        "broker-outage",
                        "the Kafka broker stops for "
                                + BROKER_OUTAGE.toSeconds()
                                + " s ("
                                + BROKER_OUTAGE.dividedBy(CHECKPOINT_INTERVAL)
                                + " checkpoint intervals), then starts again",
                        2,
                        Map.of(),
                        this::brokerOutage),
                new Scenario(
                        "rescale",
                        "stop-with-savepoint at parallelism 1, resume at 2; stop-with-savepoint, resume "
                                + "at 1",
                        1,
                        Map.of(),
                        this::rescale),
                new Scenario(
                        "same-checkpoint-twice",
                        "cancel; restore the last retained checkpoint, cancel before "
                                + "its first checkpoint; restore the same checkpoint again",
                        2,
                        Map.of(),
                        this::restoreSameCheckpointTwice),
                new Scenario(
                        "quiet-then-restore",
                        "live traffic stops before a billing midnight; the hour and the "
                                + "day close and the day before reaches its correction deadline while no record arrives; "
                                + "stop-with-savepoint, restore, then stragglers for those days as the first records of "
                                + "every partition",
                        2,
                        Map.of(),
                        null,
                        QuietThenRestore::new),
                new Scenario(
                        "replay-with-stall",
                        "a 3-day backlog ending a day ago, with producer retries 26-34 h "
                                + "after their first delivery, replayed; the broker stops for "
                                + REPLAY_STALL.toSeconds()
                                + " s ("
                                + REPLAY_STALL.dividedBy(REPLAY_IDLENESS)
                                + " source "
                                + "idleness timeouts) once the job has read the first 40 %, then starts again and the rest "
                                + "arrives",
                        2,
                        Map.of(),
                        null,
                        ReplayWithStall::new));
    }

    private static Map<String, String> fault(String kind) {
        return Map.of("faults.inject", kind, "faults.after-checkpoints", "2");
    }

    @Override
    public Integer call() throws Exception {
        cluster = new FlinkCluster(clusterScript.toAbsolutePath(), flinkAddress);
        configFile = configFile.toAbsolutePath();
        Path work = workDir.toAbsolutePath();
        FileUtils.deleteDirectory(work.toFile());
        brokerDir = Files.createDirectories(work.resolve("kafka"));
        // The TaskManagers run on this machine as this user: they read the key file the jobs'
        // settings name.
        dedupKeyFile = SecretSource.writeRandom(work.resolve("dedup.key"));
        brokerPort = EmbeddedKafkaBroker.freePort();

        List<Scenario> selected =
                scenarios().stream()
                        .filter(s -> only.isEmpty() || only.contains(s.name()))
                        .toList();
        if (selected.isEmpty()) {
            throw new IllegalArgumentException(
                    "--only names no fault; the faults are "
                            + scenarios().stream().map(Scenario::name).toList());
        }
        broker = BrokerProcess.start(brokerDir, brokerPort);
        System.out.println(
                "Tokenmeter fault suite: Flink cluster at http://"
                        + flinkAddress
                        + ", Kafka broker (pid "
                        + broker.pid()
                        + ") at "
                        + broker.bootstrapServers()
                        + ", "
                        + String.format("%,d", events)
                        + " records per fault");
        Map<String, Boolean> results = new LinkedHashMap<>();
        try {
            int number = 0;
            for (Scenario scenario : selected) {
                number++;
                System.out.printf(
                        "%n== fault %d/%d %s: %s%n",
                        number, selected.size(), scenario.name(), scenario.description());
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
        results.forEach(
                (name, ok) -> System.out.printf("  %-24s %s%n", name, ok ? "OK" : "FAILED"));
        boolean all = results.values().stream().allMatch(ok -> ok);
        System.out.println(
                "FAULT SUITE "
                        + (all ? "OK" : "FAILED")
                        + " ("
                        + results.values().stream().filter(ok -> ok).count()
                        + " of "
                        + results.size()
                        + " faults reconciled)");
        return all ? 0 : 1;
    }

    private boolean run(Scenario scenario, int number) throws Exception {
        OwnWorkload own = scenario.ownWorkload() == null ? null : scenario.ownWorkload().get();
        Map<String, String> settings = new LinkedHashMap<>(baseSettings(scenario.name()));
        settings.putAll(scenario.jobSettings());
        if (own != null) {
            settings.putAll(own.settings());
        }
        MeteringConfig config = MeteringConfig.load(configFile, overrides(settings));
        KafkaTopics kafka = KafkaTopics.of(config);
        kafka.create(partitions, List.of(config.kafka().topics().raw()));
        kafka.create(partitions, config.outputTopics());

        // The workload goes in first, a backlog that ends a day ago (well within the correction
        // horizon by the wall clock); the job's drained savepoint at the end of the input closes
        // its last days.
        WorkloadSpec spec;
        ExpectedTotals expected;
        if (own != null) {
            expected = new ExpectedTotals(config.billing().timeZone());
            spec = own.produce(config, expected);
        } else {
            Instant start =
                    Instant.now()
                            .truncatedTo(ChronoUnit.HOURS)
                            .minus(WORKLOAD_SPAN)
                            .minus(Duration.ofDays(1));
            spec =
                    WorkloadSpec.clean(events, accounts, 1000 + number)
                            .withRates(0.01, 0.005, 0.005)
                            .during(start, WORKLOAD_SPAN, config.billing().timeZone());
            expected =
                    WorkloadProducer.produce(
                            new WorkloadGenerator(spec),
                            config.kafka().clients(),
                            broker.bootstrapServers(),
                            config.kafka().topics().raw(),
                            false);
        }

        Run run = new Run(settings);
        int[] batches = {0};
        run.moreTraffic = () -> sendTrailingEvents(spec, config, expected, "more-" + batches[0]++);
        run.log(
                String.format(
                        "wrote %,d records to %s",
                        expected.totalRecords(), config.kafka().topics().raw()));
        Reconciliation reconciliation;
        List<String> open;
        long restarts;
        List<String> problems = List.of();
        try {
            run.jobId = cluster.submit(scenario.parallelism(), null, jobArgs(settings));
            run.log("job " + run.jobId + " submitted at parallelism " + scenario.parallelism());
            (own != null ? own : scenario.injection()).inflict(run);
            sendTrailingEvents(spec, config, expected, "trailing");
            run.log(
                    "wrote one more event to each of the "
                            + partitions
                            + " partitions (traffic goes on)");
            if (own == null) {
                // The workload is a backlog (it ends a day ago): gone quiet, it never closes its
                // last days by the wall clock (I9). Once all of it is read, its end does: a drained
                // savepoint.
                kafka.awaitConsumed(
                        config.kafka().consumerGroup(),
                        config.kafka().topics().raw(),
                        Duration.ofSeconds(timeoutSeconds));
                String savepoint = cluster.drain(run.jobId);
                run.log(
                        "input read; job stopped with a drained savepoint "
                                + savepoint
                                + " (the end of the input)");
            }

            reconciliation = awaitReconciliation(kafka, config, expected);
            open = awaitNoOpenTransactions(kafka, config);
            restarts = run.restarts();
            if (own != null) {
                problems = own.problems(kafka, config, reconciliation, run);
            }
        } finally {
            // A job left running would outlive its broker, and a sink that cannot abort its
            // transaction on a later failure takes its whole TaskManager down.
            cancelIfRunning(run.jobId);
        }

        MeteringOutcome outcome = reconciliation.outcome();
        run.log(
                String.format(
                        "expected  billed tokens %,d · billed events %,d · account-days %,d · rejected %,d",
                        expected.billedTokens(),
                        expected.billedEvents(),
                        expected.billedByAccountDay().size(),
                        expected.rejectedRecords()));
        run.log(
                String.format(
                        "observed  billed tokens %,d · billed events %,d · account-days %,d (%,d differ) · "
                                + "rejected %,d · repeated record ids %,d · open transactions %s · job restarts %d",
                        outcome.billedTokens(),
                        reconciliation.billedEvents(),
                        outcome.billedByAccountDay().size(),
                        reconciliation.differingAccountDays(),
                        outcome.rejected(),
                        outcome.repeatedRecordIds(),
                        open.isEmpty() ? "0" : open,
                        restarts));
        MeteringOutcome.Ledger ledger = outcome.ledger();
        run.log(
                String.format(
                        "ledger    read %,d (raw topic %,d) = billed %,d + duplicates %,d (expected %,d) + "
                                + "rejected %,d (ledger %,d): I1 %s",
                        ledger.read(),
                        reconciliation.rawRecords(),
                        reconciliation.billedEvents(),
                        ledger.duplicates(),
                        expected.records(GeneratedRecord.Kind.DUPLICATE),
                        outcome.rejected(),
                        ledger.rejected(),
                        reconciliation.conserved() ? "OK" : "FAILED"));
        if (!reconciliation.ok()) {
            reconciliation.report().forEach(line -> run.log(line.strip()));
        }
        problems.forEach(problem -> run.log("FAILED: " + problem));
        return reconciliation.ok() && open.isEmpty() && problems.isEmpty();
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
            run.log(
                    "kill "
                            + kill
                            + ": taskmanager-"
                            + victim
                            + " killed with SIGKILL after "
                            + completed
                            + " completed checkpoints");
            FlinkCluster.await(
                    () -> cluster.restarts(run.jobId) > restarts,
                    STEP_TIMEOUT,
                    "the job to restart");
            cluster.awaitCheckpoints(run.jobId, completed + 1, STEP_TIMEOUT);
            run.log(
                    "kill "
                            + kill
                            + ": job restarted and checkpointed again ("
                            + cluster.completedCheckpoints(run.jobId)
                            + " completed); taskmanager-"
                            + victim
                            + " started again");
            cluster.startTaskManager(victim);
        }
    }

    /** Waits for the hook to fire: a restart, and for a kill, a TaskManager gone. */
    private void awaitInjected(Run run, boolean killsTaskManager) throws Exception {
        // A fast job may have read the whole workload before its hook's checkpoint: keep a trickle
        // of traffic going until the hook has fired.
        long[] lastTraffic = {System.nanoTime()};
        FlinkCluster.await(
                () -> {
                    if (cluster.restarts(run.jobId) > 0) {
                        return true;
                    }
                    if (System.nanoTime() - lastTraffic[0] > TRAFFIC_INTERVAL.toNanos()) {
                        run.moreTraffic.run();
                        lastTraffic[0] = System.nanoTime();
                    }
                    return false;
                },
                STEP_TIMEOUT,
                "the injected fault");
        if (killsTaskManager) {
            // The JobManager sees a halted TaskManager's connection drop while the process may
            // still be exiting (seen under load: the restart came before its pid was gone).
            try {
                FlinkCluster.await(
                        () -> !deadTaskManagers().isEmpty(),
                        TASK_MANAGER_EXIT,
                        "a TaskManager to exit");
            } catch (TimeoutException e) {
                throw new IllegalStateException(
                        "the job restarted, but no TaskManager died within "
                                + TASK_MANAGER_EXIT.toSeconds()
                                + " s");
            }
            run.log(
                    "taskmanager-"
                            + deadTaskManagers().get(0)
                            + " halted by the job's fault hook; the job restarted");
        } else {
            // The restart can show before the exception history holds its cause (seen once in CI:
            // an empty history right after the restart); the cause is judged below either way.
            try {
                FlinkCluster.await(
                        () -> !cluster.failures(run.jobId).isEmpty(),
                        FAILURE_RECORDED,
                        "the job's exception history to record the failure");
            } catch (TimeoutException e) {
                // reported below, with what the history holds
            }
            String cause =
                    cluster.failures(run.jobId).stream()
                            .flatMap(String::lines)
                            .filter(
                                    line ->
                                            line.contains(
                                                    FaultInjection.InjectedFault.class
                                                            .getSimpleName()))
                            .findFirst()
                            .orElseThrow(
                                    () ->
                                            new IllegalStateException(
                                                    "the job restarted, but not for the injected fault: "
                                                            + cluster.failures(run.jobId).stream()
                                                                    .map(
                                                                            f ->
                                                                                    f.lines()
                                                                                            .findFirst()
                                                                                            .orElse(
                                                                                                    ""))
                                                                    .toList()));
            run.log("task failed: " + cause.strip());
        }
        long completed = cluster.completedCheckpoints(run.jobId);
        cluster.awaitCheckpoints(run.jobId, completed + 1, STEP_TIMEOUT);
        run.log(
                "job recovered: "
                        + cluster.completedCheckpoints(run.jobId)
                        + " checkpoints completed so far");
    }

    private void brokerOutage(Run run) throws Exception {
        cluster.awaitCheckpoints(run.jobId, 2, STEP_TIMEOUT);
        long completed = cluster.completedCheckpoints(run.jobId);
        broker.close();
        run.log("broker stopped after " + completed + " completed checkpoints");
        Thread.sleep(BROKER_OUTAGE.toMillis());
        run.log(
                "checkpoints completed while the broker was down: "
                        + (cluster.completedCheckpoints(run.jobId) - completed));
        broker = BrokerProcess.start(brokerDir, brokerPort);
        run.log("broker started again (pid " + broker.pid() + ") at " + broker.bootstrapServers());
        long afterRestart = cluster.completedCheckpoints(run.jobId);
        cluster.awaitCheckpoints(run.jobId, afterRestart + 1, STEP_TIMEOUT);
        run.log(
                "job checkpoints again after the outage ("
                        + cluster.completedCheckpoints(run.jobId)
                        + " completed)");
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
        // The first restore writes output but never completes a checkpoint, so nothing of it may
        // become visible. Flink starts the first checkpoint at a random point between min-pause and
        // interval: both at 9 min put it well after the cancel (and inside the 10 min transaction
        // timeout).
        run.resubmit(
                2,
                checkpoint,
                Map.of("checkpoints.interval", "9 min", "checkpoints.min-pause", "9 min"));
        FlinkCluster.await(
                () -> "RUNNING".equals(cluster.jobState(run.jobId)),
                STEP_TIMEOUT,
                "the first restore to run");
        Thread.sleep(CHECKPOINT_INTERVAL.multipliedBy(4).toMillis());
        long checkpointsOfFirstRestore = cluster.completedCheckpoints(run.jobId);
        cluster.cancel(run.jobId);
        if (checkpointsOfFirstRestore > 0) {
            throw new IllegalStateException(
                    "the first restore completed "
                            + checkpointsOfFirstRestore
                            + " checkpoints before it was cancelled; the scenario needs it to complete none");
        }
        run.log(
                "restore 1: job "
                        + run.jobId
                        + " ran "
                        + CHECKPOINT_INTERVAL.multipliedBy(4).toSeconds()
                        + " s, completed "
                        + checkpointsOfFirstRestore
                        + " checkpoints, cancelled");
        run.resubmit(2, checkpoint, Map.of());
        run.log("restore 2: job " + run.jobId + " from the same checkpoint");
    }

    /**
     * quiet-then-restore (issue 13, item 1; I8): live traffic up to a billing midnight a minute
     * ahead, then nothing. The last hour and the day close, and the day before reaches its
     * correction deadline, by the wall clock alone (the idle-aware watermark follows it on quiet
     * partitions); stop-with-savepoint, restore; then, as the first records of every partition, a
     * straggler for the forgotten day (must be TOO_LATE) and one for the closed hour (must be an
     * ADJUSTMENT). No ORIGINAL row may repeat an id on any output topic.
     */
    private final class QuietThenRestore implements OwnWorkload {

        private final TimeWorkloads.Live live =
                new TimeWorkloads.Live(Math.min(events, LIVE_EVENTS), accounts, 2013);
        private final List<List<GeneratedRecord>> stragglers = live.stragglers(partitions);
        private MeteringConfig config;
        private ExpectedTotals expected;
        private List<UsageEvent> lastFirstDeliveries;

        @Override
        public Map<String, String> settings() {
            Map<String, String> s = new LinkedHashMap<>();
            s.put("billing.time-zone", live.zone.getId());
            // The hour and the day then close at the same instant, so every rollup saw its rows
            // before it.
            s.put("billing.day-close-grace", "0 s");
            s.put("billing.correction-horizon", live.correctionHorizon().toSeconds() + " s");
            s.put("event-time.out-of-orderness", "2 s");
            s.put("event-time.source-idleness", "3 s");
            return s;
        }

        @Override
        public WorkloadSpec produce(MeteringConfig config, ExpectedTotals expected) {
            this.config = config;
            this.expected = expected;
            WorkloadGenerator generator = new WorkloadGenerator(live.spec);
            List<GeneratedRecord> records = new ArrayList<>();
            for (long i = 0; i < live.spec.events(); i++) {
                records.add(generator.record(i));
            }
            TimeWorkloads.write(records, -1, config, expected);
            lastFirstDeliveries = TimeWorkloads.lastFirstDeliveries(records, partitions);
            return live.spec;
        }

        @Override
        public void inflict(Run run) throws Exception {
            run.log(
                    "billing midnight "
                            + live.midnight
                            + " (zone "
                            + live.zone
                            + ", "
                            + live.closingDay()
                            + " ends), "
                            + (live.midnight.getEpochSecond() - Instant.now().getEpochSecond())
                            + " s from now; the workload's events end before it; the day before takes corrections until "
                            + live.previousDayDeadline());
            // Read too slowly, the previous day's late events would meet its deadline on the wall
            // clock and be TOO_LATE at the source: not what this fault is about.
            long deadline = live.previousDayDeadline().toEpochMilli();
            try {
                KafkaTopics.of(config)
                        .awaitConsumed(
                                config.kafka().consumerGroup(),
                                config.kafka().topics().raw(),
                                Duration.ofMillis(
                                        Math.max(0, deadline - System.currentTimeMillis())));
            } catch (IllegalStateException e) {
                throw new IllegalStateException(
                        "the job had not read the workload by the previous day's correction "
                                + "deadline; this machine is too slow for this fault as it stands",
                        e);
            }
            run.log(
                    "job read the whole workload and checkpointed, "
                            + (live.midnight.toEpochMilli() - System.currentTimeMillis()) / 1000
                            + " s before midnight");
            // Quiet, the watermark follows the wall clock (out-of-orderness and idleness behind
            // it).
            // The web monitor at times reports no watermark at all for minutes once TaskManagers
            // were replaced by earlier faults: then, with the wall clock well past the deadline,
            // go on and let the stragglers' verdicts below tell whether the day was forgotten.
            long wallClockPastDeadline = deadline + QUIET_WATERMARK_LAG.toMillis();
            long[] seen = {Long.MIN_VALUE};
            try {
                FlinkCluster.await(
                        () -> {
                            seen[0] = accountWatermark(run.jobId);
                            return seen[0] > deadline
                                    || (seen[0] == Long.MIN_VALUE
                                            && System.currentTimeMillis() > wallClockPastDeadline);
                        },
                        STEP_TIMEOUT,
                        "the account operator's watermark to pass the previous day's correction"
                                + " deadline");
            } catch (TimeoutException e) {
                throw new IllegalStateException(
                        "the account operator's watermark stayed at "
                                + Instant.ofEpochMilli(seen[0])
                                + ", before the previous day's correction deadline "
                                + live.previousDayDeadline(),
                        e);
            }
            long watermark = seen[0];
            cluster.awaitCheckpoints(
                    run.jobId, cluster.completedCheckpoints(run.jobId) + 1, STEP_TIMEOUT);
            long originals = originalsOf(live.closingDay());
            run.log(
                    "quiet: account watermark "
                            + (watermark == Long.MIN_VALUE
                                    ? "not reported by the web monitor (wall clock "
                                            + (System.currentTimeMillis() - deadline) / 1000
                                            + " s past the deadline)"
                                    : Instant.ofEpochMilli(watermark)
                                            + " (wall clock "
                                            + (System.currentTimeMillis() - watermark) / 1000
                                            + " s ahead)")
                            + ", past midnight and the previous "
                            + "day's deadline with no event after midnight; "
                            + originals
                            + " ORIGINAL billing records for "
                            + live.closingDay());
            if (originals == 0) {
                throw new IllegalStateException("the day did not close while the input was quiet");
            }
            String savepoint = cluster.stopWithSavepoint(run.jobId);
            run.log("job " + run.jobId + " stopped with savepoint " + savepoint);
            run.resubmit(2, savepoint, Map.of());
            run.log("job " + run.jobId + " resumed from it at parallelism 2");
            for (int p = 0; p < partitions; p++) {
                TimeWorkloads.write(stragglers.get(p), p, config, expected);
            }
            run.log(
                    "stragglers, the first records of each of the "
                            + partitions
                            + " partitions: an event for "
                            + live.closingDay().minusDays(1)
                            + " (past its correction deadline) and one for the last hour of "
                            + live.closingDay()
                            + " (closed), each of an account, model and modality already billed");
            writeClockEvents(run, lastFirstDeliveries, config, expected);
        }

        @Override
        public List<String> problems(
                KafkaTopics kafka, MeteringConfig config, Reconciliation reconciliation, Run run) {
            List<String> problems = new ArrayList<>();
            OriginalRowIds ids = OriginalRowIds.read(kafka, config);
            run.log("ORIGINAL rows repeating an id: " + ids.summary());
            if (ids.total() > 0) {
                problems.add(
                        ids.total()
                                + " ORIGINAL rows repeat the id of an earlier one (a closed window opened "
                                + "again): "
                                + ids.summary()
                                + "; e.g. "
                                + ids.samples());
            }
            Map<AccountDay, UsageTotals> billed = reconciliation.outcome().billedByAccountDay();
            long tooLateBilled = 0;
            List<AccountDay> lateUnadjusted = new ArrayList<>();
            Set<AccountDay> adjusted = adjustedAccountDays(kafka, config);
            for (List<GeneratedRecord> batch : stragglers) {
                for (GeneratedRecord r : batch) {
                    AccountDay key =
                            new AccountDay(
                                    r.event().getAccountId(),
                                    LocalDate.ofInstant(r.event().getEventTime(), live.zone));
                    if (r.kind() == GeneratedRecord.Kind.TOO_LATE) {
                        long want = expected.billedByAccountDay().get(key).events;
                        tooLateBilled += billed.getOrDefault(key, new UsageTotals()).events - want;
                    } else if (!adjusted.contains(key)) {
                        lateUnadjusted.add(key);
                    }
                }
            }
            run.log(
                    "stragglers: "
                            + tooLateBilled
                            + " past the deadline billed (expected 0, TOO_LATE), "
                            + lateUnadjusted.size()
                            + " for the closed hour without an ADJUSTMENT of their day (expected 0)");
            if (tooLateBilled != 0) {
                problems.add(
                        tooLateBilled
                                + " stragglers for a day past its correction deadline were billed "
                                + "(the day was forgotten at its deadline and opened again) instead of rejected as TOO_LATE");
            }
            if (!lateUnadjusted.isEmpty()) {
                problems.add(
                        "stragglers for the closed hour not billed as an ADJUSTMENT of their day: "
                                + lateUnadjusted);
            }
            return problems;
        }

        private long originalsOf(LocalDate day) {
            long[] n = {0};
            AvroCodec<BillingRecord> codec = AvroCodec.billingRecords();
            KafkaTopics.of(config)
                    .readCommitted(
                            config.kafka().topics().billing(),
                            r -> {
                                BillingRecord b = decodeBilling(codec, r.value());
                                if (b.getKind() == BillingRecordKind.ORIGINAL
                                        && b.getBillingDay().equals(day)) {
                                    n[0]++;
                                }
                            });
            return n[0];
        }
    }

    /**
     * replay-with-stall (issue 13, item 2; I9): a 3-day backlog ending a day ago, with producer
     * retries a day or more after their first delivery (inside a 36 h dedup horizon). The job reads
     * its first 40 %, the broker stops for three source idleness timeouts, starts again, and the
     * rest of the backlog arrives (as a gateway's buffer drains after an outage). The billing must
     * be the workload's, as in the same replay without a stall: no retry billed twice, no valid
     * event TOO_LATE.
     */
    private final class ReplayWithStall implements OwnWorkload {

        private TimeWorkloads.Backlog backlog;
        private MeteringConfig config;
        private ExpectedTotals expected;

        @Override
        public Map<String, String> settings() {
            return Map.of(
                    "dedup.horizon",
                    TimeWorkloads.Backlog.DEDUP_HORIZON.toHours() + " h",
                    "event-time.source-idleness",
                    REPLAY_IDLENESS.toSeconds() + " s");
        }

        @Override
        public WorkloadSpec produce(MeteringConfig config, ExpectedTotals expected) {
            this.config = config;
            this.expected = expected;
            backlog =
                    new TimeWorkloads.Backlog(events, accounts, 2014, config.billing().timeZone());
            TimeWorkloads.write(backlog.firstPart(), -1, config, expected);
            return backlog.spec;
        }

        @Override
        public void inflict(Run run) throws Exception {
            List<GeneratedRecord> first = backlog.firstPart();
            run.log(
                    String.format(
                            "backlog of %,d records from %s to %s (%,d producer retries 26-34 h after their "
                                    + "first delivery, %,d of them of a first delivery before the stall); the first %,d "
                                    + "written, event time up to %s",
                            backlog.records.size(),
                            backlog.spec.start(),
                            backlog.spec.start().plus(backlog.spec.span()),
                            backlog.retries,
                            backlog.retriesAcrossTheCut(),
                            first.size(),
                            lastEventTime(first)));
            KafkaTopics kafka = KafkaTopics.of(config);
            kafka.awaitConsumed(
                    config.kafka().consumerGroup(), config.kafka().topics().raw(), STEP_TIMEOUT);
            long completed = cluster.completedCheckpoints(run.jobId);
            broker.close();
            long stopped = System.nanoTime();
            run.log("job read and checkpointed the first part; broker stopped");
            Thread.sleep(
                    REPLAY_STALL.toMillis()); // the stall itself: the broker stays down this long
            // As the REST API last sampled it (up to 10 s old): how far the stall took event time.
            long during = accountWatermark(run.jobId);
            broker = BrokerProcess.start(brokerDir, brokerPort);
            run.log(
                    "broker started again after "
                            + (System.nanoTime() - stopped) / 1_000_000_000
                            + " s (pid "
                            + broker.pid()
                            + "); account watermark meanwhile "
                            + (during == Long.MIN_VALUE
                                    ? "not reported yet"
                                    : Instant.ofEpochMilli(during).toString())
                            + " (the first part ends at "
                            + lastEventTime(first)
                            + "); checkpoints completed meanwhile: "
                            + (cluster.completedCheckpoints(run.jobId) - completed)
                            + "; job restarts so far: "
                            + run.restarts());
            // A broker back from a stop takes up its partitions one by one; an idempotent producer
            // writing to one not led yet can loop until its delivery timeout
            // (KafkaTopics.awaitLeaders).
            try (Admin admin = KafkaTopics.of(config).admin()) {
                KafkaTopics.awaitLeaders(admin, List.of(config.kafka().topics().raw()));
            }
            TimeWorkloads.write(backlog.secondPart(), -1, config, expected);
            run.log(
                    String.format(
                            "wrote the rest of the backlog: %,d records",
                            backlog.secondPart().size()));
            writeClockEvents(
                    run,
                    TimeWorkloads.lastFirstDeliveries(backlog.records, partitions),
                    config,
                    expected);
        }

        @Override
        public List<String> problems(
                KafkaTopics kafka, MeteringConfig config, Reconciliation reconciliation, Run run) {
            List<String> problems = new ArrayList<>();
            long billedTwice = reconciliation.billedEvents() - expected.billedEvents();
            long tooLate =
                    reconciliation
                            .outcome()
                            .rejectedByReason()
                            .getOrDefault(RejectReason.TOO_LATE, 0L);
            long tooLateExpected =
                    expected.rejectedByReason().getOrDefault(RejectReason.TOO_LATE, 0L);
            OriginalRowIds ids = OriginalRowIds.read(kafka, config);
            run.log(
                    String.format(
                            "events billed beyond the unique ones %,d (expected 0) · TOO_LATE %,d (expected "
                                    + "%,d) · ORIGINAL rows repeating an id: %s",
                            billedTwice, tooLate, tooLateExpected, ids.summary()));
            if (billedTwice != 0) {
                problems.add(
                        String.format(
                                "%,d more events billed than the backlog holds unique ones: retries "
                                        + "billed twice (the stall moved the watermark to the wall clock and purged their ids)",
                                billedTwice));
            }
            if (tooLate != tooLateExpected) {
                problems.add(
                        String.format(
                                "%,d TOO_LATE rejections, the backlog holds %,d",
                                tooLate, tooLateExpected));
            }
            if (ids.total() > 0) {
                problems.add(
                        ids.total()
                                + " ORIGINAL rows repeat the id of an earlier one: "
                                + ids.summary());
            }
            return problems;
        }

        private static Instant lastEventTime(List<GeneratedRecord> records) {
            return records.stream()
                    .filter(r -> r.event() != null)
                    .map(r -> r.event().getEventTime())
                    .max(Instant::compareTo)
                    .orElse(null);
        }
    }

    /**
     * Once the job has read and checkpointed everything before (so its readers run, and
     * deduplication has seen the first deliveries whose ids are reused), writes a clock event to
     * every partition ({@link TimeWorkloads#clockEvents}): the live traffic that lets event time
     * move on after the fault.
     */
    private void writeClockEvents(
            Run run,
            List<UsageEvent> firstDeliveries,
            MeteringConfig config,
            ExpectedTotals expected)
            throws Exception {
        KafkaTopics.of(config)
                .awaitConsumed(
                        config.kafka().consumerGroup(),
                        config.kafka().topics().raw(),
                        STEP_TIMEOUT);
        List<GeneratedRecord> clock = TimeWorkloads.clockEvents(firstDeliveries, partitions);
        for (int p = 0; p < partitions; p++) {
            TimeWorkloads.write(List.of(clock.get(p)), p, config, expected);
        }
        run.log(
                "live traffic: one event stamped now on each partition, reusing the id of an event billed before "
                        + "(to be rejected as CONFLICTING_DUPLICATE, billed nowhere): event time moves on from the wall clock");
    }

    /**
     * The lowest watermark over the subtasks of the account operator, as the REST API reports it.
     */
    private long accountWatermark(String jobId) {
        for (JsonNode vertex : cluster.get("/jobs/" + jobId).path("vertices")) {
            if (vertex.path("name").asText().contains(ACCOUNT_OPERATOR_NAME)) {
                long lowest = Long.MAX_VALUE;
                for (JsonNode metric :
                        cluster.get(
                                "/jobs/"
                                        + jobId
                                        + "/vertices/"
                                        + vertex.path("id").asText()
                                        + "/watermarks")) {
                    lowest = Math.min(lowest, metric.path("value").asLong(Long.MIN_VALUE));
                }
                return lowest == Long.MAX_VALUE ? Long.MIN_VALUE : lowest;
            }
        }
        return Long.MIN_VALUE;
    }

    /** (account, billing day) of every ADJUSTMENT billing record. */
    private static Set<AccountDay> adjustedAccountDays(KafkaTopics kafka, MeteringConfig config) {
        Set<AccountDay> days = new HashSet<>();
        AvroCodec<BillingRecord> codec = AvroCodec.billingRecords();
        kafka.readCommitted(
                config.kafka().topics().billing(),
                r -> {
                    BillingRecord b = decodeBilling(codec, r.value());
                    if (b.getKind() == BillingRecordKind.ADJUSTMENT) {
                        days.add(new AccountDay(b.getAccountId(), b.getBillingDay()));
                    }
                });
        return days;
    }

    private static BillingRecord decodeBilling(AvroCodec<BillingRecord> codec, byte[] value) {
        try {
            return codec.decode(value);
        } catch (DecodeException e) {
            throw new IllegalStateException(
                    "the job wrote an unreadable billing record: " + e.getMessage());
        }
    }

    // ---- helpers ----

    /**
     * Writes a new event to every raw partition after the fault, as gateways keep sending, each at
     * the end of the workload's span and added to the expected totals. A restored job moves a
     * partition's watermark only once that partition delivered an event again (watermarks are not
     * in checkpoints): without new traffic, a job restored after it had read everything would never
     * close the workload's last days.
     */
    private void sendTrailingEvents(
            WorkloadSpec spec, MeteringConfig config, ExpectedTotals expected, String batch) {
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
        Properties props = config.kafka().clients().producer(broker.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int partition = 0; partition < partitions; partition++) {
                UsageEvent event =
                        UsageEvent.newBuilder(last.event())
                                .setEventId(
                                        last.event().getEventId() + "-" + batch + "-" + partition)
                                .setEventTime(spec.start().plus(spec.span()))
                                .build();
                byte[] value = codec.encode(event);
                producer.send(
                                new ProducerRecord<>(
                                        config.kafka().topics().raw(),
                                        partition,
                                        last.key().getBytes(StandardCharsets.UTF_8),
                                        value))
                        .get();
                expected.add(
                        new GeneratedRecord(last.key(), value, GeneratedRecord.Kind.VALID, event));
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot write the trailing events", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private Map<String, String> baseSettings(String name) {
        Map<String, String> s = OwnTopics.settings("127.0.0.1:" + brokerPort, "faults." + name);
        s.put("checkpoints.interval", CHECKPOINT_INTERVAL.toSeconds() + " s");
        // Days close once the input has been quiet this long.
        s.put("event-time.source-idleness", "5 s");
        s.put("dedup.key-file", dedupKeyFile.toString());
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
     * Waits until the outputs stop growing, then reconciles them with the workload; repeats while
     * they do not agree (the job may be restarting) until the timeout. Conservation (I1) is checked
     * from the outputs alone: the job's ledger topic, committed with the records it counts, against
     * the raw topic, billing records and rejected topic.
     */
    private Reconciliation awaitReconciliation(
            KafkaTopics kafka, MeteringConfig config, ExpectedTotals expected)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(timeoutSeconds).toNanos();
        long rawRecords = kafka.countRecords(config.kafka().topics().raw());
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
                        Reconciliation.of(
                                expected, MeteringOutcome.read(kafka, config), rawRecords);
                if (reconciliation.ok() || timedOut) {
                    return reconciliation;
                }
                quietPolls = 0;
            }
        }
    }

    /**
     * Output partitions with a transaction still open, after a few checkpoints' grace for the last
     * one.
     */
    private static List<String> awaitNoOpenTransactions(KafkaTopics kafka, MeteringConfig config)
            throws InterruptedException {
        return Await.poll(
                CHECKPOINT_INTERVAL.multipliedBy(9),
                CHECKPOINT_INTERVAL,
                () -> {
                    List<String> open = new ArrayList<>();
                    for (String topic : config.outputTopics()) {
                        kafka.partitionsWithOpenTransactions(topic)
                                .forEach(tp -> open.add(tp.toString()));
                    }
                    return open;
                },
                List::isEmpty);
    }

    private void cancelIfRunning(String jobId) {
        if (jobId != null
                && !List.of("CANCELED", "FINISHED", "FAILED").contains(cluster.jobState(jobId))) {
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
