package io.tokenmeter.logic.rollups;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.UsageGranularity;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.RecordIds;

/**
 * Regional and national usage, summed from partials: account rows become regional partials,
 * regional rows become national partials. Sums are exact 64-bit integers.
 */
public final class AreaRollups {

    /** The region code of the national total. */
    public static final String NATIONAL = "*";

    private AreaRollups() {}

    /**
     * An account row as a partial of its region; an ORIGINAL row counts its account as active once.
     */
    public static AreaUsage regionalPartial(AccountUsage row) {
        return AreaUsage.newBuilder()
                .setRecordId(row.getRecordId())
                .setKind(row.getKind())
                .setGranularity(row.getGranularity())
                .setRegion(row.getRegion())
                .setBillingDay(row.getBillingDay())
                .setTimeZone(row.getTimeZone())
                .setWindowStart(row.getWindowStart())
                .setWindowEnd(row.getWindowEnd())
                .setModel(row.getModel())
                .setModality(row.getModality())
                .setInputTokens(row.getInputTokens())
                .setOutputTokens(row.getOutputTokens())
                .setCachedTokens(row.getCachedTokens())
                .setTotalTokens(row.getTotalTokens())
                .setEvents(row.getEvents())
                .setActiveAccounts(row.getKind() == BillingRecordKind.ORIGINAL ? 1 : 0)
                .build();
    }

    /**
     * A regional row as a partial of the national total (accounts belong to one region, so actives
     * add up).
     */
    public static AreaUsage nationalPartial(AreaUsage regional) {
        return AreaUsage.newBuilder(regional).setRegion(NATIONAL).build();
    }

    /**
     * The key rows of one area, window, model and modality share; free-text parts are
     * length-prefixed.
     */
    public static String key(AreaUsage row) {
        return row.getGranularity()
                + "|"
                + row.getWindowStart().toEpochMilli()
                + "|"
                + row.getModality()
                + "|"
                + row.getRegion().length()
                + ":"
                + row.getRegion()
                + "|"
                + row.getModel();
    }

    /**
     * Event time at which the window of {@code row} closes: an hour's end, or a billing day's
     * close.
     */
    public static long closeTime(AreaUsage row, BillingCalendar calendar) {
        return row.getGranularity() == UsageGranularity.DAY
                ? calendar.closeTime(row.getWindowStart().toEpochMilli())
                : row.getWindowEnd().toEpochMilli();
    }

    /** Adds {@code partial} to {@code sum}, or starts a sum from it. */
    public static AreaUsage add(AreaUsage sum, AreaUsage partial) {
        if (sum == null) {
            return AreaUsage.newBuilder(partial).setKind(BillingRecordKind.ORIGINAL).build();
        }
        sum.setInputTokens(Math.addExact(sum.getInputTokens(), partial.getInputTokens()));
        sum.setOutputTokens(Math.addExact(sum.getOutputTokens(), partial.getOutputTokens()));
        sum.setCachedTokens(Math.addExact(sum.getCachedTokens(), partial.getCachedTokens()));
        sum.setTotalTokens(Math.addExact(sum.getTotalTokens(), partial.getTotalTokens()));
        sum.setEvents(Math.addExact(sum.getEvents(), partial.getEvents()));
        sum.setActiveAccounts(Math.addExact(sum.getActiveAccounts(), partial.getActiveAccounts()));
        return sum;
    }

    /** The ORIGINAL row of a closed window's sum. */
    public static AreaUsage original(AreaUsage sum) {
        return AreaUsage.newBuilder(sum)
                .setKind(BillingRecordKind.ORIGINAL)
                .setRecordId(RecordIds.of("area-usage", key(sum)))
                .build();
    }

    /**
     * The ADJUSTMENT row a partial that came after its window closed adds; its id follows the
     * partial's.
     */
    public static AreaUsage correction(AreaUsage partial) {
        return AreaUsage.newBuilder(partial)
                .setKind(BillingRecordKind.ADJUSTMENT)
                .setRecordId(
                        RecordIds.of(
                                "area-usage-correction",
                                partial.getRegion(),
                                partial.getRecordId()))
                .setActiveAccounts(0)
                .build();
    }
}
