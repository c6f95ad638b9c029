package io.tokenmeter.metering;

import static io.tokenmeter.testkit.TestRuns.assertReconciled;
import static io.tokenmeter.testkit.TestRuns.produce;
import static io.tokenmeter.testkit.TestRuns.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.io.KafkaEndpoints;
import io.tokenmeter.logic.UsageTotals;
import io.tokenmeter.logic.WallClock;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.schema.DecodeException;
import io.tokenmeter.testkit.Await;
import io.tokenmeter.testkit.ExpectedTotals;
import io.tokenmeter.testkit.ExpectedTotals.AccountDay;
import io.tokenmeter.testkit.FailingSource;
import io.tokenmeter.testkit.GeneratedRecord.Kind;
import io.tokenmeter.testkit.KafkaBrokerExtension;
import io.tokenmeter.testkit.MeteringOutcome;
import io.tokenmeter.testkit.Reconciliation;
import io.tokenmeter.testkit.TestRuns;
import io.tokenmeter.testkit.WorkloadGenerator;
import io.tokenmeter.testkit.WorkloadProducer;
import io.tokenmeter.testkit.WorkloadSource;
import io.tokenmeter.testkit.WorkloadSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.testutils.junit.SharedObjectsExtension;
import org.apache.flink.testutils.junit.SharedReference;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The metering job on a MiniCluster at parallelism 2, through a real Kafka broker, reconciled with
 * the workload.
 */
class MeteringJobITCase {

    @RegisterExtension
    @Order(1)
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension FLINK = TestRuns.miniCluster();

    @RegisterExtension final SharedObjectsExtension sharedObjects = SharedObjectsExtension.create();

    @Test
    void billsEachEventOnceWhileRejectingEveryKindOfPoisonRecord() throws Exception {
        // given: retries, late events and poison records of every reject reason on the raw topic
        WorkloadSpec spec = WorkloadSpec.clean(40_000, 800, 7).withRates(0.02, 0.01, 0.03);
        MeteringConfig config = freshTopics();
        ExpectedTotals expected = produce(spec, config);

        // when: the job bills everything on the topic
        run(config, KafkaEndpoints.rawUsageSource(config), false);

        // then: every account-day is billed exactly, retries are counted once, and every poison
        // record is rejected with its reason
        MeteringOutcome outcome = readOutcome(config);
        Reconciliation reconciliation = Reconciliation.of(expected, outcome, spec.events());
        assertReconciled(reconciliation);
        assertThat(outcome.billedByAccountDay()).isEqualTo(expected.billedByAccountDay());
        assertThat(outcome.ledger().duplicates())
                .isEqualTo(expected.records(Kind.DUPLICATE))
                .isPositive();
        assertThat(outcome.rejectedByReason()).isEqualTo(expected.rejectedByReason());
        // The hostile records of HostileRecordsITCase hold the reasons the generator has no poison
        // kind for.
        assertThat(expected.rejectedByReason().keySet())
                .as("the workload holds every reason a record can be rejected for")
                .containsAll(
                        EnumSet.complementOf(
                                EnumSet.of(
                                        RejectReason.OTHER,
                                        RejectReason.FIELD_TOO_LONG,
                                        RejectReason.TOO_MANY_LINE_ITEMS,
                                        RejectReason.VALUE_OUT_OF_RANGE)));
        assertThat(outcome.billingRecords(BillingRecordKind.ADJUSTMENT))
                .as("late events for closed days are billed as adjustments")
                .isPositive();
        assertThat(outcome.repeatedRecordIds()).isZero();
    }

    @Test
    void recoversFromATaskFailureWithoutLosingOrDoublingUsage() throws Exception {
        // given: a clean workload, and a source that fails once part-way through
        WorkloadSpec spec = WorkloadSpec.clean(60_000, 1_000, 11).withRates(0.02, 0.005, 0.005);
        MeteringConfig config = freshTopics();
        ExpectedTotals expected = produce(spec, config);
        SharedReference<AtomicBoolean> failed = sharedObjects.add(new AtomicBoolean());
        Source<IngestedRecord, ?, ?> failingSource =
                FailingSource.bounded(
                        config,
                        WallClock.system(),
                        failed,
                        FailingSource.atOffsetOfPartitionZero(spec.events() / 4 * 6 / 10));

        // when: the job runs, fails, restarts from its last checkpoint and finishes
        run(config, failingSource, true);

        // then: the failure happened, and billing is still exact with every record id once
        assertThat(failed.get()).isTrue();
        MeteringOutcome outcome = readOutcome(config);
        Reconciliation reconciliation = Reconciliation.of(expected, outcome, spec.events());
        assertReconciled(reconciliation);
        assertThat(outcome.billedByAccountDay()).isEqualTo(expected.billedByAccountDay());
        assertThat(outcome.rejectedByReason()).isEqualTo(expected.rejectedByReason());
        assertThat(outcome.repeatedRecordIds()).isZero();
    }

