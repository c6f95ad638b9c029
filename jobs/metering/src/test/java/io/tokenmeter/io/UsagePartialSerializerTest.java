package io.tokenmeter.io;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.logic.UsagePartial;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class UsagePartialSerializerTest {

    private final TypeSerializer<UsagePartial> serializer =
            UsagePartialSerializer.TYPE.createSerializer(new SerializerConfigImpl());

    @Test
    void carriesEveryFieldExactlyWithAndWithoutAnHourlyCorrectionId() throws Exception {
        UsagePartial rated = new UsagePartial();
        rated.accountId = "acct-ü-1";
        rated.region = "CN-GD";
        rated.model = "m".repeat(70_000);
        rated.modality = Modality.IMAGE;
        rated.dayStart = Long.MIN_VALUE;
        rated.hourStart = Long.MAX_VALUE;
        rated.inputTokens = 1;
        rated.outputTokens = Long.MAX_VALUE;
        rated.cachedTokens = 3;
        rated.events = 4;
        rated.late = true;
        rated.hourCorrectionId = "8c9d…";
        rated.arrivedAt = -5;
        rated.includedUnits = 6;
        rated.overageUnits = 7;
        rated.overageMicros = 8;
        UsagePartial plain = serializer.copy(rated);
        plain.late = false;
        plain.hourCorrectionId = null;

        for (UsagePartial partial : new UsagePartial[] {rated, plain, new UsagePartial()}) {
            DataOutputSerializer out = new DataOutputSerializer(64);
            serializer.serialize(partial, out);
            UsagePartial read =
                    serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
            assertThat(read).usingRecursiveComparison().isEqualTo(partial);
        }
    }

    @Test
    void restoresFromItsOwnSnapshotAsCompatible() {
        TypeSerializerSchemaCompatibility<UsagePartial> compatibility =
                serializer
                        .snapshotConfiguration()
                        .resolveSchemaCompatibility(serializer.snapshotConfiguration());
        assertThat(compatibility.isCompatibleAsIs()).isTrue();
    }
}
