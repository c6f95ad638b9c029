package io.tokenmeter.logic.billing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class BillingRecordIdsTest {

    private static final LocalDate DAY = LocalDate.of(2026, 3, 10);

    @Test
    void givesSameIdForSameAccountDayAndVersion() {
        assertThat(BillingRecordIds.recordId("acct-1", DAY, 1))
                .isEqualTo(BillingRecordIds.recordId("acct-1", DAY, 1));
    }

    @Test
    void isANameBasedUuid() {
        UUID id = UUID.fromString(BillingRecordIds.recordId("acct-1", DAY, 1));

        assertThat(id.version()).isEqualTo(3);
    }

    @Test
    void differsByAccountDayAndVersion() {
        List<String> ids =
                List.of(
                        BillingRecordIds.recordId("acct-1", DAY, 1),
                        BillingRecordIds.recordId("acct-2", DAY, 1),
                        BillingRecordIds.recordId("acct-1", DAY.plusDays(1), 1),
                        BillingRecordIds.recordId("acct-1", DAY, 2));

        assertThat(ids).doesNotHaveDuplicates();
    }

    @Test
    void doesNotCollideWhenAccountAndVersionDigitsCouldBeRegrouped() {
        List<String> ids =
                List.of(
                        BillingRecordIds.recordId("a1", DAY, 2),
                        BillingRecordIds.recordId("a", DAY, 12),
                        BillingRecordIds.recordId("a12", DAY, 1),
                        BillingRecordIds.recordId("a1/" + DAY, DAY, 2),
                        BillingRecordIds.recordId("a1", DAY, 22),
                        BillingRecordIds.recordId("2:a1", DAY, 2));

        assertThat(ids).doesNotHaveDuplicates();
    }
}
