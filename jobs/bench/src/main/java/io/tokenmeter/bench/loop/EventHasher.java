package io.tokenmeter.bench.loop;

import io.tokenmeter.logic.ingest.EventFingerprints;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The job's two event hashes ({@link EventFingerprints}) computed from byte ranges, with no
 * allocation per call:
 *
 * <ul>
 *   <li>the 128-bit dedup key, HMAC-SHA-256 under the job's secret key of the length-prefixed
 *       (source, event_id), truncated to 128 bits — HMAC written out over one reused {@link
 *       MessageDigest} (RFC 2104: the JDK's {@code Mac} allocates its digest on every {@code
 *       doFinal}); four SHA-256 blocks per event, on the CPU's SHA instructions where the JVM has
 *       them;
 *   <li>the 64-bit content hash, the first half of MurmurHash3 x64 128 (seed 0, as commons-codec's
 *       {@code hash128x64}) of the same canonical bytes the job hashes.
 * </ul>
 *
 * Both equal the job's values for the same strings ({@code EventHasherTest}). Not thread-safe.
 */
public final class EventHasher {

    private static final int BLOCK = 64;
    private static final VarHandle LONG_BE =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT_BE =
            MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle LONG_LE =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final MessageDigest sha256;

    /** The inner pad, then room for the message; the outer pad, then room for the inner digest. */
    private byte[] inner = new byte[BLOCK + 256];

    private final byte[] outer = new byte[BLOCK + 32];
    private final byte[] digest = new byte[32];
    private byte[] canonical = new byte[256];
    private long dedupHigh;
    private long dedupLow;

    /**
     * Under {@code key}, the job's dedup key (its UTF-8 bytes are the HMAC key, as in
     * EventFingerprints).
     */
    public EventHasher(String key) {
        new EventFingerprints(key); // the job's own checks of the key
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        if (k.length > BLOCK) {
            k = sha256.digest(k);
        }
        for (int i = 0; i < BLOCK; i++) {
            byte b = i < k.length ? k[i] : 0;
            inner[i] = (byte) (b ^ 0x36);
            outer[i] = (byte) (b ^ 0x5C);
        }
    }

    /**
     * Computes the dedup key of (source, event_id); read it with {@link #dedupHigh()} and {@link
     * #dedupLow()}.
     */
    public void dedupKey(
            byte[] b, int sourceOffset, int sourceLength, int eventIdOffset, int eventIdLength) {
        // The inner hash's input in one buffer behind the inner pad, the outer's behind the outer
        // pad: one update call each.
        int length = BLOCK + 8 + sourceLength + eventIdLength;
        if (inner.length < length) {
            inner = Arrays.copyOf(inner, Math.max(length, 2 * inner.length));
        }
        byte[] m = inner;
        INT_BE.set(m, BLOCK, sourceLength);
        System.arraycopy(b, sourceOffset, m, BLOCK + 4, sourceLength);
        INT_BE.set(m, BLOCK + 4 + sourceLength, eventIdLength);
        System.arraycopy(b, eventIdOffset, m, BLOCK + 8 + sourceLength, eventIdLength);
        try {
            sha256.update(m, 0, length);
            sha256.digest(outer, BLOCK, 32);
            sha256.update(outer, 0, BLOCK + 32);
            sha256.digest(digest, 0, 32);
        } catch (DigestException impossible) {
            throw new IllegalStateException(impossible);
        }
        dedupHigh = (long) LONG_BE.get(digest, 0);
        dedupLow = (long) LONG_BE.get(digest, 8);
    }

    public long dedupHigh() {
        return dedupHigh;
    }

    public long dedupLow() {
        return dedupLow;
    }

