package io.tokenmeter.functions;

import static io.tokenmeter.testing.Fixtures.millis;
import static io.tokenmeter.testing.Fixtures.usageEvent;
import static io.tokenmeter.testing.Fixtures.usageLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.avro.UsageGranularity;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.UsagePartial;
import io.tokenmeter.logic.billing.UsageRows;
import io.tokenmeter.logic.rollups.AreaRollups;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.testing.Fixtures;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.annotation.Nullable;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.OutputTag;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

/**
 * I8, closed stays closed: hours, days, correction deadlines and rollup windows closed by
 * watermarks alone — a quiet spell, no record after them — stay closed in a job restored from a
 * checkpoint taken after them, whatever record comes first. Each test closes something by watermark
 * only, snapshots, restores into new harnesses and sends a straggler as the first record.
 */
class ClosedStaysClosedAfterRestoreTest {

    private static final BillingCalendar CALENDAR =
            new BillingCalendar(
                    ZoneId.of("Asia/Shanghai"), Duration.ofMinutes(15), Duration.ofDays(35));
    private static final Duration HORIZON = Duration.ofHours(24);
    private static final int MAX_PARALLELISM = 128;
    private static final AvroCodec<UsageEvent> CODEC = AvroCodec.usageEvents();

    /**
     * Shanghai hour 10:00-11:00 local on 2026-03-10, a day running 2026-03-09T16:00Z to
     * 2026-03-10T16:00Z.
     */
    private static final long HOUR_START = millis("2026-03-10T02:00:00Z");

    private static final long HOUR_END = millis("2026-03-10T03:00:00Z");
    private static final long DAY_START = millis("2026-03-09T16:00:00Z");
    private static final long DAY_CLOSE = CALENDAR.closeTime(DAY_START);
    private static final long DEADLINE = CALENDAR.correctionDeadline(DAY_START);

    private final AtomicLong offsets = new AtomicLong();

