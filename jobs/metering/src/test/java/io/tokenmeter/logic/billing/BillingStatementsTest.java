package io.tokenmeter.logic.billing;

import static io.tokenmeter.testing.Fixtures.usageLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.state.UsageLineState;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.UsagePartial;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

class BillingStatementsTest {

    private static final BillingCalendar CALENDAR =
            new BillingCalendar(
                    ZoneId.of("Asia/Shanghai"), Duration.ofMinutes(15), Duration.ofDays(35));
    private static final long DAY_START = Instant.parse("2026-03-09T16:00:00Z").toEpochMilli();
    private static final LocalDate DAY = LocalDate.of(2026, 3, 10);

    @Test
    void pricesRatedLinesInMinorUnitsRoundedHalfUp() {
        List<UsageLineState> rated = new ArrayList<>();
        UsageLines.add(
                rated, ratedUsage("qwen3-max", Modality.TEXT, 1_000, 2, 800, 200, 1_499_999));
        UsageLines.add(rated, ratedUsage("glm-4.6", Modality.CODE, 1_000, 1, 0, 1_000, 2_500_000));

        BillingRecord record =
                BillingStatements.build("acct-1", "CN-GD", DAY_START, 1, rated, CALENDAR);

        assertThat(record.getLineItems())
                .extracting(
                        BillingLineItem::getModel,
                        BillingLineItem::getIncludedUnits,
                        BillingLineItem::getOverageUnits,
                        BillingLineItem::getOverageAmount)
                .containsExactly(
                        Tuple.tuple("glm-4.6", 0L, 1_000L, 3L),
                        Tuple.tuple("qwen3-max", 800L, 200L, 1L));
    }

    @Test
    void billsVersionOneAsOriginalCorrectingNothing() {
        BillingRecord record =
                BillingStatements.build("acct-1", "CN-GD", DAY_START, 1, lines(), CALENDAR);

        assertThat(record.getKind()).isEqualTo(BillingRecordKind.ORIGINAL);
        assertThat(record.getVersion()).isEqualTo(1);
        assertThat(record.getCorrectsRecordId()).isNull();
        assertThat(record.getRecordId()).isEqualTo(BillingRecordIds.recordId("acct-1", DAY, 1));
        assertThat(record.getAccountId()).isEqualTo("acct-1");
        assertThat(record.getBillingDay()).isEqualTo(DAY);
        assertThat(record.getTimeZone()).isEqualTo("Asia/Shanghai");
        assertThat(record.getDayStart()).isEqualTo(Instant.parse("2026-03-09T16:00:00Z"));
        assertThat(record.getDayEnd()).isEqualTo(Instant.parse("2026-03-10T16:00:00Z"));
    }

    @Test
    void billsLaterVersionAsAdjustmentPointingAtOriginal() {
        BillingRecord original =
                BillingStatements.build("acct-1", "CN-GD", DAY_START, 1, lines(), CALENDAR);

        BillingRecord adjustment =
                BillingStatements.build("acct-1", "CN-GD", DAY_START, 2, lines(), CALENDAR);

        assertThat(adjustment.getKind()).isEqualTo(BillingRecordKind.ADJUSTMENT);
        assertThat(adjustment.getVersion()).isEqualTo(2);
        assertThat(adjustment.getCorrectsRecordId()).isEqualTo(original.getRecordId());
        assertThat(adjustment.getRecordId()).isNotEqualTo(original.getRecordId());
    }

    @Test
    void sortsLineItemsByModelThenModality() {
        BillingRecord record =
                BillingStatements.build("acct-1", "CN-GD", DAY_START, 1, lines(), CALENDAR);

        assertThat(record.getLineItems())
                .extracting(BillingLineItem::getModel, BillingLineItem::getModality)
                .containsExactly(
                        Tuple.tuple("alpha", Modality.TEXT),
                        Tuple.tuple("alpha", Modality.IMAGE),
                        Tuple.tuple("beta", Modality.CODE));
    }

    @Test
    void addsUpTokensAndEvents() {
        BillingRecord record =
                BillingStatements.build("acct-1", "CN-GD", DAY_START, 1, lines(), CALENDAR);

        // (10+20+3) + (100+200+30) + (1000+2000+300)
        assertThat(record.getTotalTokens()).isEqualTo(3_663);
        assertThat(record.getEvents()).isEqualTo(1 + 2 + 4);
        BillingLineItem image = record.getLineItems().get(1);
        assertThat(image.getInputTokens()).isEqualTo(100);
        assertThat(image.getOutputTokens()).isEqualTo(200);
        assertThat(image.getCachedTokens()).isEqualTo(30);
        assertThat(image.getEvents()).isEqualTo(2);
    }

    @Test
    void givesSameRecordWhateverTheLineOrder() {
        List<UsageLineState> reversed = new ArrayList<>(lines());
        Collections.reverse(reversed);

        assertThat(BillingStatements.build("acct-1", "CN-GD", DAY_START, 1, reversed, CALENDAR))
                .isEqualTo(
                        BillingStatements.build(
                                "acct-1", "CN-GD", DAY_START, 1, lines(), CALENDAR));
    }

    @Test
    void refusesVersionZero() {
        assertThatThrownBy(
                        () ->
                                BillingStatements.build(
                                        "acct-1", "CN-GD", DAY_START, 0, lines(), CALENDAR))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static List<UsageLineState> lines() {
        return List.of(
                usageLine("beta", Modality.CODE, 1_000, 2_000, 300, 4),
                usageLine("alpha", Modality.IMAGE, 100, 200, 30, 2),
                usageLine("alpha", Modality.TEXT, 10, 20, 3, 1));
    }

    /** Usage of {@code input} tokens as package rating leaves it. */
    private static UsagePartial ratedUsage(
            String model,
            Modality modality,
            long input,
            long events,
            long includedUnits,
            long overageUnits,
            long overageMicros) {
        UsagePartial usage = new UsagePartial();
        usage.model = model;
        usage.modality = modality;
        usage.inputTokens = input;
        usage.events = events;
        usage.includedUnits = includedUnits;
        usage.overageUnits = overageUnits;
        usage.overageMicros = overageMicros;
        return usage;
    }
}
