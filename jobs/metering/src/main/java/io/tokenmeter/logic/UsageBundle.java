package io.tokenmeter.logic;

import io.tokenmeter.avro.Modality;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Sums unique events into partials in memory before they are shuffled to the per-account operators, the way
 * Flink SQL's local-global aggregation does: a busy account's events of one hour, model and modality then cost
 * one shuffled record and one state update per bundle instead of one per event. Events that carry an hourly
 * correction id pass through unsummed.
 */
public final class UsageBundle {

    private record Key(String accountId, String region, String model, Modality modality, long dayStart,
            long hourStart, boolean late) {}

    private final Map<Key, UsagePartial> partials = new HashMap<>();

    /**
     * Takes {@code partial} into the bundle, which may sum it into one it holds and keep using either object.
     *
     * @return false when the partial must not be summed (it carries an hourly correction id): the caller passes
     *     it on as it is
     */
    public boolean add(UsagePartial partial) {
        if (partial.hourCorrectionId != null) {
            return false;
        }
        Key key = new Key(partial.accountId, partial.region, partial.model, partial.modality, partial.dayStart,
                partial.hourStart, partial.late);
        UsagePartial held = partials.putIfAbsent(key, partial);
        if (held != null) {
            held.add(partial);
        }
        return true;
    }

    /** How many distinct partials the bundle holds. */
    public int size() {
        return partials.size();
    }

    /** Hands every partial to {@code out} and empties the bundle. */
    public void drain(Consumer<UsagePartial> out) {
        partials.values().forEach(out);
        partials.clear();
    }
}
