package io.tokenmeter.io;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.testing.Fixtures;
import java.nio.ByteBuffer;
import java.time.Instant;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class IngestedRecordTest {

    @Test
    void travelsThroughItsOwnSerializerExactlyWhateverItHolds() throws Exception {
        TypeSerializer<IngestedRecord> serializer =
                TypeInformation.of(IngestedRecord.class)
                        .createSerializer(new SerializerConfigImpl());
        assertThat(serializer).isInstanceOf(IngestedRecordSerializer.class);

        IngestedRecord valid =
                IngestedRecord.valid(
                        event(), "raw", 4, 77L, 1_000L, new byte[] {(byte) 0xC3, 1, 9});
        valid.late = true;
        valid.clockAtRead = Long.MIN_VALUE;
        valid.dedupKeyHigh = -1L;
        valid.dedupKeyLow = Long.MAX_VALUE;
        valid.event.readAt = 5L;
        valid.event.model = "模型-\u0000-" + "m".repeat(70_000);
        IngestedRecord rejected =
                IngestedRecord.rejected(
                        IngestedRecord.valid(event(), "raw", 1, 2L, 3L, new byte[0])
                                .reject(RejectReason.MALFORMED, "bad", 4L));
        IngestedRecord empty = new IngestedRecord();

        for (IngestedRecord record : new IngestedRecord[] {valid, rejected, empty}) {
            DataOutputSerializer out = new DataOutputSerializer(64);
            serializer.serialize(record, out);
            IngestedRecord read =
                    serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
            assertThat(read).usingRecursiveComparison().isEqualTo(record);
            assertThat(serializer.copy(record)).usingRecursiveComparison().isEqualTo(record);
            assertThat(serializer.duplicate()).isEqualTo(serializer);
        }
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
