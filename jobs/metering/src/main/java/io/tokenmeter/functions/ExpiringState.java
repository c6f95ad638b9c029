package io.tokenmeter.functions;

import java.util.List;
import java.util.stream.Stream;
import javax.annotation.Nullable;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.ttl.TtlStateFactory;
import org.apache.flink.runtime.state.ttl.TtlValue;
import org.apache.flink.state.rocksdb.RocksDBKeyedStateBackend;

/**
 * A keyed value that expires in event time: each value is written with its expiry, reads treat a
 * value whose expiry the watermark reached as absent, and such values are removed without a timer
 * or a delete per key. On RocksDB the state's compaction filter removes them, on a clock that is
 * the operator's highest watermark ({@link EventTimeCompactionFilter}); on any other backend a
 * sweep over all keys does, once the watermark passes the end of the sweep bucket that holds the
 * earliest expiry. Both follow event time only, remembered across restores: no outage, stall or
 * replay removes a value early.
 *
 * <p>Values are Flink TTL values in layout (the expiry, as a {@link EventTimeCompactionFilter#stamp
 * stamp}, where Flink keeps a TTL timestamp), never configured for Flink's processing-time TTL.
 */
final class ExpiringState<K, V> {

    private final String name;
    private final ValueStateDescriptor<TtlValue<V>> descriptor;
    private final long sweepBucketMillis;
    private final ValueState<TtlValue<V>> state;
    private final KeyedStateBackend<K> backend;

    /** The compaction filter's clock on RocksDB; null on other backends, which sweep. */
    @Nullable private final EventTimeCompactionFilter compactionClock;

    /**
     * Sweeps only: the watermark at which the next one runs (after a start or restore: at the first
     * one).
     */
    private long nextSweepAt = Long.MIN_VALUE;

    /**
     * Opens the state {@code name} of {@code valueSerializer} values in {@code context}'s keyed
     * backend {@code backend}; without a compaction filter, sweeps run at most once per {@code
     * sweepBucketMillis} of event time. Call from the function's {@code open}.
     */
    ExpiringState(
            String name,
            TypeSerializer<V> valueSerializer,
            long sweepBucketMillis,
            RuntimeContext context,
            KeyedStateBackend<K> backend,
            long highestWatermark) {
        this.name = name;
        this.descriptor = descriptor(name, valueSerializer);
        this.sweepBucketMillis = Math.max(1, sweepBucketMillis);
        this.state = context.getState(descriptor);
        this.backend = backend;
        this.compactionClock =
                backend instanceof RocksDBKeyedStateBackend<?> rocksDb
                        ? EventTimeCompactionFilter.install(rocksDb, name, highestWatermark)
                        : null;
    }

    static <V> ValueStateDescriptor<TtlValue<V>> descriptor(
            String name, TypeSerializer<V> valueSerializer) {
        return new ValueStateDescriptor<>(
                name,
                new TtlStateFactory.TtlSerializer<>(LongSerializer.INSTANCE, valueSerializer));
    }

    /** The current key's value, or null if it has none or {@code watermark} reached its expiry. */
    @Nullable
    V value(long watermark) throws Exception {
        TtlValue<V> stored = state.value();
        return stored == null || expiry(stored) <= watermark ? null : stored.getUserValue();
    }

    /** Sets the current key's value, kept until the watermark reaches {@code expiry}. */
    void update(V value, long expiry) throws Exception {
        long stamp = EventTimeCompactionFilter.stamp(expiry);
        state.update(new TtlValue<>(value, stamp));
        if (compactionClock == null) {
            nextSweepAt =
                    Math.min(nextSweepAt, sweepBucketEnd(EventTimeCompactionFilter.expiry(stamp)));
        }
    }

    /**
     * Removes values whose expiry {@code watermark} reached: lets the compaction filter's clock
     * move on, or sweeps if one is due. Call with no current key, for every watermark.
     */
    void advanceTo(long watermark) throws Exception {
        if (compactionClock != null) {
            compactionClock.advanceTo(watermark);
        } else if (watermark >= nextSweepAt) {
            sweep(watermark);
        }
    }

    /** Compacts the state on RocksDB now, which removes every expired value (tests). */
    void compact() throws Exception {
        ((RocksDBKeyedStateBackend<?>) backend).compactState(descriptor);
    }

    /** Removes every value whose expiry {@code watermark} reached; schedules the next sweep. */
    private void sweep(long watermark) throws Exception {
        K current = backend.getCurrentKey();
        List<K> keys;
        // Collected first: the heap backend's key stream does not allow removing while it runs.
        try (Stream<K> stream = backend.getKeys(name, VoidNamespace.INSTANCE)) {
            keys = stream.toList();
        }
        long earliestLeft = Long.MAX_VALUE;
        for (K key : keys) {
            backend.setCurrentKey(key);
            TtlValue<V> stored = state.value();
            if (stored == null) {
                continue;
            }
            if (expiry(stored) <= watermark) {
                state.clear();
            } else {
                earliestLeft = Math.min(earliestLeft, expiry(stored));
            }
        }
        if (current != null) {
            backend.setCurrentKey(current);
        }
        nextSweepAt =
                earliestLeft == Long.MAX_VALUE ? Long.MAX_VALUE : sweepBucketEnd(earliestLeft);
    }

    /**
     * The end of the sweep bucket (aligned to the epoch) that holds {@code expiry}: sweeps wait for
     * it, so they run about once per bucket of event time however many values expire.
     */
    private long sweepBucketEnd(long expiry) {
        return Math.floorDiv(expiry - 1, sweepBucketMillis) * sweepBucketMillis + sweepBucketMillis;
    }

    /** Where a Flink TTL value keeps its timestamp, this state keeps the expiry, as a stamp. */
    private static long expiry(TtlValue<?> stored) {
        return EventTimeCompactionFilter.expiry(stored.getLastAccessTimestamp());
    }
}
