package io.tokenmeter.io;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.logic.ingest.Rejections;
import java.io.ByteArrayOutputStream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

/**
 * The reasons added for issue #13 are read as OTHER by a reader built with the enum as it was
 * before them.
 */
class RejectReasonCompatibilityTest {

    @Test
    void readsTheNewReasonsAsOtherWithTheSchemaOfBefore() throws Exception {
        Schema before =
                new Schema.Parser()
                        .parse(
                                RejectedRecord.getClassSchema()
                                        .toString()
                                        .replace(
                                                ",\"FIELD_TOO_LONG\",\"TOO_MANY_LINE_ITEMS\",\"VALUE_OUT_OF_RANGE\"",
                                                ""));
        assertThat(before.getField("reason").schema().getEnumSymbols())
                .hasSize(9)
                .last()
                .isEqualTo("OTHER");

        for (RejectReason reason :
                new RejectReason[] {
                    RejectReason.FIELD_TOO_LONG,
                    RejectReason.TOO_MANY_LINE_ITEMS,
                    RejectReason.VALUE_OUT_OF_RANGE
                }) {
            RejectedRecord envelope =
                    Rejections.reject(reason, "m", new byte[] {1}, "raw", 0, 1L, 2L, 3L);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
            new SpecificDatumWriter<>(RejectedRecord.class).write(envelope, encoder);
            encoder.flush();

            GenericData.Record read =
                    new GenericDatumReader<GenericData.Record>(
                                    RejectedRecord.getClassSchema(), before)
                            .read(
                                    null,
                                    DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));

            assertThat(read.get("reason").toString()).isEqualTo("OTHER");
            assertThat(read.get("source_offset")).isEqualTo(1L);
        }
    }
}
