package io.tokenmeter.logic.billing;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.logic.Bundle;
import io.tokenmeter.logic.UsagePartial;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Sums unique events into partials before they are shuffled to the per-account operator: a busy
 * account's events of one hour, model and modality then cost one shuffled record and one state
 * update per bundle instead of one per event. Events that carry an hourly correction id pass
 * through unsummed; deduplication has judged every event already, so the watermark plays no part
 * here.
 */
public final class UsageBundle implements Bundle<UsagePartial> {

    private record Key(
            String accountId,
            String region,
            String model,
            Modality modality,
            long dayStart,
            long hourStart,
            boolean late) {}

    private final Map<Key, UsagePartial> partials = new HashMap<>();
    private long earliestHourEnd = Long.MAX_VALUE;

    @Override
    public boolean add(UsagePartial partial, long watermark) {
        if (partial.hourCorrectionId != null) {
            return false;
        }
        Key key =
                new Key(
                        partial.accountId,
                        partial.region,
                        partial.model,
                        partial.modality,
                        partial.dayStart,
                        partial.hourStart,
                        partial.late);
        UsagePartial held = partials.putIfAbsent(key, partial);
        if (held != null) {
            held.add(partial);
        } else {
            // A day closes after its last hour does: the hour's end is the first close of what the
            // sum holds.
            earliestHourEnd = Math.min(earliestHourEnd, partial.hourStart + UsageRows.HOUR_MILLIS);
        }
        return true;
    }

    @Override
    public long closesAt() {
        return earliestHourEnd;
    }

    @Override
    public int size() {
        return partials.size();
    }

    @Override
    public void drain(Consumer<UsagePartial> out) {
        partials.values().forEach(out);
        partials.clear();
        earliestHourEnd = Long.MAX_VALUE;
    }
}
