package io.tokenmeter.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.functions.DeduplicateFunction;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.io.KafkaEndpoints;
import io.tokenmeter.io.UsageEventDeserializer;
import io.tokenmeter.local.GeneratedRecord.Kind;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.metering.MeteringJob;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The metering job on a MiniCluster at parallelism 2, through a real Kafka broker, reconciled with the workload. */
class MeteringJobITCase {

    private static final int PARALLELISM = 2;

    @RegisterExtension
    @Order(1)
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(1)
                    .setNumberSlotsPerTaskManager(PARALLELISM)
                    .build());

    @Test
    void billsEachEventOnceWhileRejectingEveryKindOfPoisonRecord() throws Exception {
        // given: retries, late events and poison records of every reject reason on the raw topic
        WorkloadSpec spec = WorkloadSpec.clean(40_000, 800, 7).withRates(0.02, 0.01, 0.03);
        MeteringConfig config = freshTopics();
        ExpectedTotals expected = produce(spec, config);

        // when: the job bills everything on the topic
        JobExecutionResult result = run(config, KafkaEndpoints.rawUsageSource(config), false);

        // then: every account-day is billed exactly, retries are counted once, and every poison record is
        // rejected with its reason
        MeteringOutcome outcome = readOutcome(config);
        Reconciliation reconciliation = Reconciliation.of(expected, outcome, spec.events(), duplicates(result));
        assertThat(reconciliation.report()).as(String.join("\n", reconciliation.report()))
                .last().asString().endsWith("status=OK");
        assertThat(outcome.billedByAccountDay()).isEqualTo(expected.billedByAccountDay());
        assertThat(duplicates(result)).isEqualTo(expected.records(Kind.DUPLICATE)).isPositive();
        assertThat(outcome.rejectedByReason()).isEqualTo(expected.rejectedByReason());
        assertThat(expected.rejectedByReason().keySet())
                .as("the workload holds every reason a record can be rejected for")
                .containsAll(EnumSet.complementOf(EnumSet.of(RejectReason.OTHER)));
        assertThat(outcome.billingRecords(BillingRecordKind.ADJUSTMENT))
                .as("late events for closed days are billed as adjustments")
                .isPositive();
        assertThat(outcome.repeatedRecordIds()).isZero();
    }

    @Test
    void recoversFromATaskFailureWithoutLosingOrDoublingUsage() throws Exception {
        // given: a clean workload, and a source that fails once part-way through
        WorkloadSpec spec = WorkloadSpec.clean(60_000, 1_000, 11).withRates(0, 0.005, 0.005);
        MeteringConfig config = freshTopics();
        ExpectedTotals expected = produce(spec, config);
        FailOnceDeserializer.FAILED.set(false);
        Source<IngestedRecord, ?, ?> failingSource = KafkaSource.<IngestedRecord>builder()
                .setBootstrapServers(config.bootstrapServers())
                .setTopics(config.rawTopic())
                .setGroupId(config.consumerGroup())
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setBounded(OffsetsInitializer.latest())
                .setDeserializer(new FailOnceDeserializer(config, spec.events() / 4 * 6 / 10))
                .build();

        // when: the job runs, fails, restarts from its last checkpoint and finishes
        run(config, failingSource, true);

        // then: the failure happened, and billing is still exact with every record id once
        assertThat(FailOnceDeserializer.FAILED).isTrue();
        MeteringOutcome outcome = readOutcome(config);
        // (no retries in this workload: the duplicates accumulator does not survive a restart)
        Reconciliation reconciliation = Reconciliation.of(expected, outcome, spec.events(), 0);
        assertThat(reconciliation.report()).as(String.join("\n", reconciliation.report()))
                .last().asString().endsWith("status=OK");
        assertThat(outcome.billedByAccountDay()).isEqualTo(expected.billedByAccountDay());
        assertThat(outcome.rejectedByReason()).isEqualTo(expected.rejectedByReason());
        assertThat(outcome.repeatedRecordIds()).isZero();
    }

    @Test
    void inMemoryWorkloadSourceIsBilledLikeTheSameWorkloadOnKafka() throws Exception {
        // given: the benchmark's in-memory source for a workload with retries and late records (no poison: its
        // conflicting duplicates need their original read first, and parallel readers share no order)
        WorkloadSpec spec = WorkloadSpec.clean(20_000, 500, 3).withRates(0.02, 0.01, 0);
        MeteringConfig config = freshTopics();
        ExpectedTotals expected = new ExpectedTotals(spec.billingZone());
        WorkloadGenerator generator = new WorkloadGenerator(spec);
        for (long i = 0; i < spec.events(); i++) {
            expected.add(generator.record(i));
        }

        // when: the job reads it instead of the raw topic
        run(config, WorkloadSource.of(spec, config), false);

        // then: billing and rejections are exactly those of the workload
        MeteringOutcome outcome = readOutcome(config);
        assertThat(outcome.billedByAccountDay()).isEqualTo(expected.billedByAccountDay());
        assertThat(outcome.rejectedByReason()).isEqualTo(expected.rejectedByReason());
    }

    private static MeteringConfig freshTopics() throws InterruptedException {
        String run = KAFKA.freshTopic("run");
        Map<String, String> settings = new HashMap<>();
        settings.put(MeteringConfig.BOOTSTRAP_SERVERS, KAFKA.bootstrapServers());
        settings.put(MeteringConfig.RAW_TOPIC, run + ".raw");
        settings.put(MeteringConfig.BILLING_TOPIC, run + ".billing");
        settings.put(MeteringConfig.REJECTED_TOPIC, run + ".rejected");
        settings.put(MeteringConfig.ACCOUNT_USAGE_TOPIC, run + ".usage.account");
        settings.put(MeteringConfig.REGIONAL_USAGE_TOPIC, run + ".usage.regional");
        settings.put(MeteringConfig.NATIONAL_USAGE_TOPIC, run + ".usage.national");
        settings.put(MeteringConfig.CONSUMER_GROUP, run);
        settings.put(MeteringConfig.TRANSACTIONAL_ID_PREFIX, run);
        settings.put(MeteringConfig.STOP_AT_LATEST, "true");
        settings.put(MeteringConfig.CHECKPOINT_INTERVAL, "200 ms");
        MeteringConfig config = MeteringConfig.defaultConfig().with(settings);
        KAFKA.topics().create(4, List.of(config.rawTopic()));
        KAFKA.topics().create(4, config.outputTopics());
        return config;
    }

    private static ExpectedTotals produce(WorkloadSpec spec, MeteringConfig config) {
        return WorkloadProducer.produce(new WorkloadGenerator(spec), config.bootstrapServers(), config.rawTopic(), false);
    }

    private static long duplicates(JobExecutionResult result) {
        Long duplicates = result.getAccumulatorResult(DeduplicateFunction.DUPLICATES_ACCUMULATOR);
        return duplicates == null ? 0 : duplicates;
    }

    private static JobExecutionResult run(
            MeteringConfig config, Source<IngestedRecord, ?, ?> source, boolean restartOnFailure)
            throws Exception {
        Configuration flink = MeteringJob.flinkConfiguration(config);
        if (restartOnFailure) {
            flink.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
            flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        } else {
            flink.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        env.setParallelism(PARALLELISM);
        new MeteringJob(config, source, MeteringJob.Outputs.kafka(config)).build(env);
        return env.execute("metering-it");
    }

    private static MeteringOutcome readOutcome(MeteringConfig config) {
        return MeteringOutcome.read(KAFKA.topics(), config);
    }

    /** Decodes like the real source, but throws once when it reaches a given offset of partition 0. */
    static final class FailOnceDeserializer extends UsageEventDeserializer {

        static final AtomicBoolean FAILED = new AtomicBoolean();

        private final long failAtOffset;

        FailOnceDeserializer(MeteringConfig config, long failAtOffset) {
            super(config.validationLimits(), config.partitionClock());
            this.failAtOffset = failAtOffset;
        }

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<IngestedRecord> out) {
            if (record.partition() == 0 && record.offset() == failAtOffset && FAILED.compareAndSet(false, true)) {
                throw new IllegalStateException("injected failure at offset " + failAtOffset);
            }
            super.deserialize(record, out);
        }
    }
}
