package io.tokenmeter.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.sun.management.ThreadMXBean;
import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.UsageEvent;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;

class AvroCodecTest {

    /**
     * UsageEvent as a producer built before {@code cached_tokens} existed would have written it.
     */
    private static final String USAGE_EVENT_WITHOUT_CACHED_TOKENS =
            """
            {"type": "record", "name": "UsageEvent", "namespace": "io.tokenmeter.avro", "fields": [
              {"name": "event_id", "type": "string"},
              {"name": "source", "type": "string"},
              {"name": "account_id", "type": "string"},
              {"name": "region", "type": "string"},
              {"name": "model", "type": "string"},
              {"name": "modality", "type": {"type": "enum", "name": "Modality",
                "symbols": ["TEXT", "CODE", "IMAGE", "AUDIO", "VIDEO", "OTHER"], "default": "OTHER"}},
              {"name": "input_tokens", "type": "long"},
              {"name": "output_tokens", "type": "long"},
              {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}}
            ]}
            """;

    private static final int HEADER_LENGTH = 10;

    @Test
    void roundTripsUsageEvent() throws Exception {
        AvroCodec<UsageEvent> codec = AvroCodec.usageEvents();
        UsageEvent event = usageEvent("evt-1", 1_200, 345, 67);

        assertThat(codec.decode(codec.encode(event))).isEqualTo(event);
    }

    @Test
    void roundTripsBillingRecord() throws Exception {
        AvroCodec<BillingRecord> codec = AvroCodec.billingRecords();
        BillingRecord record = billingRecord();

        BillingRecord decoded = codec.decode(codec.encode(record));

        assertThat(decoded).isEqualTo(record);
        assertThat(decoded.getBillingDay()).isEqualTo(LocalDate.of(2026, 3, 10));
        assertThat(decoded.getLineItems()).hasSize(2);
    }

    @Test
    void roundTripsRejectedRecordWithItsPayload() throws Exception {
        AvroCodec<RejectedRecord> codec = AvroCodec.rejectedRecords();
        RejectedRecord record =
                RejectedRecord.newBuilder()
                        .setReason(RejectReason.MALFORMED)
                        .setMessage("cannot decode")
                        .setPayload(ByteBuffer.wrap(new byte[] {1, 2, 3, (byte) 0xFF}))
                        .setSourceTopic("tokenmeter.usage.raw")
                        .setSourcePartition(7)
                        .setSourceOffset(123_456_789_012L)
                        .setSourceTimestamp(Instant.parse("2026-03-10T01:02:03.004Z"))
                        .setRejectedAt(Instant.parse("2026-03-10T01:02:05.006Z"))
                        .build();

        RejectedRecord decoded = codec.decode(codec.encode(record));

        assertThat(decoded).isEqualTo(record);
        assertThat(bytes(decoded.getPayload())).containsExactly(1, 2, 3, 0xFF);
    }

