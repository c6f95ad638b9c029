package io.tokenmeter.logic;

import io.tokenmeter.avro.state.AccountState;
import io.tokenmeter.avro.state.OpenHourState;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The open hours of one account's state and the rules that change them. */
public final class AccountHours {

    private AccountHours() {}

    /**
     * Adds usage to its open hour.
     *
     * @return true when the hour was not open before: the caller must schedule closing it
     */
    public static boolean addUsage(AccountState state, UsagePartial usage) {
        long hourStart = usage.hourStart;
        OpenHourState hour = null;
        for (OpenHourState h : state.getHours()) {
            if (h.getHourStart() == hourStart) {
                hour = h;
                break;
            }
        }
        boolean opened = hour == null;
        if (opened) {
            hour = OpenHourState.newBuilder().setHourStart(hourStart).setLines(new ArrayList<>()).build();
            state.getHours().add(hour);
        }
        UsageLines.add(hour.getLines(), usage.model, usage.modality,
                usage.inputTokens, usage.outputTokens, usage.cachedTokens, usage.events);
        return opened;
    }

    /** Removes and returns, oldest first, the hours that end at or before {@code time}. */
    public static List<OpenHourState> takeClosedHours(AccountState state, long time) {
        List<OpenHourState> closed = new ArrayList<>();
        // A new list rather than Iterator.remove: Avro's deserialized arrays do not support removal.
        List<OpenHourState> open = new ArrayList<>();
        for (OpenHourState hour : state.getHours()) {
            (hour.getHourStart() + UsageRows.HOUR_MILLIS <= time ? closed : open).add(hour);
        }
        state.setHours(open);
        closed.sort(Comparator.comparingLong(OpenHourState::getHourStart));
        return closed;
    }
}