    /** The operator the job runs each of these functions in. */
    private static <K, I, O> OneInputStreamOperator<I, O> operator(
            WatermarkRememberingFunction<K, I, O> function) {
        return new WatermarkRememberingOperator<>(function);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Deduplication alone

    @Test
    void dedupRejectsAsTooLateAStragglerForADayWhoseDeadlinePassedInAQuietSpell() throws Exception {
        OperatorSubtaskState snapshot;
        try (var dedup = dedup(null, 1, 0)) {
            dedup.processElement(
                    record(
                            usageEvent(
                                    "e-1",
                                    "acct-1",
                                    "m",
                                    Modality.TEXT,
                                    10,
                                    0,
                                    0,
                                    "2026-03-10T02:10:00Z")));
            dedup.processWatermark(DEADLINE); // quiet spell: no record after it
            snapshot = dedup.snapshot(1, 1);
        }

        try (var restored = dedup(snapshot, 1, 0)) {
            restored.processElement(
                    record(
                            usageEvent(
                                    "straggler",
                                    "acct-1",
                                    "m",
                                    Modality.TEXT,
                                    7,
                                    0,
                                    0,
                                    "2026-03-10T02:20:00Z")));

            assertThat(restored.extractOutputValues()).as("passed on for billing").isEmpty();
            assertThat(rejected(restored, DeduplicateFunction.TOO_LATE))
                    .extracting(RejectedRecord::getReason)
                    .containsExactly(RejectReason.TOO_LATE);
        }
    }

    @Test
    void dedupJudgesAStragglerAfterARestoreAgainstTheWatermarkOfTheQuietSpellBeforeIt()
            throws Exception {
        OperatorSubtaskState snapshot;
        try (var dedup = dedup(null, 1, 0)) {
            dedup.processElement(
                    record(
                            usageEvent(
                                    "e-1",
                                    "acct-1",
                                    "m",
                                    Modality.TEXT,
                                    10,
                                    0,
                                    0,
                                    "2026-03-10T02:10:00Z")));
            dedup.processWatermark(DAY_CLOSE);
            snapshot = dedup.snapshot(1, 1);
        }

        try (var restored = dedup(snapshot, 1, 0)) {
            restored.processElement(
                    record(
                            usageEvent(
                                    "straggler",
                                    "acct-1",
                                    "m",
                                    Modality.TEXT,
                                    7,
                                    0,
                                    0,
                                    "2026-03-10T02:20:00Z")));

            assertThat(restored.extractOutputValues())
                    .singleElement()
                    .satisfies(
                            partial -> {
                                assertThat(partial.late)
                                        .as("day closed before the restore")
                                        .isTrue();
                                assertThat(partial.hourCorrectionId)
                                        .as("hour closed before the restore")
                                        .isNotNull();
                            });
        }
    }

    /**
     * Union state: whichever subtask saw the highest watermark, every subtask after rescaling knows
     * it.
     */
    @Test
    void dedupKnowsTheHighestWatermarkOfEverySubtaskAfterScalingInAndOut() throws Exception {
        OperatorSubtaskState first;
        OperatorSubtaskState second;
        try (var dedup0 = dedup(null, 2, 0);
                var dedup1 = dedup(null, 2, 1)) {
            dedup0.processWatermark(DEADLINE); // subtask 1 lags behind at the barrier
            dedup1.processWatermark(DAY_CLOSE);
            first = dedup0.snapshot(1, 1);
            second = dedup1.snapshot(1, 1);
        }
        OperatorSubtaskState both = AbstractStreamOperatorTestHarness.repackageState(first, second);

        // Scale in: 2 -> 1.
        OperatorSubtaskState one =
                AbstractStreamOperatorTestHarness.repartitionOperatorState(
                        both, MAX_PARALLELISM, 2, 1, 0);
        OperatorSubtaskState rescaled;
        try (var single = dedup(one, 1, 0)) {
            single.processElement(record(stragglerFor(1, 0)));
            assertThat(single.extractOutputValues()).isEmpty();
            assertThat(rejected(single, DeduplicateFunction.TOO_LATE)).hasSize(1);
            rescaled = single.snapshot(2, 2);
        }

        // Scale out again: 1 -> 2, each subtask fed a straggler of its own key groups.
        for (int subtask = 0; subtask < 2; subtask++) {
            OperatorSubtaskState part =
                    AbstractStreamOperatorTestHarness.repartitionOperatorState(
                            rescaled, MAX_PARALLELISM, 1, 2, subtask);
            try (var restored = dedup(part, 2, subtask)) {
                restored.processElement(record(stragglerFor(2, subtask)));
                assertThat(restored.extractOutputValues()).as("subtask %d", subtask).isEmpty();
                assertThat(rejected(restored, DeduplicateFunction.TOO_LATE))
                        .as("subtask %d", subtask)
                        .hasSize(1);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // A rollup alone

    @Test
    void rollupEmitsACorrectionNotASecondOriginalForAWindowClosedInAQuietSpell() throws Exception {
        AreaUsage partial =
                AreaRollups.regionalPartial(
                        UsageRows.hourOriginal(
                                "acct-1",
                                "CN-GD",
                                HOUR_START,
                                usageLine("m", Modality.TEXT, 10, 0, 0, 1),
                                CALENDAR));
        AreaUsage original;
        OperatorSubtaskState snapshot;
        try (var rollup = rollup(null)) {
            rollup.processElement(new StreamRecord<>(partial, HOUR_START));
            rollup.processWatermark(HOUR_END);
            original = rollup.extractOutputValues().get(0);
            snapshot = rollup.snapshot(1, 1);
        }

        try (var restored = rollup(snapshot)) {
            AreaUsage straggler =
                    AreaRollups.regionalPartial(
                            UsageRows.hourOriginal(
                                    "acct-2",
                                    "CN-GD",
                                    HOUR_START,
                                    usageLine("m", Modality.TEXT, 7, 0, 0, 1),
                                    CALENDAR));
            restored.processElement(new StreamRecord<>(straggler, HOUR_START));
            restored.processWatermark(DAY_CLOSE);

            assertThat(restored.extractOutputValues())
                    .singleElement()
                    .satisfies(
                            row -> {
                                assertThat(row.getKind()).isEqualTo(BillingRecordKind.ADJUSTMENT);
                                assertThat(row.getTotalTokens()).isEqualTo(7);
                                assertThat(row.getRecordId()).isNotEqualTo(original.getRecordId());
                            });
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Deduplication, account metering and the regional rollup together, as the job chains them

    @Test
    void billsAStragglerForAnHourClosedInAQuietSpellAsItsOwnCorrectionRow() throws Exception {
        Snapshot snapshot;
        Outputs before = new Outputs();
        try (var job = new Pipeline(null, before)) {
            job.send(
                    usageEvent(
                            "e-1", "acct-1", "m", Modality.TEXT, 10, 0, 0, "2026-03-10T02:10:00Z"));
            job.watermark(HOUR_END); // the hour closes by watermark alone
            snapshot = job.snapshot();
        }
        assertThat(before.accountRows)
                .extracting(AccountUsage::getKind)
                .containsExactly(BillingRecordKind.ORIGINAL);

        Outputs after = new Outputs();
        try (var job = new Pipeline(snapshot, after)) {
            job.send(
                    usageEvent(
                            "straggler",
                            "acct-1",
                            "m",
                            Modality.TEXT,
                            7,
                            0,
                            0,
                            "2026-03-10T02:20:00Z"));
            job.watermark(DAY_CLOSE);
        }

        List<AccountUsage> hourRows = new ArrayList<>(before.hourRows());
        hourRows.addAll(after.hourRows());
        assertThat(hourRows).extracting(AccountUsage::getRecordId).doesNotHaveDuplicates();
        assertThat(hourRows)
                .extracting(AccountUsage::getKind, AccountUsage::getTotalTokens)
                .containsExactly(
                        tuple(BillingRecordKind.ORIGINAL, 10L),
                        tuple(BillingRecordKind.ADJUSTMENT, 7L));
        List<AreaUsage> regionalHours = new ArrayList<>(before.regionalHours());
        regionalHours.addAll(after.regionalHours());
        assertThat(regionalHours).extracting(AreaUsage::getRecordId).doesNotHaveDuplicates();
        assertThat(regionalHours)
                .extracting(AreaUsage::getKind, AreaUsage::getTotalTokens)
                .containsExactly(
                        tuple(BillingRecordKind.ORIGINAL, 10L),
                        tuple(BillingRecordKind.ADJUSTMENT, 7L));
        // The day was still open: both in its ORIGINAL.
        assertThat(after.billing)
                .extracting(
                        BillingRecord::getKind,
                        BillingRecord::getVersion,
                        BillingRecord::getTotalTokens)
                .containsExactly(tuple(BillingRecordKind.ORIGINAL, 1, 17L));
    }

    @Test
    void billsAStragglerForADayClosedInAQuietSpellAsAnAdjustment() throws Exception {
        Snapshot snapshot;
        Outputs before = new Outputs();
        try (var job = new Pipeline(null, before)) {
            job.send(
                    usageEvent(
                            "e-1", "acct-1", "m", Modality.TEXT, 10, 0, 0, "2026-03-10T02:10:00Z"));
            job.watermark(DAY_CLOSE);
            snapshot = job.snapshot();
        }

        Outputs after = new Outputs();
        try (var job = new Pipeline(snapshot, after)) {
            job.send(
                    usageEvent(
                            "straggler",
                            "acct-1",
                            "m",
                            Modality.TEXT,
                            7,
                            0,
                            0,
                            "2026-03-10T15:00:00Z"));
            job.watermark(DAY_CLOSE + 1);
        }

        List<BillingRecord> billing = new ArrayList<>(before.billing);
        billing.addAll(after.billing);
        assertThat(billing).extracting(BillingRecord::getRecordId).doesNotHaveDuplicates();
        assertThat(billing)
                .extracting(
                        BillingRecord::getKind,
                        BillingRecord::getVersion,
                        BillingRecord::getTotalTokens)
                .containsExactly(
                        tuple(BillingRecordKind.ORIGINAL, 1, 10L),
                        tuple(BillingRecordKind.ADJUSTMENT, 2, 7L));
        List<AreaUsage> regionalDays = new ArrayList<>(before.regionalDays());
        regionalDays.addAll(after.regionalDays());
        assertThat(regionalDays).extracting(AreaUsage::getRecordId).doesNotHaveDuplicates();
        assertThat(regionalDays)
                .extracting(AreaUsage::getKind, AreaUsage::getTotalTokens)
                .containsExactly(
                        tuple(BillingRecordKind.ORIGINAL, 10L),
                        tuple(BillingRecordKind.ADJUSTMENT, 7L));
    }

    /**
     * The account operator forgets a day at its deadline; deduplication must reject what it would
     * bill anew.
     */
    @Test
    void rejectsAStragglerForADayForgottenAtItsDeadlineInAQuietSpellInsteadOfBillingItAgain()
            throws Exception {
        Snapshot snapshot;
        Outputs before = new Outputs();
        try (var job = new Pipeline(null, before)) {
            job.send(
                    usageEvent(
                            "e-1",
                            "acct-1",
                            "m",
                            Modality.TEXT,
                            100,
                            0,
                            0,
                            "2026-03-10T02:10:00Z"));
            job.watermark(DAY_CLOSE);
            job.watermark(
                    CALENDAR.cleanUpTime(
                            DAY_START)); // the account forgets the day, dedup every id of it
            snapshot = job.snapshot();
        }
        assertThat(before.billing)
                .extracting(BillingRecord::getVersion, BillingRecord::getTotalTokens)
                .containsExactly(tuple(1, 100L));

        Outputs after = new Outputs();
        try (var job = new Pipeline(snapshot, after)) {
            job.send(
                    usageEvent(
                            "straggler",
                            "acct-1",
                            "m",
                            Modality.TEXT,
                            7,
                            0,
                            0,
                            "2026-03-10T02:20:00Z"));
            job.watermark(CALENDAR.cleanUpTime(DAY_START) + Duration.ofHours(1).toMillis());
        }

        assertThat(after.billing).isEmpty();
        assertThat(after.accountRows).isEmpty();
        assertThat(after.regionalRows).isEmpty();
        assertThat(after.tooLate)
                .extracting(RejectedRecord::getReason)
                .containsExactly(RejectReason.TOO_LATE);
    }

    /**
     * Wired with a plain process(...), a function would forget its watermark at every restore: it
     * must say so.
     */
    @Test
    void failsLoudlyWhenRunOutsideTheRememberingOperator() throws Exception {
        try (var plain =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new KeyedProcessOperator<>(new AreaRollupFunction(CALENDAR)),
                        AreaRollupFunction.KEY,
                        Types.STRING)) {
            plain.open();
            AreaUsage partial =
                    AreaRollups.regionalPartial(
                            UsageRows.hourOriginal(
                                    "acct-1",
                                    "CN-GD",
                                    HOUR_START,
                                    usageLine("m", Modality.TEXT, 10, 0, 0, 1),
                                    CALENDAR));

            Assertions.assertThatThrownBy(
                            () -> plain.processElement(new StreamRecord<>(partial, HOUR_START)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("WatermarkRememberingOperator");
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    /** The three operators' snapshots. */
    private record Snapshot(
            OperatorSubtaskState dedup,
            OperatorSubtaskState account,
            OperatorSubtaskState regional) {}

    /** What the pipeline wrote. */
    private static final class Outputs {
        final List<BillingRecord> billing = new ArrayList<>();
        final List<AccountUsage> accountRows = new ArrayList<>();
        final List<AreaUsage> regionalRows = new ArrayList<>();
        final List<RejectedRecord> tooLate = new ArrayList<>();

        List<AccountUsage> hourRows() {
            return accountRows.stream()
                    .filter(r -> r.getGranularity() == UsageGranularity.HOUR)
                    .toList();
        }

        List<AreaUsage> regionalHours() {
            return regionalRows.stream()
                    .filter(r -> r.getGranularity() == UsageGranularity.HOUR)
                    .toList();
        }

        List<AreaUsage> regionalDays() {
            return regionalRows.stream()
                    .filter(r -> r.getGranularity() == UsageGranularity.DAY)
                    .toList();
        }
    }

    /**
     * Deduplication → account metering → regional rollup, each in its own harness, records and
     * watermarks handed on in the order the job's channels keep (the pre-aggregations, which pass
     * everything on before a watermark, left out).
     */
    private final class Pipeline implements AutoCloseable {
        private final KeyedOneInputStreamOperatorTestHarness<
                        Tuple2<Long, Long>, IngestedRecord, UsagePartial>
                dedup;
        private final KeyedOneInputStreamOperatorTestHarness<String, UsagePartial, BillingRecord>
                account;
        private final KeyedOneInputStreamOperatorTestHarness<String, AreaUsage, AreaUsage> regional;
        private final Outputs outputs;

        Pipeline(@Nullable Snapshot restored, Outputs outputs) throws Exception {
            this.outputs = outputs;
            dedup = dedup(restored == null ? null : restored.dedup(), 1, 0);
            account =
                    harness(
                            new AccountMeteringFunction(
                                    CALENDAR, MeteringConfig.defaultConfig().metrics().labels()),
                            usage -> usage.accountId,
                            Types.STRING,
                            restored == null ? null : restored.account(),
                            1,
                            0);
            regional = rollup(restored == null ? null : restored.regional());
        }

        void send(UsageEvent event) throws Exception {
            dedup.processElement(record(event));
            handOn();
        }

        void watermark(long time) throws Exception {
            dedup.processWatermark(time);
            handOn();
            account.processWatermark(time);
            handOn();
            regional.processWatermark(time);
            handOn();
        }

        Snapshot snapshot() throws Exception {
            return new Snapshot(
                    dedup.snapshot(1, 1), account.snapshot(1, 1), regional.snapshot(1, 1));
        }

        private void handOn() throws Exception {
            drain(
                    dedup.getSideOutput(DeduplicateFunction.TOO_LATE),
                    r -> outputs.tooLate.add(r.getValue()));
            for (UsagePartial partial : takeRecords(dedup.getOutput(), UsagePartial.class)) {
                account.processElement(new StreamRecord<>(partial, partial.hourStart));
            }
            outputs.billing.addAll(takeRecords(account.getOutput(), BillingRecord.class));
            List<AccountUsage> rows = new ArrayList<>();
            drain(
                    account.getSideOutput(AccountMeteringFunction.ACCOUNT_USAGE),
                    r -> rows.add(r.getValue()));
            outputs.accountRows.addAll(rows);
            for (AccountUsage row : rows) {
                regional.processElement(
                        new StreamRecord<>(
                                AreaRollups.regionalPartial(row),
                                row.getWindowStart().toEpochMilli()));
            }
            outputs.regionalRows.addAll(takeRecords(regional.getOutput(), AreaUsage.class));
        }

        @Override
        public void close() throws Exception {
            dedup.close();
            account.close();
            regional.close();
        }
    }

    private KeyedOneInputStreamOperatorTestHarness<Tuple2<Long, Long>, IngestedRecord, UsagePartial>
            dedup(@Nullable OperatorSubtaskState restored, int parallelism, int subtask)
                    throws Exception {
        return harness(
                new DeduplicateFunction(HORIZON, CALENDAR),
                DeduplicateFunction.KEY,
                DeduplicateFunction.KEY_TYPE,
                restored,
                parallelism,
                subtask);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, AreaUsage, AreaUsage> rollup(
            @Nullable OperatorSubtaskState restored) throws Exception {
        return harness(
                new AreaRollupFunction(CALENDAR),
                AreaRollupFunction.KEY,
                Types.STRING,
                restored,
                1,
                0);
    }

    private static <K, I, O> KeyedOneInputStreamOperatorTestHarness<K, I, O> harness(
            WatermarkRememberingFunction<K, I, O> function,
            KeySelector<I, K> key,
            TypeInformation<K> keyType,
            @Nullable OperatorSubtaskState restored,
            int parallelism,
            int subtask)
            throws Exception {
        var harness =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        operator(function), key, keyType, MAX_PARALLELISM, parallelism, subtask);
        if (restored != null) {
            harness.initializeState(restored);
        }
        harness.open();
        return harness;
    }

    private StreamRecord<IngestedRecord> record(UsageEvent event) {
        IngestedRecord record =
                Fixtures.fingerprinted(
                        IngestedRecord.valid(
                                event,
                                "tokenmeter.usage.raw",
                                0,
                                offsets.getAndIncrement(),
                                0L,
                                CODEC.encode(event)));
        return new StreamRecord<>(record, event.getEventTime().toEpochMilli());
    }

    /**
     * A straggler of the closed day whose dedup key belongs to {@code subtask} of {@code
     * parallelism}.
     */
    private static UsageEvent stragglerFor(int parallelism, int subtask) throws Exception {
        for (int i = 0; ; i++) {
            UsageEvent event =
                    usageEvent(
                            "straggler-" + i,
                            "acct-1",
                            "m",
                            Modality.TEXT,
                            7,
                            0,
                            0,
                            "2026-03-10T02:20:00Z");
            IngestedRecord record =
                    Fixtures.fingerprinted(
                            IngestedRecord.valid(event, "t", 0, 0L, 0L, new byte[0]));
            int owner =
                    KeyGroupRangeAssignment.assignKeyToParallelOperator(
                            DeduplicateFunction.KEY.getKey(record), MAX_PARALLELISM, parallelism);
            if (owner == subtask) {
                return event;
            }
        }
    }

    private static List<RejectedRecord> rejected(
            KeyedOneInputStreamOperatorTestHarness<?, ?, ?> harness,
            OutputTag<RejectedRecord> tag) {
        Queue<StreamRecord<RejectedRecord>> side = harness.getSideOutput(tag);
        return side == null ? List.of() : side.stream().map(StreamRecord::getValue).toList();
    }

    /**
     * Removes and returns the records of {@code type} from a harness output, dropping the
     * watermarks in it.
     */
    private static <T> List<T> takeRecords(Queue<Object> output, Class<T> type) {
        List<T> taken = new ArrayList<>();
        for (Object element = output.poll(); element != null; element = output.poll()) {
            if (element instanceof StreamRecord<?> record) {
                taken.add(type.cast(record.getValue()));
            }
        }
        return taken;
    }

    private static <T> void drain(
            @Nullable Queue<StreamRecord<T>> side, Consumer<StreamRecord<T>> to) {
        if (side == null) {
            return;
        }
        for (StreamRecord<T> record = side.poll(); record != null; record = side.poll()) {
            to.accept(record);
        }
    }
}
