package io.tokenmeter.bench.loop;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.io.UsageEventDeserializer;
import io.tokenmeter.logic.Usage;
import io.tokenmeter.logic.ingest.PartitionClock;
import io.tokenmeter.logic.ingest.SecretSource;
import io.tokenmeter.logic.ingest.ValidationLimits;
import io.tokenmeter.schema.Framing;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import javax.annotation.Nullable;
import org.apache.avro.SchemaNormalization;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Decodes and validates one raw usage record the way the job's {@link UsageEventDeserializer} does,
 * without creating an object: the Avro body of {@link UsageEvent} is read field by field straight
 * from the payload, strings stay where they are (offset and length), and the checks of {@link
 * io.tokenmeter.logic.ingest.UsageValidation} run on the bytes. The outcome is the job's for every
 * input — the same reject reason, the same accepted values — and {@code UsageEventScannerTest}
 * holds it to that on valid and hostile records.
 *
 * <p>Two kinds of record leave the fast path and go through the job's own deserializer (same {@link
 * PartitionClock}, so the verdicts stay in sequence): a header naming another writer schema (the
 * job's codec decides whether it knows it), and a record whose strings are not all ASCII — there
 * the job's checks see the decoded Java string (a malformed UTF-8 sequence becomes U+FFFD,
 * non-ASCII whitespace is blank), which bytes alone do not say cheaply. Such a record's strings are
 * then re-encoded as UTF-8 into a buffer of this scanner, as the job would hash them.
 *
 * <p>The Avro rules mirrored (Avro 1.12 {@code BinaryDecoder}): ints are zig-zag varints of at most
 * 5 bytes and longs of at most 10 (higher bits of the last byte are dropped, a further continuation
 * bit is malformed), string lengths are longs and must be neither negative nor beyond the payload,
 * an enum index outside the symbols is malformed, and so are trailing bytes.
 *
 * <p>Not thread-safe; the accessors describe the last record scanned and valid until the next call.
 */
public final class UsageEventScanner {

    /**
     * CRC-64-AVRO of the schema this scanner reads field by field: the job's current {@link
     * UsageEvent} schema.
     */
    public static final long CURRENT_FINGERPRINT =
            SchemaNormalization.parsingFingerprint64(UsageEvent.getClassSchema());

    private static final int MODALITIES = Modality.values().length;
    private static final String TOPIC = "raw";
    private static final VarHandle LONG_LE =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final ValidationLimits limits;
    private final PartitionClock clock;
    private final UsageEventDeserializer fallback;
    private final FallbackCollector fallbackOut = new FallbackCollector();

    /**
     * Where the last record's strings are: its payload, or {@link #reencoded} after the fallback.
     */
    private byte[] bytes;

    private byte[] reencoded = new byte[256];
    private int eventIdOffset;
    private int eventIdLength;
    private int sourceOffset;
    private int sourceLength;
    private int accountOffset;
    private int accountLength;
    private int regionOffset;
    private int regionLength;
    private int modelOffset;
    private int modelLength;
    private int modality;
    private long inputTokens;
    private long outputTokens;
    private long cachedTokens;
    private long eventTime;
    private boolean late;
    private long fallbacks;

    /** Scratch of the body walk: the read position, the end of the body, the last varint read. */
    private int pos;

    private int end;
    private long varint;

    /**
     * @param clock the partitions' clocks, shared with the fallback so that the verdicts stay in
     *     sequence
     * @param dedupKey where the job's dedup key is: the fallback, as the job's deserializer, keys
     *     valid events
     */
    public UsageEventScanner(ValidationLimits limits, PartitionClock clock, SecretSource dedupKey) {
        this.limits = limits;
        this.clock = clock;
        this.fallback = new UsageEventDeserializer(limits, clock, dedupKey);
        fallback.open(null);
    }

