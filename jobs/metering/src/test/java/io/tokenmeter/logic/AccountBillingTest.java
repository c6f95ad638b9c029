package io.tokenmeter.logic;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.state.AccountBillingState;
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
import org.junit.jupiter.api.Test;

/**
 * The billing rules on one account's state. Between steps the state goes through Avro binary, as it does in
 * RocksDB, so the rules must work on deserialized Avro arrays too.
 */
class AccountBillingTest {

    private static final BillingCalendar CALENDAR =
            new BillingCalendar(ZoneId.of("Asia/Shanghai"), Duration.ofMinutes(15), Duration.ofDays(35));
    private static final long NOV_1 = Instant.parse("2026-10-31T16:00:00Z").toEpochMilli();
    private static final long NOV_2 = Instant.parse("2026-11-01T16:00:00Z").toEpochMilli();
    private static final AccountBilling BILLING = new AccountBilling(CALENDAR);

    @Test
    void billsNothingBeforeTheDayCloses() throws IOException {
        AccountBillingState state = roundTrip(withUsage(AccountBilling.emptyState(), NOV_1, "m", 10));

        assertThat(BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_1) - 1)).isEmpty();
    }

    @Test
    void billsEachDayOnceWithItsLinesWhenItCloses() throws IOException {
        AccountBillingState state = AccountBilling.emptyState();
        withUsage(state, NOV_1, "m", 10);
        withUsage(state, NOV_1, "m", 5);
        withUsage(state, NOV_1, "n", 1);
        withUsage(state, NOV_2, "m", 7);
        state = roundTrip(state);

        List<BillingRecord> records = BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_1));

        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ORIGINAL);
            assertThat(r.getLineItems()).extracting(BillingLineItem::getModel, BillingLineItem::getInputTokens,
                    BillingLineItem::getEvents).containsExactly(
                            org.assertj.core.groups.Tuple.tuple("m", 15L, 2L),
                            org.assertj.core.groups.Tuple.tuple("n", 1L, 1L));
        });
        state = roundTrip(state);
        assertThat(BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_1))).isEmpty();
        assertThat(BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_2)))
                .extracting(BillingRecord::getTotalTokens).containsExactly(7L + 2 + 1);
    }

    @Test
    void billsLaterUsageOfAClosedDayAsAnAdjustmentWithOnlyTheDelta() throws IOException {
        AccountBillingState state = withUsage(AccountBilling.emptyState(), NOV_1, "m", 10);
        BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_1));
        state = roundTrip(state);

        boolean firstUnbilled = BILLING.addUsage(state, NOV_1, "m", Modality.TEXT, 4, 0, 0);
        List<BillingRecord> records = BILLING.billDue(roundTrip(state), "a", CALENDAR.closeTime(NOV_1) + 60_000);

        assertThat(firstUnbilled).isTrue();
        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.getKind()).isEqualTo(BillingRecordKind.ADJUSTMENT);
            assertThat(r.getVersion()).isEqualTo(2);
            assertThat(r.getTotalTokens()).isEqualTo(4);
        });
    }

    @Test
    void forgetsADayOnlyAfterItsCorrectionDeadline() throws IOException {
        AccountBillingState state = withUsage(AccountBilling.emptyState(), NOV_1, "m", 10);
        BILLING.billDue(state, "a", CALENDAR.closeTime(NOV_1));
        state = roundTrip(state);

        BILLING.billDue(state, "a", CALENDAR.correctionDeadline(NOV_1) - 1);
        assertThat(AccountBilling.isEmpty(state)).isFalse();

        state = roundTrip(state);
        BILLING.billDue(state, "a", CALENDAR.correctionDeadline(NOV_1));
        assertThat(AccountBilling.isEmpty(state)).isTrue();
    }

    private static AccountBillingState withUsage(AccountBillingState state, long day, String model, long input) {
        BILLING.addUsage(state, day, model, Modality.TEXT, input, 2, 1);
        return state;
    }

    private static AccountBillingState roundTrip(AccountBillingState state) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
        new SpecificDatumWriter<>(AccountBillingState.class).write(state, encoder);
        encoder.flush();
        return new SpecificDatumReader<>(AccountBillingState.class)
                .read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
    }
}
