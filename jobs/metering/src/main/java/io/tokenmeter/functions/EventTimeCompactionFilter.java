package io.tokenmeter.functions;

import java.lang.reflect.Field;
import java.util.Map;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.state.rocksdb.RocksDBKeyedStateBackend;
import org.apache.flink.state.rocksdb.ttl.RocksDbTtlCompactFiltersManager;
import org.rocksdb.FlinkCompactionFilter;
import org.rocksdb.FlinkCompactionFilter.FlinkCompactionFilterFactory;

/**
 * Lets RocksDB drop a value state's entries in event time, while it compacts: an entry goes once
 * the watermark reached the expiry its value starts with. No timer and no delete per entry.
 *
 * <p>The state's values must be Flink TTL values ({@code TtlStateFactory.TtlSerializer}): 8 bytes
 * of timestamp (here the expiry), then the user value. For such a state Flink's RocksDB backend
 * puts its TTL compaction filter, from the frocksdb build Flink ships, on the state's own column
 * family — at start and on every restore — and leaves it disabled until the state is configured for
 * processing-time TTL, which this state never is. {@link #install} gives that filter this clock
 * instead of the wall clock, then enables it for values with a TTL of zero: an entry is removed
 * when {@code expiry <= clock}. Flink offers no API for either step (RocksDB options apply to every
 * column family, and Flink's TTL runs on processing time only), so install reaches two private
 * fields; if a Flink or frocksdb upgrade moves them, the job fails when the operator opens, saying
 * so, rather than keep every id forever.
 *
 * <p>The clock is the operator's highest watermark, remembered across restores: an id is physically
 * removed only after event time passed its expiry, however long the job was down. Compactions run
 * on RocksDB's own threads, so the clock is volatile; it starts at Long.MIN_VALUE, which removes
 * nothing.
 *
 * <p>Expiries are stored as {@link #stamp stamps}, {@value #SHIFT} ms above event time, where no
 * wall clock reaches. A restored backend creates the filter factory with Flink's TTL clock, the
 * wall clock, and RocksDB may start compacting before {@link #install} replaces it; such a
 * compaction keeps the filter it created with that clock, and it runs on after {@link #install}
 * enabled the filter. Comparing stamps with the wall clock, it drops nothing; were expiries stored
 * as event time, it would drop every id whose expiry is older than now (a late event's, or any
 * during a replay) though the watermark is far behind it.
 */
final class EventTimeCompactionFilter implements FlinkCompactionFilter.TimeProvider {

    /**
     * How many entries a compaction judges before it reads the clock again (Flink's TTL default).
     */
    private static final long QUERY_TIME_AFTER_ENTRIES = 1000;

    /** 2^62 ms: how far above event time a stamp lies. */
    static final long SHIFT = 1L << 62;

    /**
     * 2^61 ms before the epoch: earlier expiries are stored as this one, so every stamp is at least
     * 2^61 ms.
     */
    private static final long EARLIEST = -(1L << 61);

    /** The latest expiry a stamp holds: later ones are stored as this one. */
    private static final long LATEST = Long.MAX_VALUE - SHIFT;

    private volatile long now = Long.MIN_VALUE;

    private EventTimeCompactionFilter() {}

    /**
     * Enables the compaction filter of {@code stateName}, a value state of TTL values already
     * registered with {@code backend}, on a clock set to {@code watermark}; advance it with {@link
     * #advanceTo}.
     */
    static EventTimeCompactionFilter install(
            RocksDBKeyedStateBackend<?> backend, String stateName, long watermark) {
        EventTimeCompactionFilter clock = new EventTimeCompactionFilter();
        clock.advanceTo(watermark);
        FlinkCompactionFilterFactory factory;
        try {
            Object manager =
                    read(RocksDBKeyedStateBackend.class, "ttlCompactFiltersManager", backend);
            Map<?, ?> factories =
                    (Map<?, ?>)
                            read(
                                    RocksDbTtlCompactFiltersManager.class,
                                    "compactionFilterFactories",
                                    manager);
            factory = (FlinkCompactionFilterFactory) factories.get(stateName);
            if (factory == null) {
                throw new IllegalStateException(
                        "RocksDB put no TTL compaction filter on state '"
                                + stateName
                                + "'; its values must be Flink TTL values");
            }
            // Before it is enabled: until then the filter keeps everything, whichever clock it
            // reads.
            write(FlinkCompactionFilterFactory.class, "timeProvider", factory, clock);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new SuppressRestartsException(
                    new IllegalStateException(
                            "cannot let RocksDB drop '"
                                    + stateName
                                    + "' in event time with this Flink and frocksdb version (the compaction filter's fields moved?);"
                                    + " without it no dedup id would ever be removed",
                            e));
        }
        factory.configure(FlinkCompactionFilter.Config.createForValue(0, QUERY_TIME_AFTER_ENTRIES));
        return clock;
    }

    /** Moves the clock to {@code watermark} if that is later; it never goes back. */
    void advanceTo(long watermark) {
        if (watermark > now) {
            now = watermark;
        }
    }

    @Override
    public long currentTimestamp() {
        // Below EARLIEST the stamp of an expiry clamped to EARLIEST must still be ahead of the
        // clock.
        return now < EARLIEST ? Long.MIN_VALUE : stamp(now);
    }

    /** The stamp stored for {@code expiry}, an event time: far above any wall clock. */
    static long stamp(long expiry) {
        return Math.min(Math.max(expiry, EARLIEST), LATEST) + SHIFT;
    }

    /** The expiry a {@link #stamp} holds (clamped to what a stamp can hold). */
    static long expiry(long stamp) {
        return stamp - SHIFT;
    }

    private static Object read(Class<?> owner, String name, Object target)
            throws ReflectiveOperationException {
        Field field = owner.getDeclaredField(name);
        field.setAccessible(true);
        return field.get(target);
    }

    private static void write(Class<?> owner, String name, Object target, Object value)
            throws ReflectiveOperationException {
        Field field = owner.getDeclaredField(name);
        field.setAccessible(true);
        field.set(target, value);
    }
}
