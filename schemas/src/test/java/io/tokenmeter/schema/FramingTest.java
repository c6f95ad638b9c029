package io.tokenmeter.schema;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.UsageEvent;
import java.time.Instant;
import org.apache.avro.SchemaNormalization;
import org.junit.jupiter.api.Test;

class FramingTest {

    @Test
    void readsTheSingleObjectHeaderAnywhereInABuffer() {
        byte[] record =
                AvroCodec.usageEvents()
                        .encode(
                                UsageEvent.newBuilder()
                                        .setEventId("evt-1")
                                        .setSource("gw")
                                        .setAccountId("acct-1")
                                        .setRegion("CN-GD")
                                        .setModel("m")
                                        .setModality(Modality.TEXT)
                                        .setInputTokens(1)
                                        .setOutputTokens(2)
                                        .setCachedTokens(0)
                                        .setEventTime(Instant.parse("2026-03-10T00:00:00Z"))
                                        .build());
        byte[] buffer = new byte[record.length + 3];
        System.arraycopy(record, 0, buffer, 3, record.length);

        assertThat(Framing.isSingleObject(record)).isTrue();
        assertThat(Framing.isSingleObject(buffer, 3, record.length)).isTrue();
        assertThat(Framing.singleObjectFingerprint(buffer, 3))
                .isEqualTo(SchemaNormalization.parsingFingerprint64(UsageEvent.getClassSchema()))
                .isEqualTo(Framing.singleObjectFingerprint(record, 0));
        assertThat(Framing.isRegistryFramed(record)).isFalse();
    }

    @Test
    void needsTheMarkerAndAWholeFingerprint() {
        assertThat(Framing.isSingleObject(new byte[] {(byte) 0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7}))
                .isFalse();
        assertThat(Framing.isSingleObject(new byte[] {(byte) 0xC3, 0x02, 1, 2, 3, 4, 5, 6, 7, 8}))
                .isFalse();
        assertThat(Framing.isSingleObject(new byte[] {0, 0, 0, 0, 7, 1, 2, 3, 4, 5})).isFalse();
        assertThat(Framing.isSingleObject(new byte[] {(byte) 0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8}))
                .isTrue();
    }
}
