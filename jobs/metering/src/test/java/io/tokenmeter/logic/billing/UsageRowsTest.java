package io.tokenmeter.logic.billing;

import static io.tokenmeter.testing.Fixtures.billingLine;
import static io.tokenmeter.testing.Fixtures.usageLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.groups.Tuple.tuple;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.avro.UsageGranularity;
import io.tokenmeter.avro.state.UsageLineState;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.Usage;
import io.tokenmeter.logic.UsagePartial;
import io.tokenmeter.testing.Fixtures;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class UsageRowsTest {

    private static final BillingCalendar CALENDAR =
            new BillingCalendar(
                    ZoneId.of("Asia/Shanghai"), Duration.ofMinutes(15), Duration.ofDays(35));

    /** Shanghai day 2026-03-10: 2026-03-09T16:00Z to 2026-03-10T16:00Z. */
    private static final LocalDate DAY = LocalDate.of(2026, 3, 10);

    private static final Instant DAY_START = Instant.parse("2026-03-09T16:00:00Z");
    private static final Instant DAY_END = Instant.parse("2026-03-10T16:00:00Z");
    private static final long HOUR_START = Instant.parse("2026-03-10T02:00:00Z").toEpochMilli();

    @Test
    void makesOneDayRowPerLineItemOfABillingRecord() {
        BillingRecord record =
                record(
                        "acct-1",
                        BillingRecordKind.ORIGINAL,
                        1,
                        billingLine("qwen-max", Modality.TEXT, 10, 20, 3, 2),
                        billingLine("qwen-max", Modality.CODE, 7, 0, 0, 1),
                        billingLine("wanx", Modality.IMAGE, 100, 0, 0, 1));

        List<AccountUsage> rows = UsageRows.dayRows(record, CALENDAR);

        assertThat(rows)
                .extracting(
                        AccountUsage::getModel,
                        AccountUsage::getModality,
                        AccountUsage::getInputTokens,
                        AccountUsage::getOutputTokens,
                        AccountUsage::getCachedTokens,
                        AccountUsage::getTotalTokens,
                        AccountUsage::getEvents)
                .containsExactly(
                        tuple("qwen-max", Modality.TEXT, 10L, 20L, 3L, 33L, 2L),
                        tuple("qwen-max", Modality.CODE, 7L, 0L, 0L, 7L, 1L),
                        tuple("wanx", Modality.IMAGE, 100L, 0L, 0L, 100L, 1L));
        assertThat(rows)
                .allSatisfy(
                        r -> {
                            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ORIGINAL);
                            assertThat(r.getGranularity()).isEqualTo(UsageGranularity.DAY);
                            assertThat(r.getAccountId()).isEqualTo("acct-1");
                            assertThat(r.getRegion()).isEqualTo("CN-GD");
                            assertThat(r.getBillingDay()).isEqualTo(DAY);
                            assertThat(r.getTimeZone()).isEqualTo("Asia/Shanghai");
                            assertThat(r.getWindowStart()).isEqualTo(DAY_START);
                            assertThat(r.getWindowEnd()).isEqualTo(DAY_END);
                        });
    }

    @Test
    void copiesTheKindOfAnAdjustmentRecordToItsDayRows() {
        BillingRecord record =
                record(
                        "acct-1",
                        BillingRecordKind.ADJUSTMENT,
                        2,
                        billingLine("qwen-max", Modality.TEXT, 4, 0, 0, 1),
                        billingLine("deepseek", Modality.CODE, 0, 9, 0, 1));

        assertThat(UsageRows.dayRows(record, CALENDAR))
                .hasSize(2)
                .allSatisfy(r -> assertThat(r.getKind()).isEqualTo(BillingRecordKind.ADJUSTMENT));
    }

    @Test
    void makesNoDayRowsForARecordWithoutLineItems() {
        assertThat(UsageRows.dayRows(record("acct-1", BillingRecordKind.ORIGINAL, 1), CALENDAR))
                .isEmpty();
    }

    @Test
    void givesDayRowsDistinctIdsThatAreTheSameForTheSameRecord() {
        BillingRecord record =
                record(
                        "acct-1",
                        BillingRecordKind.ORIGINAL,
                        1,
                        billingLine("qwen-max", Modality.TEXT, 1, 0, 0, 1),
                        billingLine("qwen-max", Modality.CODE, 1, 0, 0, 1),
                        billingLine("wanx", Modality.TEXT, 1, 0, 0, 1));

        List<String> ids = ids(UsageRows.dayRows(record, CALENDAR));
        List<String> again =
                ids(UsageRows.dayRows(BillingRecord.newBuilder(record).build(), CALENDAR));

        assertThat(ids).hasSize(3).doesNotHaveDuplicates();
        assertThat(again).isEqualTo(ids);
    }

    @Test
    void givesDayRowsOfEachVersionAndAccountTheirOwnIds() {
        BillingLineItem line = billingLine("qwen-max", Modality.TEXT, 1, 0, 0, 1);
        List<String> ids = new ArrayList<>();
        ids.addAll(
                ids(
                        UsageRows.dayRows(
                                record("acct-1", BillingRecordKind.ORIGINAL, 1, line), CALENDAR)));
        ids.addAll(
                ids(
                        UsageRows.dayRows(
                                record("acct-1", BillingRecordKind.ADJUSTMENT, 2, line),
                                CALENDAR)));
        ids.addAll(
                ids(
                        UsageRows.dayRows(
                                record("acct-1", BillingRecordKind.ADJUSTMENT, 3, line),
                                CALENDAR)));
        ids.addAll(
                ids(
                        UsageRows.dayRows(
                                record("acct-2", BillingRecordKind.ORIGINAL, 1, line), CALENDAR)));

        assertThat(ids).hasSize(4).doesNotHaveDuplicates();
    }

    @Test
    void makesHourCorrectionOfOneEventWithTotalTokensTheSumOfItsCounts() {
        UsageEvent event = event("e1", "gateway-a", 4, 2, 1);

        AccountUsage row = correctionRow(event);

        assertThat(row.getKind()).isEqualTo(BillingRecordKind.ADJUSTMENT);
        assertThat(row.getGranularity()).isEqualTo(UsageGranularity.HOUR);
        assertThat(row.getAccountId()).isEqualTo("acct-1");
        assertThat(row.getRegion()).isEqualTo("CN-GD");
        assertThat(row.getModel()).isEqualTo("qwen-max");
        assertThat(row.getModality()).isEqualTo(Modality.TEXT);
        assertThat(row.getWindowStart()).isEqualTo(Instant.ofEpochMilli(HOUR_START));
        assertThat(row.getWindowEnd())
                .isEqualTo(Instant.ofEpochMilli(HOUR_START + UsageRows.HOUR_MILLIS));
        assertThat(row.getBillingDay()).isEqualTo(DAY);
        assertThat(row.getInputTokens()).isEqualTo(4);
        assertThat(row.getOutputTokens()).isEqualTo(2);
        assertThat(row.getCachedTokens()).isEqualTo(1);
        assertThat(row.getTotalTokens()).isEqualTo(7);
        assertThat(row.getEvents()).isEqualTo(1);
    }

    /**
     * The id is of the record's position: the same record read again (a replay) gives the same row,
     * and the same (source, event_id) in another record — re-sent after the dedup horizon and
     * billed again — a row of its own.
     */
    @Test
    void givesHourCorrectionAnIdOfItsRecordsPosition() {
        UsageEvent event = event("e1", "gateway-a", 4, 0, 0);
        String id = correctionRow(event, "raw", 0, 10L).getRecordId();

        assertThat(correctionRow(event, "raw", 0, 10L).getRecordId()).isEqualTo(id);
        assertThat(correctionRow(event, "raw", 0, 11L).getRecordId()).isNotEqualTo(id);
        assertThat(correctionRow(event, "raw", 1, 10L).getRecordId()).isNotEqualTo(id);
        assertThat(correctionRow(event, "raw-2", 0, 10L).getRecordId()).isNotEqualTo(id);
        assertThat(correctionRow(event("e2", "gateway-b", 4, 0, 0), "raw", 0, 10L).getRecordId())
                .isEqualTo(id);
    }

    @Test
    void makesHourOriginalOfOneLineWithTotalTokensTheSumOfItsCounts() {
        AccountUsage row =
                UsageRows.hourOriginal(
                        "acct-1",
                        "CN-GD",
                        HOUR_START,
                        usageLine("qwen-max", Modality.TEXT, 10, 20, 3, 5),
                        CALENDAR);

        assertThat(row.getKind()).isEqualTo(BillingRecordKind.ORIGINAL);
        assertThat(row.getGranularity()).isEqualTo(UsageGranularity.HOUR);
        assertThat(row.getTotalTokens()).isEqualTo(33);
        assertThat(row.getEvents()).isEqualTo(5);
        assertThat(row.getWindowEnd().toEpochMilli() - row.getWindowStart().toEpochMilli())
                .isEqualTo(UsageRows.HOUR_MILLIS);
    }

    @Test
    void givesHourOriginalsOfEachAccountHourModelAndModalityTheirOwnIds() {
        UsageLineState text = usageLine("qwen-max", Modality.TEXT, 1, 0, 0, 1);
        List<String> ids =
                List.of(
                        UsageRows.hourOriginal("acct-1", "CN-GD", HOUR_START, text, CALENDAR)
                                .getRecordId(),
                        UsageRows.hourOriginal("acct-2", "CN-GD", HOUR_START, text, CALENDAR)
                                .getRecordId(),
                        UsageRows.hourOriginal(
                                        "acct-1",
                                        "CN-GD",
                                        HOUR_START + UsageRows.HOUR_MILLIS,
                                        text,
                                        CALENDAR)
                                .getRecordId(),
                        UsageRows.hourOriginal(
                                        "acct-1",
                                        "CN-GD",
                                        HOUR_START,
                                        usageLine("wanx", Modality.TEXT, 1, 0, 0, 1),
                                        CALENDAR)
                                .getRecordId(),
                        UsageRows.hourOriginal(
                                        "acct-1",
                                        "CN-GD",
                                        HOUR_START,
                                        usageLine("qwen-max", Modality.CODE, 1, 0, 0, 1),
                                        CALENDAR)
                                .getRecordId());

        assertThat(ids).doesNotHaveDuplicates();
        assertThat(
                        UsageRows.hourOriginal(
                                        "acct-1",
                                        "CN-GD",
                                        HOUR_START,
                                        usageLine("qwen-max", Modality.TEXT, 99, 0, 0, 9),
                                        CALENDAR)
                                .getRecordId())
                .isEqualTo(ids.get(0));
    }

    @Test
    void refusesTotalTokensThatOverflow() {
        assertThatThrownBy(() -> correctionRow(event("e1", "gateway-a", Long.MAX_VALUE, 1, 0)))
                .isInstanceOf(ArithmeticException.class);
    }

    private static List<String> ids(List<AccountUsage> rows) {
        return rows.stream().map(AccountUsage::getRecordId).toList();
    }

    private static BillingRecord record(
            String account, BillingRecordKind kind, int version, BillingLineItem... lines) {
        List<BillingLineItem> items = List.of(lines);
        return BillingRecord.newBuilder()
                .setRecordId(BillingRecordIds.recordId(account, DAY, version))
                .setKind(kind)
                .setVersion(version)
                .setCorrectsRecordId(
                        version == 1 ? null : BillingRecordIds.recordId(account, DAY, 1))
                .setAccountId(account)
                .setRegion("CN-GD")
                .setBillingDay(DAY)
                .setTimeZone("Asia/Shanghai")
                .setDayStart(DAY_START)
                .setDayEnd(DAY_END)
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
    }

    private static UsageEvent event(
            String id, String source, long input, long output, long cached) {
        return Fixtures.usageEventBuilder()
                .setEventId(id)
                .setSource(source)
                .setInputTokens(input)
                .setOutputTokens(output)
                .setCachedTokens(cached)
                .setEventTime(Instant.ofEpochMilli(HOUR_START + 1_000))
                .build();
    }

    /** The ADJUSTMENT row of one event that came after its hour closed. */
    private static AccountUsage correctionRow(
            UsageEvent event, String topic, int partition, long offset) {
        return UsageRows.hourCorrection(
                UsagePartial.judge(
                        Usage.of(event),
                        topic,
                        partition,
                        offset,
                        false,
                        Long.MAX_VALUE,
                        Long.MIN_VALUE,
                        CALENDAR),
                CALENDAR);
    }

    private static AccountUsage correctionRow(UsageEvent event) {
        return UsageRows.hourCorrection(Fixtures.hourCorrection(event, CALENDAR), CALENDAR);
    }
}
