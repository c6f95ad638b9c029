package io.tokenmeter.functions;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.state.AccountState;
import io.tokenmeter.avro.state.BillingDayState;
import io.tokenmeter.avro.state.UsageLineState;
import io.tokenmeter.logic.billing.AccountBilling;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.specific.SpecificData;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

/**
 * The account operator's state, {@link AccountState}, written field by field: the account's state
 * is read and written back for every partial it receives, and Flink's Avro serializer spent more
 * time on it (schema-driven encode and decode, boxed longs) than RocksDB did. Counts are
 * variable-length, so the zeros and small numbers most lines hold take a byte or two.
 *
 * <p>The layout is version 1 of this serializer's snapshot; a change to it needs a new snapshot
 * version that still reads this one.
 */
public final class AccountStateSerializer extends TypeSerializerSingleton<AccountState> {

    private static final long serialVersionUID = 1L;

    public static final AccountStateSerializer INSTANCE = new AccountStateSerializer();

    private static final Modality[] MODALITIES = Modality.values();

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public AccountState createInstance() {
        return AccountBilling.emptyState();
    }

    @Override
    public AccountState copy(AccountState from) {
        return SpecificData.get().deepCopy(AccountState.getClassSchema(), from);
    }

    @Override
    public AccountState copy(AccountState from, AccountState reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(AccountState state, DataOutputView out) throws IOException {
        StringValue.writeString(state.getRegion(), out);
        List<BillingDayState> days = state.getDays();
        writeCount(days.size(), out);
        for (BillingDayState day : days) {
            out.writeLong(day.getDayStart());
            writeCount(day.getBilledVersion(), out);
            writeLines(day.getUnbilled(), out);
            writeLines(day.getLateUnbilled(), out);
        }
    }

    @Override
    public AccountState deserialize(DataInputView in) throws IOException {
        String region = StringValue.readString(in);
        int dayCount = readCount(in);
        List<BillingDayState> days = new ArrayList<>(dayCount + 1);
        for (int i = 0; i < dayCount; i++) {
            long dayStart = in.readLong();
            int billedVersion = readCount(in);
            List<UsageLineState> unbilled = readLines(in);
            List<UsageLineState> lateUnbilled = readLines(in);
            days.add(new BillingDayState(dayStart, billedVersion, unbilled, lateUnbilled));
        }
        return new AccountState(region, days);
    }

    @Override
    public AccountState deserialize(AccountState reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        serialize(deserialize(in), out);
    }

    @Override
    public TypeSerializerSnapshot<AccountState> snapshotConfiguration() {
        return new Snapshot();
    }

    static void writeLines(List<UsageLineState> lines, DataOutputView out) throws IOException {
        writeCount(lines.size(), out);
        for (UsageLineState line : lines) {
            StringValue.writeString(line.getModel(), out);
            out.writeByte(line.getModality().ordinal());
            writeCount(line.getInputTokens(), out);
            writeCount(line.getOutputTokens(), out);
            writeCount(line.getCachedTokens(), out);
            writeCount(line.getEvents(), out);
            writeCount(line.getIncludedUnits(), out);
            writeCount(line.getOverageUnits(), out);
            writeCount(line.getOverageMicros(), out);
        }
    }

    static List<UsageLineState> readLines(DataInputView in) throws IOException {
        int count = readCount(in);
        List<UsageLineState> lines = new ArrayList<>(count + 1);
        for (int i = 0; i < count; i++) {
            String model = StringValue.readString(in);
            int modality = in.readUnsignedByte();
            if (modality >= MODALITIES.length) {
                throw new IOException(
                        "modality " + modality + " unknown to this version of the account state");
            }
            lines.add(
                    new UsageLineState(
                            model,
                            MODALITIES[modality],
                            readLong(in),
                            readLong(in),
                            readLong(in),
                            readLong(in),
                            readLong(in),
                            readLong(in),
                            readLong(in)));
        }
        return lines;
    }

    /**
     * A non-negative count or sum in 7-bit groups; any long is still written exactly (a negative
     * one in 10 bytes).
     */
    static void writeCount(long value, DataOutputView out) throws IOException {
        while ((value & ~0x7FL) != 0) {
            out.writeByte((int) ((value & 0x7F) | 0x80));
            value >>>= 7;
        }
        out.writeByte((int) value);
    }

    static long readLong(DataInputView in) throws IOException {
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            int b = in.readUnsignedByte();
            value |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return value;
            }
        }
        throw new IOException("a variable-length count runs over 10 bytes: the state is corrupt");
    }

    private static int readCount(DataInputView in) throws IOException {
        long value = readLong(in);
        if (value < 0 || value > Integer.MAX_VALUE) {
            throw new IOException(
                    "a count of " + value + " in the account state: the state is corrupt");
        }
        return (int) value;
    }

    /** Restores this serializer by name; its layout is version 1. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<AccountState> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
