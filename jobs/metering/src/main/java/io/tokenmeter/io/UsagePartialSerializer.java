package io.tokenmeter.io;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.logic.UsagePartial;
import java.io.IOException;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

/**
 * {@link UsagePartial}s cross the shuffle from deduplication to the account operator; written field
 * by field rather than by Flink's POJO serializer, which reads and writes each field by reflection.
 * ({@code logic/} has no Flink imports, so the job names this type where it declares the partials'
 * streams: {@link #TYPE}.)
 */
public final class UsagePartialSerializer extends TypeSerializerSingleton<UsagePartial> {

    private static final long serialVersionUID = 1L;

    public static final UsagePartialSerializer INSTANCE = new UsagePartialSerializer();

    /** The partials' type for the job's streams. */
    public static final TypeInformation<UsagePartial> TYPE =
            new SerializerTypeInfo<>(UsagePartial.class, () -> INSTANCE);

    private static final int LATE = 1;
    private static final int HOUR_CORRECTION = 1 << 1;
    private static final Modality[] MODALITIES = Modality.values();

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public UsagePartial createInstance() {
        return new UsagePartial();
    }

    @Override
    public UsagePartial copy(UsagePartial from) {
        UsagePartial to = new UsagePartial();
        to.accountId = from.accountId;
        to.region = from.region;
        to.model = from.model;
        to.modality = from.modality;
        to.dayStart = from.dayStart;
        to.hourStart = from.hourStart;
        to.inputTokens = from.inputTokens;
        to.outputTokens = from.outputTokens;
        to.cachedTokens = from.cachedTokens;
        to.events = from.events;
        to.late = from.late;
        to.hourCorrectionId = from.hourCorrectionId;
        to.arrivedAt = from.arrivedAt;
        to.includedUnits = from.includedUnits;
        to.overageUnits = from.overageUnits;
        to.overageMicros = from.overageMicros;
        return to;
    }

    @Override
    public UsagePartial copy(UsagePartial from, UsagePartial reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(UsagePartial p, DataOutputView out) throws IOException {
        out.writeByte((p.late ? LATE : 0) | (p.hourCorrectionId != null ? HOUR_CORRECTION : 0));
        StringValue.writeString(p.accountId, out);
        StringValue.writeString(p.region, out);
        StringValue.writeString(p.model, out);
        out.writeByte(p.modality == null ? -1 : p.modality.ordinal());
        out.writeLong(p.dayStart);
        out.writeLong(p.hourStart);
        out.writeLong(p.inputTokens);
        out.writeLong(p.outputTokens);
        out.writeLong(p.cachedTokens);
        out.writeLong(p.events);
        if (p.hourCorrectionId != null) {
            StringValue.writeString(p.hourCorrectionId, out);
        }
        out.writeLong(p.arrivedAt);
        out.writeLong(p.includedUnits);
        out.writeLong(p.overageUnits);
        out.writeLong(p.overageMicros);
    }

    @Override
    public UsagePartial deserialize(DataInputView in) throws IOException {
        UsagePartial p = new UsagePartial();
        int flags = in.readUnsignedByte();
        p.late = (flags & LATE) != 0;
        p.accountId = StringValue.readString(in);
        p.region = StringValue.readString(in);
        p.model = StringValue.readString(in);
        int modality = in.readByte();
        p.modality = modality < 0 ? null : MODALITIES[modality];
        p.dayStart = in.readLong();
        p.hourStart = in.readLong();
        p.inputTokens = in.readLong();
        p.outputTokens = in.readLong();
        p.cachedTokens = in.readLong();
        p.events = in.readLong();
        if ((flags & HOUR_CORRECTION) != 0) {
            p.hourCorrectionId = StringValue.readString(in);
        }
        p.arrivedAt = in.readLong();
        p.includedUnits = in.readLong();
        p.overageUnits = in.readLong();
        p.overageMicros = in.readLong();
        return p;
    }

    @Override
    public UsagePartial deserialize(UsagePartial reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        serialize(deserialize(in), out);
    }

    @Override
    public TypeSerializerSnapshot<UsagePartial> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Restores the serializer by name; the layout is version 1. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<UsagePartial> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
