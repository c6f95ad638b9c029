package io.tokenmeter.logic.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.logic.Usage;
import io.tokenmeter.testing.Fixtures;
import io.tokenmeter.testing.MurmurCollisions;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;
import java.util.function.Consumer;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

class EventFingerprintsTest {

    private static final String KEY = "0123456789abcdef0123456789abcdef";
    private static final EventFingerprints FINGERPRINTS = new EventFingerprints(KEY);

    @Test
    void dedupKeyIsDeterministicAnd128Bits() {
        long[] key = dedupKey("gateway-a", "evt-1");

        assertThat(key).hasSize(2);
        assertThat(dedupKey("gateway-a", "evt-1")).isEqualTo(key);
        assertThat(dedupKey(new String("gateway-a"), new String("evt-1"))).isEqualTo(key);
        assertThat(new EventFingerprints(new String(KEY)).dedupKey("gateway-a", "evt-1"))
                .isEqualTo(key);
    }

    @Test
    void dedupKeyTellsSplitPointOfSourceAndIdApart() {
        assertThat(dedupKey("ab", "c")).isNotEqualTo(dedupKey("a", "bc"));
        assertThat(dedupKey("", "abc")).isNotEqualTo(dedupKey("abc", ""));
    }

    @Test
    void dedupKeyDiffersPerSourceAndPerEventId() {
        long[] key = dedupKey("gateway-a", "evt-1");

        assertThat(dedupKey("gateway-b", "evt-1")).isNotEqualTo(key);
        assertThat(dedupKey("gateway-a", "evt-2")).isNotEqualTo(key);
        assertThat(dedupKey("evt-1", "gateway-a")).isNotEqualTo(key);
    }

    @Test
    void dedupKeyHandlesNonAsciiIds() {
        assertThat(dedupKey("网关", "事件-1"))
                .isEqualTo(dedupKey("网关", "事件-1"))
                .isNotEqualTo(dedupKey("网关", "事件-2"));
    }

    /**
     * The unkeyed MurmurHash3 key let a client that chooses its event ids make two of its events
     * share one dedup key in about a second; the keyed key tells them apart.
     */
    @Test
    void dedupKeySeparatesIdsChosenToCollideUnderMurmurHash3() {
        String[] ids = MurmurCollisions.printablePair("gateway-a");

        assertThat(ids).containsExactly(MurmurCollisions.GATEWAY_A_PAIR);
        assertThat(ids[0]).isNotEqualTo(ids[1]).matches("[ -~]+");
        assertThat(ids[1]).matches("[ -~]+");
        assertThat(MurmurCollisions.unkeyedMurmurKey("gateway-a", ids[0]))
                .isEqualTo(MurmurCollisions.unkeyedMurmurKey("gateway-a", ids[1]));
        assertThat(dedupKey("gateway-a", ids[0])).isNotEqualTo(dedupKey("gateway-a", ids[1]));
    }

    @Test
    void dedupKeyDependsOnTheSecretKey() {
        EventFingerprints other = new EventFingerprints("fedcba9876543210fedcba9876543210");

        assertThat(other.dedupKey("gateway-a", "evt-1"))
                .isNotEqualTo(dedupKey("gateway-a", "evt-1"));
        assertThat(other.keyCheck())
                .isNotEqualTo(FINGERPRINTS.keyCheck())
                .hasSize(8)
                .doesNotContain(KEY);
    }

    /**
     * HMAC-SHA-256 of the length-prefixed (source, event_id), first 16 bytes: anyone holding the
     * key can recompute it.
     */
    @Test
    void dedupKeyIsTruncatedHmacSha256() throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(KEY.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        byte[] digest = mac.doFinal(new byte[] {0, 0, 0, 1, 's', 0, 0, 0, 2, 'i', 'd'});
        ByteBuffer expected = ByteBuffer.wrap(digest);

        assertThat(dedupKey("s", "id")).containsExactly(expected.getLong(0), expected.getLong(8));
    }

