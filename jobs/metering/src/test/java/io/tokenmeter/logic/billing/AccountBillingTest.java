package io.tokenmeter.logic.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.state.AccountState;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.UsagePartial;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

/**
 * The billing rules on one account's state. Between steps the state goes through Avro binary, as it
 * does in RocksDB, so the rules must work on deserialized Avro arrays too.
 */
class AccountBillingTest {

    private static final BillingCalendar CALENDAR =
            new BillingCalendar(
                    ZoneId.of("Asia/Shanghai"), Duration.ofMinutes(15), Duration.ofDays(35));
    private static final long NOV_1 = Instant.parse("2026-10-31T16:00:00Z").toEpochMilli();
    private static final long NOV_2 = Instant.parse("2026-11-01T16:00:00Z").toEpochMilli();
    private static final AccountBilling BILLING = new AccountBilling(CALENDAR);

    @Test
    void billsNothingBeforeTheDayCloses() throws IOException {
        AccountState state = roundTrip(withUsage(AccountBilling.emptyState(), NOV_1, "m", 10));

        assertThat(BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_1) - 1)).isEmpty();
    }

    @Test
    void billsEachDayOnceWithItsLinesWhenItCloses() throws IOException {
        AccountState state = AccountBilling.emptyState();
        withUsage(state, NOV_1, "m", 10);
        withUsage(state, NOV_1, "m", 5);
        withUsage(state, NOV_1, "n", 1);
        withUsage(state, NOV_2, "m", 7);
        state = roundTrip(state);

        List<BillingRecord> records = BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_1));

        assertThat(records)
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ORIGINAL);
                            assertThat(r.getLineItems())
                                    .extracting(
                                            BillingLineItem::getModel,
                                            BillingLineItem::getInputTokens,
                                            BillingLineItem::getEvents)
                                    .containsExactly(
                                            Tuple.tuple("m", 15L, 2L), Tuple.tuple("n", 1L, 1L));
                        });
        state = roundTrip(state);
        assertThat(BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_1))).isEmpty();
        assertThat(BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_2)))
                .extracting(BillingRecord::getTotalTokens)
                .containsExactly(7L + 2 + 1);
    }

    @Test
    void billsLaterUsageOfAClosedDayAsAnAdjustmentWithOnlyTheDelta() throws IOException {
        AccountState state = withUsage(AccountBilling.emptyState(), NOV_1, "m", 10);
        BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_1));
        state = roundTrip(state);

        boolean firstUnbilled =
                BILLING.addUsage(state, usage(NOV_1, "m", Modality.TEXT, 4, 0, 0), true);
        List<BillingRecord> records =
                BILLING.billDue(roundTrip(state), "a", CALENDAR.closeTime(NOV_1) + 60_000);

        assertThat(firstUnbilled).isTrue();
        assertThat(records)
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ADJUSTMENT);
                            assertThat(r.getVersion()).isEqualTo(2);
                            assertThat(r.getTotalTokens()).isEqualTo(4);
                        });
    }

    @Test
    void forgetsADayOnlyAfterItsCorrectionDeadline() throws IOException {
        AccountState state = withUsage(AccountBilling.emptyState(), NOV_1, "m", 10);
        BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_1));
        state = roundTrip(state);

        BILLING.billDue(state, "a", CALENDAR.correctionDeadline(NOV_1) - 1);
        assertThat(AccountBilling.isEmpty(state)).isFalse();

        state = roundTrip(state);
        BILLING.billDue(state, "a", CALENDAR.correctionDeadline(NOV_1));
        assertThat(AccountBilling.isEmpty(state)).isTrue();
    }

    @Test
    void asksForBillingOnlyForTheFirstUnbilledUsageOfADayOnTimeOrLate() throws IOException {
        AccountState state = AccountBilling.emptyState();

        assertThat(BILLING.addUsage(state, usage(NOV_1, "m", Modality.TEXT, 1, 0, 0), false))
                .isTrue();
        assertThat(BILLING.addUsage(state, usage(NOV_1, "m", Modality.TEXT, 1, 0, 0), false))
                .isFalse();
        assertThat(BILLING.addUsage(state, usage(NOV_1, "n", Modality.TEXT, 1, 0, 0), true))
                .isFalse();
        assertThat(BILLING.addUsage(state, usage(NOV_2, "m", Modality.TEXT, 1, 0, 0), true))
                .isTrue();
        state = roundTrip(state);
        assertThat(BILLING.addUsage(state, usage(NOV_2, "m", Modality.TEXT, 1, 0, 0), false))
                .isFalse();

        BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_2));
        state = roundTrip(state);
        assertThat(BILLING.addUsage(state, usage(NOV_1, "m", Modality.TEXT, 1, 0, 0), true))
                .isTrue();
        assertThat(BILLING.addUsage(state, usage(NOV_1, "m", Modality.TEXT, 1, 0, 0), true))
                .isFalse();
    }

    @Test
    void keepsLateUsageOfAnOpenDayOutOfTheOriginal() throws IOException {
        AccountState state = AccountBilling.emptyState();
        BILLING.addUsage(state, usage(NOV_1, "m", Modality.TEXT, 10, 2, 1), false);
        BILLING.addUsage(state, usage(NOV_1, "m", Modality.TEXT, 4, 0, 0), true);
        BILLING.addUsage(state, usage(NOV_1, "n", Modality.IMAGE, 100, 0, 0), true);
        state = roundTrip(state);

        assertThat(BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_1) - 1)).isEmpty();
        state = roundTrip(state);
        List<BillingRecord> records = BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_1));

        assertThat(records).hasSize(2);
        assertThat(records.get(0))
                .satisfies(
                        r -> {
                            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ORIGINAL);
                            assertThat(r.getVersion()).isEqualTo(1);
                            assertThat(r.getLineItems())
                                    .extracting(
                                            BillingLineItem::getModel,
                                            BillingLineItem::getInputTokens,
                                            BillingLineItem::getEvents)
                                    .containsExactly(Tuple.tuple("m", 10L, 1L));
                            assertThat(r.getTotalTokens()).isEqualTo(13);
                            assertThat(r.getEvents()).isEqualTo(1);
                        });
        assertThat(records.get(1))
                .satisfies(
                        r -> {
                            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ADJUSTMENT);
                            assertThat(r.getVersion()).isEqualTo(2);
                            assertThat(r.getCorrectsRecordId())
                                    .isEqualTo(records.get(0).getRecordId());
                            assertThat(r.getLineItems())
                                    .extracting(
                                            BillingLineItem::getModel,
                                            BillingLineItem::getModality,
                                            BillingLineItem::getInputTokens,
                                            BillingLineItem::getEvents)
                                    .containsExactly(
                                            Tuple.tuple("m", Modality.TEXT, 4L, 1L),
                                            Tuple.tuple("n", Modality.IMAGE, 100L, 1L));
                            assertThat(r.getTotalTokens()).isEqualTo(104);
                            assertThat(r.getEvents()).isEqualTo(2);
                        });
        assertThat(BILLING.billDue(roundTrip(state), "a", CALENDAR.closeTime(NOV_1) + 1)).isEmpty();
    }

    @Test
    void billsAnEmptyOriginalThenAnAdjustmentForADayWhoseUsageAllCameLate() throws IOException {
        AccountState state = AccountBilling.emptyState();
        BILLING.addUsage(state, usage(NOV_1, "m", Modality.TEXT, 8, 0, 0), true);
        state = roundTrip(state);

        List<BillingRecord> records =
                BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_1) + 3_600_000);

        assertThat(records)
                .extracting(
                        BillingRecord::getKind,
                        BillingRecord::getVersion,
                        BillingRecord::getTotalTokens,
                        BillingRecord::getEvents)
                .containsExactly(
                        Tuple.tuple(BillingRecordKind.ORIGINAL, 1, 0L, 0L),
                        Tuple.tuple(BillingRecordKind.ADJUSTMENT, 2, 8L, 1L));
        assertThat(records.get(0).getLineItems()).isEmpty();
        assertThat(records.get(0).getCorrectsRecordId()).isNull();
        assertThat(records.get(1).getCorrectsRecordId()).isEqualTo(records.get(0).getRecordId());

        // Kept as its version number: the next correction is version 3.
        state = roundTrip(state);
        BILLING.addUsage(state, usage(NOV_1, "m", Modality.TEXT, 5, 0, 0), true);
        assertThat(BILLING.billDue(roundTrip(state), "a", CALENDAR.closeTime(NOV_1) + 7_200_000))
                .extracting(
                        BillingRecord::getKind,
                        BillingRecord::getVersion,
                        BillingRecord::getTotalTokens)
                .containsExactly(Tuple.tuple(BillingRecordKind.ADJUSTMENT, 3, 5L));
    }

    @Test
    void billsDaysInOrderWithEachDaysOriginalBeforeItsAdjustment() throws IOException {
        AccountState state = AccountBilling.emptyState();
        BILLING.addUsage(state, usage(NOV_2, "m", Modality.TEXT, 7, 0, 0), false);
        BILLING.addUsage(state, usage(NOV_1, "m", Modality.TEXT, 3, 0, 0), true);
        state = roundTrip(state);

        assertThat(BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_2)))
                .extracting(
                        r -> r.getBillingDay().getDayOfMonth(),
                        BillingRecord::getVersion,
                        BillingRecord::getTotalTokens)
                .containsExactly(
                        Tuple.tuple(1, 1, 0L), Tuple.tuple(1, 2, 3L), Tuple.tuple(2, 1, 7L));
    }

    /**
     * On-time usage of a day already billed cannot go into its ORIGINAL any more: it is a
     * correction too.
     */
    @Test
    void billsOnTimeUsageOfAnAlreadyBilledDayAsAnAdjustment() throws IOException {
        AccountState state = withUsage(AccountBilling.emptyState(), NOV_1, "m", 10);
        BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_1));
        state = roundTrip(state);

        BILLING.addUsage(state, usage(NOV_1, "m", Modality.TEXT, 4, 0, 0), false);
        BILLING.addUsage(state, usage(NOV_1, "n", Modality.TEXT, 6, 0, 0), true);

        assertThat(BILLING.billDue(roundTrip(state), "a", CALENDAR.closeTime(NOV_1) + 1))
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ADJUSTMENT);
                            assertThat(r.getVersion()).isEqualTo(2);
                            assertThat(r.getTotalTokens()).isEqualTo(10);
                            assertThat(r.getEvents()).isEqualTo(2);
                        });
    }

    @Test
    void forgetsADayWhoseUsageAllCameLateOnlyAfterItsCorrectionDeadline() throws IOException {
        AccountState state = AccountBilling.emptyState();
        BILLING.addUsage(state, usage(NOV_1, "m", Modality.TEXT, 8, 0, 0), true);
        BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_1));
        state = roundTrip(state);

        assertThat(BILLING.billDue(state, "a", CALENDAR.correctionDeadline(NOV_1) - 1)).isEmpty();
        assertThat(AccountBilling.isEmpty(state)).isFalse();

        state = roundTrip(state);
        assertThat(BILLING.billDue(state, "a", CALENDAR.correctionDeadline(NOV_1))).isEmpty();
        assertThat(AccountBilling.isEmpty(state)).isTrue();
    }

    private static AccountState withUsage(AccountState state, long day, String model, long input) {
        BILLING.addUsage(state, usage(day, model, Modality.TEXT, input, 2, 1), false);
        return state;
    }

    /** One event's usage of a billing day, unrated. */
    private static UsagePartial usage(
            long day, String model, Modality modality, long input, long output, long cached) {
        UsagePartial usage = new UsagePartial();
        usage.dayStart = day;
        usage.model = model;
        usage.modality = modality;
        usage.inputTokens = input;
        usage.outputTokens = output;
        usage.cachedTokens = cached;
        usage.events = 1;
        return usage;
    }

    private static AccountState roundTrip(AccountState state) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
        new SpecificDatumWriter<>(AccountState.class).write(state, encoder);
        encoder.flush();
        return new SpecificDatumReader<>(AccountState.class)
                .read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
    }
}
