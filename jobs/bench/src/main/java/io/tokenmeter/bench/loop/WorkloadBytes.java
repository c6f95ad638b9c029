package io.tokenmeter.bench.loop;

import io.tokenmeter.testkit.GeneratedRecord;
import io.tokenmeter.testkit.WorkloadGenerator;
import io.tokenmeter.testkit.WorkloadSpec;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A workload's raw records (the Kafka values {@link WorkloadGenerator} writes, byte for byte) held
 * in memory in generation order, so that the loop can be timed on the metering work alone, the way
 * a job reads records out of the fetch buffers its consumer filled. Records lie one after another
 * in 64 MiB chunks, each behind its 4-byte length; no object per record.
 */
public final class WorkloadBytes {

    private static final int CHUNK_BYTES = 64 << 20;
    private static final VarHandle INT_BE =
            MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

    private final List<byte[]> chunks = new ArrayList<>();
    private final List<Integer> chunkUsed = new ArrayList<>();
    private byte[] current;
    private int used;
    private long records;
    private long valueBytes;
    private long keyBytes;

    private WorkloadBytes() {}

    /** Every record of {@code spec}, generated now. */
    public static WorkloadBytes generate(WorkloadSpec spec) {
        WorkloadGenerator generator = new WorkloadGenerator(spec);
        WorkloadBytes bytes = new WorkloadBytes();
        for (long i = 0; i < spec.events(); i++) {
            GeneratedRecord record = generator.record(i);
            bytes.add(record.value());
            if (record.key() != null) {
                bytes.keyBytes += record.key().getBytes(StandardCharsets.UTF_8).length;
            }
        }
        bytes.seal();
        return bytes;
    }

    /** Holds the given records, in order (for tests). */
    public static WorkloadBytes of(List<byte[]> values) {
        WorkloadBytes bytes = new WorkloadBytes();
        values.forEach(bytes::add);
        bytes.seal();
        return bytes;
    }

    private void add(byte[] value) {
        int need = 4 + value.length;
        if (current == null || used + need > current.length) {
            seal();
            current = new byte[Math.max(CHUNK_BYTES, need)];
            used = 0;
        }
        INT_BE.set(current, used, value.length);
        System.arraycopy(value, 0, current, used + 4, value.length);
        used += need;
        records++;
        valueBytes += value.length;
    }

    private void seal() {
        if (current != null) {
            chunks.add(
                    current.length - used > CHUNK_BYTES / 8
                            ? Arrays.copyOf(current, used)
                            : current);
            chunkUsed.add(used);
            current = null;
        }
    }

    /** Hands every record to {@code consumer}, in order. */
    public void forEach(RecordConsumer consumer) {
        forEachOfFirst(Long.MAX_VALUE, consumer);
    }

    /** Hands the first {@code count} records to {@code consumer}, in order. */
    public void forEachOfFirst(long count, RecordConsumer consumer) {
        long left = count;
        for (int c = 0; c < chunks.size() && left > 0; c++) {
            byte[] chunk = chunks.get(c);
            int end = chunkUsed.get(c);
            int at = 0;
            while (at < end && left-- > 0) {
                int length = (int) INT_BE.get(chunk, at);
                consumer.record(chunk, at + 4, length);
                at += 4 + length;
            }
        }
    }

    public long records() {
        return records;
    }

    /** The Kafka values and keys of every record, as the job would read them. */
    public long inputBytes() {
        return valueBytes + keyBytes;
    }

    /** One record's bytes: {@code chunk[offset, offset + length)}. */
    @FunctionalInterface
    public interface RecordConsumer {
        void record(byte[] chunk, int offset, int length);
    }
}
