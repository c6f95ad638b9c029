package io.tokenmeter.io;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.schema.AvroCodec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class UsageEventDeserializerTest {

    private static final String TOPIC = "tokenmeter.usage.raw";

    private final UsageEventDeserializer deserializer = new UsageEventDeserializer();
    private final ListCollector out = new ListCollector();

    @BeforeEach
    void open() {
        deserializer.open(null);
    }

    @Test
    void passesValidEventWithItsProvenance() throws Exception {
        UsageEvent event = event("evt-1", 10);
        byte[] payload = AvroCodec.usageEvents().encode(event);

        deserializer.deserialize(new ConsumerRecord<>(TOPIC, 3, 42L, null, payload), out);

        assertThat(out.records).singleElement().satisfies(r -> {
            assertThat(r.isRejected()).isFalse();
            assertThat(r.event).isEqualTo(event);
            assertThat(r.topic).isEqualTo(TOPIC);
            assertThat(r.partition).isEqualTo(3);
            assertThat(r.offset).isEqualTo(42L);
            assertThat(r.payload).isEqualTo(payload);
        });
    }

    @Test
    void rejectsGarbageAsMalformedWithOriginalBytesAndPosition() throws Exception {
        byte[] garbage = "{\"event_id\": \"json is not avro\"}".getBytes(StandardCharsets.UTF_8);

        deserializer.deserialize(new ConsumerRecord<>(TOPIC, 5, 1_234L, null, garbage), out);

        RejectedRecord rejected = singleRejection();
        assertThat(rejected.getReason()).isEqualTo(RejectReason.MALFORMED);
        assertThat(bytes(rejected.getPayload())).isEqualTo(garbage);
        assertThat(rejected.getSourceTopic()).isEqualTo(TOPIC);
        assertThat(rejected.getSourcePartition()).isEqualTo(5);
        assertThat(rejected.getSourceOffset()).isEqualTo(1_234L);
        assertThat(rejected.getMessage()).isNotBlank();
    }

    @Test
    void rejectsTombstoneAsMalformed() throws Exception {
        deserializer.deserialize(new ConsumerRecord<byte[], byte[]>(TOPIC, 0, 7L, null, null), out);

        RejectedRecord rejected = singleRejection();
        assertThat(rejected.getReason()).isEqualTo(RejectReason.MALFORMED);
        assertThat(rejected.getPayload()).isNull();
        assertThat(rejected.getSourceOffset()).isEqualTo(7L);
    }

    @Test
    void rejectsUnknownWriterSchemaAsUnknownSchema() throws Exception {
        byte[] payload = AvroCodec.usageEvents().encode(event("evt-1", 10));
        payload[5] ^= 0x55; // another fingerprint

        deserializer.deserialize(new ConsumerRecord<>(TOPIC, 1, 9L, null, payload), out);

        RejectedRecord rejected = singleRejection();
        assertThat(rejected.getReason()).isEqualTo(RejectReason.UNKNOWN_SCHEMA);
        assertThat(bytes(rejected.getPayload())).isEqualTo(payload);
    }

    @Test
    void rejectsInvalidEventWithValidationReason() throws Exception {
        byte[] payload = AvroCodec.usageEvents().encode(event("evt-1", -3));

        deserializer.deserialize(new ConsumerRecord<>(TOPIC, 2, 11L, null, payload), out);

        RejectedRecord rejected = singleRejection();
        assertThat(rejected.getReason()).isEqualTo(RejectReason.TOKENS_OUT_OF_RANGE);
        assertThat(bytes(rejected.getPayload())).isEqualTo(payload);
        assertThat(rejected.getSourcePartition()).isEqualTo(2);
        assertThat(rejected.getSourceOffset()).isEqualTo(11L);
    }

    @Test
    void producesIngestedRecords() {
        assertThat(deserializer.getProducedType().getTypeClass()).isEqualTo(IngestedRecord.class);
    }

    private RejectedRecord singleRejection() {
        assertThat(out.records).hasSize(1);
        IngestedRecord record = out.records.get(0);
        assertThat(record.isRejected()).isTrue();
        assertThat(record.event).isNull();
        assertThat(record.topic).isEqualTo(TOPIC);
        return record.rejected;
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] b = new byte[buffer.remaining()];
        buffer.duplicate().get(b);
        return b;
    }

    private static UsageEvent event(String id, long inputTokens) {
        return UsageEvent.newBuilder()
                .setEventId(id)
                .setSource("gateway-a")
                .setAccountId("acct-1")
                .setRegion("CN-GD")
                .setModel("qwen-max")
                .setModality(Modality.TEXT)
                .setInputTokens(inputTokens)
                .setOutputTokens(5)
                .setCachedTokens(0)
                .setEventTime(Instant.parse("2026-03-10T01:00:00Z"))
                .build();
    }

    private static final class ListCollector implements Collector<IngestedRecord> {
        final List<IngestedRecord> records = new ArrayList<>();

        @Override
        public void collect(IngestedRecord record) {
            records.add(record);
        }

        @Override
        public void close() {}
    }
}
