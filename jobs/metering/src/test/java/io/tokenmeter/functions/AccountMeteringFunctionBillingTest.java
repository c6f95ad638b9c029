package io.tokenmeter.functions;

import static io.tokenmeter.testing.Fixtures.billingLine;
import static io.tokenmeter.testing.Fixtures.millis;
import static io.tokenmeter.testing.Fixtures.onTime;
import static io.tokenmeter.testing.Fixtures.usageEvent;
import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.Usage;
import io.tokenmeter.logic.UsagePartial;
import io.tokenmeter.logic.billing.BillingRecordIds;
import io.tokenmeter.metering.MeteringConfig;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.state.rocksdb.RocksDBKeyedStateBackend;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AccountMeteringFunctionBillingTest {

    private static final BillingCalendar CALENDAR =
            new BillingCalendar(
                    ZoneId.of("Asia/Shanghai"), Duration.ofMinutes(15), Duration.ofDays(35));

    /** Shanghai day 2026-03-10: 2026-03-09T16:00Z to 2026-03-10T16:00Z, closing at 16:15Z. */
    private static final LocalDate DAY = LocalDate.of(2026, 3, 10);

    private static final long DAY_START = millis("2026-03-09T16:00:00Z");
    private static final long CLOSE = millis("2026-03-10T16:15:00Z");
    private static final long CORRECTION_DEADLINE = millis("2026-04-14T16:00:00Z");

    /** The correction deadline rounded up to the week: the day's state goes then. */
    private static final long CLEAN_UP = millis("2026-04-16T00:00:00Z");

    private KeyedOneInputStreamOperatorTestHarness<String, UsagePartial, BillingRecord> harness;

    @BeforeEach
    void setUp() throws Exception {
        harness =
                RememberingHarnesses.forFunction(
                        new AccountMeteringFunction(
                                CALENDAR, MeteringConfig.defaultConfig().metrics().labels()),
                        r -> r.accountId,
                        Types.STRING);
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    @Test
    void billsDayOnceWhenWatermarkPassesDayEndPlusGrace() throws Exception {
        process(
                event(
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        10,
                        20,
                        3,
                        "2026-03-09T16:00:00Z")); // local midnight
        process(event("acct-1", "qwen-max", Modality.TEXT, 5, 5, 0, "2026-03-10T02:00:00Z"));
        process(
                event(
                        "acct-1",
                        "wanx",
                        Modality.IMAGE,
                        100,
                        0,
                        0,
                        "2026-03-10T15:59:59.999Z")); // last millisecond
        process(
                event(
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        1,
                        1,
                        1,
                        "2026-03-10T16:00:00Z")); // next day

        advanceWatermark(CLOSE - 1);
        assertThat(harness.extractOutputValues()).isEmpty();

        advanceWatermark(CLOSE);
        List<BillingRecord> billed = harness.extractOutputValues();
        assertThat(billed)
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ORIGINAL);
                            assertThat(r.getVersion()).isEqualTo(1);
                            assertThat(r.getRecordId())
                                    .isEqualTo(BillingRecordIds.recordId("acct-1", DAY, 1));
                            assertThat(r.getAccountId()).isEqualTo("acct-1");
                            assertThat(r.getBillingDay()).isEqualTo(DAY);
                            assertThat(r.getLineItems())
                                    .containsExactly(
                                            billingLine("qwen-max", Modality.TEXT, 15, 25, 3, 2),
                                            billingLine("wanx", Modality.IMAGE, 100, 0, 0, 1));
                            assertThat(r.getTotalTokens()).isEqualTo(143);
                            assertThat(r.getEvents()).isEqualTo(3);
                        });

        advanceWatermark(CLOSE + Duration.ofHours(1).toMillis());
        assertThat(harness.extractOutputValues()).hasSize(1);
    }

    @Test
    void billsEachAccountSeparately() throws Exception {
        process(event("acct-1", "qwen-max", Modality.TEXT, 10, 0, 0, "2026-03-10T01:00:00Z"));
        process(event("acct-2", "qwen-max", Modality.TEXT, 7, 0, 0, "2026-03-10T01:00:00Z"));

        advanceWatermark(CLOSE);

        assertThat(harness.extractOutputValues())
                .extracting(BillingRecord::getAccountId, BillingRecord::getTotalTokens)
                .containsExactlyInAnyOrder(Tuple.tuple("acct-1", 10L), Tuple.tuple("acct-2", 7L));
    }

    @Test
    void billsPreAggregatedPartialsWithTheirEventCounts() throws Exception {
        UsagePartial threeEvents =
                onTime(
                        event(
                                "acct-1",
                                "qwen-max",
                                Modality.TEXT,
                                30,
                                6,
                                3,
                                "2026-03-10T01:00:00Z"),
                        CALENDAR);
        threeEvents.events = 3;
        harness.processElement(new StreamRecord<>(threeEvents));
        process(event("acct-1", "qwen-max", Modality.TEXT, 1, 0, 0, "2026-03-10T01:30:00Z"));

        advanceWatermark(CLOSE);

        assertThat(harness.extractOutputValues())
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.getLineItems())
                                    .containsExactly(
                                            billingLine("qwen-max", Modality.TEXT, 31, 6, 3, 4));
                            assertThat(r.getEvents()).isEqualTo(4);
                        });
    }

    @Test
    void billsLateEventAsAdjustmentCarryingOnlyTheDelta() throws Exception {
        process(event("acct-1", "qwen-max", Modality.TEXT, 10, 20, 3, "2026-03-10T01:00:00Z"));
        advanceWatermark(CLOSE);
        BillingRecord original = harness.extractOutputValues().get(0);

        long watermark = CLOSE + Duration.ofHours(1).toMillis();
        advanceWatermark(watermark);
        process(event("acct-1", "qwen-max", Modality.TEXT, 4, 0, 0, "2026-03-10T05:00:00Z"));
        process(event("acct-1", "deepseek", Modality.CODE, 0, 9, 0, "2026-03-10T06:00:00Z"));
        assertThat(harness.extractOutputValues()).hasSize(1);

        advanceWatermark(watermark + 1);

        List<BillingRecord> billed = harness.extractOutputValues();
        assertThat(billed).hasSize(2);
        BillingRecord adjustment = billed.get(1);
        assertThat(adjustment.getKind()).isEqualTo(BillingRecordKind.ADJUSTMENT);
        assertThat(adjustment.getVersion()).isEqualTo(2);
        assertThat(adjustment.getCorrectsRecordId()).isEqualTo(original.getRecordId());
        assertThat(adjustment.getRecordId()).isEqualTo(BillingRecordIds.recordId("acct-1", DAY, 2));
        assertThat(adjustment.getBillingDay()).isEqualTo(DAY);
        assertThat(adjustment.getLineItems())
                .containsExactly(
                        billingLine("deepseek", Modality.CODE, 0, 9, 0, 1),
                        billingLine("qwen-max", Modality.TEXT, 4, 0, 0, 1));
        assertThat(adjustment.getTotalTokens()).isEqualTo(13);
        assertThat(adjustment.getEvents()).isEqualTo(2);
    }

    @Test
    void billsNextLateEventAsVersionThree() throws Exception {
        process(event("acct-1", "qwen-max", Modality.TEXT, 1, 0, 0, "2026-03-10T01:00:00Z"));
        advanceWatermark(CLOSE);
        process(event("acct-1", "qwen-max", Modality.TEXT, 2, 0, 0, "2026-03-10T01:00:00Z"));
        advanceWatermark(CLOSE + 1);
        process(event("acct-1", "qwen-max", Modality.TEXT, 3, 0, 0, "2026-03-10T01:00:00Z"));
        advanceWatermark(CLOSE + 2);

        assertThat(harness.extractOutputValues())
                .extracting(BillingRecord::getVersion, BillingRecord::getTotalTokens)
                .containsExactly(Tuple.tuple(1, 1L), Tuple.tuple(2, 2L), Tuple.tuple(3, 3L));
    }

    /**
     * A day first seen after it closed has no on-time usage: an empty ORIGINAL, then its usage as
     * version 2.
     */
    @Test
    void billsFirstEventOfAlreadyClosedDayAsEmptyOriginalThenAdjustment() throws Exception {
        advanceWatermark(CLOSE + Duration.ofDays(2).toMillis());
        process(event("acct-1", "qwen-max", Modality.TEXT, 8, 0, 0, "2026-03-10T01:00:00Z"));

        advanceWatermark(CLOSE + Duration.ofDays(2).toMillis() + 1);

        List<BillingRecord> billed = harness.extractOutputValues();
        assertThat(billed).hasSize(2);
        assertThat(billed.get(0))
                .satisfies(
                        r -> {
                            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ORIGINAL);
                            assertThat(r.getVersion()).isEqualTo(1);
                            assertThat(r.getRecordId())
                                    .isEqualTo(BillingRecordIds.recordId("acct-1", DAY, 1));
                            assertThat(r.getCorrectsRecordId()).isNull();
                            assertThat(r.getBillingDay()).isEqualTo(DAY);
                            assertThat(r.getLineItems()).isEmpty();
                            assertThat(r.getTotalTokens()).isZero();
                            assertThat(r.getEvents()).isZero();
                        });
        assertThat(billed.get(1))
                .satisfies(
                        r -> {
                            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ADJUSTMENT);
                            assertThat(r.getVersion()).isEqualTo(2);
                            assertThat(r.getCorrectsRecordId())
                                    .isEqualTo(billed.get(0).getRecordId());
                            assertThat(r.getLineItems())
                                    .containsExactly(
                                            billingLine("qwen-max", Modality.TEXT, 8, 0, 0, 1));
                            assertThat(r.getTotalTokens()).isEqualTo(8);
                        });
    }

    /**
     * An event its partition's clock judged late is kept out of the ORIGINAL even though the day is
     * still open here (the watermark, held back by slower partitions, has not reached the close):
     * it is billed at the close as an ADJUSTMENT, while the day's on-time events make up the
     * ORIGINAL.
     */
    @Test
    void billsEventJudgedLateAtTheSourceAsAdjustmentAtCloseOfAStillOpenDay() throws Exception {
        process(event("acct-1", "qwen-max", Modality.TEXT, 10, 20, 3, "2026-03-10T01:00:00Z"));
        advanceWatermark(CLOSE - Duration.ofHours(1).toMillis());
        processLate(event("acct-1", "qwen-max", Modality.TEXT, 4, 0, 0, "2026-03-10T05:00:00Z"));
        processLate(event("acct-1", "deepseek", Modality.CODE, 0, 9, 0, "2026-03-10T06:00:00Z"));
        process(event("acct-1", "wanx", Modality.IMAGE, 100, 0, 0, "2026-03-10T07:00:00Z"));

        advanceWatermark(CLOSE - 1);
        assertThat(harness.extractOutputValues()).isEmpty();

        advanceWatermark(CLOSE);

        List<BillingRecord> billed = harness.extractOutputValues();
        assertThat(billed).hasSize(2);
        assertThat(billed.get(0))
                .satisfies(
                        r -> {
                            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ORIGINAL);
                            assertThat(r.getVersion()).isEqualTo(1);
                            assertThat(r.getLineItems())
                                    .containsExactly(
                                            billingLine("qwen-max", Modality.TEXT, 10, 20, 3, 1),
                                            billingLine("wanx", Modality.IMAGE, 100, 0, 0, 1));
                            assertThat(r.getTotalTokens()).isEqualTo(133);
                            assertThat(r.getEvents()).isEqualTo(2);
                        });
        assertThat(billed.get(1))
                .satisfies(
                        r -> {
                            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ADJUSTMENT);
                            assertThat(r.getVersion()).isEqualTo(2);
                            assertThat(r.getRecordId())
                                    .isEqualTo(BillingRecordIds.recordId("acct-1", DAY, 2));
                            assertThat(r.getCorrectsRecordId())
                                    .isEqualTo(billed.get(0).getRecordId());
                            assertThat(r.getLineItems())
                                    .containsExactly(
                                            billingLine("deepseek", Modality.CODE, 0, 9, 0, 1),
                                            billingLine("qwen-max", Modality.TEXT, 4, 0, 0, 1));
                            assertThat(r.getTotalTokens()).isEqualTo(13);
                            assertThat(r.getEvents()).isEqualTo(2);
                        });

        advanceWatermark(CLOSE + Duration.ofHours(1).toMillis());
        assertThat(harness.extractOutputValues()).hasSize(2);
    }

    /**
     * The only event of a still open day came late: a close timer is still set, and bills it as
     * version 2.
     */
    @Test
    void billsOpenDayWhoseOnlyEventWasJudgedLateAsEmptyOriginalThenAdjustmentAtClose()
            throws Exception {
        processLate(event("acct-1", "qwen-max", Modality.TEXT, 8, 0, 0, "2026-03-10T01:00:00Z"));
        assertThat(harness.numEventTimeTimers())
                .as("the day's close; its hour closes without one")
                .isEqualTo(1);

        advanceWatermark(CLOSE - 1);
        assertThat(harness.extractOutputValues()).isEmpty();
        advanceWatermark(CLOSE);

        assertThat(harness.extractOutputValues())
                .extracting(
                        BillingRecord::getKind,
                        BillingRecord::getVersion,
                        BillingRecord::getTotalTokens)
                .containsExactly(
                        Tuple.tuple(BillingRecordKind.ORIGINAL, 1, 0L),
                        Tuple.tuple(BillingRecordKind.ADJUSTMENT, 2, 8L));
    }

    @Test
    void acceptsCorrectionJustBeforeHorizon() throws Exception {
        process(event("acct-1", "qwen-max", Modality.TEXT, 1, 0, 0, "2026-03-10T01:00:00Z"));
        advanceWatermark(CORRECTION_DEADLINE - 2);
        process(event("acct-1", "qwen-max", Modality.TEXT, 2, 0, 0, "2026-03-10T01:00:00Z"));

        advanceWatermark(CORRECTION_DEADLINE - 1);

        assertThat(harness.extractOutputValues())
                .extracting(BillingRecord::getVersion)
                .containsExactly(1, 2);
    }

    @Test
    void clearsAllTimersAtTheCleanUpAfterTheCorrectionDeadline() throws Exception {
        billTwoAccountsWithOneAdjustment();

        advanceWatermark(CLEAN_UP - 1);
        assertThat(harness.numEventTimeTimers()).isPositive();
        advanceWatermark(CLEAN_UP);

        assertThat(harness.numEventTimeTimers()).isZero();
        assertThat(harness.extractOutputValues()).hasSize(3);
    }

    /**
     * Every piece of state has a clear path: after the correction deadline nothing is left for any
     * account. On the heap backend only MapState.remove (not Iterator.remove) drops an emptied map,
     * so this also guards that.
     */
    @Test
    void clearsAllKeyedStateAtTheCleanUpAfterTheCorrectionDeadline() throws Exception {
        billTwoAccountsWithOneAdjustment();

        advanceWatermark(CLEAN_UP);

        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    /**
     * acct-1 and acct-2 billed for {@link #DAY}, then acct-1 corrected once: 3 records, state in
     * use.
     */
    private void billTwoAccountsWithOneAdjustment() throws Exception {
        process(event("acct-1", "qwen-max", Modality.TEXT, 10, 0, 0, "2026-03-10T01:00:00Z"));
        process(event("acct-2", "wanx", Modality.IMAGE, 10, 0, 0, "2026-03-10T01:00:00Z"));
        advanceWatermark(CLOSE);
        process(event("acct-1", "qwen-max", Modality.TEXT, 1, 0, 0, "2026-03-10T02:00:00Z"));
        advanceWatermark(CLOSE + 1);
        assertThat(harness.extractOutputValues()).hasSize(3);
        assertThat(harness.numKeyedStateEntries()).isPositive();
        assertThat(harness.numEventTimeTimers())
                .isEqualTo(2); // one correction-deadline timer per account
    }

    /**
     * On RocksDB the state goes through Avro serialization between calls; corrections must still
     * add up. The day before is first seen after it closed, so all its usage is corrections: an
     * empty ORIGINAL, then versions 2-4.
     */
    @Test
    void billsRepeatedCorrectionsOfADayFirstSeenAfterItClosedOnRocksDb() throws Exception {
        harness.close();
        // Not RememberingHarnesses: it opens the harness, after which a state backend is ignored.
        harness =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new WatermarkRememberingOperator<>(
                                new AccountMeteringFunction(
                                        CALENDAR,
                                        MeteringConfig.defaultConfig().metrics().labels())),
                        r -> r.accountId,
                        Types.STRING);
        harness.setStateBackend(new EmbeddedRocksDBStateBackend());
        harness.open();
        assertThat(harness.getOperator().getKeyedStateBackend())
                .isInstanceOf(RocksDBKeyedStateBackend.class);
        process(event("acct-1", "m", Modality.TEXT, 1, 0, 0, "2026-03-10T02:00:00Z"));
        advanceWatermark(millis("2026-03-10T03:00:00Z"));
        process(
                event(
                        "acct-1",
                        "m",
                        Modality.TEXT,
                        10,
                        0,
                        0,
                        "2026-03-09T10:00:00Z")); // late, day before
        advanceWatermark(millis("2026-03-10T03:10:00Z"));
        process(
                event(
                        "acct-1",
                        "m",
                        Modality.TEXT,
                        100,
                        0,
                        0,
                        "2026-03-09T11:00:00Z")); // late again
        advanceWatermark(millis("2026-03-10T03:20:00Z"));
        process(
                event(
                        "acct-1",
                        "m",
                        Modality.TEXT,
                        1000,
                        0,
                        0,
                        "2026-03-09T12:00:00Z")); // late again
        advanceWatermark(Long.MAX_VALUE);
        List<BillingRecord> billed = harness.extractOutputValues();
        assertThat(billed)
                .extracting(
                        BillingRecord::getBillingDay,
                        BillingRecord::getKind,
                        BillingRecord::getVersion,
                        BillingRecord::getTotalTokens)
                .containsExactly(
                        Tuple.tuple(DAY.minusDays(1), BillingRecordKind.ORIGINAL, 1, 0L),
                        Tuple.tuple(DAY.minusDays(1), BillingRecordKind.ADJUSTMENT, 2, 10L),
                        Tuple.tuple(DAY.minusDays(1), BillingRecordKind.ADJUSTMENT, 3, 100L),
                        Tuple.tuple(DAY.minusDays(1), BillingRecordKind.ADJUSTMENT, 4, 1000L),
                        Tuple.tuple(DAY, BillingRecordKind.ORIGINAL, 1, 1L));
        assertThat(billed.get(0).getLineItems()).isEmpty();
        // numKeyedStateEntries() only works on the heap backend: ask RocksDB for the keys holding
        // state instead.
        try (var keys =
                harness.getOperator()
                        .<String>getKeyedStateBackend()
                        .getKeys("account-state", VoidNamespace.INSTANCE)) {
            assertThat(keys).isEmpty();
        }
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    /**
     * Issue #14: the account state restores from its own RocksDB snapshot at another parallelism:
     * an open day's usage from before and after the restore is billed once, by the subtask its
     * account moved to.
     */
    @Test
    void billsOpenDayUsageFromBeforeARestoreAtParallelismTwoOnRocksDb() throws Exception {
        // given: two accounts' usage of an open day, one of them also of the next day
        harness.close();
        harness = rocksDbHarness(null, 1, 0);
        process(event("acct-1", "m", Modality.TEXT, 1, 2, 0, "2026-03-10T01:00:00Z"));
        process(event("acct-1", "m", Modality.TEXT, 10, 20, 0, "2026-03-10T05:00:00Z"));
        process(event("acct-1", "n", Modality.IMAGE, 100, 0, 0, "2026-03-10T06:00:00Z"));
        process(event("acct-1", "m", Modality.TEXT, 7, 0, 0, "2026-03-11T01:00:00Z"));
        process(event("acct-2", "m", Modality.TEXT, 1000, 0, 0, "2026-03-10T02:00:00Z"));
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        harness.close();

        // when: restored at parallelism 2, each subtask holding its own accounts, and both days
        // close
        List<BillingRecord> billed = new ArrayList<>();
        for (int subtask = 0; subtask < 2; subtask++) {
            harness =
                    rocksDbHarness(
                            AbstractStreamOperatorTestHarness.repartitionOperatorState(
                                    snapshot, MAX_PARALLELISM, 1, 2, subtask),
                            2,
                            subtask);
            if (KeyGroupRangeAssignment.assignKeyToParallelOperator("acct-1", MAX_PARALLELISM, 2)
                    == subtask) {
                // more usage of the open day after the restore
                process(event("acct-1", "m", Modality.TEXT, 10000, 0, 0, "2026-03-10T07:00:00Z"));
            }
            advanceWatermark(Long.MAX_VALUE);
            billed.addAll(harness.extractOutputValues());
            assertThat(harness.numEventTimeTimers()).isZero();
            harness.close();
            watermark = Long.MIN_VALUE;
        }
        harness = rocksDbHarness(null, 1, 0); // closed after the test

        // then: each account-day billed once, with every partial summed per line
        assertThat(billed)
                .extracting(
                        BillingRecord::getAccountId,
                        BillingRecord::getBillingDay,
                        BillingRecord::getVersion,
                        BillingRecord::getTotalTokens)
                .containsExactlyInAnyOrder(
                        Tuple.tuple("acct-1", DAY, 1, 10133L),
                        Tuple.tuple("acct-1", DAY.plusDays(1), 1, 7L),
                        Tuple.tuple("acct-2", DAY, 1, 1000L));
        BillingRecord acct1Day =
                billed.stream()
                        .filter(
                                r ->
                                        r.getAccountId().equals("acct-1")
                                                && r.getBillingDay().equals(DAY))
                        .findFirst()
                        .orElseThrow();
        assertThat(acct1Day.getLineItems())
                .extracting(
                        line -> line.getModel(),
                        line -> line.getInputTokens(),
                        line -> line.getOutputTokens(),
                        line -> line.getEvents())
                .containsExactlyInAnyOrder(
                        Tuple.tuple("m", 10011L, 22L, 3L), Tuple.tuple("n", 100L, 0L, 1L));
    }

    private static final int MAX_PARALLELISM = 128;

    private static KeyedOneInputStreamOperatorTestHarness<String, UsagePartial, BillingRecord>
            rocksDbHarness(OperatorSubtaskState snapshot, int parallelism, int subtask)
                    throws Exception {
        var harness =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new WatermarkRememberingOperator<>(
                                new AccountMeteringFunction(
                                        CALENDAR,
                                        MeteringConfig.defaultConfig().metrics().labels())),
                        (UsagePartial r) -> r.accountId,
                        Types.STRING,
                        MAX_PARALLELISM,
                        parallelism,
                        subtask);
        harness.setStateBackend(new EmbeddedRocksDBStateBackend());
        if (snapshot != null) {
            harness.initializeState(snapshot);
        }
        harness.open();
        return harness;
    }

    /** The watermark deduplication judged each event against: the harness's own. */
    private long watermark = Long.MIN_VALUE;

    private void advanceWatermark(long time) throws Exception {
        watermark = time;
        harness.processWatermark(time);
    }

    private void process(UsageEvent event) throws Exception {
        harness.processElement(
                new StreamRecord<>(
                        UsagePartial.judge(
                                Usage.of(event),
                                "raw",
                                0,
                                event.getEventId().hashCode(),
                                false,
                                Long.MIN_VALUE,
                                watermark,
                                CALENDAR)));
    }

    /** An event its partition's clock judged late at the source. */
    private void processLate(UsageEvent event) throws Exception {
        harness.processElement(
                new StreamRecord<>(
                        UsagePartial.judge(
                                Usage.of(event),
                                "raw",
                                0,
                                event.getEventId().hashCode(),
                                true,
                                Long.MIN_VALUE,
                                watermark,
                                CALENDAR)));
    }

    private static UsageEvent event(
            String account,
            String model,
            Modality modality,
            long input,
            long output,
            long cached,
            String time) {
        return usageEvent(
                account + "-" + time + "-" + input,
                account,
                model,
                modality,
                input,
                output,
                cached,
                time);
    }
}
