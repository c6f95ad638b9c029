package io.tokenmeter.logic.rollups;

import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.Bundle;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Sums regional partials of account usage rows per {@link AreaRollups#key} before they are shuffled
 * to the regional rollup, which then sees a handful of records per window and bundle instead of two
 * per account and hour. A partial whose window had closed at the watermark passes through unsummed:
 * the rollup turns it into a correction row whose id follows the account row's, and ids must not
 * depend on how rows happened to be bundled.
 */
public final class AreaBundle implements Bundle<AreaUsage> {

    private final BillingCalendar calendar;
    private final Map<String, AreaUsage> sums = new HashMap<>();
    private long earliestClose = Long.MAX_VALUE;

    public AreaBundle(BillingCalendar calendar) {
        this.calendar = calendar;
    }

    @Override
    public boolean add(AreaUsage partial, long watermark) {
        long closeTime = AreaRollups.closeTime(partial, calendar);
        if (closeTime <= watermark) {
            return false;
        }
        sums.compute(AreaRollups.key(partial), (key, sum) -> AreaRollups.add(sum, partial));
        earliestClose = Math.min(earliestClose, closeTime);
        return true;
    }

    @Override
    public long closesAt() {
        return earliestClose;
    }

    @Override
    public int size() {
        return sums.size();
    }

    @Override
    public void drain(Consumer<AreaUsage> out) {
        sums.values().forEach(out);
        sums.clear();
        earliestClose = Long.MAX_VALUE;
    }
}
