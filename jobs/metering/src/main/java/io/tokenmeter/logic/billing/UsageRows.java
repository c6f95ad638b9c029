package io.tokenmeter.logic.billing;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.UsageGranularity;
import io.tokenmeter.avro.state.UsageLineState;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.RecordIds;
import io.tokenmeter.logic.UsagePartial;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Builds the per-account usage rows analysts read: one per account, window, model and modality. */
public final class UsageRows {

    public static final long HOUR_MILLIS = 3_600_000L;

    private UsageRows() {}

    /** The ORIGINAL row of one account's hour for one model and modality. */
    public static AccountUsage hourOriginal(
            String accountId,
            String region,
            long hourStart,
            UsageLineState line,
            BillingCalendar calendar) {
        return row(
                RecordIds.of(
                        "account-usage/hour",
                        accountId,
                        hourStart,
                        line.getModel(),
                        line.getModality()),
                BillingRecordKind.ORIGINAL,
                UsageGranularity.HOUR,
                accountId,
                region,
                hourStart,
                hourStart + HOUR_MILLIS,
                line.getModel(),
                line.getModality(),
                line.getInputTokens(),
                line.getOutputTokens(),
                line.getCachedTokens(),
                line.getEvents(),
                calendar);
    }

    /** The ADJUSTMENT row one late event adds to its account's hour; its id is the event's. */
    public static AccountUsage hourCorrection(UsagePartial event, BillingCalendar calendar) {
        return row(
                event.hourCorrectionId,
                BillingRecordKind.ADJUSTMENT,
                UsageGranularity.HOUR,
                event.accountId,
                event.region,
                event.hourStart,
                event.hourStart + HOUR_MILLIS,
                event.model,
                event.modality,
                event.inputTokens,
                event.outputTokens,
                event.cachedTokens,
                event.events,
                calendar);
    }

    /** The day rows of a billing record: one per line item, of the record's kind. */
    public static List<AccountUsage> dayRows(BillingRecord record, BillingCalendar calendar) {
        List<AccountUsage> rows = new ArrayList<>(record.getLineItems().size());
        long dayStart = record.getDayStart().toEpochMilli();
        for (BillingLineItem line : record.getLineItems()) {
            rows.add(
                    row(
                            RecordIds.of(
                                    "account-usage/day",
                                    record.getRecordId(),
                                    line.getModel(),
                                    line.getModality()),
                            record.getKind(),
                            UsageGranularity.DAY,
                            record.getAccountId(),
                            record.getRegion(),
                            dayStart,
                            record.getDayEnd().toEpochMilli(),
                            line.getModel(),
                            line.getModality(),
                            line.getInputTokens(),
                            line.getOutputTokens(),
                            line.getCachedTokens(),
                            line.getEvents(),
                            calendar));
        }
        return rows;
    }

    private static AccountUsage row(
            String id,
            BillingRecordKind kind,
            UsageGranularity granularity,
            String accountId,
            String region,
            long windowStart,
            long windowEnd,
            String model,
            Modality modality,
            long input,
            long output,
            long cached,
            long events,
            BillingCalendar calendar) {
        return AccountUsage.newBuilder()
                .setRecordId(id)
                .setKind(kind)
                .setGranularity(granularity)
                .setAccountId(accountId)
                .setRegion(region)
                .setBillingDay(calendar.billingDay(windowStart))
                .setTimeZone(calendar.zone().getId())
                .setWindowStart(Instant.ofEpochMilli(windowStart))
                .setWindowEnd(Instant.ofEpochMilli(windowEnd))
                .setModel(model)
                .setModality(modality)
                .setInputTokens(input)
                .setOutputTokens(output)
                .setCachedTokens(cached)
                .setTotalTokens(Math.addExact(Math.addExact(input, output), cached))
                .setEvents(events)
                .build();
    }
}
