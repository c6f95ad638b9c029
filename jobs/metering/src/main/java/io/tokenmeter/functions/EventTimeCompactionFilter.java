package io.tokenmeter.functions;

import java.lang.reflect.Field;
import java.util.Map;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.state.rocksdb.RocksDBKeyedStateBackend;
import org.apache.flink.state.rocksdb.ttl.RocksDbTtlCompactFiltersManager;
import org.rocksdb.FlinkCompactionFilter;
import org.rocksdb.FlinkCompactionFilter.FlinkCompactionFilterFactory;

/**
 * Lets RocksDB drop a value state's entries in event time, while it compacts: an entry goes once the watermark
 * reached the expiry its value starts with. No timer and no delete per entry.
 *
 * <p>The state's values must be Flink TTL values ({@code TtlStateFactory.TtlSerializer}): 8 bytes of timestamp (here
 * the expiry), then the user value. For such a state Flink's RocksDB backend puts its TTL compaction filter, from the
 * frocksdb build Flink ships, on the state's own column family — at start and on every restore — and leaves it
 * disabled until the state is configured for processing-time TTL, which this state never is. {@link #install} gives
 * that filter this clock instead of the wall clock, then enables it for values with a TTL of zero: an entry is
 * removed when {@code expiry <= clock}. Flink offers no API for either step (RocksDB options apply to every column
 * family, and Flink's TTL runs on processing time only), so install reaches two private fields; if a Flink or
 * frocksdb upgrade moves them, the job fails when the operator opens, saying so, rather than keep every id forever.
 *
 * <p>The clock is the operator's highest watermark, remembered across restores: an id is physically removed only
 * after event time passed its expiry, however long the job was down. Compactions run on RocksDB's own threads, so
 * the clock is volatile; it starts at Long.MIN_VALUE, which removes nothing.
 */
final class EventTimeCompactionFilter implements FlinkCompactionFilter.TimeProvider {

    /** How many entries a compaction judges before it reads the clock again (Flink's TTL default). */
    private static final long QUERY_TIME_AFTER_ENTRIES = 1000;

    private volatile long now = Long.MIN_VALUE;

    private EventTimeCompactionFilter() {}

    /**
     * Enables the compaction filter of {@code stateName}, a value state of TTL values already registered with
     * {@code backend}, on a clock set to {@code watermark}; advance it with {@link #advanceTo}.
     */
    static EventTimeCompactionFilter install(RocksDBKeyedStateBackend<?> backend, String stateName, long watermark) {
        EventTimeCompactionFilter clock = new EventTimeCompactionFilter();
        clock.advanceTo(watermark);
        FlinkCompactionFilterFactory factory;
        try {
            Object manager = read(RocksDBKeyedStateBackend.class, "ttlCompactFiltersManager", backend);
            Map<?, ?> factories =
                    (Map<?, ?>) read(RocksDbTtlCompactFiltersManager.class, "compactionFilterFactories", manager);
            factory = (FlinkCompactionFilterFactory) factories.get(stateName);
            if (factory == null) {
                throw new IllegalStateException("RocksDB put no TTL compaction filter on state '" + stateName
                        + "'; its values must be Flink TTL values");
            }
            // Before it is enabled: until then the filter keeps everything, whichever clock it reads.
            write(FlinkCompactionFilterFactory.class, "timeProvider", factory, clock);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new SuppressRestartsException(new IllegalStateException("cannot let RocksDB drop '" + stateName
                    + "' in event time with this Flink and frocksdb version (the compaction filter's fields moved?);"
                    + " without it no dedup id would ever be removed", e));
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
        return now;
    }

    private static Object read(Class<?> owner, String name, Object target) throws ReflectiveOperationException {
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
