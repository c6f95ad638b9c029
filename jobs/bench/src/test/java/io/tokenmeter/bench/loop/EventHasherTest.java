package io.tokenmeter.bench.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.logic.Usage;
import io.tokenmeter.logic.ingest.EventFingerprints;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.apache.commons.codec.digest.MurmurHash3;
import org.junit.jupiter.api.Test;

/** The loop's hashes must be the job's, bit for bit: the dedup key decides what is a retry. */
class EventHasherTest {

    private static final String[] KEYS = {
        "0123456789abcdef0123456789abcdef", // 32 characters, the shortest accepted
        "k".repeat(64), // exactly one SHA-256 block
        "x".repeat(65) + "longer than a block, so HMAC hashes it first",
        "ключ-дедупликации-с-не-ASCII-символами-0123456789" // non-ASCII: its UTF-8 bytes are the
        // key
    };

    @Test
    void dedupKeyIsTheJobsHmacForAnyStrings() {
        Random random = new Random(3);
        for (String key : KEYS) {
            EventFingerprints job = new EventFingerprints(key);
            EventHasher loop = new EventHasher(key);
            for (int i = 0; i < 2_000; i++) {
                String source = randomText(random, random.nextInt(40));
                String eventId = randomText(random, random.nextInt(300));
                byte[] s = source.getBytes(StandardCharsets.UTF_8);
                byte[] e = eventId.getBytes(StandardCharsets.UTF_8);
                // Both strings inside one buffer, as they lie in a payload.
                byte[] buffer = new byte[3 + e.length + s.length];
                System.arraycopy(e, 0, buffer, 3, e.length);
                System.arraycopy(s, 0, buffer, 3 + e.length, s.length);
                loop.dedupKey(buffer, 3 + e.length, s.length, 3, e.length);
                long[] expected = job.dedupKey(source, eventId);
                assertThat(new long[] {loop.dedupHigh(), loop.dedupLow()})
                        .as("key %s, (%s, %s)", key, source, eventId)
                        .containsExactly(expected);
            }
        }
    }

    @Test
    void refusesTheKeysTheJobRefuses() {
        assertThatThrownBy(() -> new EventHasher("too short"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void contentHashIsTheJobsForAnyEvent() {
        Random random = new Random(5);
        EventHasher loop = new EventHasher(KEYS[0]);
        for (int i = 0; i < 5_000; i++) {
            Usage event = new Usage();
            event.accountId = randomText(random, random.nextInt(40));
            event.region = randomText(random, random.nextInt(20));
            event.model = randomText(random, random.nextInt(40));
            event.modality = Modality.values()[random.nextInt(Modality.values().length)];
            event.inputTokens = random.nextLong();
            event.outputTokens = random.nextInt(1000);
            event.cachedTokens = random.nextBoolean() ? 0 : random.nextLong();
            event.eventTime = random.nextLong();
            byte[] a = event.accountId.getBytes(StandardCharsets.UTF_8);
            byte[] r = event.region.getBytes(StandardCharsets.UTF_8);
            byte[] m = event.model.getBytes(StandardCharsets.UTF_8);
            byte[] buffer = new byte[a.length + r.length + m.length];
            System.arraycopy(m, 0, buffer, 0, m.length);
            System.arraycopy(a, 0, buffer, m.length, a.length);
            System.arraycopy(r, 0, buffer, m.length + a.length, r.length);
            long hash =
                    loop.contentHash(
                            buffer,
                            m.length,
                            a.length,
                            m.length + a.length,
                            r.length,
                            0,
                            m.length,
                            event.modality.ordinal(),
                            event.inputTokens,
                            event.outputTokens,
                            event.cachedTokens,
                            event.eventTime);
            assertThat(hash).isEqualTo(EventFingerprints.contentHash(event));
        }
    }

    @Test
    void murmurIsCommonsCodecsForEveryTailLength() {
        Random random = new Random(9);
        for (int length = 0; length < 80; length++) {
            byte[] data = new byte[length + 5];
            random.nextBytes(data);
            assertThat(EventHasher.murmur3x64First(data, length))
                    .isEqualTo(MurmurHash3.hash128x64(Arrays.copyOf(data, length))[0]);
        }
    }

    /** ASCII, two- and three-byte characters and surrogate pairs. */
    static String randomText(Random random, int length) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < length; i++) {
            switch (random.nextInt(10)) {
                case 0 -> text.append((char) (0x80 + random.nextInt(0x780)));
                case 1 -> text.append((char) (0x800 + random.nextInt(0xD000 - 0x800)));
                case 2 -> text.appendCodePoint(0x10000 + random.nextInt(0x1000));
                default -> text.append((char) (0x20 + random.nextInt(0x5F)));
            }
        }
        return text.toString();
    }
}