    @Test
    void countsDuplicatesExactlyOnceAcrossARestart() throws Exception {
        // given: retries on the raw topic, and a source that fails once part-way through
        WorkloadSpec spec = WorkloadSpec.clean(60_000, 1_000, 31).withRates(0.03, 0.005, 0.005);
        MeteringConfig config = freshTopics();
        ExpectedTotals expected = produce(spec, config);
        SharedReference<AtomicBoolean> failed = sharedObjects.add(new AtomicBoolean());
        Source<IngestedRecord, ?, ?> failingSource =
                FailingSource.bounded(
                        config,
                        WallClock.system(),
                        failed,
                        FailingSource.atOffsetOfPartitionZero(spec.events() / 4 * 6 / 10));

        // when: the job runs, fails, restarts from its last checkpoint and finishes
        run(config, failingSource, true);

        // then: the job's own ledger, read from its topic, counts every record once, the restart
        // notwithstanding: what was counted before the failure and not committed is counted again,
        // exactly once
        assertThat(failed.get()).isTrue();
        MeteringOutcome outcome = readOutcome(config);
        MeteringOutcome.Ledger ledger = outcome.ledger();
        assertThat(ledger.read()).as("records read").isEqualTo(spec.events());
        assertThat(ledger.duplicates())
                .as("duplicates")
                .isEqualTo(expected.records(Kind.DUPLICATE))
                .isPositive();
        assertThat(ledger.rejected())
                .as("rejected")
                .isEqualTo(outcome.rejected())
                .isEqualTo(expected.rejectedRecords());
        Reconciliation reconciliation = Reconciliation.of(expected, outcome, spec.events());
        assertThat(reconciliation.ledgerBalances())
                .as(String.join("\n", reconciliation.report()))
                .isTrue();
        assertThat(reconciliation.conserved()).isTrue();
    }

    @Test
    void inMemoryWorkloadSourceIsBilledLikeTheSameWorkloadOnKafka() throws Exception {
        // given: the benchmark's in-memory source for a workload with retries and late records (no
        // poison: its conflicting duplicates need their original read first, and parallel readers
        // share no order)
        WorkloadSpec spec = WorkloadSpec.clean(20_000, 500, 3).withRates(0.02, 0.01, 0);
        MeteringConfig config = freshTopics();
        ExpectedTotals expected = TestRuns.expected(spec);

        // when: the job reads it instead of the raw topic
        run(config, WorkloadSource.of(spec, config), false);

        // then: billing and rejections are exactly those of the workload
        MeteringOutcome outcome = readOutcome(config);
        assertThat(outcome.billedByAccountDay()).isEqualTo(expected.billedByAccountDay());
        assertThat(outcome.rejectedByReason()).isEqualTo(expected.rejectedByReason());
    }

    @Test
    void billsAHotAccountCarryingThirtyPercentOfEventsExactly() throws Exception {
        // given: one account with 30% of all events, on top of the Zipf skew
        WorkloadSpec spec =
                WorkloadSpec.clean(40_000, 2_000, 13)
                        .withRates(0.01, 0.01, 0.01)
                        .withHotAccountShare(0.3);
        MeteringConfig config = freshTopics();
        ExpectedTotals expected = produce(spec, config);

        // when
        run(config, KafkaEndpoints.rawUsageSource(config), false);

        // then: exact billing and rollups, the hot account's included
        MeteringOutcome outcome = readOutcome(config);
        assertReconciled(Reconciliation.of(expected, outcome, spec.events()));
        long hotEvents =
                outcome.billedByAccountDay().entrySet().stream()
                        .filter(e -> e.getKey().accountId().equals("acct-0001"))
                        .mapToLong(e -> e.getValue().events)
                        .sum();
        assertThat(hotEvents).isGreaterThan(expected.billedEvents() * 3 / 10);
    }

    @Test
    void billsDaylightSavingDaysOfTwentyFiveHoursInNewYork() throws Exception {
        // given: two days around the end of daylight saving time in New York (2026-11-01 lasts 25
        // hours)
        ZoneId newYork = ZoneId.of("America/New_York");
        WorkloadSpec spec =
                WorkloadSpec.clean(30_000, 800, 17)
                        .withRates(0.01, 0.01, 0.01)
                        .during(
                                Instant.parse("2026-10-31T12:00:00-04:00"),
                                Duration.ofDays(2),
                                newYork);
        MeteringConfig config = freshTopics(Map.of("billing.time-zone", newYork.getId()));
        ExpectedTotals expected = produce(spec, config);

        // when
        run(config, KafkaEndpoints.rawUsageSource(config, TestRuns.LONG_PAST), false);

        // then: exact per New York billing day, and the records of 2026-11-01 span 25 hours
        MeteringOutcome outcome = readOutcome(config);
        assertReconciled(Reconciliation.of(expected, outcome, spec.events()));
        AvroCodec<BillingRecord> codec = AvroCodec.billingRecords();
        List<Duration> lengthsOfNovemberFirst =
                KAFKA.topics().readCommitted(config.kafka().topics().billing()).stream()
                        .map(r -> decode(codec, r.value()))
                        .filter(r -> r.getBillingDay().equals(LocalDate.of(2026, 11, 1)))
                        .map(r -> Duration.between(r.getDayStart(), r.getDayEnd()))
                        .distinct()
                        .toList();
        assertThat(lengthsOfNovemberFirst).containsExactly(Duration.ofHours(25));
    }

