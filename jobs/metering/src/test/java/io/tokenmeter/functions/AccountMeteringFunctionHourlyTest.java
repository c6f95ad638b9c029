package io.tokenmeter.functions;

import static io.tokenmeter.testing.Fixtures.millis;
import static io.tokenmeter.testing.Fixtures.usageEvent;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.avro.UsageGranularity;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.Usage;
import io.tokenmeter.logic.UsagePartial;
import io.tokenmeter.metering.MeteringConfig;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.state.rocksdb.RocksDBKeyedStateBackend;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AccountMeteringFunctionHourlyTest {

    private static final BillingCalendar SHANGHAI =
            new BillingCalendar(
                    ZoneId.of("Asia/Shanghai"), Duration.ofMinutes(15), Duration.ofDays(35));
    private static final BillingCalendar KOLKATA =
            new BillingCalendar(
                    ZoneId.of("Asia/Kolkata"), Duration.ofMinutes(15), Duration.ofDays(35));

    /** Shanghai hour 10:00-11:00 local on 2026-03-10. */
    private static final long HOUR_START = millis("2026-03-10T02:00:00Z");

    private static final long HOUR_END = millis("2026-03-10T03:00:00Z");
    private static final long NEXT_HOUR_END = millis("2026-03-10T04:00:00Z");

    private BillingCalendar calendar;

    /** The watermark deduplication judged each event against: the harness's own. */
    private long watermark = Long.MIN_VALUE;

    private static final int MAX_PARALLELISM = 720;

    private KeyedOneInputStreamOperatorTestHarness<String, UsagePartial, BillingRecord> harness;

    @BeforeEach
    void setUp() throws Exception {
        harness = newHarness(SHANGHAI, false);
        calendar = SHANGHAI;
        watermark = Long.MIN_VALUE;
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    @Test
    void emitsNothingUntilWatermarkReachesHourEndThenOneOriginalRowPerModelAndModality()
            throws Exception {
        process(
                usageEvent(
                        "e1",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        10,
                        20,
                        3,
                        "2026-03-10T02:00:00Z"));
        process(
                usageEvent(
                        "e2",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        5,
                        5,
                        0,
                        "2026-03-10T02:30:00Z"));
        process(
                usageEvent(
                        "e3",
                        "acct-1",
                        "qwen-max",
                        Modality.CODE,
                        7,
                        0,
                        0,
                        "2026-03-10T02:40:00Z"));
        process(
                usageEvent(
                        "e4",
                        "acct-1",
                        "wanx",
                        Modality.IMAGE,
                        100,
                        0,
                        0,
                        "2026-03-10T02:59:59.999Z"));
        process(
                usageEvent(
                        "e5",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        1,
                        1,
                        1,
                        "2026-03-10T03:00:00Z")); // next hour

        advanceWatermark(HOUR_END - 1);
        assertThat(hourlyRows()).isEmpty();

        advanceWatermark(HOUR_END);

        List<AccountUsage> rows = hourlyRows();
        assertThat(rows)
                .extracting(
                        AccountUsage::getModel,
                        AccountUsage::getModality,
                        AccountUsage::getInputTokens,
                        AccountUsage::getOutputTokens,
                        AccountUsage::getCachedTokens,
                        AccountUsage::getTotalTokens,
                        AccountUsage::getEvents)
                .containsExactlyInAnyOrder(
                        tuple("qwen-max", Modality.TEXT, 15L, 25L, 3L, 43L, 2L),
                        tuple("qwen-max", Modality.CODE, 7L, 0L, 0L, 7L, 1L),
                        tuple("wanx", Modality.IMAGE, 100L, 0L, 0L, 100L, 1L));
        assertThat(rows)
                .allSatisfy(
                        r -> {
                            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ORIGINAL);
                            assertThat(r.getGranularity()).isEqualTo(UsageGranularity.HOUR);
                            assertThat(r.getAccountId()).isEqualTo("acct-1");
                            assertThat(r.getRegion()).isEqualTo("CN-GD");
                            assertThat(r.getWindowStart())
                                    .isEqualTo(Instant.ofEpochMilli(HOUR_START));
                            assertThat(r.getWindowEnd()).isEqualTo(Instant.ofEpochMilli(HOUR_END));
                            assertThat(r.getBillingDay()).isEqualTo(LocalDate.of(2026, 3, 10));
                            assertThat(r.getTimeZone()).isEqualTo("Asia/Shanghai");
                        });
        assertThat(rows).extracting(AccountUsage::getRecordId).doesNotHaveDuplicates();

        advanceWatermark(NEXT_HOUR_END);
        assertThat(hourlyRows())
                .hasSize(4)
                .last()
                .satisfies(
                        r -> {
                            assertThat(r.getWindowStart())
                                    .isEqualTo(Instant.ofEpochMilli(HOUR_END));
                            assertThat(r.getTotalTokens()).isEqualTo(3);
                        });
    }

    @Test
    void givesOriginalRowsTheSameIdsWhenTheSameInputIsReplayed() throws Exception {
        List<String> first = originalIdsOfOneHour();
        harness.close();
        harness = newHarness(SHANGHAI, false);
        calendar = SHANGHAI;
        watermark = Long.MIN_VALUE;

        List<String> replayed = originalIdsOfOneHour();

        assertThat(first).hasSize(2).doesNotHaveDuplicates();
        assertThat(replayed).containsExactlyInAnyOrderElementsOf(first);
    }

    private List<String> originalIdsOfOneHour() throws Exception {
        process(
                usageEvent(
                        "e1",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        10,
                        0,
                        0,
                        "2026-03-10T02:10:00Z"));
        process(
                usageEvent(
                        "e2", "acct-1", "wanx", Modality.IMAGE, 10, 0, 0, "2026-03-10T02:20:00Z"));
        advanceWatermark(HOUR_END);
        return hourlyRows().stream().map(AccountUsage::getRecordId).toList();
    }

    @Test
    void keepsAccountsApart() throws Exception {
        process(
                usageEvent(
                        "e1",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        10,
                        0,
                        0,
                        "2026-03-10T02:10:00Z"));
        process(
                usageEvent(
                        "e2",
                        "acct-2",
                        "qwen-max",
                        Modality.TEXT,
                        7,
                        0,
                        0,
                        "2026-03-10T02:20:00Z"));

        advanceWatermark(HOUR_END);

        List<AccountUsage> rows = hourlyRows();
        assertThat(rows)
                .extracting(AccountUsage::getAccountId, AccountUsage::getTotalTokens)
                .containsExactlyInAnyOrder(tuple("acct-1", 10L), tuple("acct-2", 7L));
        assertThat(rows).extracting(AccountUsage::getRecordId).doesNotHaveDuplicates();
    }

    @Test
    void emitsEventOfAnHourAlreadyClosedAsOneAdjustmentRowAtOnce() throws Exception {
        process(
                usageEvent(
                        "e1",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        10,
                        0,
                        0,
                        "2026-03-10T02:10:00Z"));
        advanceWatermark(HOUR_END);
        AccountUsage original = hourlyRows().get(0);

        process(
                usageEvent(
                        "late-1",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        4,
                        2,
                        1,
                        "2026-03-10T02:50:00Z"));

        List<AccountUsage> rows = hourlyRows();
        assertThat(rows).hasSize(2);
        assertThat(rows.get(1))
                .satisfies(
                        r -> {
                            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ADJUSTMENT);
                            assertThat(r.getGranularity()).isEqualTo(UsageGranularity.HOUR);
                            assertThat(r.getAccountId()).isEqualTo("acct-1");
                            assertThat(r.getWindowStart())
                                    .isEqualTo(Instant.ofEpochMilli(HOUR_START));
                            assertThat(r.getWindowEnd()).isEqualTo(Instant.ofEpochMilli(HOUR_END));
                            assertThat(r.getModel()).isEqualTo("qwen-max");
                            assertThat(r.getModality()).isEqualTo(Modality.TEXT);
                            assertThat(r.getInputTokens()).isEqualTo(4);
                            assertThat(r.getOutputTokens()).isEqualTo(2);
                            assertThat(r.getCachedTokens()).isEqualTo(1);
                            assertThat(r.getTotalTokens()).isEqualTo(7);
                            assertThat(r.getEvents()).isEqualTo(1);
                            assertThat(r.getRecordId()).isNotEqualTo(original.getRecordId());
                        });
        assertThat(harness.numEventTimeTimers())
                .as("the day's close; no hour is open")
                .isEqualTo(1);
    }

    /**
     * Of the record's position: a replayed record is the same row; the same event id in another
     * record is not.
     */
    @Test
    void givesAdjustmentRowAnIdDerivedFromTheRecordsPosition() throws Exception {
        advanceWatermark(HOUR_END);
        UsageEvent late =
                usageEvent(
                        "late-1",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        4,
                        0,
                        0,
                        "2026-03-10T02:50:00Z");

        processAt(late, 0, 10L);
        processAt(late, 0, 10L); // e.g. replayed after a restart
        processAt(late, 0, 11L); // re-sent after the dedup horizon, billed again
        processAt(late, 1, 10L);

        List<String> ids = hourlyRows().stream().map(AccountUsage::getRecordId).toList();
        assertThat(ids).hasSize(4);
        assertThat(ids.get(1)).isEqualTo(ids.get(0));
        assertThat(List.of(ids.get(0), ids.get(2), ids.get(3))).doesNotHaveDuplicates();
    }

    @Test
    void refusesUsageOfAClosedHourThatCameWithoutItsCorrectionId() throws Exception {
        advanceWatermark(HOUR_END);
        UsagePartial unjudged =
                UsagePartial.judge(
                        Usage.of(
                                usageEvent(
                                        "e1",
                                        "acct-1",
                                        "qwen-max",
                                        Modality.TEXT,
                                        4,
                                        0,
                                        0,
                                        "2026-03-10T02:50:00Z")),
                        "raw",
                        0,
                        1L,
                        false,
                        Long.MIN_VALUE,
                        Long.MIN_VALUE,
                        calendar);

        Assertions.assertThatThrownBy(() -> harness.processElement(new StreamRecord<>(unjudged)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("without a correction id");
    }

    /**
     * The partition's clock had passed the hour when the event was read; the watermark here lags
     * behind.
     */
    @Test
    void emitsAdjustmentWhenPartitionClockAtReadPassedHourEndThoughWatermarkIsBehind()
            throws Exception {
        advanceWatermark(HOUR_START);
        process(
                usageEvent(
                        "e1",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        10,
                        0,
                        0,
                        "2026-03-10T02:10:00Z"));

        processReadAtClock(
                usageEvent(
                        "e2", "acct-1", "qwen-max", Modality.TEXT, 4, 0, 0, "2026-03-10T02:20:00Z"),
                HOUR_END);

        assertThat(hourlyRows())
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ADJUSTMENT);
                            assertThat(r.getTotalTokens()).isEqualTo(4);
                            assertThat(r.getWindowStart())
                                    .isEqualTo(Instant.ofEpochMilli(HOUR_START));
                        });

        advanceWatermark(HOUR_END);

        List<AccountUsage> rows = hourlyRows();
        assertThat(rows)
                .extracting(
                        AccountUsage::getKind,
                        AccountUsage::getTotalTokens,
                        AccountUsage::getEvents)
                .containsExactly(
                        tuple(BillingRecordKind.ADJUSTMENT, 4L, 1L),
                        tuple(BillingRecordKind.ORIGINAL, 10L, 1L));
    }

    @Test
    void keepsEventOnTimeWhenPartitionClockAtReadIsJustBeforeHourEnd() throws Exception {
        processReadAtClock(
                usageEvent(
                        "e1", "acct-1", "qwen-max", Modality.TEXT, 4, 0, 0, "2026-03-10T02:20:00Z"),
                HOUR_END - 1);
        assertThat(hourlyRows()).isEmpty();

        advanceWatermark(HOUR_END);

        assertThat(hourlyRows())
                .extracting(AccountUsage::getKind, AccountUsage::getTotalTokens)
                .containsExactly(tuple(BillingRecordKind.ORIGINAL, 4L));
    }

    @Test
    void closesOpenHoursWithoutATimerEachAndClearsAllStateOnceEveryHourClosed() throws Exception {
        process(
                usageEvent(
                        "e1",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        1,
                        0,
                        0,
                        "2026-03-10T02:10:00Z"));
        process(
                usageEvent(
                        "e2",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        1,
                        0,
                        0,
                        "2026-03-10T02:20:00Z"));
        process(
                usageEvent(
                        "e3",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        1,
                        0,
                        0,
                        "2026-03-10T03:10:00Z"));
        process(
                usageEvent(
                        "e4", "acct-2", "wanx", Modality.IMAGE, 1, 0, 0, "2026-03-10T02:10:00Z"));
        // Each account has its billing day's close timer; the open hours are in memory, without
        // timers.
        assertThat(harness.numEventTimeTimers()).isEqualTo(2);
        assertThat(openHours()).isEqualTo(3);

        advanceWatermark(HOUR_END);
        assertThat(openHours()).isEqualTo(1);

        advanceWatermark(NEXT_HOUR_END);
        assertThat(hourlyRows()).hasSize(3);
        assertThat(openHours()).isZero();
        assertThat(harness.numEventTimeTimers()).isEqualTo(2);

        advanceWatermark(
                Long.MAX_VALUE); // past the correction deadline: nothing is left to bill or close
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    @Test
    void keepsOpenHoursAcrossARestoreAtAnotherParallelismAndClosesEachOnce() throws Exception {
        // given: three accounts with open hours, snapshotted at parallelism 1
        harness.close();
        harness = newHarness(SHANGHAI, false, MAX_PARALLELISM, 1, 0);
        harness.open();
        process(
                usageEvent(
                        "e1",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        3,
                        0,
                        0,
                        "2026-03-10T02:10:00Z"));
        process(
                usageEvent(
                        "e2", "acct-2", "wanx", Modality.IMAGE, 5, 0, 0, "2026-03-10T02:20:00Z"));
        process(
                usageEvent(
                        "e3", "acct-3", "wanx", Modality.IMAGE, 7, 0, 0, "2026-03-10T02:30:00Z"));
        var snapshot = harness.snapshot(1, 1);
        harness.close();

        // when: restored into two subtasks, more usage arrives for each account's open hour, and
        // the hour closes
        List<AccountUsage> rows = new ArrayList<>();
        for (int subtask = 0; subtask < 2; subtask++) {
            var repartitioned =
                    AbstractStreamOperatorTestHarness.repartitionOperatorState(
                            snapshot, MAX_PARALLELISM, 1, 2, subtask);
            harness = newHarness(SHANGHAI, false, MAX_PARALLELISM, 2, subtask);
            harness.initializeState(repartitioned);
            harness.open();
            watermark =
                    Long.MIN_VALUE; // each subtask starts from the snapshot, before the hour's end
            for (String account : new String[] {"acct-1", "acct-2", "acct-3"}) {
                int keyGroup = KeyGroupRangeAssignment.assignToKeyGroup(account, MAX_PARALLELISM);
                if (KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(
                                MAX_PARALLELISM, 2, keyGroup)
                        == subtask) {
                    process(
                            usageEvent(
                                    account + "-more",
                                    account,
                                    account.equals("acct-1") ? "qwen-max" : "wanx",
                                    account.equals("acct-1") ? Modality.TEXT : Modality.IMAGE,
                                    100,
                                    0,
                                    0,
                                    "2026-03-10T02:40:00Z"));
                }
            }
            advanceWatermark(HOUR_END);
            rows.addAll(hourlyRows());
            harness.close();
        }

        // then: each account's hour is closed once, by the subtask that owns it, with its usage
        // from both sides
        assertThat(rows)
                .extracting(
                        AccountUsage::getAccountId,
                        AccountUsage::getKind,
                        AccountUsage::getTotalTokens)
                .containsExactlyInAnyOrder(
                        tuple("acct-1", BillingRecordKind.ORIGINAL, 103L),
                        tuple("acct-2", BillingRecordKind.ORIGINAL, 105L),
                        tuple("acct-3", BillingRecordKind.ORIGINAL, 107L));
    }

    private int openHours() {
        return ((AccountMeteringFunction)
                        ((WatermarkRememberingOperator<?, ?, ?>) harness.getOperator())
                                .getUserFunction())
                .openHourCount();
    }

    /** India is at +05:30: its local hours start and end at half past the UTC hour. */
    @Test
    void closesKolkataHoursAtHalfPastTheUtcHour() throws Exception {
        harness.close();
        harness = newHarness(KOLKATA, false);
        calendar = KOLKATA;
        watermark = Long.MIN_VALUE;
        process(
                usageEvent(
                        "e1",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        10,
                        0,
                        0,
                        "2026-03-10T01:30:00Z")); // 07:00 IST
        process(
                usageEvent(
                        "e2",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        5,
                        0,
                        0,
                        "2026-03-10T02:29:59.999Z")); // 07:59 IST
        process(
                usageEvent(
                        "e3",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        1,
                        0,
                        0,
                        "2026-03-10T02:30:00Z")); // 08:00 IST

        advanceWatermark(millis("2026-03-10T02:30:00Z") - 1);
        assertThat(hourlyRows()).isEmpty();
        advanceWatermark(millis("2026-03-10T02:30:00Z"));

        assertThat(hourlyRows())
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.getWindowStart())
                                    .isEqualTo(Instant.parse("2026-03-10T01:30:00Z"));
                            assertThat(r.getWindowEnd())
                                    .isEqualTo(Instant.parse("2026-03-10T02:30:00Z"));
                            assertThat(r.getTimeZone()).isEqualTo("Asia/Kolkata");
                            assertThat(r.getBillingDay()).isEqualTo(LocalDate.of(2026, 3, 10));
                            assertThat(r.getTotalTokens()).isEqualTo(15);
                            assertThat(r.getEvents()).isEqualTo(2);
                        });

        advanceWatermark(millis("2026-03-10T03:30:00Z"));
        assertThat(hourlyRows())
                .hasSize(2)
                .last()
                .satisfies(
                        r -> {
                            assertThat(r.getWindowStart())
                                    .isEqualTo(Instant.parse("2026-03-10T02:30:00Z"));
                            assertThat(r.getTotalTokens()).isEqualTo(1);
                        });
    }

    @Test
    void datesTheFirstLocalHourOfADayByTheLocalDate() throws Exception {
        harness.close();
        harness = newHarness(KOLKATA, false);
        calendar = KOLKATA;
        watermark = Long.MIN_VALUE;
        process(
                usageEvent(
                        "e1",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        10,
                        0,
                        0,
                        "2026-03-09T18:30:00Z")); // 00:00 IST

        advanceWatermark(millis("2026-03-09T19:30:00Z"));

        assertThat(hourlyRows())
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.getWindowStart())
                                    .isEqualTo(Instant.parse("2026-03-09T18:30:00Z"));
                            assertThat(r.getBillingDay()).isEqualTo(LocalDate.of(2026, 3, 10));
                        });
    }

    /**
     * On RocksDB the open hours go through Avro serialization between every call; sums must still
     * add up.
     */
    @Test
    void sumsAndClosesHoursOnRocksDb() throws Exception {
        harness.close();
        harness = newHarness(SHANGHAI, true);
        calendar = SHANGHAI;
        watermark = Long.MIN_VALUE;
        process(
                usageEvent(
                        "e1",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        1,
                        0,
                        0,
                        "2026-03-10T02:10:00Z"));
        process(
                usageEvent(
                        "e2",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        10,
                        0,
                        0,
                        "2026-03-10T02:20:00Z"));
        process(
                usageEvent(
                        "e3", "acct-1", "wanx", Modality.IMAGE, 100, 0, 0, "2026-03-10T02:30:00Z"));
        process(
                usageEvent(
                        "e4",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        1000,
                        0,
                        0,
                        "2026-03-10T03:10:00Z"));

        advanceWatermark(HOUR_END);
        try (var keys =
                harness.getOperator()
                        .<String>getKeyedStateBackend()
                        .getKeys("account-state", VoidNamespace.INSTANCE)) {
            assertThat(keys).containsExactly("acct-1");
        }
        process(
                usageEvent(
                        "e5",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        10_000,
                        0,
                        0,
                        "2026-03-10T03:20:00Z"));
        process(
                usageEvent(
                        "e6",
                        "acct-1",
                        "qwen-max",
                        Modality.TEXT,
                        7,
                        0,
                        0,
                        "2026-03-10T02:40:00Z")); // late
        advanceWatermark(NEXT_HOUR_END);

        assertThat(hourlyRows())
                .extracting(
                        r -> r.getWindowStart().toEpochMilli(),
                        AccountUsage::getKind,
                        AccountUsage::getModel,
                        AccountUsage::getTotalTokens,
                        AccountUsage::getEvents)
                .containsExactlyInAnyOrder(
                        tuple(HOUR_START, BillingRecordKind.ORIGINAL, "qwen-max", 11L, 2L),
                        tuple(HOUR_START, BillingRecordKind.ORIGINAL, "wanx", 100L, 1L),
                        tuple(HOUR_START, BillingRecordKind.ADJUSTMENT, "qwen-max", 7L, 1L),
                        tuple(HOUR_END, BillingRecordKind.ORIGINAL, "qwen-max", 11_000L, 2L));
        advanceWatermark(
                Long.MAX_VALUE); // past the correction deadline: nothing is left to bill or close
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
     * A harness not yet opened, so the state backend can still be chosen: RememberingHarnesses
     * opens its harness at once, and a backend set after that is silently ignored (the heap backend
     * already exists).
     */
    private static KeyedOneInputStreamOperatorTestHarness<String, UsagePartial, BillingRecord>
            newHarness(BillingCalendar calendar, boolean rocksDb) throws Exception {
        if (!rocksDb) {
            return RememberingHarnesses.forFunction(
                    new AccountMeteringFunction(
                            calendar, MeteringConfig.defaultConfig().metrics().labels()),
                    r -> r.accountId,
                    Types.STRING);
        }
        KeyedOneInputStreamOperatorTestHarness<String, UsagePartial, BillingRecord> h =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new WatermarkRememberingOperator<>(
                                new AccountMeteringFunction(
                                        calendar,
                                        MeteringConfig.defaultConfig().metrics().labels())),
                        r -> r.accountId,
                        Types.STRING);
        h.setStateBackend(new EmbeddedRocksDBStateBackend());
        h.open();
        assertThat(h.getOperator().getKeyedStateBackend())
                .isInstanceOf(RocksDBKeyedStateBackend.class);
        return h;
    }

    /** A harness for one of {@code parallelism} subtasks, not yet initialised or opened. */
    private static KeyedOneInputStreamOperatorTestHarness<String, UsagePartial, BillingRecord>
            newHarness(
                    BillingCalendar calendar,
                    boolean rocksDb,
                    int maxParallelism,
                    int parallelism,
                    int subtask)
                    throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new WatermarkRememberingOperator<>(
                        new AccountMeteringFunction(
                                calendar, MeteringConfig.defaultConfig().metrics().labels())),
                r -> r.accountId,
                Types.STRING,
                maxParallelism,
                parallelism,
                subtask);
    }

    private List<AccountUsage> hourlyRows() {
        var rows = harness.getSideOutput(AccountMeteringFunction.ACCOUNT_USAGE);
        return rows == null
                ? List.of()
                : rows.stream()
                        .map(StreamRecord::getValue)
                        .filter(row -> row.getGranularity() == UsageGranularity.HOUR)
                        .toList();
    }

    private void advanceWatermark(long time) throws Exception {
        watermark = time;
        harness.processWatermark(time);
    }

    private void process(UsageEvent event) throws Exception {
        processReadAtClock(event, Long.MIN_VALUE);
    }

    private void processAt(UsageEvent event, int partition, long offset) throws Exception {
        UsagePartial usage =
                UsagePartial.judge(
                        Usage.of(event),
                        "raw",
                        partition,
                        offset,
                        false,
                        Long.MIN_VALUE,
                        watermark,
                        calendar);
        harness.processElement(new StreamRecord<>(usage, event.getEventTime().toEpochMilli()));
    }

    private void processReadAtClock(UsageEvent event, long clockAtRead) throws Exception {
        UsagePartial usage =
                UsagePartial.judge(
                        Usage.of(event),
                        "raw",
                        0,
                        event.getEventId().hashCode(),
                        false,
                        clockAtRead,
                        watermark,
                        calendar);
        harness.processElement(new StreamRecord<>(usage, event.getEventTime().toEpochMilli()));
    }
}
