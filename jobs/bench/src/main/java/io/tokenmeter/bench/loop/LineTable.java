package io.tokenmeter.bench.loop;

import java.util.Arrays;

/**
 * The usage lines of one open window (an hour or a billing day): a line's key (account id and
 * product id, two ints in one long) to its input, output and cached tokens and its event count.
 * Open addressing with linear probing; a slot is the five longs side by side (key + 1, so that 0
 * marks an empty slot), so adding an event touches one or two cache lines and creates nothing. Sums
 * are exact: past Long.MAX_VALUE they throw, like the job's {@code UsageTotals}.
 */
public final class LineTable {

    static final int STRIDE = 5;
    private static final int FOLD_GROUP = 16;

    private long[] slots;
    private int mask;
    private int size;

    /** The slots read ahead, summed so that the reads cannot be optimised away. */
    private long prefetched;

    public LineTable(int expectedLines) {
        int capacity = Integer.highestOneBit(Math.max(16, expectedLines * 2) - 1) << 1;
        slots = new long[capacity * STRIDE];
        mask = capacity - 1;
    }

    /** The key of a line. */
    public static long key(int account, int product) {
        return ((long) account << 32) | (product & 0xFFFFFFFFL);
    }

    /** Adds one event's tokens to its line. */
    public void add(long key, long input, long output, long cached) {
        addSums(key + 1, input, output, cached, 1);
    }

    /**
     * Reads the slot this line's lookup starts at, so that its cache line is on its way (see
     * ByteInterner.touch).
     */
    public long touch(long key) {
        return slots[home(key + 1) * STRIDE];
    }

    /**
     * Adds every line of {@code other} to this table's lines, in groups: the first slots of a
     * group's lookups are read together before the group is added, so that their cache misses
     * overlap.
     */
    public void addAll(LineTable other) {
        long[] o = other.slots;
        int[] group = new int[FOLD_GROUP];
        long touched = 0;
        int at = 0;
        while (at < o.length) {
            int n = 0;
            for (; at < o.length && n < FOLD_GROUP; at += STRIDE) {
                if (o[at] != 0) {
                    group[n++] = at;
                }
            }
            for (int i = 0; i < n; i++) {
                touched += slots[home(o[group[i]]) * STRIDE];
            }
            for (int i = 0; i < n; i++) {
                int from = group[i];
                addSums(o[from], o[from + 1], o[from + 2], o[from + 3], o[from + 4]);
            }
        }
        prefetched += touched;
    }

    private void addSums(long stored, long input, long output, long cached, long events) {
        long[] s = slots;
        int slot = home(stored);
        while (true) {
            int at = slot * STRIDE;
            long k = s[at];
            if (k == stored) {
                s[at + 1] = Math.addExact(s[at + 1], input);
                s[at + 2] = Math.addExact(s[at + 2], output);
                s[at + 3] = Math.addExact(s[at + 3], cached);
                s[at + 4] = Math.addExact(s[at + 4], events);
                return;
            }
            if (k == 0) {
                s[at] = stored;
                s[at + 1] = input;
                s[at + 2] = output;
                s[at + 3] = cached;
                s[at + 4] = events;
                if (++size * 2 > mask + 1) {
                    grow();
                }
                return;
            }
            slot = (slot + 1) & mask;
        }
    }

    private int home(long stored) {
        return (int) ((stored * 0x9E3779B97F4A7C15L) >>> 32) & mask;
    }

    private void grow() {
        long[] old = slots;
        slots = new long[old.length * 2];
        mask = (mask + 1) * 2 - 1;
        for (int at = 0; at < old.length; at += STRIDE) {
            if (old[at] != 0) {
                int slot = home(old[at]);
                while (slots[slot * STRIDE] != 0) {
                    slot = (slot + 1) & mask;
                }
                System.arraycopy(old, at, slots, slot * STRIDE, STRIDE);
            }
        }
    }

    long prefetchChecksum() {
        return prefetched;
    }

    /** Lines held. */
    public int size() {
        return size;
    }

    /** Empties the table, keeping its capacity for the next window. */
    public void clear() {
        if (size > 0) {
            Arrays.fill(slots, 0L);
            size = 0;
        }
    }

    /** Calls {@code visitor} once per line, in no particular order. */
    public void forEach(LineVisitor visitor) {
        long[] s = slots;
        for (int at = 0; at < s.length; at += STRIDE) {
            long k = s[at];
            if (k != 0) {
                long key = k - 1;
                visitor.line(
                        (int) (key >>> 32), (int) key, s[at + 1], s[at + 2], s[at + 3], s[at + 4]);
            }
        }
    }

    /** One line of a window. */
    @FunctionalInterface
    public interface LineVisitor {
        void line(int account, int product, long input, long output, long cached, long events);
    }
}
