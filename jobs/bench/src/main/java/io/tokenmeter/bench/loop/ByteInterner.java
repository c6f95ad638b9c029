package io.tokenmeter.bench.loop;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * Interns byte strings (UTF-8 account ids, regions, models) as dense ints 0, 1, 2, ... in the order
 * first seen, without creating a String. Open addressing with linear probing; a slot is four longs
 * side by side — the hash and the id, the length, and the first 16 bytes — so a string of up to 16
 * bytes is found or refused within one cache line; longer ones are compared in full in the byte
 * arena that keeps every interned string.
 *
 * <p>The hash is seeded at random per instance, so chosen ids cannot be made to collide; the ids
 * themselves depend only on the order of first sight.
 */
public final class ByteInterner {

    private static final int STRIDE = 4;
    private static final int INLINE_BYTES = 16;
    private static final VarHandle LONG_LE =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final long seed = new SecureRandom().nextLong();
    private long[] slots;
    private int mask;
    private int size;
    private byte[] arena = new byte[1 << 16];
    private int arenaUsed;
    private long[] offsetAndLength = new long[1024];

    /** Scratch of the last hash: the first two 8-byte words, zero-padded. */
    private long word0;

    private long word1;

    public ByteInterner(int expected) {
        int capacity = Integer.highestOneBit(Math.max(16, expected * 2) - 1) << 1;
        slots = new long[capacity * STRIDE];
        mask = capacity - 1;
    }

    /** The id of {@code b[offset, offset + length)}, a new one the first time it is seen. */
    public int intern(byte[] b, int offset, int length) {
        return intern(b, offset, length, hash(b, offset, length), word0, word1);
    }

    /**
     * Hashes {@code b[offset, offset + length)} ahead of {@link #intern(byte[], int, int, int,
     * long, long)}; its first 16 bytes are then in {@link #lastWord0()} and {@link #lastWord1()}.
     */
    public int prepare(byte[] b, int offset, int length) {
        return hash(b, offset, length);
    }

    public long lastWord0() {
        return word0;
    }

    public long lastWord1() {
        return word1;
    }

    /**
     * Reads the slot a string of this hash starts probing at, so that its cache line is on its way
     * while other work goes on (what a prefetch instruction would do; Java has none).
     */
    public long touch(int hash) {
        return slots[(hash & mask) * STRIDE];
    }

    /** {@link #intern(byte[], int, int)} with the hash and first words from {@link #prepare}. */
    public int intern(byte[] b, int offset, int length, int hash, long w0, long w1) {
        long[] s = slots;
        int slot = hash & mask;
        while (true) {
            int at = slot * STRIDE;
            long head = s[at];
            if (head == 0) {
                return add(b, offset, length, hash, w0, w1, at);
            }
            if ((int) (head >>> 32) == hash
                    && s[at + 1] == length
                    && s[at + 2] == w0
                    && s[at + 3] == w1) {
                int id = (int) head - 1;
                if (length <= INLINE_BYTES || sameTail(id, b, offset, length)) {
                    return id;
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    private boolean sameTail(int id, byte[] b, int offset, int length) {
        int stored = (int) (offsetAndLength[id] >>> 32);
        return Arrays.equals(
                arena,
                stored + INLINE_BYTES,
                stored + length,
                b,
                offset + INLINE_BYTES,
                offset + length);
    }

    private int add(byte[] b, int offset, int length, int hash, long w0, long w1, int at) {
        int id = size++;
        slots[at] = ((long) hash << 32) | (id + 1L);
        slots[at + 1] = length;
        slots[at + 2] = w0;
        slots[at + 3] = w1;
        if (arenaUsed + length > arena.length) {
            arena = Arrays.copyOf(arena, Math.max(arena.length * 2, arenaUsed + length));
        }
        System.arraycopy(b, offset, arena, arenaUsed, length);
        if (id == offsetAndLength.length) {
            offsetAndLength = Arrays.copyOf(offsetAndLength, 2 * id);
        }
        offsetAndLength[id] = ((long) arenaUsed << 32) | length;
        arenaUsed += length;
        if (size * 2 > mask + 1) {
            grow();
        }
        return id;
    }

    private void grow() {
        long[] old = slots;
        slots = new long[old.length * 2];
        mask = (mask + 1) * 2 - 1;
        for (int at = 0; at < old.length; at += STRIDE) {
            if (old[at] != 0) {
                int slot = (int) (old[at] >>> 32) & mask;
                while (slots[slot * STRIDE] != 0) {
                    slot = (slot + 1) & mask;
                }
                System.arraycopy(old, at, slots, slot * STRIDE, STRIDE);
            }
        }
    }

    /** Hashes the bytes and leaves their first 16 (zero-padded) in word0 and word1. */
    private int hash(byte[] b, int offset, int length) {
        long h = seed ^ length;
        int i = 0;
        long w0 = 0;
        long w1 = 0;
        for (; i + 8 <= length; i += 8) {
            long word = (long) LONG_LE.get(b, offset + i);
            if (i == 0) {
                w0 = word;
            } else if (i == 8) {
                w1 = word;
            }
            h = Long.rotateLeft((h ^ word) * 0x9E3779B97F4A7C15L, 29);
        }
        int rest = length - i;
        if (rest > 0) {
            long word;
            if (offset + i + 8 <= b.length) {
                // One read of the next 8 bytes, those past the string masked off: it lies in a
                // larger buffer.
                word = (long) LONG_LE.get(b, offset + i) & (-1L >>> (64 - 8 * rest));
            } else {
                word = 0;
                for (int j = length - 1; j >= i; j--) {
                    word = (word << 8) | (b[offset + j] & 0xFF);
                }
            }
            if (i == 0) {
                w0 = word;
            } else if (i == 8) {
                w1 = word;
            }
            h = Long.rotateLeft((h ^ word) * 0x9E3779B97F4A7C15L, 29);
        }
        word0 = w0;
        word1 = w1;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return (int) h;
    }

    /** Strings interned so far; their ids are 0 to size - 1. */
    public int size() {
        return size;
    }

    /** The string of {@code id} (for tests and reports; allocates). */
    public String string(int id) {
        long ol = offsetAndLength[id];
        return new String(arena, (int) (ol >>> 32), (int) ol, StandardCharsets.UTF_8);
    }
}
