package io.tokenmeter.functions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.state.AccountState;
import io.tokenmeter.avro.state.BillingDayState;
import io.tokenmeter.avro.state.UsageLineState;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class AccountStateSerializerTest {

    private final AccountStateSerializer serializer = AccountStateSerializer.INSTANCE;

    @Test
    void readsBackEveryDayHourAndLineExactly() throws IOException {
        AccountState state = state();

        AccountState read = roundTrip(state);

        assertThat(read).isEqualTo(state);
        assertThat(serializer.copy(state)).isEqualTo(state).isNotSameAs(state);
    }

    @Test
    void keepsAnyLongExactlyAndSmallCountsSmall() throws IOException {
        AccountState extreme =
                new AccountState(
                        "",
                        new ArrayList<>(
                                List.of(
                                        new BillingDayState(
                                                Long.MIN_VALUE,
                                                Integer.MAX_VALUE,
                                                lines(line("m", Long.MAX_VALUE, -1)),
                                                lines()))));
        assertThat(roundTrip(extreme)).isEqualTo(extreme);

        AccountState small =
                new AccountState(
                        "CN-GD",
                        new ArrayList<>(
                                List.of(
                                        new BillingDayState(
                                                0L,
                                                0,
                                                lines(
                                                        new UsageLineState(
                                                                "gpt-x",
                                                                Modality.TEXT,
                                                                1200L,
                                                                800L,
                                                                0L,
                                                                1L,
                                                                0L,
                                                                0L,
                                                                0L)),
                                                lines()))));
        DataOutputSerializer out = new DataOutputSerializer(64);
        serializer.serialize(small, out);
        assertThat(out.length()).as("a one-line day").isLessThan(40);
    }

    @Test
    void failsOnCorruptBytesWithAnIoExceptionInsteadOfAWrongState() {
        byte[] corrupt = {
            0,
            2,
            'a',
            'b',
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF
        };
        assertThatThrownBy(() -> serializer.deserialize(new DataInputDeserializer(corrupt)))
                .isInstanceOf(IOException.class);
    }

    @Test
    void restoresFromItsOwnSnapshotAsCompatible() throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, serializer.snapshotConfiguration());
        TypeSerializerSnapshot<AccountState> restored =
                TypeSerializerSnapshot.readVersionedSnapshot(
                        new DataInputDeserializer(out.getCopyOfBuffer()),
                        getClass().getClassLoader());

        TypeSerializer<AccountState> restoredSerializer = restored.restoreSerializer();
        TypeSerializerSchemaCompatibility<AccountState> compatibility =
                serializer.snapshotConfiguration().resolveSchemaCompatibility(restored);

        assertThat(compatibility.isCompatibleAsIs()).isTrue();
        assertThat(restoredSerializer).isEqualTo(serializer);
    }

    private AccountState roundTrip(AccountState state) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        serializer.serialize(state, out);
        DataOutputSerializer copied = new DataOutputSerializer(64);
        serializer.copy(new DataInputDeserializer(out.getCopyOfBuffer()), copied);
        assertThat(copied.getCopyOfBuffer()).isEqualTo(out.getCopyOfBuffer());
        return serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
    }

    private static AccountState state() {
        List<BillingDayState> days = new ArrayList<>();
        days.add(
                new BillingDayState(
                        1_773_072_000_000L,
                        0,
                        lines(line("gpt-x", 1200, 3), line("模型-ü", 7, 1)),
                        lines(line("gpt-x", 5, 1))));
        days.add(new BillingDayState(1_772_985_600_000L, 2, lines(), lines()));
        return new AccountState("CN-GD", days);
    }

    private static List<UsageLineState> lines(UsageLineState... lines) {
        return new ArrayList<>(List.of(lines));
    }

    private static UsageLineState line(String model, long tokens, long events) {
        return new UsageLineState(
                model, Modality.TEXT, tokens, tokens / 2, 0L, events, 3L, tokens, -tokens * 7);
    }
}