    @Test
    void countsEveryRecordOnceWhenTheSameInputIsReplayed() throws Exception {
        // given: a workload of 12 hours, produced twice — a producer replaying its input within the
        // dedup horizon
        WorkloadSpec spec =
                WorkloadSpec.clean(20_000, 500, 19)
                        .withRates(0.02, 0.01, 0.02)
                        .during(
                                WorkloadSpec.defaultStart(
                                        ZoneId.of("Asia/Shanghai"), Duration.ofHours(12)),
                                Duration.ofHours(12),
                                ZoneId.of("Asia/Shanghai"));
        MeteringConfig config = freshTopics();
        ExpectedTotals expected = produce(spec, config);
        WorkloadProducer.produce(
                new WorkloadGenerator(spec),
                config.kafka().bootstrapServers(),
                config.kafka().topics().raw(),
                false);
        WorkloadGenerator generator = new WorkloadGenerator(spec);
        for (long i = 0; i < spec.events(); i++) {
            expected.addReplayed(generator.record(i));
        }

        // when
        run(config, KafkaEndpoints.rawUsageSource(config), false);

        // then: the second copy is all duplicates and rejections; billing is that of one copy
        MeteringOutcome outcome = readOutcome(config);
        assertReconciled(Reconciliation.of(expected, outcome, 2 * spec.events()));
        assertThat(outcome.ledger().duplicates()).isGreaterThan(spec.events() * 9 / 10);
    }

    @Test
    void closesDaysWhileEveryPartitionIsIdle() throws Exception {
        // given: a running job, and live usage of a few accounts (so some partitions never see
        // data) just before a local midnight — a billing zone whose midnight comes 40 s from now
        Instant midnight = Instant.now().plusSeconds(40).truncatedTo(ChronoUnit.SECONDS);
        ZoneOffset zone = zoneWithMidnightAt(midnight);
        WorkloadSpec spec =
                WorkloadSpec.clean(3_000, 3, 23)
                        .during(midnight.minusSeconds(40), Duration.ofSeconds(5), zone);
        MeteringConfig config =
                freshTopics(
                        Map.of(
                                "kafka.stop-at-latest-offsets", "false",
                                "billing.time-zone", zone.getId(),
                                "billing.day-close-grace", "1 s",
                                "event-time.out-of-orderness", "5 s",
                                "event-time.source-idleness", "1 s"));
        JobClient job = TestRuns.start(config, KafkaEndpoints.rawUsageSource(config), false);
        try {
            ExpectedTotals expected = produce(spec, config);

            // when: nothing more arrives — every partition goes quiet

            // then: the day closes anyway, as the wall clock passes its midnight + grace, and is
            // billed exactly
            Map<AccountDay, UsageTotals> billed =
                    awaitBilling(config, expected.billedByAccountDay().size());
            assertThat(billed).isEqualTo(expected.billedByAccountDay());
        } finally {
            job.cancel().get();
        }
    }

    /** The fixed offset whose local midnight is {@code midnight}. */
    private static ZoneOffset zoneWithMidnightAt(Instant midnight) {
        int secondOfDay = (int) Math.floorMod(midnight.getEpochSecond(), 86_400L);
        int offset = -secondOfDay < -18 * 3_600 ? 86_400 - secondOfDay : -secondOfDay;
        return ZoneOffset.ofTotalSeconds(offset);
    }

    private static Map<AccountDay, UsageTotals> awaitBilling(MeteringConfig config, int accountDays)
            throws InterruptedException {
        // polling the billing topic, not waiting for time to pass
        return Await.poll(
                Duration.ofSeconds(90),
                Duration.ofMillis(500),
                () -> readOutcome(config).billedByAccountDay(),
                billed -> billed.size() >= accountDays);
    }

    private static BillingRecord decode(AvroCodec<BillingRecord> codec, byte[] value) {
        try {
            return codec.decode(value);
        } catch (DecodeException e) {
            throw new AssertionError(e);
        }
    }

    private static MeteringConfig freshTopics() throws InterruptedException {
        return freshTopics(Map.of());
    }

    private static MeteringConfig freshTopics(Map<String, String> overrides)
            throws InterruptedException {
        return TestRuns.freshTopics(KAFKA, overrides);
    }

    private static MeteringOutcome readOutcome(MeteringConfig config) {
        return MeteringOutcome.read(KAFKA.topics(), config);
    }
}
