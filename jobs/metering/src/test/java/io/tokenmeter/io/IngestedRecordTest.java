package io.tokenmeter.io;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.testing.Fixtures;
import java.nio.ByteBuffer;
import java.time.Instant;
import org.apache.flink.types.PojoTestUtils;
import org.junit.jupiter.api.Test;

class IngestedRecordTest {

    @Test
    void isSerializedAsPojoWithoutKryo() {
        PojoTestUtils.assertSerializedAsPojoWithoutKryo(IngestedRecord.class);
    }

    @Test
    void rejectsValidEventWithItsOriginalBytesAndPosition() {
        byte[] payload = {(byte) 0xC3, 0x01, 9, 9};
        IngestedRecord record = IngestedRecord.valid(event(), "raw", 4, 77L, 1_000L, payload);

        RejectedRecord rejected = record.reject(RejectReason.TOO_LATE, "too late", 2_000L);

        assertThat(rejected.getReason()).isEqualTo(RejectReason.TOO_LATE);
        assertThat(rejected.getPayload()).isEqualTo(ByteBuffer.wrap(payload));
        assertThat(rejected.getSourceTopic()).isEqualTo("raw");
        assertThat(rejected.getSourcePartition()).isEqualTo(4);
        assertThat(rejected.getSourceOffset()).isEqualTo(77L);
        assertThat(rejected.getSourceTimestamp()).isEqualTo(Instant.ofEpochMilli(1_000L));
        assertThat(rejected.getRejectedAt()).isEqualTo(Instant.ofEpochMilli(2_000L));
    }

    private static UsageEvent event() {
        return Fixtures.usageEventBuilder()
                .setInputTokens(1)
                .setOutputTokens(2)
                .setCachedTokens(3)
                .build();
    }
}
