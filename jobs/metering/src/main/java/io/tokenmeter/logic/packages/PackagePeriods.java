package io.tokenmeter.logic.packages;

import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.logic.BillingCalendar;
import java.io.Serializable;
import java.time.LocalDate;
import java.time.ZonedDateTime;

/**
 * The periods of a subscription: calendar months in the billing zone, or blocks of N billing days
 * counted from the day of activation. Either way a period starts and ends at local midnight, so it
 * closes and takes corrections like its last billing day.
 */
public final class PackagePeriods implements Serializable {

    /** One period, [start, end) in epoch millis. */
    public record Period(long start, long end) {}

    private final BillingCalendar calendar;

    public PackagePeriods(BillingCalendar calendar) {
        this.calendar = calendar;
    }

    /**
     * The period of a package with {@code validityDays} (0: calendar month) that contains {@code
     * time}.
     */
    public Period periodAt(SubscriptionEvent subscription, int validityDays, long time) {
        LocalDate day = calendar.billingDay(time);
        if (validityDays == 0) {
            LocalDate first = day.withDayOfMonth(1);
            return new Period(startOf(first), startOf(first.plusMonths(1)));
        }
        LocalDate activation = calendar.billingDay(subscription.getActivatedAt().toEpochMilli());
        long index = Math.floorDiv(day.toEpochDay() - activation.toEpochDay(), validityDays);
        LocalDate first = activation.plusDays(index * validityDays);
        return new Period(startOf(first), startOf(first.plusDays(validityDays)));
    }

    /** The period before {@code period} of the same package. */
    public Period previous(Period period, int validityDays) {
        LocalDate first = calendar.billingDay(period.start());
        LocalDate previous =
                validityDays == 0 ? first.minusMonths(1) : first.minusDays(validityDays);
        return new Period(startOf(previous), period.start());
    }

    /** Event time at which the period is closed: its last day's close (midnight + grace). */
    public long closeTime(long periodEnd) {
        return calendar.closeTime(calendar.dayStart(periodEnd - 1));
    }

    /**
     * Event time after which the period takes no more corrections: its last day's correction
     * deadline.
     */
    public long correctionDeadline(long periodEnd) {
        return calendar.correctionDeadline(calendar.dayStart(periodEnd - 1));
    }

    /** Whether {@code dayStart} is the last billing day of a period ending at {@code periodEnd}. */
    public boolean isLastDay(long dayStart, long periodEnd) {
        return calendar.dayEnd(dayStart) == periodEnd;
    }

    private long startOf(LocalDate day) {
        return ZonedDateTime.of(day.atStartOfDay(), calendar.zone()).toInstant().toEpochMilli();
    }
}
