package io.tokenmeter.bench.loop;

import java.util.Arrays;

/**
 * The dedup ids within the horizon: 128-bit keys with their 64-bit content hash and the event time
 * (an hour bucket) at which they are forgotten, in one open-addressing table with linear probing. A
 * slot is four longs side by side — key high, key low, content hash, expiry — so a probe touches
 * one cache line, and no object exists per id.
 *
 * <p>Expiry works as the metering job's and the old loop's: {@link #expireUpTo} (called as the
 * watermark passes an hour) forgets every id whose bucket is at or before the watermark. Forgetting
 * is lazy: a forgotten id stays in its slot, is treated as absent by lookups and is overwritten by
 * the next id that probes past it; when forgotten and live ids together fill the table, one sweep
 * removes the forgotten ones (backward-shift deletion, no tombstones), and the table grows only if
 * the live ids alone need it. {@link #liveIds()} counts exactly the ids not yet forgotten, from the
 * count per expiry bucket.
 *
 * <p>The all-zero key (an HMAC output of 2^-128 odds) marks an empty slot, so it is kept beside the
 * table.
 */
public final class DedupTable {

    /** What {@link #putIfAbsent} found. */
    public static final int ADDED = 0;

    public static final int SAME_CONTENT = 1;
    public static final int OTHER_CONTENT = 2;

    private static final int STRIDE = 4;
    private static final double MAX_FILL = 0.75;
    private static final double MAX_LIVE_AFTER_SWEEP = 0.5;

    private long[] slots;
    private int mask;

    /** Slots holding an id, forgotten or not. */
    private int occupied;

    private int fillLimit;

    /** Ids whose expiry bucket is at or before this are forgotten. */
    private long forgottenUpTo = Long.MIN_VALUE;

    private boolean hasZeroKey;
    private long zeroContent;
    private long zeroExpiry;

    /** Live ids per expiry bucket, buckets ascending. */
    private long[] bucketStarts = new long[64];

    private long[] bucketCounts = new long[64];
    private int buckets;
    private int lastBucket;
    private long liveIds;
    private long sweeps;

    /**
     * @param expectedIds live ids to hold without growing
     */
    public DedupTable(int expectedIds) {
        int capacity =
                Integer.highestOneBit(
                                Math.max(
                                                16,
                                                (int)
                                                        Math.min(
                                                                1 << 29,
                                                                (long)
                                                                        (expectedIds
                                                                                / MAX_LIVE_AFTER_SWEEP)))
                                        - 1)
                        << 1;
        allocate(capacity);
    }

    private void allocate(int capacity) {
        slots = new long[capacity * STRIDE];
        mask = capacity - 1;
        fillLimit = (int) (capacity * MAX_FILL);
        occupied = 0;
    }

    /**
     * Adds the id unless it is live; an id already there keeps its content hash and expiry.
     *
     * @return {@link #ADDED}, or {@link #SAME_CONTENT} / {@link #OTHER_CONTENT} for a live id with
     *     equal / different content hash
     */
    public int putIfAbsent(long high, long low, long content, long expiry) {
        if (high == 0 && low == 0) {
            if (hasZeroKey && zeroExpiry > forgottenUpTo) {
                return zeroContent == content ? SAME_CONTENT : OTHER_CONTENT;
            }
            hasZeroKey = true;
            zeroContent = content;
            zeroExpiry = expiry;
            countLive(expiry);
            return ADDED;
        }
        long[] s = slots;
        int slot = home(high, low);
        int reusable = -1;
        while (true) {
            int at = slot * STRIDE;
            long h = s[at];
            long l = s[at + 1];
            if (h == 0 && l == 0) {
                break;
            }
            boolean forgotten = s[at + 3] <= forgottenUpTo;
            if (h == high && l == low) {
                if (!forgotten) {
                    return s[at + 2] == content ? SAME_CONTENT : OTHER_CONTENT;
                }
                reusable = slot; // the same id, forgotten: it comes back as new
                break;
            }
            if (forgotten && reusable < 0) {
                reusable = slot;
            }
            slot = (slot + 1) & mask;
        }
        if (reusable >= 0) {
            // Further along the probe sequence this id may not be (a live id is found before any
            // empty slot), so the first forgotten slot on the way can hold it.
            write(reusable * STRIDE, high, low, content, expiry);
        } else {
            write(slot * STRIDE, high, low, content, expiry);
            if (++occupied > fillLimit) {
                makeRoom();
            }
        }
        countLive(expiry);
        return ADDED;
    }