    /**
     * Scans {@code payload[offset, offset + length)}, read from {@code partition} at the wall-clock
     * time {@code readAt}.
     *
     * @return null when the event may be billed (its fields are then available), else why the job
     *     rejects it
     */
    @Nullable
    public RejectReason scan(byte[] payload, int offset, int length, int partition, long readAt) {
        if (length > limits.maxRecordBytes()) {
            return RejectReason.OVERSIZED;
        }
        if (!Framing.isSingleObject(payload, offset, length)) {
            return RejectReason.MALFORMED;
        }
        if (Framing.singleObjectFingerprint(payload, offset) != CURRENT_FINGERPRINT) {
            return viaDeserializer(payload, offset, length, partition);
        }
        bytes = payload;
        pos = offset + Framing.SINGLE_OBJECT_HEADER_LENGTH;
        end = offset + length;
        // Field by field in schema order; any failure is MALFORMED, as any exception of the job's
        // codec is.
        if (!readString()) {
            return RejectReason.MALFORMED;
        }
        eventIdOffset = pos - (int) varint;
        eventIdLength = (int) varint;
        if (!readString()) {
            return RejectReason.MALFORMED;
        }
        sourceOffset = pos - (int) varint;
        sourceLength = (int) varint;
        if (!readString()) {
            return RejectReason.MALFORMED;
        }
        accountOffset = pos - (int) varint;
        accountLength = (int) varint;
        if (!readString()) {
            return RejectReason.MALFORMED;
        }
        regionOffset = pos - (int) varint;
        regionLength = (int) varint;
        if (!readString()) {
            return RejectReason.MALFORMED;
        }
        modelOffset = pos - (int) varint;
        modelLength = (int) varint;
        if (!readInt() || varint < 0 || varint >= MODALITIES) {
            return RejectReason.MALFORMED;
        }
        modality = (int) varint;
        if (!readLong()) {
            return RejectReason.MALFORMED;
        }
        inputTokens = varint;
        if (!readLong()) {
            return RejectReason.MALFORMED;
        }
        outputTokens = varint;
        if (!readLong()) {
            return RejectReason.MALFORMED;
        }
        cachedTokens = varint;
        if (!readLong() || pos != end) {
            return RejectReason.MALFORMED;
        }
        eventTime = varint;
        // The five strings and their lengths lie together: all those bytes below 0x80 means ASCII
        // strings (each shorter than 64 bytes); otherwise each string is looked at on its own.
        int stringsStart = offset + Framing.SINGLE_OBJECT_HEADER_LENGTH;
        if (!isAscii(payload, stringsStart, modelOffset + modelLength - stringsStart)
                && (!isAscii(payload, eventIdOffset, eventIdLength)
                        || !isAscii(payload, sourceOffset, sourceLength)
                        || !isAscii(payload, accountOffset, accountLength)
                        || !isAscii(payload, regionOffset, regionLength)
                        || !isAscii(payload, modelOffset, modelLength))) {
            return viaDeserializer(payload, offset, length, partition);
        }
        RejectReason violation = validate(readAt);
        if (violation != null) {
            return violation;
        }
        PartitionClock.Verdict verdict = clock.observe(partition, eventTime);
        if (verdict == PartitionClock.Verdict.TOO_LATE) {
            return RejectReason.TOO_LATE;
        }
        late = verdict == PartitionClock.Verdict.LATE;
        return null;
    }

    /**
     * UsageValidation.check, in its order, on ASCII bytes: there a byte is a char and blank is
     * ASCII whitespace.
     */
    @Nullable
    private RejectReason validate(long readAt) {
        if (isBlank(bytes, eventIdOffset, eventIdLength)
                || isBlank(bytes, sourceOffset, sourceLength)
                || isBlank(bytes, accountOffset, accountLength)
                || isBlank(bytes, modelOffset, modelLength)) {
            return RejectReason.MISSING_FIELD;
        }
        if (eventIdLength > limits.maxEventIdBytes()
                || sourceLength > limits.maxSourceBytes()
                || accountLength > limits.maxAccountIdBytes()
                || regionLength > limits.maxRegionBytes()
                || modelLength > limits.maxModelBytes()) {
            return RejectReason.FIELD_TOO_LONG;
        }
        long input = inputTokens;
        long output = outputTokens;
        long cached = cachedTokens;
        if (input < 0 || output < 0 || cached < 0) {
            return RejectReason.TOKENS_OUT_OF_RANGE;
        }
        long max = limits.maxTokensPerEvent();
        if (input > max || output > max - input || cached > max - input - output) {
            return RejectReason.TOKENS_OUT_OF_RANGE;
        }
        if (eventTime > saturatedAdd(readAt, limits.futureSkewMillis())) {
            return RejectReason.FUTURE_TIMESTAMP;
        }
        return null;
    }

    /**
     * The job's deserializer decides; a valid event's strings are re-encoded here as the job would
     * hash them.
     */
    @Nullable
    private RejectReason viaDeserializer(byte[] payload, int offset, int length, int partition) {
        fallbacks++;
        byte[] copy =
                offset == 0 && length == payload.length
                        ? payload
                        : Arrays.copyOfRange(payload, offset, offset + length);
        fallback.deserialize(new ConsumerRecord<>(TOPIC, partition, 0L, null, copy), fallbackOut);
        IngestedRecord record = fallbackOut.last;
        fallbackOut.last = null;
        if (record.isRejected()) {
            return record.rejected.getReason();
        }
        Usage event = record.event;
        byte[] eventId = event.eventId.getBytes(StandardCharsets.UTF_8);
        byte[] source = event.source.getBytes(StandardCharsets.UTF_8);
        byte[] account = event.accountId.getBytes(StandardCharsets.UTF_8);
        byte[] region = event.region.getBytes(StandardCharsets.UTF_8);
        byte[] model = event.model.getBytes(StandardCharsets.UTF_8);
        int total = eventId.length + source.length + account.length + region.length + model.length;
        if (reencoded.length < total) {
            reencoded = new byte[Math.max(total, 2 * reencoded.length)];
        }
        bytes = reencoded;
        int at = 0;
        eventIdOffset = at;
        eventIdLength = eventId.length;
        at = put(eventId, at);
        sourceOffset = at;
        sourceLength = source.length;
        at = put(source, at);
        accountOffset = at;
        accountLength = account.length;
        at = put(account, at);
        regionOffset = at;
        regionLength = region.length;
        at = put(region, at);
        modelOffset = at;
        modelLength = model.length;
        put(model, at);
        modality = event.modality.ordinal();
        inputTokens = event.inputTokens;
        outputTokens = event.outputTokens;
        cachedTokens = event.cachedTokens;
        eventTime = event.eventTime;
        late = record.late;
        return null;
    }

