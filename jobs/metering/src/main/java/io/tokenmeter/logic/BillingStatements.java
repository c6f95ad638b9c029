package io.tokenmeter.logic;

import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.Modality;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** Turns an account's usage lines for one billing day into a billing record. */
public final class BillingStatements {

    private static final Comparator<BillingLineItem> LINE_ORDER =
            Comparator.comparing(BillingLineItem::getModel).thenComparing(BillingLineItem::getModality);

    private BillingStatements() {}

    /**
     * The billing record of {@code version} for one account and day. Version 1 is the ORIGINAL; later versions are
     * ADJUSTMENTs carrying only {@code lines}, the usage not billed before, and pointing at the ORIGINAL.
     * Line items are sorted so that the same input always gives the same record.
     */
    public static BillingRecord build(
            String accountId, long dayStart, int version, Map<UsageLineKey, UsageTotals> lines, BillingCalendar calendar) {
        if (version < 1) {
            throw new IllegalArgumentException("version must be at least 1, was " + version);
        }
        LocalDate day = calendar.billingDay(dayStart);
        List<BillingLineItem> items = new ArrayList<>(lines.size());
        long totalTokens = 0;
        long events = 0;
        for (Map.Entry<UsageLineKey, UsageTotals> line : lines.entrySet()) {
            if (line.getKey().dayStart() != dayStart) {
                throw new IllegalArgumentException("line " + line.getKey() + " is not of day " + day);
            }
            UsageTotals t = line.getValue();
            items.add(BillingLineItem.newBuilder()
                    .setModel(line.getKey().model())
                    .setModality(Modality.valueOf(line.getKey().modality()))
                    .setInputTokens(t.inputTokens)
                    .setOutputTokens(t.outputTokens)
                    .setCachedTokens(t.cachedTokens)
                    .setEvents(t.events)
                    .build());
            totalTokens = Math.addExact(totalTokens, t.totalTokens());
            events = Math.addExact(events, t.events);
        }
        items.sort(LINE_ORDER);
        boolean original = version == 1;
        return BillingRecord.newBuilder()
                .setRecordId(BillingRecordIds.recordId(accountId, day, version))
                .setKind(original ? BillingRecordKind.ORIGINAL : BillingRecordKind.ADJUSTMENT)
                .setVersion(version)
                .setCorrectsRecordId(original ? null : BillingRecordIds.recordId(accountId, day, 1))
                .setAccountId(accountId)
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
