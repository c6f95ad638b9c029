package io.tokenmeter.logic.ingest;

import io.tokenmeter.avro.LedgerEntry;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The counts of the ledger behind I1 since they were last drained: records read, duplicates and
 * rejected records per source topic, partition and hour of the records' Kafka timestamps. Counted
 * in memory and drained as {@link LedgerEntry} increments, which a consumer sums.
 *
 * <p>The hour comes from the Kafka timestamp, which every record has (valid or not) and which a
 * replay reads again unchanged: the same record lands in the same bucket whichever attempt counts
 * it. Not thread-safe.
 */
public final class LedgerCounts {

    /** What one record became; each is one column of a {@link LedgerEntry}. */
    public enum Column {
        READ,
        DUPLICATE,
        REJECTED
    }

    static final long HOUR_MILLIS = 3_600_000L;

    private record Bucket(String topic, int partition, long hourStart) {}

    private final Map<Bucket, long[]> counts = new HashMap<>();
    // Consecutive records mostly share a partition and an hour: the last bucket's counts spare a
    // lookup.
    private String lastTopic;
    private int lastPartition;
    private long lastHourStart;
    private long[] lastCounts;

    /**
     * Counts one record of {@code topic} and {@code partition} with Kafka timestamp {@code
     * kafkaTimestamp}.
     */
    public void add(String topic, int partition, long kafkaTimestamp, Column column) {
        String t = Objects.requireNonNullElse(topic, "");
        long hourStart = hourStart(kafkaTimestamp);
        long[] bucket = lastCounts;
        if (bucket == null
                || partition != lastPartition
                || hourStart != lastHourStart
                || !t.equals(lastTopic)) {
            bucket =
                    counts.computeIfAbsent(
                            new Bucket(t, partition, hourStart),
                            b -> new long[Column.values().length]);
            lastTopic = t;
            lastPartition = partition;
            lastHourStart = hourStart;
            lastCounts = bucket;
        }
        bucket[column.ordinal()]++;
    }

    public boolean isEmpty() {
        return counts.isEmpty();
    }

    /** Hands every bucket counted since the last drain to {@code entries}, then forgets them. */
    public void drain(Consumer<LedgerEntry> entries) {
        for (Map.Entry<Bucket, long[]> e : counts.entrySet()) {
            Bucket b = e.getKey();
            long[] c = e.getValue();
            entries.accept(
                    LedgerEntry.newBuilder()
                            .setSourceTopic(b.topic())
                            .setSourcePartition(b.partition())
                            .setHourStart(Instant.ofEpochMilli(b.hourStart()))
                            .setRecordsRead(c[Column.READ.ordinal()])
                            .setDuplicates(c[Column.DUPLICATE.ordinal()])
                            .setRejected(c[Column.REJECTED.ordinal()])
                            .build());
        }
        counts.clear();
        lastCounts = null;
        lastTopic = null;
    }

    /**
     * The start of the UTC hour holding {@code timestamp}; for the few timestamps whose hour starts
     * before {@link Long#MIN_VALUE} (which Kafka never assigns), {@link Long#MIN_VALUE} itself.
     */
    public static long hourStart(long timestamp) {
        long intoHour = Math.floorMod(timestamp, HOUR_MILLIS);
        boolean underflows =
                timestamp < Long.MIN_VALUE + HOUR_MILLIS && timestamp - Long.MIN_VALUE < intoHour;
        return underflows ? Long.MIN_VALUE : timestamp - intoHour;
    }
}
