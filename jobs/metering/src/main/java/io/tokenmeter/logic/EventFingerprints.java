package io.tokenmeter.logic;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.commons.codec.digest.MurmurHash3;

/**
 * Compact identities of usage events for deduplication.
 *
 * <p>The dedup key is a 128-bit MurmurHash3 of (source, event_id): 16 bytes of state key per id however long the
 * ids are, and at 10^11 ids a day the chance that two distinct ids collide within a day is about 10^-17. The
 * content hash (64 bits) tells a retry (same content) from a conflicting reuse of an id (different content).
 */
public final class EventFingerprints {

    private EventFingerprints() {}

    /** The two halves of the 128-bit dedup key of (source, event_id). */
    public static long[] dedupKey(String source, String eventId) {
        byte[] s = source.getBytes(StandardCharsets.UTF_8);
        byte[] e = eventId.getBytes(StandardCharsets.UTF_8);
        // Length-prefixed so that ("ab", "c") and ("a", "bc") differ.
        ByteBuffer buffer = ByteBuffer.allocate(8 + s.length + e.length);
        buffer.putInt(s.length).put(s).putInt(e.length).put(e);
        return MurmurHash3.hash128x64(buffer.array());
    }

    /** A 64-bit hash of everything billing depends on, so that equal content gives equal hashes. */
    public static long contentHash(Usage event) {
        byte[] account = event.accountId.getBytes(StandardCharsets.UTF_8);
        byte[] region = event.region.getBytes(StandardCharsets.UTF_8);
        byte[] model = event.model.getBytes(StandardCharsets.UTF_8);
        // Strings length-prefixed, so that no choice of characters makes two different events equal.
        ByteBuffer canonical = ByteBuffer.allocate(12 + account.length + region.length + model.length + 4 + 4 * 8)
                .putInt(account.length).put(account)
                .putInt(region.length).put(region)
                .putInt(model.length).put(model)
                .putInt(event.modality.ordinal())
                .putLong(event.inputTokens)
                .putLong(event.outputTokens)
                .putLong(event.cachedTokens)
                .putLong(event.eventTime);
        return MurmurHash3.hash128x64(canonical.array())[0];
    }
}