    @Test
    void startsPayloadWithSingleObjectMarkerAndFingerprint() {
        byte[] payload = AvroCodec.usageEvents().encode(usageEvent("evt-1", 1, 2, 3));

        assertThat(payload[0]).isEqualTo((byte) 0xC3);
        assertThat(payload[1]).isEqualTo((byte) 0x01);
        long fingerprint = ByteBuffer.wrap(payload, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(fingerprint)
                .isEqualTo(SchemaNormalization.parsingFingerprint64(UsageEvent.getClassSchema()));
    }

    @Test
    void readsOlderWriterSchemaWithCachedTokensDefaultingToZero() throws Exception {
        Schema old = new Schema.Parser().parse(USAGE_EVENT_WITHOUT_CACHED_TOKENS);
        byte[] payload = encodeWithOldSchema(old);

        UsageEvent decoded = AvroCodec.usageEvents().withWriterSchema(old).decode(payload);

        assertThat(decoded.getEventId()).isEqualTo("old-1");
        assertThat(decoded.getAccountId()).isEqualTo("acct-9");
        assertThat(decoded.getModality()).isEqualTo(Modality.CODE);
        assertThat(decoded.getInputTokens()).isEqualTo(100);
        assertThat(decoded.getOutputTokens()).isEqualTo(20);
        assertThat(decoded.getCachedTokens()).isZero();
        assertThat(decoded.getEventTime()).isEqualTo(Instant.parse("2026-03-10T00:00:00Z"));
    }

    @Test
    void readsBillingRecordsOfARetiredWriterSchemaWithoutBeingToldAboutIt() throws Exception {
        // given: a billing record as the job wrote it before BillingRecord had a region
        Schema retired =
                WriterSchemas.byFingerprint("BillingRecord").values().stream()
                        .filter(s -> s.getField("region") == null)
                        .findFirst()
                        .orElseThrow();
        Schema lineSchema = retired.getField("line_items").schema().getElementType();
        GenericRecord line =
                new GenericRecordBuilder(lineSchema)
                        .set("model", "glm-4.6")
                        .set(
                                "modality",
                                new GenericData.EnumSymbol(
                                        lineSchema.getField("modality").schema(), "CODE"))
                        .set("input_tokens", 1L)
                        .set("output_tokens", 2L)
                        .set("cached_tokens", 0L)
                        .set("events", 1L)
                        .build();
        GenericRecord old =
                new GenericRecordBuilder(retired)
                        .set("record_id", "bill-old")
                        .set(
                                "kind",
                                new GenericData.EnumSymbol(
                                        retired.getField("kind").schema(), "ORIGINAL"))
                        .set("version", 1)
                        .set("account_id", "acct-1")
                        .set("billing_day", (int) LocalDate.of(2026, 3, 10).toEpochDay())
                        .set("time_zone", "Asia/Shanghai")
                        .set("day_start", Instant.parse("2026-03-09T16:00:00Z").toEpochMilli())
                        .set("day_end", Instant.parse("2026-03-10T16:00:00Z").toEpochMilli())
                        .set("line_items", List.of(line))
                        .set("total_tokens", 3L)
                        .set("events", 1L)
                        .build();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        new BinaryMessageEncoder<GenericRecord>(GenericData.get(), retired).encode(old, bytes);

        // when
        BillingRecord decoded = AvroCodec.billingRecords().decode(bytes.toByteArray());

        // then: the field the old writer did not have reads as its default
        assertThat(decoded.getRecordId()).isEqualTo("bill-old");
        assertThat(decoded.getRegion()).isEmpty();
        assertThat(decoded.getLineItems())
                .singleElement()
                .satisfies(l -> assertThat(l.getModality()).isEqualTo(Modality.CODE));
        assertThat(decoded.getTotalTokens()).isEqualTo(3);
    }

    @Test
    void rejectsOlderWriterSchemaItWasNotToldAboutAsUnknownSchema() throws Exception {
        byte[] payload =
                encodeWithOldSchema(new Schema.Parser().parse(USAGE_EVENT_WITHOUT_CACHED_TOKENS));

        assertThatThrownBy(() -> AvroCodec.usageEvents().decode(payload))
                .isInstanceOfSatisfying(
                        DecodeException.class,
                        e ->
                                assertThat(e.failure())
                                        .isEqualTo(DecodeException.Failure.UNKNOWN_SCHEMA));
    }

    @Test
    void rejectsGarbageAsMalformed() {
        byte[] garbage = "this is not avro at all".getBytes(StandardCharsets.UTF_8);

        assertMalformed(garbage);
    }

    @Test
    void rejectsBadMarkerBytesAsMalformed() {
        byte[] payload = AvroCodec.usageEvents().encode(usageEvent("evt-1", 1, 2, 3));
        payload[1] = 0x02;

        assertMalformed(payload);
    }

    @Test
    void rejectsTruncatedPayloadsAsMalformed() {
        byte[] payload = AvroCodec.usageEvents().encode(usageEvent("evt-1", 1, 2, 3));

        assertMalformed(new byte[0]);
        assertMalformed(Arrays.copyOf(payload, 5)); // inside the header
        assertMalformed(Arrays.copyOf(payload, HEADER_LENGTH)); // header only, no body
        assertMalformed(
                Arrays.copyOf(payload, payload.length - 1)); // last byte of the body missing
    }

    @Test
    void rejectsNullPayloadAsMalformed() {
        assertMalformed(null);
    }

    /**
     * A hostile body that declares a ~2 GB string must be rejected without allocating anything near
     * that size, or one bad record could take a task manager down with an OutOfMemoryError. (Avro's
     * reader allocates a declared length before reading it; the codec walks the body first.)
     */
    @Test
    void rejectsHugeDeclaredStringLengthWithoutAllocatingIt() {
        byte[] payload = usageEventWithDeclaredIdLength(2_000_000_000L);

        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        long threadId = Thread.currentThread().getId();
        long allocatedBefore = threads.getThreadAllocatedBytes(threadId);

        assertMalformed(payload);

        long allocated = threads.getThreadAllocatedBytes(threadId) - allocatedBefore;
        assertThat(allocated).as("bytes allocated to reject the payload").isLessThan(64L << 20);
    }

    /**
     * A declared length above Java's array limit makes Avro throw UnsupportedOperationException; it
     * must come out as MALFORMED, never escape and fail the job.
     */
    @Test
    void rejectsDeclaredStringLengthBeyondJavaArrayLimitAsMalformed() {
        assertMalformed(usageEventWithDeclaredIdLength(3_000_000_000L));
    }

    /**
     * Mutated length varints can exceed Java's array limit (seed 20260310 hits one at iteration
     * 11217); whatever the bytes, only DecodeException may come out.
     */
    @Test
    void neverThrowsAnythingButDecodeExceptionOnMutatedUsageEvents() {
        AvroCodec<UsageEvent> usage = AvroCodec.usageEvents();
        List<byte[]> samples =
                List.of(
                        usage.encode(usageEvent("evt-1", 1_200, 345, 67)),
                        usage.encode(usageEvent("", 0, 0, 0)),
                        usage.encode(
                                usageEvent(
                                        "evt-with-a-much-longer-id-0123456789",
                                        Long.MAX_VALUE,
                                        -1,
                                        1L << 40)));

        int decoded = fuzz(20260310L, 20_000, samples, usage);

        // Many single-byte changes inside token counts still decode: the fuzz must not be all
        // rejections.
        assertThat(decoded).isPositive();
    }

    /**
     * A mutated array count can exceed Avro's collection limit (seed 20260310, iteration 21); only
     * DecodeException may come out.
     */
    @Test
    void neverThrowsAnythingButDecodeExceptionOnMutatedBillingRecords() {
        AvroCodec<BillingRecord> billing = AvroCodec.billingRecords();

        int decoded = fuzz(20260310L, 20_000, List.of(billing.encode(billingRecord())), billing);

        assertThat(decoded).isPositive();
    }

    /**
     * Decodes {@code iterations} random one-byte mutations or truncations; returns how many still
     * decoded.
     */
    private static int fuzz(long seed, int iterations, List<byte[]> samples, AvroCodec<?> codec) {
        Random random = new Random(seed);
        int decoded = 0;
        for (int i = 0; i < iterations; i++) {
            byte[] original = samples.get(random.nextInt(samples.size()));
            byte[] mutated =
                    random.nextInt(5) == 0
                            ? Arrays.copyOf(original, random.nextInt(original.length))
                            : mutateOneByte(original, random);
            try {
                codec.decode(mutated);
                decoded++;
            } catch (DecodeException expected) {
                assertThat(expected.failure()).isNotNull();
            } catch (Throwable t) {
                fail(
                        "iteration "
                                + i
                                + " (seed "
                                + seed
                                + ") threw "
                                + t
                                + " for payload "
                                + HexFormat.of().formatHex(mutated),
                        t);
            }
        }
        return decoded;
    }

    /**
     * A valid UsageEvent header, then an event_id whose declared length is {@code length}, then 4
     * bytes.
     */
    private static byte[] usageEventWithDeclaredIdLength(long length) {
        byte[] valid = AvroCodec.usageEvents().encode(usageEvent("evt-1", 1, 2, 3));
        ByteArrayOutputStream crafted = new ByteArrayOutputStream();
        crafted.write(valid, 0, HEADER_LENGTH); // C3 01 + UsageEvent's fingerprint
        writeZigZagVarLong(crafted, length);
        crafted.writeBytes(new byte[] {'a', 'b', 'c', 'd'});
        return crafted.toByteArray();
    }

    private static byte[] mutateOneByte(byte[] original, Random random) {
        byte[] copy = original.clone();
        int at = random.nextInt(copy.length);
        byte replacement;
        do {
            replacement = (byte) random.nextInt(256);
        } while (replacement == copy[at]);
        copy[at] = replacement;
        return copy;
    }

    private static void assertMalformed(byte[] payload) {
        assertThatThrownBy(() -> AvroCodec.usageEvents().decode(payload))
                .isInstanceOfSatisfying(
                        DecodeException.class,
                        e -> assertThat(e.failure()).isEqualTo(DecodeException.Failure.MALFORMED));
    }

    private static byte[] encodeWithOldSchema(Schema old) throws Exception {
        GenericRecord record = new GenericData.Record(old);
        record.put("event_id", "old-1");
        record.put("source", "gateway-a");
        record.put("account_id", "acct-9");
        record.put("region", "CN-GD");
        record.put("model", "qwen-max");
        record.put(
                "modality", new GenericData.EnumSymbol(old.getField("modality").schema(), "CODE"));
        record.put("input_tokens", 100L);
        record.put("output_tokens", 20L);
        record.put("event_time", Instant.parse("2026-03-10T00:00:00Z").toEpochMilli());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new BinaryMessageEncoder<GenericRecord>(GenericData.get(), old).encode(record, out);
        return out.toByteArray();
    }

    private static void writeZigZagVarLong(ByteArrayOutputStream out, long value) {
        long n = (value << 1) ^ (value >> 63);
        while ((n & ~0x7FL) != 0) {
            out.write((int) ((n & 0x7F) | 0x80));
            n >>>= 7;
        }
        out.write((int) n);
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] b = new byte[buffer.remaining()];
        buffer.duplicate().get(b);
        return b;
    }

