package io.tokenmeter.bench;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Named sums that a contender's outputs add to, checked afterwards against the other contenders.
 * The sinks run in the MiniCluster inside the contender's own JVM, so they add to this JVM's one
 * tally directly.
 */
public final class Tally {

    private static final Map<String, LongAdder> SUMS = new ConcurrentHashMap<>();

    private Tally() {}

    public static void add(String name, long amount) {
        SUMS.computeIfAbsent(name, n -> new LongAdder()).add(amount);
    }

    public static long get(String name) {
        LongAdder sum = SUMS.get(name);
        return sum == null ? 0 : sum.sum();
    }

    /** Every sum, sorted by name. */
    public static Map<String, Long> snapshot() {
        Map<String, Long> sorted = new TreeMap<>();
        SUMS.forEach((name, sum) -> sorted.put(name, sum.sum()));
        return sorted;
    }

    /** What one output record adds to the tally. */
    @FunctionalInterface
    public interface Counting<T> extends Serializable {
        void count(T value);
    }

    /** A sink that adds each record to the tally and keeps nothing else. */
    public static <T> Sink<T> sink(Counting<T> counting) {
        return new TallySink<>(counting);
    }

    private record TallySink<T>(Counting<T> counting) implements Sink<T> {
        @Override
        public SinkWriter<T> createWriter(WriterInitContext context) {
            return new SinkWriter<>() {
                @Override
                public void write(T element, Context context) {
                    counting.count(element);
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }
}
