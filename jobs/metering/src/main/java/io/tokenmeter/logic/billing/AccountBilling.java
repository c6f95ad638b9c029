package io.tokenmeter.logic.billing;

import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.state.AccountState;
import io.tokenmeter.avro.state.BillingDayState;
import io.tokenmeter.avro.state.UsageLineState;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.UsagePartial;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The billing days of one account's state and the rules that change them. Usage is added to its
 * billing day's on-time or late lines. When the day closes, its on-time lines become the ORIGINAL
 * (version 1, possibly without lines when all of the day's usage came late), and late lines become
 * an ADJUSTMENT (version 2, 3, ...) whenever billing is due. Billed lines are cleared; a closed day
 * is kept — as its version number only — until its correction deadline passes.
 */
public final class AccountBilling {

    private final BillingCalendar calendar;

    public AccountBilling(BillingCalendar calendar) {
        this.calendar = calendar;
    }

    public static AccountState emptyState() {
        return AccountState.newBuilder().setRegion("").setDays(new ArrayList<>()).build();
    }

    /**
     * Adds usage, with its package rating (see {@link PackageBalances}), to its billing day's
     * unbilled usage.
     *
     * @param late whether the usage arrived after its day closed: it is then billed in an
     *     ADJUSTMENT
     * @return true when the day had no unbilled usage before: the caller must schedule billing it
     */
    public boolean addUsage(AccountState state, UsagePartial usage, boolean late) {
        BillingDayState day = findOrAddDay(state, usage.dayStart);
        boolean firstUnbilled = day.getUnbilled().isEmpty() && day.getLateUnbilled().isEmpty();
        UsageLines.add(late ? day.getLateUnbilled() : day.getUnbilled(), usage);
        return firstUnbilled;
    }

    /**
     * Bills every day whose close time is at or before {@code time} and that has unbilled usage,
     * and forgets every day whose correction deadline is at or before {@code time}.
     *
     * @return the billing records, in day order; a version 1 record means its day has just closed
     */
    public List<BillingRecord> billDue(AccountState state, String accountId, long time) {
        List<BillingRecord> records = new ArrayList<>();
        // A new list rather than Iterator.remove: Avro's deserialized arrays do not support
        // removal.
        List<BillingDayState> kept = new ArrayList<>(state.getDays().size());
        for (BillingDayState day : state.getDays()) {
            long dayStart = day.getDayStart();
            if (calendar.closeTime(dayStart) <= time) {
                if (day.getBilledVersion() == 0) {
                    records.add(bill(state, accountId, day, day.getUnbilled()));
                    day.setUnbilled(new ArrayList<>());
                }
                if (!day.getUnbilled().isEmpty()) {
                    // On-time usage of a billed day (it was already closed when it came): a
                    // correction too.
                    UsageLines.addAll(day.getLateUnbilled(), day.getUnbilled());
                    day.setUnbilled(new ArrayList<>());
                }
                if (!day.getLateUnbilled().isEmpty()) {
                    records.add(bill(state, accountId, day, day.getLateUnbilled()));
                    day.setLateUnbilled(new ArrayList<>());
                }
            }
            boolean unbilled = !day.getUnbilled().isEmpty() || !day.getLateUnbilled().isEmpty();
            if (unbilled || calendar.correctionDeadline(dayStart) > time) {
                kept.add(day);
            }
        }
        state.setDays(kept);
        records.sort(
                Comparator.comparing(BillingRecord::getDayStart)
                        .thenComparing(BillingRecord::getVersion));
        return records;
    }

    private BillingRecord bill(
            AccountState state, String accountId, BillingDayState day, List<UsageLineState> lines) {
        int version = day.getBilledVersion() + 1;
        day.setBilledVersion(version);
        return BillingStatements.build(
                accountId, state.getRegion(), day.getDayStart(), version, lines, calendar);
    }

    /** Whether nothing is left to bill, correct or close: the state can be cleared. */
    public static boolean isEmpty(AccountState state) {
        return state.getDays().isEmpty();
    }

    private static BillingDayState findOrAddDay(AccountState state, long dayStart) {
        for (BillingDayState day : state.getDays()) {
            if (day.getDayStart() == dayStart) {
                return day;
            }
        }
        BillingDayState day =
                BillingDayState.newBuilder()
                        .setDayStart(dayStart)
                        .setBilledVersion(0)
                        .setUnbilled(new ArrayList<>())
                        .setLateUnbilled(new ArrayList<>())
                        .build();
        state.getDays().add(day);
        return day;
    }
}
