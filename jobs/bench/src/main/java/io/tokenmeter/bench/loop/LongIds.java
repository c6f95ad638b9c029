package io.tokenmeter.bench.loop;

import java.util.Arrays;

/**
 * Dense ids 0, 1, 2, ... for long keys, in the order first seen: open addressing with linear
 * probing, key and id side by side. For the small sets of the loop (products: region × model ×
 * modality; national lines: model × modality), whose tables stay in the CPU's caches.
 */
final class LongIds {

    private long[] slots;
    private int mask;
    private int size;

    LongIds(int expected) {
        int capacity = Integer.highestOneBit(Math.max(16, expected * 2) - 1) << 1;
        slots = new long[capacity * 2];
        mask = capacity - 1;
    }

    /** The id of {@code key}, a new one the first time it is seen. */
    int id(long key) {
        long stored =
                key + 1; // 0 marks an empty slot; keys are never -1 here (non-negative packed ints)
        int slot = (int) ((stored * 0x9E3779B97F4A7C15L) >>> 32) & mask;
        while (true) {
            long k = slots[2 * slot];
            if (k == stored) {
                return (int) slots[2 * slot + 1];
            }
            if (k == 0) {
                slots[2 * slot] = stored;
                slots[2 * slot + 1] = size;
                if ((size + 1) * 2 > mask + 1) {
                    grow();
                }
                return size++;
            }
            slot = (slot + 1) & mask;
        }
    }

    int size() {
        return size;
    }

    private void grow() {
        long[] old = slots;
        slots = new long[old.length * 2];
        mask = (mask + 1) * 2 - 1;
        for (int at = 0; at < old.length; at += 2) {
            if (old[at] != 0) {
                int slot = (int) ((old[at] * 0x9E3779B97F4A7C15L) >>> 32) & mask;
                while (slots[2 * slot] != 0) {
                    slot = (slot + 1) & mask;
                }
                slots[2 * slot] = old[at];
                slots[2 * slot + 1] = old[at + 1];
            }
        }
    }

    static long[] ensure(long[] array, int size) {
        return size <= array.length
                ? array
                : Arrays.copyOf(array, Math.max(size, 2 * array.length));
    }

    static int[] ensure(int[] array, int size) {
        return size <= array.length
                ? array
                : Arrays.copyOf(array, Math.max(size, 2 * array.length));
    }
}