    /**
     * Reads the slot this id starts probing at, so that its cache line is on its way (see
     * ByteInterner.touch).
     */
    public long touch(long high, long low) {
        return slots[home(high, low) * STRIDE];
    }

    private void write(int at, long high, long low, long content, long expiry) {
        slots[at] = high;
        slots[at + 1] = low;
        slots[at + 2] = content;
        slots[at + 3] = expiry;
    }

    private int home(long high, long low) {
        return (int) (((high ^ low) * 0x9E3779B97F4A7C15L) >>> 32) & mask;
    }

    /** Forgets every id whose expiry bucket is at or before {@code watermark}. */
    public void expireUpTo(long watermark) {
        if (watermark <= forgottenUpTo) {
            return;
        }
        forgottenUpTo = watermark;
        int dropped = 0;
        while (dropped < buckets && bucketStarts[dropped] <= watermark) {
            liveIds -= bucketCounts[dropped];
            dropped++;
        }
        if (dropped > 0) {
            System.arraycopy(bucketStarts, dropped, bucketStarts, 0, buckets - dropped);
            System.arraycopy(bucketCounts, dropped, bucketCounts, 0, buckets - dropped);
            buckets -= dropped;
            lastBucket = 0;
        }
        if (hasZeroKey && zeroExpiry <= forgottenUpTo) {
            hasZeroKey = false;
        }
    }

    private void countLive(long expiry) {
        liveIds++;
        if (lastBucket < buckets && bucketStarts[lastBucket] == expiry) {
            bucketCounts[lastBucket]++;
            return;
        }
        int i = Arrays.binarySearch(bucketStarts, 0, buckets, expiry);
        if (i < 0) {
            i = -i - 1;
            if (buckets == bucketStarts.length) {
                bucketStarts = Arrays.copyOf(bucketStarts, 2 * buckets);
                bucketCounts = Arrays.copyOf(bucketCounts, 2 * buckets);
            }
            System.arraycopy(bucketStarts, i, bucketStarts, i + 1, buckets - i);
            System.arraycopy(bucketCounts, i, bucketCounts, i + 1, buckets - i);
            bucketStarts[i] = expiry;
            bucketCounts[i] = 0;
            buckets++;
        }
        bucketCounts[i]++;
        lastBucket = i;
    }

    /** Sweeps the forgotten ids out; grows if the live ones alone fill more than half the table. */
    private void makeRoom() {
        sweep();
        int capacity = mask + 1;
        if (occupied > capacity * MAX_LIVE_AFTER_SWEEP) {
            long[] old = slots;
            allocate(capacity * 2);
            for (int at = 0; at < old.length; at += STRIDE) {
                if (old[at] != 0 || old[at + 1] != 0) {
                    int slot = home(old[at], old[at + 1]);
                    while (slots[slot * STRIDE] != 0 || slots[slot * STRIDE + 1] != 0) {
                        slot = (slot + 1) & mask;
                    }
                    System.arraycopy(old, at, slots, slot * STRIDE, STRIDE);
                    occupied++;
                }
            }
        }
    }

    /** Removes every forgotten id, moving later ids of each probe run back into the holes. */
    void sweep() {
        sweeps++;
        long[] s = slots;
        for (int slot = 0; slot <= mask; slot++) {
            int at = slot * STRIDE;
            // A removal may move another id into this slot: look at it again.
            while ((s[at] != 0 || s[at + 1] != 0) && s[at + 3] <= forgottenUpTo) {
                removeAt(slot);
            }
        }
    }

    private void removeAt(int hole) {
        long[] s = slots;
        int next = hole;
        while (true) {
            next = (next + 1) & mask;
            int at = next * STRIDE;
            if (s[at] == 0 && s[at + 1] == 0) {
                break;
            }
            int home = home(s[at], s[at + 1]);
            // The id at next may fill the hole unless its home lies cyclically in (hole, next].
            if (((next - home) & mask) >= ((next - hole) & mask)) {
                System.arraycopy(s, at, s, hole * STRIDE, STRIDE);
                hole = next;
            }
        }
        Arrays.fill(s, hole * STRIDE, hole * STRIDE + STRIDE, 0L);
        occupied--;
    }

    /** Ids not yet forgotten. */
    public long liveIds() {
        return liveIds;
    }

    /** Slots in the table (for tests and the report). */
    public int capacity() {
        return mask + 1;
    }

    /** Times the forgotten ids were swept out. */
    public long sweeps() {
        return sweeps;
    }
}
