package io.tokenmeter.logic;

import java.util.function.Consumer;

/**
 * Records summed in memory before a shuffle, the way Flink SQL's local-global aggregation does: the
 * keyed operator after the shuffle then sees one record per key and bundle instead of one per input
 * record.
 */
public interface Bundle<T> {

    /**
     * Takes {@code record} into the bundle, which may sum it into one it holds and keep using
     * either object.
     *
     * @param watermark the highest watermark seen before {@code record}
     * @return false when the record must not be summed: the caller passes it on as it is
     */
    boolean add(T record, long watermark);

    /**
     * The lowest watermark at which a sum the bundle holds must have been passed on: the earliest
     * end of a window (hour or billing day) it holds usage of, after which the operator downstream
     * closes that window. Long.MAX_VALUE when the bundle is empty.
     */
    long closesAt();

    /** How many distinct sums the bundle holds. */
    int size();

    /** Hands every sum to {@code out} and empties the bundle. */
    void drain(Consumer<T> out);
}
