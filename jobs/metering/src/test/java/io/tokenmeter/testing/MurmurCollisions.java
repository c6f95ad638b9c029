package io.tokenmeter.testing;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.commons.codec.digest.MurmurHash3;

/**
 * Builds two printable event ids of one source whose MurmurHash3_x64_128 (seed 0) dedup keys are
 * equal, by the block-wise inversion of Aumasson and Bernstein ("Hash-flooding DoS reloaded",
 * 2012): every 16-byte block step of Murmur3 is a bijection of its 128-bit state for a fixed block,
 * and solvable for the block given the states before and after it. Two ids {@code x1 + y1} and
 * {@code x2 + y2}: after {@code x1} and {@code x2} the states differ; {@code y2} is solved so that
 * it leads from the second state to where {@code y1} leads the first. A solution is printable with
 * probability (95/256)^16, so a deterministic scan over {@code x2} needs some 10^7 tries.
 *
 * <p>The message is the one the old key hashed: {@code int len(source), source, int len(id), id}
 * (big-endian lengths). The source must leave the id's first block ({@code x}) at 16 − (source
 * length + 8) mod 16 bytes.
 */
public final class MurmurCollisions {

    private static final long C1 = 0x87c37b91114253d5L;
    private static final long C2 = 0x4cf5ad432745937fL;
    private static final long INV_C1 = inverse(C1);
    private static final long INV_C2 = inverse(C2);
    private static final long INV_5 = inverse(5);
    private static final char FIRST = ' ';
    private static final char LAST = '~';

    private MurmurCollisions() {}

    /**
     * The dedup key the job used before it was keyed: MurmurHash3_x64_128, seed 0, of the message
     * above.
     */
    public static long[] unkeyedMurmurKey(String source, String eventId) {
        byte[] s = source.getBytes(StandardCharsets.UTF_8);
        byte[] e = eventId.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.allocate(8 + s.length + e.length);
        buffer.putInt(s.length).put(s).putInt(e.length).put(e);
        return MurmurHash3.hash128x64(buffer.array());
    }

    /**
     * A pair {@link #printablePair} found for source "gateway-a" (in about a second on one core):
     * the harness tests take it from here rather than search again.
     */
    public static final String[] GATEWAY_A_PAIR = {
        "aaaaaaaaaaaaaaabbbbbbbbbbbbbbbb", "1(j6           ?Qub`Dy%Da)pbMp?"
    };

    private static final Map<String, String[]> PAIRS = new ConcurrentHashMap<>();

    /**
     * Two distinct printable ASCII ids with equal old dedup keys for {@code source}; the same ones
     * every time.
     */
    public static String[] printablePair(String source) {
        return PAIRS.computeIfAbsent(source, MurmurCollisions::search).clone();
    }

    private static String[] search(String source) {
        byte[] s = source.getBytes(StandardCharsets.UTF_8);
        int prefix = 8 + s.length;
        int xLength = (16 - prefix % 16) % 16;
        if (xLength == 0) {
            xLength = 16;
        }
        int idLength = xLength + 16;
        byte[] x1 = new byte[xLength];
        byte[] y1 = new byte[16];
        Arrays.fill(x1, (byte) 'a');
        Arrays.fill(y1, (byte) 'b');
        long[] target = state(s, idLength, x1, y1);
        byte[] x2 = new byte[xLength];
        Arrays.fill(x2, (byte) 'c');
        byte[] y2 = new byte[16];
        for (long attempt = 0; ; attempt++) {
            spell(attempt, x2);
            long[] before = state(s, idLength, x2, null);
            solve(before, target, y2);
            if (printable(y2)) {
                return new String[] {
                    new String(x1, StandardCharsets.US_ASCII)
                            + new String(y1, StandardCharsets.US_ASCII),
                    new String(x2, StandardCharsets.US_ASCII)
                            + new String(y2, StandardCharsets.US_ASCII)
                };
            }
        }
    }

    /**
     * The Murmur3 state after the blocks of the message up to the end of {@code x} (and {@code y},
     * if given).
     */
    private static long[] state(byte[] source, int idLength, byte[] x, byte[] y) {
        ByteBuffer message =
                ByteBuffer.allocate(8 + source.length + x.length + (y == null ? 0 : 16));
        message.putInt(source.length).put(source).putInt(idLength).put(x);
        if (y != null) {
            message.put(y);
        }
        ByteBuffer blocks = ByteBuffer.wrap(message.array()).order(ByteOrder.LITTLE_ENDIAN);
        long h1 = 0;
        long h2 = 0;
        for (int at = 0; at + 16 <= message.capacity(); at += 16) {
            long k1 = blocks.getLong(at);
            long k2 = blocks.getLong(at + 8);
            h1 ^= Long.rotateLeft(k1 * C1, 31) * C2;
            h1 = Long.rotateLeft(h1, 27) + h2;
            h1 = h1 * 5 + 0x52dce729;
            h2 ^= Long.rotateLeft(k2 * C2, 33) * C1;
            h2 = Long.rotateLeft(h2, 31) + h1;
            h2 = h2 * 5 + 0x38495ab5;
        }
        return new long[] {h1, h2};
    }

    /**
     * The block that takes the state {@code from} to {@code to}, into {@code block} (little-endian
     * k1, k2).
     */
    private static void solve(long[] from, long[] to, byte[] block) {
        long mixed1 = from[0] ^ Long.rotateRight((to[0] - 0x52dce729) * INV_5 - from[1], 27);
        long mixed2 = from[1] ^ Long.rotateRight((to[1] - 0x38495ab5) * INV_5 - to[0], 31);
        long k1 = Long.rotateRight(mixed1 * INV_C2, 31) * INV_C1;
        long k2 = Long.rotateRight(mixed2 * INV_C1, 33) * INV_C2;
        ByteBuffer.wrap(block).order(ByteOrder.LITTLE_ENDIAN).putLong(k1).putLong(k2);
    }

    /** Writes {@code n} into {@code x} in base 95 over the printable characters. */
    private static void spell(long n, byte[] x) {
        for (int i = 0; i < x.length; i++) {
            x[i] = (byte) (FIRST + n % (LAST - FIRST + 1));
            n /= LAST - FIRST + 1;
        }
    }

    private static boolean printable(byte[] bytes) {
        for (byte b : bytes) {
            if (b < FIRST || b > LAST) {
                return false;
            }
        }
        return true;
    }

    /** The multiplicative inverse of an odd number modulo 2^64 (Newton's iteration). */
    private static long inverse(long odd) {
        long x = odd;
        for (int i = 0; i < 5; i++) {
            x *= 2 - odd * x;
        }
        return x;
    }
}