    @Test
    void refusesShortKeys() {
        Assertions.assertThatThrownBy(() -> new EventFingerprints("too-short"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("32 characters")
                .hasMessageNotContaining("too-short");
    }

    /**
     * Not a benchmark: a rough cost per key on this machine, printed so docs/semantics.md can quote
     * it.
     */
    @Test
    void dedupKeyCostsAboutAMicrosecond() {
        String[] ids = new String[1024];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = "req-" + UUID.nameUUIDFromBytes(new byte[] {(byte) i, (byte) (i >> 8)});
        }
        long sink = 0;
        int rounds = 500;
        for (int warm = 0; warm < 3; warm++) {
            long started = System.nanoTime();
            for (int r = 0; r < rounds; r++) {
                for (String id : ids) {
                    sink += dedupKey("gateway-cn-gd-01", id)[0];
                }
            }
            double nanosPerKey = (System.nanoTime() - started) / (double) (rounds * ids.length);
            long murmurStarted = System.nanoTime();
            for (int r = 0; r < rounds; r++) {
                for (String id : ids) {
                    sink += MurmurCollisions.unkeyedMurmurKey("gateway-cn-gd-01", id)[0];
                }
            }
            double murmurNanos =
                    (System.nanoTime() - murmurStarted) / (double) (rounds * ids.length);
            System.out.printf(
                    "dedup key: HMAC-SHA-256 %.0f ns, unkeyed MurmurHash3 %.0f ns per key (round %d, %d)%n",
                    nanosPerKey, murmurNanos, warm, sink & 1);
            // Far above what the job's 10-100 µs per event could notice only if something is badly
            // wrong.
            assertThat(nanosPerKey).isLessThan(20_000);
        }
    }

    private static long[] dedupKey(String source, String eventId) {
        return FINGERPRINTS.dedupKey(source, eventId);
    }

    @Test
    void contentHashIsDeterministic() {
        assertThat(hash(event(e -> {}))).isEqualTo(hash(event(e -> {})));
    }

    @Test
    void contentHashIgnoresEventIdAndSource() {
        long hash = hash(event(e -> {}));

        assertThat(hash(event(e -> e.setEventId("evt-other")))).isEqualTo(hash);
        assertThat(hash(event(e -> e.setSource("gateway-other")))).isEqualTo(hash);
    }

    @Test
    void contentHashChangesWithEachBilledField() {
        long hash = hash(event(e -> {}));

        assertThat(hash(event(e -> e.setAccountId("acct-2")))).isNotEqualTo(hash);
        assertThat(hash(event(e -> e.setRegion("CN-BJ")))).isNotEqualTo(hash);
        assertThat(hash(event(e -> e.setModel("qwen-plus")))).isNotEqualTo(hash);
        assertThat(hash(event(e -> e.setModality(Modality.CODE)))).isNotEqualTo(hash);
        assertThat(hash(event(e -> e.setInputTokens(11)))).isNotEqualTo(hash);
        assertThat(hash(event(e -> e.setOutputTokens(21)))).isNotEqualTo(hash);
        assertThat(hash(event(e -> e.setCachedTokens(31)))).isNotEqualTo(hash);
        assertThat(hash(event(e -> e.setEventTime(Instant.parse("2026-03-10T01:00:00.001Z")))))
                .isNotEqualTo(hash);
    }

    /**
     * Moving tokens from one count to another changes what is billed, so it must change the hash.
     */
    @Test
    void contentHashTellsWhichCountTheTokensAreIn() {
        long inputHeavy =
                hash(
                        event(
                                e -> {
                                    e.setInputTokens(1);
                                    e.setOutputTokens(23);
                                }));
        long outputHeavy =
                hash(
                        event(
                                e -> {
                                    e.setInputTokens(12);
                                    e.setOutputTokens(3);
                                }));

        assertThat(inputHeavy).isNotEqualTo(outputHeavy);
    }

    private static UsageEvent event(Consumer<UsageEvent> change) {
        UsageEvent event = Fixtures.usageEventBuilder().build();
        change.accept(event);
        return event;
    }

    private static long hash(UsageEvent event) {
        return EventFingerprints.contentHash(Usage.of(event));
    }
}
