package io.tokenmeter.functions;

import static io.tokenmeter.testing.Fixtures.billingLine;
import static io.tokenmeter.testing.Fixtures.millis;
import static io.tokenmeter.testing.Fixtures.usageLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.avro.UsageGranularity;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.billing.BillingRecordIds;
import io.tokenmeter.logic.billing.UsageRows;
import io.tokenmeter.logic.rollups.AreaRollups;
import io.tokenmeter.testing.Fixtures;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AreaRollupFunctionTest {

    private static final BillingCalendar CALENDAR =
            new BillingCalendar(
                    ZoneId.of("Asia/Shanghai"), Duration.ofMinutes(15), Duration.ofDays(35));

    /** Shanghai hour 10:00-11:00 local on 2026-03-10. */
    private static final long HOUR_START = millis("2026-03-10T02:00:00Z");

    private static final long HOUR_END = millis("2026-03-10T03:00:00Z");

    /** Shanghai day 2026-03-10: 2026-03-09T16:00Z to 2026-03-10T16:00Z, closing at 16:15Z. */
    private static final LocalDate DAY = LocalDate.of(2026, 3, 10);

    private static final long DAY_START = millis("2026-03-09T16:00:00Z");
    private static final long DAY_END = millis("2026-03-10T16:00:00Z");
    private static final long DAY_CLOSE = CALENDAR.closeTime(DAY_START);

    private KeyedOneInputStreamOperatorTestHarness<String, AreaUsage, AreaUsage> harness;

    @BeforeEach
    void setUp() throws Exception {
        harness = newHarness();
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    @Test
    void closesDaysAtTheirEndPlusGrace() {
        assertThat(DAY_CLOSE).isEqualTo(millis("2026-03-10T16:15:00Z"));
    }

    @Test
    void sumsPartialsOfOneHourAreaModelAndModalityIntoOneOriginalAtTheHourEnd() throws Exception {
        process(regional(hourRow("acct-1", "CN-GD", "qwen-max", Modality.TEXT, 10, 20, 3, 2)));
        process(regional(hourRow("acct-2", "CN-GD", "qwen-max", Modality.TEXT, 5, 0, 1, 1)));
        process(
                regional(
                        lateHourRow(
                                "late-1",
                                "acct-3",
                                "CN-GD",
                                "qwen-max",
                                Modality.TEXT,
                                100,
                                0,
                                0)));

        harness.processWatermark(HOUR_END - 1);
        assertThat(harness.extractOutputValues()).isEmpty();

        harness.processWatermark(HOUR_END);

        assertThat(harness.extractOutputValues())
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ORIGINAL);
                            assertThat(r.getGranularity()).isEqualTo(UsageGranularity.HOUR);
                            assertThat(r.getRegion()).isEqualTo("CN-GD");
                            assertThat(r.getModel()).isEqualTo("qwen-max");
                            assertThat(r.getModality()).isEqualTo(Modality.TEXT);
                            assertThat(r.getWindowStart())
                                    .isEqualTo(Instant.ofEpochMilli(HOUR_START));
                            assertThat(r.getWindowEnd()).isEqualTo(Instant.ofEpochMilli(HOUR_END));
                            assertThat(r.getBillingDay()).isEqualTo(DAY);
                            assertThat(r.getTimeZone()).isEqualTo("Asia/Shanghai");
                            assertThat(r.getInputTokens()).isEqualTo(115);
                            assertThat(r.getOutputTokens()).isEqualTo(20);
                            assertThat(r.getCachedTokens()).isEqualTo(4);
                            assertThat(r.getTotalTokens()).isEqualTo(139);
                            assertThat(r.getEvents()).isEqualTo(4);
                            assertThat(r.getActiveAccounts())
                                    .isEqualTo(
                                            2); // the ADJUSTMENT partial's account is not counted
                        });

        harness.processWatermark(HOUR_END + Duration.ofHours(1).toMillis());
        assertThat(harness.extractOutputValues()).hasSize(1);
    }

    @Test
    void countsOriginalPartialAsOneActiveAccountAndAdjustmentAsNone() {
        assertThat(
                        regional(hourRow("acct-1", "CN-GD", "m", Modality.TEXT, 1, 0, 0, 1))
                                .getActiveAccounts())
                .isEqualTo(1);
        assertThat(
                        regional(
                                        lateHourRow(
                                                "late-1",
                                                "acct-1",
                                                "CN-GD",
                                                "m",
                                                Modality.TEXT,
                                                1,
                                                0,
                                                0))
                                .getActiveAccounts())
                .isZero();
    }

    @Test
    void sumsDayPartialsIntoOneOriginalAtDayClose() throws Exception {
        dayRows(
                        "acct-1",
                        BillingRecordKind.ORIGINAL,
                        1,
                        "CN-GD",
                        billingLine("qwen-max", Modality.TEXT, 10, 0, 0, 3))
                .forEach(this::processRegional);
        dayRows(
                        "acct-2",
                        BillingRecordKind.ORIGINAL,
                        1,
                        "CN-GD",
                        billingLine("qwen-max", Modality.TEXT, 7, 1, 0, 2))
                .forEach(this::processRegional);

        harness.processWatermark(DAY_END);
        harness.processWatermark(DAY_CLOSE - 1);
        assertThat(harness.extractOutputValues()).isEmpty();

        harness.processWatermark(DAY_CLOSE);

        assertThat(harness.extractOutputValues())
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ORIGINAL);
                            assertThat(r.getGranularity()).isEqualTo(UsageGranularity.DAY);
                            assertThat(r.getWindowStart())
                                    .isEqualTo(Instant.ofEpochMilli(DAY_START));
                            assertThat(r.getWindowEnd()).isEqualTo(Instant.ofEpochMilli(DAY_END));
                            assertThat(r.getBillingDay()).isEqualTo(DAY);
                            assertThat(r.getTotalTokens()).isEqualTo(18);
                            assertThat(r.getEvents()).isEqualTo(5);
                            assertThat(r.getActiveAccounts()).isEqualTo(2);
                        });
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    @Test
    void keepsPartialsOfDifferentGranularityWindowRegionModelOrModalityApart() throws Exception {
        process(regional(hourRow("acct-1", "CN-GD", "qwen-max", Modality.TEXT, 1, 0, 0, 1)));
        process(regional(hourRow("acct-1", "CN-BJ", "qwen-max", Modality.TEXT, 2, 0, 0, 1)));
        process(regional(hourRow("acct-1", "CN-GD", "deepseek", Modality.TEXT, 4, 0, 0, 1)));
        process(regional(hourRow("acct-1", "CN-GD", "qwen-max", Modality.CODE, 8, 0, 0, 1)));
        process(
                regional(
                        UsageRows.hourOriginal(
                                "acct-1",
                                "CN-GD",
                                HOUR_END,
                                usageLine("qwen-max", Modality.TEXT, 16, 0, 0, 1),
                                CALENDAR)));
        dayRows(
                        "acct-1",
                        BillingRecordKind.ORIGINAL,
                        1,
                        "CN-GD",
                        billingLine("qwen-max", Modality.TEXT, 32, 0, 0, 1))
                .forEach(this::processRegional);
        assertThat(harness.numEventTimeTimers()).isEqualTo(6);

        harness.processWatermark(DAY_CLOSE);

        List<AreaUsage> rows = harness.extractOutputValues();
        assertThat(rows)
                .extracting(
                        AreaUsage::getGranularity,
                        r -> r.getWindowStart().toEpochMilli(),
                        AreaUsage::getRegion,
                        AreaUsage::getModel,
                        AreaUsage::getModality,
                        AreaUsage::getTotalTokens,
                        AreaUsage::getActiveAccounts)
                .containsExactlyInAnyOrder(
                        tuple(
                                UsageGranularity.HOUR,
                                HOUR_START,
                                "CN-GD",
                                "qwen-max",
                                Modality.TEXT,
                                1L,
                                1L),
                        tuple(
                                UsageGranularity.HOUR,
                                HOUR_START,
                                "CN-BJ",
                                "qwen-max",
                                Modality.TEXT,
                                2L,
                                1L),
                        tuple(
                                UsageGranularity.HOUR,
                                HOUR_START,
                                "CN-GD",
                                "deepseek",
                                Modality.TEXT,
                                4L,
                                1L),
                        tuple(
                                UsageGranularity.HOUR,
                                HOUR_START,
                                "CN-GD",
                                "qwen-max",
                                Modality.CODE,
                                8L,
                                1L),
                        tuple(
                                UsageGranularity.HOUR,
                                HOUR_END,
                                "CN-GD",
                                "qwen-max",
                                Modality.TEXT,
                                16L,
                                1L),
                        tuple(
                                UsageGranularity.DAY,
                                DAY_START,
                                "CN-GD",
                                "qwen-max",
                                Modality.TEXT,
                                32L,
                                1L));
        assertThat(rows)
                .allSatisfy(r -> assertThat(r.getKind()).isEqualTo(BillingRecordKind.ORIGINAL));
        assertThat(rows).extracting(AreaUsage::getRecordId).doesNotHaveDuplicates();
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    @Test
    void emitsPartialArrivingAfterItsWindowClosedAsOneAdjustmentAtOnce() throws Exception {
        process(regional(hourRow("acct-1", "CN-GD", "qwen-max", Modality.TEXT, 10, 0, 0, 1)));
        harness.processWatermark(HOUR_END);
        AreaUsage original = harness.extractOutputValues().get(0);

        AreaUsage late =
                regional(
                        lateHourRow(
                                "late-1", "acct-2", "CN-GD", "qwen-max", Modality.TEXT, 4, 2, 1));
        process(late);

        List<AreaUsage> rows = harness.extractOutputValues();
        assertThat(rows).hasSize(2);
        assertThat(rows.get(1))
                .satisfies(
                        r -> {
                            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ADJUSTMENT);
                            assertThat(r.getRecordId())
                                    .isNotEqualTo(original.getRecordId())
                                    .isNotEqualTo(late.getRecordId());
                            assertThat(r.getRegion()).isEqualTo("CN-GD");
                            assertThat(r.getWindowStart())
                                    .isEqualTo(Instant.ofEpochMilli(HOUR_START));
                            assertThat(r.getInputTokens()).isEqualTo(4);
                            assertThat(r.getOutputTokens()).isEqualTo(2);
                            assertThat(r.getCachedTokens()).isEqualTo(1);
                            assertThat(r.getTotalTokens()).isEqualTo(7);
                            assertThat(r.getEvents()).isEqualTo(1);
                            assertThat(r.getActiveAccounts()).isZero();
                        });
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    /**
     * Should an ORIGINAL partial ever come late (it must not), it is still only a delta: no active
     * account.
     */
    @Test
    void countsNoActiveAccountForOriginalPartialArrivingAfterClose() throws Exception {
        harness.processWatermark(HOUR_END);

        process(regional(hourRow("acct-1", "CN-GD", "qwen-max", Modality.TEXT, 10, 0, 0, 1)));

        assertThat(harness.extractOutputValues())
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ADJUSTMENT);
                            assertThat(r.getActiveAccounts()).isZero();
                            assertThat(r.getTotalTokens()).isEqualTo(10);
                        });
    }

    @Test
    void emitsDayPartialArrivingAfterDayCloseAsAdjustment() throws Exception {
        dayRows(
                        "acct-1",
                        BillingRecordKind.ORIGINAL,
                        1,
                        "CN-GD",
                        billingLine("qwen-max", Modality.TEXT, 10, 0, 0, 1))
                .forEach(this::processRegional);
        harness.processWatermark(DAY_CLOSE);
        harness.processWatermark(DAY_CLOSE + 1);

        dayRows(
                        "acct-1",
                        BillingRecordKind.ADJUSTMENT,
                        2,
                        "CN-GD",
                        billingLine("qwen-max", Modality.TEXT, 3, 0, 0, 1))
                .forEach(this::processRegional);

        assertThat(harness.extractOutputValues())
                .extracting(
                        AreaUsage::getKind, AreaUsage::getTotalTokens, AreaUsage::getActiveAccounts)
                .containsExactly(
                        tuple(BillingRecordKind.ORIGINAL, 10L, 1L),
                        tuple(BillingRecordKind.ADJUSTMENT, 3L, 0L));
    }

    @Test
    void givesTheSameLatePartialTheSameAdjustmentIdAndDifferentOnesDifferentIds() throws Exception {
        harness.processWatermark(HOUR_END);
        AreaUsage late1 =
                regional(
                        lateHourRow(
                                "late-1", "acct-1", "CN-GD", "qwen-max", Modality.TEXT, 4, 0, 0));
        AreaUsage late2 =
                regional(
                        lateHourRow(
                                "late-2", "acct-1", "CN-GD", "qwen-max", Modality.TEXT, 4, 0, 0));

        process(late1);
        process(AreaUsage.newBuilder(late1).build()); // replayed
        process(late2);

        List<String> ids =
                harness.extractOutputValues().stream().map(AreaUsage::getRecordId).toList();
        assertThat(ids).hasSize(3);
        assertThat(ids.get(1)).isEqualTo(ids.get(0));
        assertThat(ids.get(2)).isNotEqualTo(ids.get(0));
    }

    @Test
    void givesTheOriginalTheSameIdAndSumsWhateverTheOrderOfItsPartials() throws Exception {
        AreaUsage a = regional(hourRow("acct-1", "CN-GD", "qwen-max", Modality.TEXT, 10, 0, 0, 1));
        AreaUsage b = regional(hourRow("acct-2", "CN-GD", "qwen-max", Modality.TEXT, 5, 0, 0, 1));
        process(a);
        process(b);
        harness.processWatermark(HOUR_END);
        AreaUsage first = harness.extractOutputValues().get(0);
        harness.close();
        harness = newHarness();

        process(b);
        process(a);
        harness.processWatermark(HOUR_END);

        assertThat(harness.extractOutputValues()).singleElement().isEqualTo(first);
    }

    @Test
    void givesRegionalAndNationalOriginalsOfTheSameWindowDifferentIds() throws Exception {
        AreaUsage regional =
                regional(hourRow("acct-1", "CN-GD", "qwen-max", Modality.TEXT, 10, 0, 0, 1));
        process(regional);
        process(AreaRollups.nationalPartial(regional));

        harness.processWatermark(HOUR_END);

        assertThat(harness.extractOutputValues())
                .hasSize(2)
                .extracting(AreaUsage::getRecordId)
                .doesNotHaveDuplicates();
    }

    @Test
    void nationalPartialKeepsEverythingButTheRegion() {
        AreaUsage regional =
                regional(hourRow("acct-1", "CN-GD", "qwen-max", Modality.TEXT, 10, 2, 1, 3));

        AreaUsage national = AreaRollups.nationalPartial(regional);

        assertThat(national.getRegion()).isEqualTo("*").isEqualTo(AreaRollups.NATIONAL);
        assertThat(AreaUsage.newBuilder(national).setRegion("CN-GD").build()).isEqualTo(regional);
        assertThat(regional.getRegion()).isEqualTo("CN-GD");
    }

    @Test
    void sumsRegionalOriginalsIntoOneNationalOriginalCountingEveryRegionsAccounts()
            throws Exception {
        process(regional(hourRow("acct-1", "CN-GD", "qwen-max", Modality.TEXT, 10, 0, 0, 1)));
        process(regional(hourRow("acct-2", "CN-GD", "qwen-max", Modality.TEXT, 5, 0, 0, 1)));
        process(regional(hourRow("acct-3", "CN-BJ", "qwen-max", Modality.TEXT, 7, 0, 0, 1)));
        harness.processWatermark(HOUR_END);
        List<AreaUsage> regionalRows = harness.extractOutputValues();
        assertThat(regionalRows).hasSize(2);

        try (var national = newHarness()) {
            for (AreaUsage row : regionalRows) {
                national.processElement(
                        new StreamRecord<>(AreaRollups.nationalPartial(row), HOUR_START));
            }
            national.processWatermark(HOUR_END);

            assertThat(national.extractOutputValues())
                    .singleElement()
                    .satisfies(
                            r -> {
                                assertThat(r.getKind()).isEqualTo(BillingRecordKind.ORIGINAL);
                                assertThat(r.getRegion()).isEqualTo("*");
                                assertThat(r.getTotalTokens()).isEqualTo(22);
                                assertThat(r.getEvents()).isEqualTo(3);
                                assertThat(r.getActiveAccounts()).isEqualTo(3);
                            });
            assertThat(national.numKeyedStateEntries()).isZero();
            assertThat(national.numEventTimeTimers()).isZero();
        }
    }

    @Test
    void clearsStateAndTimersOnceEveryWindowClosed() throws Exception {
        process(regional(hourRow("acct-1", "CN-GD", "qwen-max", Modality.TEXT, 1, 0, 0, 1)));
        process(regional(hourRow("acct-2", "CN-GD", "qwen-max", Modality.TEXT, 1, 0, 0, 1)));
        process(regional(hourRow("acct-1", "CN-BJ", "qwen-max", Modality.TEXT, 1, 0, 0, 1)));
        dayRows(
                        "acct-1",
                        BillingRecordKind.ORIGINAL,
                        1,
                        "CN-GD",
                        billingLine("qwen-max", Modality.TEXT, 1, 0, 0, 1))
                .forEach(this::processRegional);
        assertThat(harness.numKeyedStateEntries()).isEqualTo(3);
        assertThat(harness.numEventTimeTimers()).isEqualTo(3);

        harness.processWatermark(HOUR_END);
        assertThat(harness.numKeyedStateEntries()).isEqualTo(1);
        assertThat(harness.numEventTimeTimers()).isEqualTo(1);

        harness.processWatermark(DAY_CLOSE);
        assertThat(harness.extractOutputValues()).hasSize(3);
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, AreaUsage, AreaUsage> newHarness()
            throws Exception {
        return RememberingHarnesses.forFunction(
                new AreaRollupFunction(CALENDAR), AreaRollupFunction.KEY, Types.STRING);
    }

    private void process(AreaUsage partial) throws Exception {
        harness.processElement(
                new StreamRecord<>(partial, partial.getWindowStart().toEpochMilli()));
    }

    private void processRegional(AccountUsage row) {
        try {
            process(regional(row));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static AreaUsage regional(AccountUsage row) {
        return AreaRollups.regionalPartial(row);
    }

    /** An account's ORIGINAL row for {@link #HOUR_START}. */
    private static AccountUsage hourRow(
            String account,
            String region,
            String model,
            Modality modality,
            long input,
            long output,
            long cached,
            long events) {
        return UsageRows.hourOriginal(
                account,
                region,
                HOUR_START,
                usageLine(model, modality, input, output, cached, events),
                CALENDAR);
    }

    /** The ADJUSTMENT row of one late event in {@link #HOUR_START}'s hour. */
    private static AccountUsage lateHourRow(
            String eventId,
            String account,
            String region,
            String model,
            Modality modality,
            long input,
            long output,
            long cached) {
        UsageEvent event =
                Fixtures.usageEventBuilder()
                        .setEventId(eventId)
                        .setAccountId(account)
                        .setRegion(region)
                        .setModel(model)
                        .setModality(modality)
                        .setInputTokens(input)
                        .setOutputTokens(output)
                        .setCachedTokens(cached)
                        .setEventTime(Instant.ofEpochMilli(HOUR_START + 1_000))
                        .build();
        return UsageRows.hourCorrection(Fixtures.hourCorrection(event, CALENDAR), CALENDAR);
    }

    /** The day rows of an account's billing record for {@link #DAY}. */
    private static List<AccountUsage> dayRows(
            String account,
            BillingRecordKind kind,
            int version,
            String region,
            BillingLineItem... lines) {
        List<BillingLineItem> items = List.of(lines);
        BillingRecord record =
                BillingRecord.newBuilder()
                        .setRecordId(BillingRecordIds.recordId(account, DAY, version))
                        .setKind(kind)
                        .setVersion(version)
                        .setCorrectsRecordId(
                                version == 1 ? null : BillingRecordIds.recordId(account, DAY, 1))
                        .setAccountId(account)
                        .setRegion(region)
                        .setBillingDay(DAY)
                        .setTimeZone("Asia/Shanghai")
                        .setDayStart(Instant.ofEpochMilli(DAY_START))
                        .setDayEnd(Instant.ofEpochMilli(DAY_END))
                        .setLineItems(items)
                        .setTotalTokens(
                                items.stream()
                                        .mapToLong(
                                                l ->
                                                        l.getInputTokens()
                                                                + l.getOutputTokens()
                                                                + l.getCachedTokens())
                                        .sum())
                        .setEvents(items.stream().mapToLong(BillingLineItem::getEvents).sum())
                        .build();
        return UsageRows.dayRows(record, CALENDAR);
    }
}
