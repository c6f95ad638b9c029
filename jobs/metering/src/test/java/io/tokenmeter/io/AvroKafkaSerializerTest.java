package io.tokenmeter.io;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.logic.ingest.Rejections;
import io.tokenmeter.schema.AvroCodec;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

class AvroKafkaSerializerTest {

    private static final RejectedRecord REJECTED =
            Rejections.reject(
                    RejectReason.MALFORMED,
                    "bad",
                    new byte[] {1, 2},
                    "raw",
                    3,
                    42L,
                    1_000L,
                    2_000L);

    @Test
    void writesSingleObjectEncodedValueUnderTheRecordsKey() throws Exception {
        AvroKafkaSerializer<RejectedRecord> serializer =
                new AvroKafkaSerializer<>(
                        "out", AvroCodec::rejectedRecords, r -> r.getSourceTopic());
        serializer.open(null, null);

        ProducerRecord<byte[], byte[]> record = serializer.serialize(REJECTED, null, 5L);

        assertThat(record.topic()).isEqualTo("out");
        assertThat(new String(record.key(), StandardCharsets.UTF_8)).isEqualTo("raw");
        assertThat(AvroCodec.rejectedRecords().decode(record.value())).isEqualTo(REJECTED);
    }

    @Test
    void writesTheRegistryFramingGivenTheRegisteredSchemaId() throws Exception {
        AvroKafkaSerializer<RejectedRecord> serializer =
                new AvroKafkaSerializer<>("out", AvroCodec::rejectedRecords, r -> null, 0x00ABCDEF);
        serializer.open(null, null);

        byte[] value = serializer.serialize(REJECTED, null, 5L).value();

        assertThat(Arrays.copyOf(value, 5)).containsExactly(0, 0x00, 0xAB, 0xCD, 0xEF);
        assertThat(
                        AvroCodec.rejectedRecords()
                                .withRegistry(id -> RejectedRecord.getClassSchema(), 1)
                                .decode(value))
                .isEqualTo(REJECTED);
    }

    @Test
    void leavesTheTimestampToTheProducerSoOldDaysAreNotDeletedByRetention() {
        AvroKafkaSerializer<RejectedRecord> serializer =
                new AvroKafkaSerializer<>("out", AvroCodec::rejectedRecords, r -> null);
        serializer.open(null, null);

        // 5 = an event-time timestamp decades old: written as the record's timestamp, time-based
        // retention would delete the record as soon as the broker's retention check ran.
        ProducerRecord<byte[], byte[]> record = serializer.serialize(REJECTED, null, 5L);

        assertThat(record.timestamp()).isNull();
        assertThat(record.key()).isNull();
    }
}
