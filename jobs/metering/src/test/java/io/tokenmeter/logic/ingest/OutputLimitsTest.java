package io.tokenmeter.logic.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.state.AccountState;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.UsagePartial;
import io.tokenmeter.logic.billing.AccountBilling;
import io.tokenmeter.schema.AvroCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The size bounds the start-up check relies on (I10), against records the job's own code builds at
 * the longest the caps allow: the bound must never be below the real size, and not far above it
 * either (or the check would refuse sound settings).
 */
class OutputLimitsTest {

    private static final ZoneId ZONE =
            ZoneId.of("America/Argentina/ComodRivadavia"); // the longest zone id
    private static final BillingCalendar CALENDAR =
            new BillingCalendar(ZONE, Duration.ofMinutes(15), Duration.ofDays(35));
    private static final int ACCOUNT = 128;
    private static final int REGION = 64;
    private static final int MODEL = 128;

    @Test
    void boundsABillingRecordWithTheMostLinesOfTheLongestModels() {
        int lines = 1_000;
        AccountState state = AccountBilling.emptyState();
        state.setRegion(utf8OfBytes(REGION, 0));
        AccountBilling billing = new AccountBilling(CALENDAR);
        long dayStart = CALENDAR.dayStart(Instant.parse("2026-03-10T12:00:00Z").toEpochMilli());
        long big =
                1_000_000_000_000_000L; // 8 bytes as an Avro long; 10^3 lines of 3 such still sum
        // in a long
        for (int i = 0; i < lines; i++) {
            UsagePartial usage = new UsagePartial();
            usage.dayStart = dayStart;
            usage.model = utf8OfBytes(MODEL, i);
            usage.modality = Modality.values()[i % Modality.values().length];
            usage.inputTokens = big;
            usage.outputTokens = big;
            usage.cachedTokens = big;
            usage.events = big;
            usage.includedUnits = big;
            usage.overageUnits = big;
            usage.overageMicros = big;
            billing.addUsage(state, usage, false);
        }
        String account = utf8OfBytes(ACCOUNT, 1);

        List<BillingRecord> records = billing.billDue(state, account, CALENDAR.closeTime(dayStart));

        assertThat(records)
                .singleElement()
                .satisfies(r -> assertThat(r.getLineItems()).hasSize(lines));
        long actual = AvroCodec.billingRecords().encode(records.get(0)).length + ACCOUNT;
        long bound = OutputLimits.billingRecord(ACCOUNT, REGION, MODEL, lines);
        assertThat(bound)
                .isGreaterThanOrEqualTo(
                        actual + 97); // Kafka's batch header and record overhead: 61 + 36
        assertThat(bound).isLessThan(actual + actual / 5);
    }

    @Test
    void boundsTheRejectedEnvelopeOfTheLargestPayloadAndLongestMessage() {
        int maxRecordBytes = 65_536;
        String topic = "t".repeat(249); // Kafka's longest topic name
        RejectedRecord envelope =
                Rejections.reject(
                        RejectReason.TOO_MANY_LINE_ITEMS,
                        "\u4e2d".repeat(5_000),
                        new byte[maxRecordBytes],
                        topic,
                        Integer.MIN_VALUE,
                        Long.MIN_VALUE,
                        Long.MIN_VALUE,
                        Long.MIN_VALUE);

        long actual = AvroCodec.rejectedRecords().encode(envelope).length;

        assertThat(envelope.getMessage()).hasSizeLessThanOrEqualTo(Rejections.MAX_MESSAGE_CHARS);
        assertThat(OutputLimits.rejectedRecord(maxRecordBytes, topic.length()))
                .isGreaterThanOrEqualTo(actual + 97);
    }

    /**
     * A string of exactly {@code bytes} UTF-8 bytes, mostly 3-byte characters, distinct per {@code
     * i}.
     */
    private static String utf8OfBytes(int bytes, int i) {
        String prefix = String.format("%05d", i);
        StringBuilder s = new StringBuilder(prefix);
        while (s.toString().getBytes(StandardCharsets.UTF_8).length + 3 <= bytes) {
            s.append('\u6a21');
        }
        while (s.toString().getBytes(StandardCharsets.UTF_8).length < bytes) {
            s.append('x');
        }
        return s.toString();
    }
}
