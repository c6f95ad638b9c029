package io.tokenmeter.logic;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.UsageEvent;
import java.time.Instant;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class EventFingerprintsTest {

    @Test
    void dedupKeyIsDeterministicAnd128Bits() {
        long[] key = EventFingerprints.dedupKey("gateway-a", "evt-1");

        assertThat(key).hasSize(2);
        assertThat(EventFingerprints.dedupKey("gateway-a", "evt-1")).isEqualTo(key);
        assertThat(EventFingerprints.dedupKey(new String("gateway-a"), new String("evt-1"))).isEqualTo(key);
    }

    @Test
    void dedupKeyTellsSplitPointOfSourceAndIdApart() {
        assertThat(EventFingerprints.dedupKey("ab", "c")).isNotEqualTo(EventFingerprints.dedupKey("a", "bc"));
        assertThat(EventFingerprints.dedupKey("", "abc")).isNotEqualTo(EventFingerprints.dedupKey("abc", ""));
    }

    @Test
    void dedupKeyDiffersPerSourceAndPerEventId() {
        long[] key = EventFingerprints.dedupKey("gateway-a", "evt-1");

        assertThat(EventFingerprints.dedupKey("gateway-b", "evt-1")).isNotEqualTo(key);
        assertThat(EventFingerprints.dedupKey("gateway-a", "evt-2")).isNotEqualTo(key);
        assertThat(EventFingerprints.dedupKey("evt-1", "gateway-a")).isNotEqualTo(key);
    }

    @Test
    void dedupKeyHandlesNonAsciiIds() {
        assertThat(EventFingerprints.dedupKey("网关", "事件-1"))
                .isEqualTo(EventFingerprints.dedupKey("网关", "事件-1"))
                .isNotEqualTo(EventFingerprints.dedupKey("网关", "事件-2"));
    }

    @Test
    void contentHashIsDeterministic() {
        assertThat(hash(event(e -> {})))
                .isEqualTo(hash(event(e -> {})));
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
        assertThat(hash(
                event(e -> e.setEventTime(Instant.parse("2026-03-10T01:00:00.001Z"))))).isNotEqualTo(hash);
    }

    /** Moving tokens from one count to another changes what is billed, so it must change the hash. */
    @Test
    void contentHashTellsWhichCountTheTokensAreIn() {
        long inputHeavy = hash(event(e -> {
            e.setInputTokens(1);
            e.setOutputTokens(23);
        }));
        long outputHeavy = hash(event(e -> {
            e.setInputTokens(12);
            e.setOutputTokens(3);
        }));

        assertThat(inputHeavy).isNotEqualTo(outputHeavy);
    }

    private static UsageEvent event(Consumer<UsageEvent> change) {
        UsageEvent event = UsageEvent.newBuilder()
                .setEventId("evt-1")
                .setSource("gateway-a")
                .setAccountId("acct-1")
                .setRegion("CN-GD")
                .setModel("qwen-max")
                .setModality(Modality.TEXT)
                .setInputTokens(10)
                .setOutputTokens(20)
                .setCachedTokens(30)
                .setEventTime(Instant.parse("2026-03-10T01:00:00Z"))
                .build();
        change.accept(event);
        return event;
    }

    private static long hash(UsageEvent event) {
        return EventFingerprints.contentHash(Usage.of(event));
    }
}