    private int put(byte[] value, int at) {
        System.arraycopy(value, 0, reencoded, at, value.length);
        return at + value.length;
    }

    /** A string: its length (a long) into {@link #varint}, the position past its bytes. */
    private boolean readString() {
        if (!readLong() || varint < 0 || varint > end - pos) {
            return false;
        }
        pos += (int) varint;
        return true;
    }

    /** A zig-zag varint long of at most 10 bytes into {@link #varint}. */
    private boolean readLong() {
        byte[] b = bytes;
        int p = pos;
        long value = 0;
        int shift = 0;
        int current;
        do {
            if (p >= end) {
                return false;
            }
            current = b[p++] & 0xFF;
            value |= (long) (current & 0x7F) << shift;
            shift += 7;
        } while (current > 0x7F && shift < 70);
        if (current > 0x7F) {
            return false;
        }
        pos = p;
        varint = (value >>> 1) ^ -(value & 1);
        return true;
    }

    /** A zig-zag varint int of at most 5 bytes into {@link #varint}. */
    private boolean readInt() {
        byte[] b = bytes;
        int p = pos;
        int value = 0;
        int shift = 0;
        int current;
        do {
            if (p >= end) {
                return false;
            }
            current = b[p++] & 0xFF;
            value |= (current & 0x7F) << shift;
            shift += 7;
        } while (current > 0x7F && shift < 35);
        if (current > 0x7F) {
            return false;
        }
        pos = p;
        varint = (value >>> 1) ^ -(value & 1);
        return true;
    }

    private static boolean isAscii(byte[] b, int offset, int length) {
        int i = offset;
        int end = offset + length;
        long highBits = 0;
        for (; i + 8 <= end; i += 8) {
            highBits |= (long) LONG_LE.get(b, i);
        }
        int bits = 0;
        for (; i < end; i++) {
            bits |= b[i];
        }
        return (highBits & 0x8080808080808080L) == 0 && bits >= 0;
    }

    /**
     * String.isBlank of an ASCII string: only Character.isWhitespace chars (HT, LF, VT, FF, CR,
     * FS-US, space).
     */
    private static boolean isBlank(byte[] b, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            int c = b[i];
            if (c != ' ' && (c < 0x09 || c > 0x0D) && (c < 0x1C || c > 0x1F)) {
                return false;
            }
        }
        return true;
    }

    /** a + b saturated at the ends of the long range, as the job's BillingCalendar adds. */
    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        if (((a ^ sum) & (b ^ sum)) < 0) {
            return b > 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
        }
        return sum;
    }

    /**
     * The bytes the string offsets point into: the payload, or this scanner's re-encoding after a
     * fallback.
     */
    public byte[] bytes() {
        return bytes;
    }

    public int eventIdOffset() {
        return eventIdOffset;
    }

    public int eventIdLength() {
        return eventIdLength;
    }

    public int sourceOffset() {
        return sourceOffset;
    }

    public int sourceLength() {
        return sourceLength;
    }

    public int accountOffset() {
        return accountOffset;
    }

    public int accountLength() {
        return accountLength;
    }

    public int regionOffset() {
        return regionOffset;
    }

    public int regionLength() {
        return regionLength;
    }

    public int modelOffset() {
        return modelOffset;
    }

    public int modelLength() {
        return modelLength;
    }

    /** The {@link Modality} ordinal. */
    public int modality() {
        return modality;
    }

    public long inputTokens() {
        return inputTokens;
    }

    public long outputTokens() {
        return outputTokens;
    }

    public long cachedTokens() {
        return cachedTokens;
    }

    public long eventTime() {
        return eventTime;
    }

    /**
     * Read after its billing day closed by its partition's clock: the job bills it in an
     * ADJUSTMENT.
     */
    public boolean late() {
        return late;
    }

    /** How many records went through the job's deserializer instead of the field-by-field path. */
    public long fallbacks() {
        return fallbacks;
    }

    private static final class FallbackCollector implements Collector<IngestedRecord> {
        IngestedRecord last;

        @Override
        public void collect(IngestedRecord record) {
            last = record;
        }

        @Override
        public void close() {}
    }
}
