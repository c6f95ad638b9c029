package io.tokenmeter.logic.billing;

import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.state.UsageLineState;
import io.tokenmeter.logic.BillingCalendar;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Turns an account's usage lines for one billing day into a billing record. */
public final class BillingStatements {

    private static final Comparator<BillingLineItem> LINE_ORDER =
            Comparator.comparing(BillingLineItem::getModel)
                    .thenComparing(BillingLineItem::getModality);

    private static final long MICROS_PER_MINOR_UNIT = 1_000_000L;

    private BillingStatements() {}

    /**
     * Millionths of a minor currency unit to minor units, rounded half up (amounts are never
     * negative).
     */
    static long minorUnits(long micros) {
        return Math.addExact(micros, MICROS_PER_MINOR_UNIT / 2) / MICROS_PER_MINOR_UNIT;
    }

    /**
     * The billing record of {@code version} for one account and day. Version 1 is the ORIGINAL;
     * later versions are ADJUSTMENTs carrying only {@code lines}, the usage not billed before, and
     * pointing at the ORIGINAL. Line items are sorted so that the same input always gives the same
     * record.
     */
    public static BillingRecord build(
            String accountId,
            String region,
            long dayStart,
            int version,
            List<UsageLineState> lines,
            BillingCalendar calendar) {
        if (version < 1) {
            throw new IllegalArgumentException("version must be at least 1, was " + version);
        }
        LocalDate day = calendar.billingDay(dayStart);
        List<BillingLineItem> items = new ArrayList<>(lines.size());
        long totalTokens = 0;
        long events = 0;
        for (UsageLineState line : lines) {
            items.add(
                    BillingLineItem.newBuilder()
                            .setModel(line.getModel())
                            .setModality(line.getModality())
                            .setInputTokens(line.getInputTokens())
                            .setOutputTokens(line.getOutputTokens())
                            .setCachedTokens(line.getCachedTokens())
                            .setEvents(line.getEvents())
                            .setIncludedUnits(line.getIncludedUnits())
                            .setOverageUnits(line.getOverageUnits())
                            .setOverageAmount(minorUnits(line.getOverageMicros()))
                            .build());
            totalTokens =
                    Math.addExact(
                            totalTokens,
                            Math.addExact(
                                    Math.addExact(line.getInputTokens(), line.getOutputTokens()),
                                    line.getCachedTokens()));
            events = Math.addExact(events, line.getEvents());
        }
        items.sort(LINE_ORDER);
        boolean original = version == 1;
        return BillingRecord.newBuilder()
                .setRecordId(BillingRecordIds.recordId(accountId, day, version))
                .setKind(original ? BillingRecordKind.ORIGINAL : BillingRecordKind.ADJUSTMENT)
                .setVersion(version)
                .setCorrectsRecordId(original ? null : BillingRecordIds.recordId(accountId, day, 1))
                .setAccountId(accountId)
                .setRegion(region)
                .setBillingDay(day)
                .setTimeZone(calendar.zone().getId())
                .setDayStart(Instant.ofEpochMilli(dayStart))
                .setDayEnd(Instant.ofEpochMilli(calendar.dayEnd(dayStart)))
                .setLineItems(items)
                .setTotalTokens(totalTokens)
                .setEvents(events)
                .build();
    }
}
