package io.tokenmeter.logic.ingest;

import io.tokenmeter.logic.Usage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;
import org.apache.commons.codec.digest.MurmurHash3;

/**
 * Compact identities of usage events for deduplication.
 *
 * <p>The dedup key of (source, event_id) is HMAC-SHA-256 under a secret key, truncated to 128 bits:
 * 16 bytes of state key per id however long the ids are. Keyed and collision-resistant because
 * clients may choose event ids (a gateway passing request ids through): with an unkeyed or
 * invertible hash such as MurmurHash3 they can make two of their events share a key, and the second
 * is dropped as a retry or rejected as conflicting — free usage. Without the key nobody can compute
 * a dedup key, so two ids with one key can only be found by sending events through the job itself,
 * some 2^64 of them (the birthday bound of 128 bits); random ids collide with odds of about 10^-17
 * a day at 10^11 ids a day. The key is loaded where the keys are computed (docs/semantics.md,
 * "Dedup keys, row ids and secrets").
 *
 * <p>An instance holds a {@link Mac}, which is not thread-safe: one instance per thread (per
 * function instance).
 *
 * <p>The content hash (64 bits, unkeyed) only tells a retry (same content) from a conflicting reuse
 * of an id (different content) among events that already share an id; a collision there makes a
 * conflicting reuse look like a retry, which drops the same event that a conflict would reject
 * unbilled.
 */
public final class EventFingerprints {

    /**
     * HMAC's algorithm, and the shortest key accepted: 32 characters, e.g. 128 bits as hex digits.
     */
    public static final String ALGORITHM = "HmacSHA256";

    public static final int MIN_KEY_CHARACTERS = 32;

    private static final byte[] CHECK_MESSAGE =
            "tokenmeter dedup key check".getBytes(StandardCharsets.US_ASCII);

    private final Mac mac;
    private final byte[] digest = new byte[32];
    private final byte[] length = new byte[4];
    private final String keyCheck;

    /**
     * Fingerprints under {@code key}, at least {@link #MIN_KEY_CHARACTERS} characters (its UTF-8
     * bytes are the key).
     */
    public EventFingerprints(String key) {
        if (key.length() < MIN_KEY_CHARACTERS) {
            throw new IllegalArgumentException(
                    "a dedup key needs at least " + MIN_KEY_CHARACTERS + " characters");
        }
        try {
            mac = Mac.getInstance(ALGORITHM);
            mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), ALGORITHM));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("this JVM has no usable " + ALGORITHM, e);
        }
        keyCheck = HexFormat.of().formatHex(mac.doFinal(CHECK_MESSAGE), 0, 4);
    }

    /**
     * Fingerprints under the key {@code source} holds; fails naming the setting when there is none.
     */
    public static EventFingerprints load(SecretSource source) {
        return new EventFingerprints(source.require(MIN_KEY_CHARACTERS, "dedup key"));
    }

    /**
     * A short public check value of the key (the first 4 bytes of its MAC of a fixed text): equal
     * on every TaskManager when they hold the same key, and it changes when the key does. It tells
     * nothing about the key.
     */
    public String keyCheck() {
        return keyCheck;
    }

    /** The two halves of the 128-bit dedup key of (source, event_id). */
    public long[] dedupKey(String source, String eventId) {
        byte[] s = source.getBytes(StandardCharsets.UTF_8);
        byte[] e = eventId.getBytes(StandardCharsets.UTF_8);
        // Length-prefixed so that ("ab", "c") and ("a", "bc") differ.
        mac.update(bigEndian(s.length));
        mac.update(s);
        mac.update(bigEndian(e.length));
        mac.update(e);
        try {
            mac.doFinal(digest, 0);
        } catch (ShortBufferException impossible) {
            throw new IllegalStateException(impossible);
        }
        ByteBuffer key = ByteBuffer.wrap(digest);
        return new long[] {key.getLong(0), key.getLong(8)};
    }

    private byte[] bigEndian(int value) {
        length[0] = (byte) (value >>> 24);
        length[1] = (byte) (value >>> 16);
        length[2] = (byte) (value >>> 8);
        length[3] = (byte) value;
        return length;
    }

    /** A 64-bit hash of everything billing depends on, so that equal content gives equal hashes. */
    public static long contentHash(Usage event) {
        byte[] account = event.accountId.getBytes(StandardCharsets.UTF_8);
        byte[] region = event.region.getBytes(StandardCharsets.UTF_8);
        byte[] model = event.model.getBytes(StandardCharsets.UTF_8);
        // Strings length-prefixed, so that no choice of characters makes two different events
        // equal.
        ByteBuffer canonical =
                ByteBuffer.allocate(12 + account.length + region.length + model.length + 4 + 4 * 8)
                        .putInt(account.length)
                        .put(account)
                        .putInt(region.length)
                        .put(region)
                        .putInt(model.length)
                        .put(model)
                        .putInt(event.modality.ordinal())
                        .putLong(event.inputTokens)
                        .putLong(event.outputTokens)
                        .putLong(event.cachedTokens)
                        .putLong(event.eventTime);
        return MurmurHash3.hash128x64(canonical.array())[0];
    }
}