    private static UsageEvent usageEvent(String id, long input, long output, long cached) {
        return UsageEvent.newBuilder()
                .setEventId(id)
                .setSource("gateway-a")
                .setAccountId("acct-1")
                .setRegion("CN-GD")
                .setModel("qwen-max|2026-01")
                .setModality(Modality.TEXT)
                .setInputTokens(input)
                .setOutputTokens(output)
                .setCachedTokens(cached)
                .setEventTime(Instant.parse("2026-03-10T01:02:03.004Z"))
                .build();
    }

    private static BillingRecord billingRecord() {
        return BillingRecord.newBuilder()
                .setRecordId("b7f6a1c2-0000-3000-8000-000000000001")
                .setKind(BillingRecordKind.ADJUSTMENT)
                .setVersion(2)
                .setCorrectsRecordId("b7f6a1c2-0000-3000-8000-000000000000")
                .setAccountId("acct-1")
                .setBillingDay(LocalDate.of(2026, 3, 10))
                .setTimeZone("Asia/Shanghai")
                .setDayStart(Instant.parse("2026-03-09T16:00:00Z"))
                .setDayEnd(Instant.parse("2026-03-10T16:00:00Z"))
                .setLineItems(
                        List.of(
                                BillingLineItem.newBuilder()
                                        .setModel("a")
                                        .setModality(Modality.TEXT)
                                        .setInputTokens(1)
                                        .setOutputTokens(2)
                                        .setCachedTokens(3)
                                        .setEvents(1)
                                        .build(),
                                BillingLineItem.newBuilder()
                                        .setModel("b")
                                        .setModality(Modality.IMAGE)
                                        .setInputTokens(10)
                                        .setOutputTokens(20)
                                        .setCachedTokens(30)
                                        .setEvents(2)
                                        .build()))
                .setTotalTokens(66)
                .setEvents(3)
                .build();
    }
}