    /** EventFingerprints.contentHash of an event whose strings lie in {@code b}. */
    public long contentHash(
            byte[] b,
            int accountOffset,
            int accountLength,
            int regionOffset,
            int regionLength,
            int modelOffset,
            int modelLength,
            int modality,
            long input,
            long output,
            long cached,
            long eventTime) {
        int length = 12 + accountLength + regionLength + modelLength + 4 + 4 * 8;
        if (canonical.length < length) {
            canonical = new byte[Math.max(length, 2 * canonical.length)];
        }
        byte[] c = canonical;
        int at = 0;
        INT_BE.set(c, at, accountLength);
        System.arraycopy(b, accountOffset, c, at + 4, accountLength);
        at += 4 + accountLength;
        INT_BE.set(c, at, regionLength);
        System.arraycopy(b, regionOffset, c, at + 4, regionLength);
        at += 4 + regionLength;
        INT_BE.set(c, at, modelLength);
        System.arraycopy(b, modelOffset, c, at + 4, modelLength);
        at += 4 + modelLength;
        INT_BE.set(c, at, modality);
        LONG_BE.set(c, at + 4, input);
        LONG_BE.set(c, at + 12, output);
        LONG_BE.set(c, at + 20, cached);
        LONG_BE.set(c, at + 28, eventTime);
        return murmur3x64First(c, length);
    }

    private static final long C1 = 0x87c37b91114253d5L;
    private static final long C2 = 0x4cf5ad432745937fL;

    /** h1 of MurmurHash3_x64_128(data[0, length), seed 0). */
    static long murmur3x64First(byte[] data, int length) {
        long h1 = 0;
        long h2 = 0;
        int blocks = length >> 4;
        for (int i = 0; i < blocks; i++) {
            int index = i << 4;
            long k1 = (long) LONG_LE.get(data, index);
            long k2 = (long) LONG_LE.get(data, index + 8);
            h1 ^= mixK1(k1);
            h1 = Long.rotateLeft(h1, 27);
            h1 += h2;
            h1 = h1 * 5 + 0x52dce729;
            h2 ^= mixK2(k2);
            h2 = Long.rotateLeft(h2, 31);
            h2 += h1;
            h2 = h2 * 5 + 0x38495ab5;
        }
        int index = blocks << 4;
        long k1 = 0;
        long k2 = 0;
        switch (length - index) {
            case 15:
                k2 ^= (long) (data[index + 14] & 0xff) << 48; // fall through
            case 14:
                k2 ^= (long) (data[index + 13] & 0xff) << 40; // fall through
            case 13:
                k2 ^= (long) (data[index + 12] & 0xff) << 32; // fall through
            case 12:
                k2 ^= (long) (data[index + 11] & 0xff) << 24; // fall through
            case 11:
                k2 ^= (long) (data[index + 10] & 0xff) << 16; // fall through
            case 10:
                k2 ^= (long) (data[index + 9] & 0xff) << 8; // fall through
            case 9:
                k2 ^= data[index + 8] & 0xff;
                h2 ^= mixK2(k2);
            // fall through
            case 8:
                k1 ^= (long) (data[index + 7] & 0xff) << 56; // fall through
            case 7:
                k1 ^= (long) (data[index + 6] & 0xff) << 48; // fall through
            case 6:
                k1 ^= (long) (data[index + 5] & 0xff) << 40; // fall through
            case 5:
                k1 ^= (long) (data[index + 4] & 0xff) << 32; // fall through
            case 4:
                k1 ^= (long) (data[index + 3] & 0xff) << 24; // fall through
            case 3:
                k1 ^= (long) (data[index + 2] & 0xff) << 16; // fall through
            case 2:
                k1 ^= (long) (data[index + 1] & 0xff) << 8; // fall through
            case 1:
                k1 ^= data[index] & 0xff;
                h1 ^= mixK1(k1);
                break;
            default:
                break;
        }
        h1 ^= length;
        h2 ^= length;
        h1 += h2;
        h2 += h1;
        h1 = fmix64(h1);
        h2 = fmix64(h2);
        return h1 + h2;
    }

    private static long mixK1(long k1) {
        k1 *= C1;
        k1 = Long.rotateLeft(k1, 31);
        return k1 * C2;
    }

    private static long mixK2(long k2) {
        k2 *= C2;
        k2 = Long.rotateLeft(k2, 33);
        return k2 * C1;
    }

    private static long fmix64(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        return h ^ (h >>> 33);
    }
}
