package io.tokenmeter.bench.loop;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.io.UsageEventDeserializer;
import io.tokenmeter.logic.ingest.SecretSource;
import io.tokenmeter.logic.ingest.ValidationLimits;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.testing.Fixtures;
import io.tokenmeter.testkit.GeneratedRecord;
import io.tokenmeter.testkit.WorkloadGenerator;
import io.tokenmeter.testkit.WorkloadSpec;
import java.io.ByteArrayOutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * The field-by-field scanner must judge every record as the job's {@link UsageEventDeserializer}
 * does: the same reject reason, and for a valid event the same values and the same late verdict.
 * Each test feeds the same records in the same order to both, each with its own partition clock.
 */
class UsageEventScannerTest {

    private static final MeteringConfig CONFIG = MeteringConfig.load(null, List.of());
    private static final ValidationLimits LIMITS = CONFIG.validation().limits();
    private static final long NOW = System.currentTimeMillis();
    private static final long HOUR = 3_600_000L;

    /** Both key valid events; which key does not matter here. */
    private static final SecretSource DEDUP_KEY =
            new SecretSource(
                    "",
                    "TOKENMETER_DEDUP_KEY",
                    "dedup.key-file",
                    (UnaryOperator<String> & Serializable)
                            name -> "scanner-test-key-0123456789abcdef");

    private final UsageEventScanner scanner =
            new UsageEventScanner(LIMITS, CONFIG.partitionClock(), DEDUP_KEY);
    private final UsageEventDeserializer job =
            new UsageEventDeserializer(LIMITS, CONFIG.partitionClock(), DEDUP_KEY);
    private final AvroCodec<UsageEvent> codec = AvroCodec.usageEvents();
    private final Map<RejectReason, Integer> seen = new EnumMap<>(RejectReason.class);
    private int valid;

    UsageEventScannerTest() {
        job.open(null);
    }

    @Test
    void agreesOnTheGeneratorsValidLateDuplicateAndHostileRecords() {
        WorkloadSpec spec =
                new WorkloadSpec(
                        30_000,
                        500,
                        1.0,
                        WorkloadSpec.defaultStart(CONFIG.billing().timeZone(), Duration.ofDays(2)),
                        Duration.ofDays(2),
                        CONFIG.billing().timeZone(),
                        0.05,
                        0.05,
                        0.3,
                        0,
                        7);
        WorkloadGenerator generator = new WorkloadGenerator(spec);
        for (long i = 0; i < spec.events(); i++) {
            GeneratedRecord record = generator.record(i);
            assertAgree(record.value());
        }
        assertThat(valid).isGreaterThan(15_000);
        assertThat(seen)
                .containsKeys(
                        RejectReason.MALFORMED,
                        RejectReason.UNKNOWN_SCHEMA,
                        RejectReason.MISSING_FIELD,
                        RejectReason.TOKENS_OUT_OF_RANGE,
                        RejectReason.FUTURE_TIMESTAMP,
                        RejectReason.OVERSIZED,
                        RejectReason.TOO_LATE);
        assertThat(scanner.fallbacks())
                .as("ASCII records of the current schema stay on the fast path")
                .isEqualTo((long) seen.get(RejectReason.UNKNOWN_SCHEMA));
    }

    @Test
    void agreesOnRandomlyCorruptedRecords() {
        Random random = new Random(11);
        for (int i = 0; i < 30_000; i++) {
            byte[] payload = codec.encode(event(random));
            switch (random.nextInt(6)) {
                case 0 ->
                        payload[10 + random.nextInt(payload.length - 10)] = (byte) random.nextInt();
                case 1 -> {
                    for (int k = 0; k < 3; k++) {
                        payload[random.nextInt(payload.length)] ^= (byte) (1 << random.nextInt(8));
                    }
                }
                case 2 -> payload = Arrays.copyOf(payload, random.nextInt(payload.length + 1));
                case 3 -> payload = Arrays.copyOf(payload, payload.length + 1 + random.nextInt(3));
                case 4 ->
                        payload[10 + random.nextInt(payload.length - 10)] =
                                (byte) (0x80 | random.nextInt());
                default -> {}
            }
            assertAgree(payload);
        }
        assertThat(valid).isGreaterThan(5_000);
        assertThat(seen.get(RejectReason.MALFORMED)).isGreaterThan(5_000);
    }

    @Test
    void agreesOnHandMadeHostileBodies() {
        long time = NOW - HOUR;
        // Well-formed, valid.
        assertAgree(body("e-1", "gw", "acct-1", "CN-GD", "qwen3-max", 0, 10, 20, 30, time));
        assertAgree(
                body(
                        "e-1b",
                        "gw",
                        "acct-1",
                        "",
                        "qwen3-max",
                        5,
                        0,
                        0,
                        0,
                        time)); // empty region, OTHER
        // Missing fields: empty or ASCII whitespace only (every char Character.isWhitespace calls
        // blank).
        assertAgree(body("", "gw", "acct-1", "CN-GD", "m", 0, 1, 1, 1, time));
        assertAgree(
                body(
                        "e-2",
                        " \t\n\u000B\f\r\u001C\u001D\u001E\u001F",
                        "acct-1",
                        "CN-GD",
                        "m",
                        0,
                        1,
                        1,
                        1,
                        time));
        assertAgree(body("e-3", "gw", "   ", "CN-GD", "m", 0, 1, 1, 1, time));
        assertAgree(body("e-4", "gw", "acct-1", "CN-GD", "\t", 0, 1, 1, 1, time));
        assertAgree(
                body(
                        "e-5", "gw", "acct-1", " ", "m", 0, 1, 1, 1,
                        time)); // a blank region is allowed
        assertAgree(
                body(
                        "e-6", "gw", "\u0008", "CN-GD", "m", 0, 1, 1, 1,
                        time)); // backspace is not whitespace
        // Non-ASCII: decided by the job's deserializer (em space is blank, no-break space is not).
        assertAgree(body("e-7", "gw", "\u2003", "CN-GD", "m", 0, 1, 1, 1, time));
        assertAgree(body("e-8", "gw", "\u00A0", "CN-GD", "m", 0, 1, 1, 1, time));
        assertAgree(body("e-9", "网关", "账户-1", "广东", "通义", 1, 1, 1, 1, time));
        // Oversized strings, at the limit and one byte past it, per field.
        assertAgree(
                body("e".repeat(LIMITS.maxEventIdBytes()), "gw", "a", "r", "m", 0, 1, 1, 1, time));
        assertAgree(
                body(
                        "e".repeat(LIMITS.maxEventIdBytes() + 1),
                        "gw",
                        "a",
                        "r",
                        "m",
                        0,
                        1,
                        1,
                        1,
                        time));
        assertAgree(
                body(
                        "e-10",
                        "s".repeat(LIMITS.maxSourceBytes() + 1),
                        "a",
                        "r",
                        "m",
                        0,
                        1,
                        1,
                        1,
                        time));
        assertAgree(
                body(
                        "e-11",
                        "gw",
                        "a".repeat(LIMITS.maxAccountIdBytes() + 1),
                        "r",
                        "m",
                        0,
                        1,
                        1,
                        1,
                        time));
        assertAgree(
                body(
                        "e-12",
                        "gw",
                        "a",
                        "r".repeat(LIMITS.maxRegionBytes() + 1),
                        "m",
                        0,
                        1,
                        1,
                        1,
                        time));
        assertAgree(
                body("e-13", "gw", "a", "r", "m".repeat(LIMITS.maxModelBytes()), 0, 1, 1, 1, time));
        assertAgree(
                body(
                        "e-14",
                        "gw",
                        "a",
                        "r",
                        "m".repeat(LIMITS.maxModelBytes() + 1),
                        0,
                        1,
                        1,
                        1,
                        time));
        assertAgree(
                body(
                        "e-15",
                        "gw",
                        "a",
                        "r",
                        "模".repeat(LIMITS.maxModelBytes() / 3 + 1),
                        0,
                        1,
                        1,
                        1,
                        time));
        // Token counts: negative, at and past the ceiling, sums that overflow a long.
        long max = LIMITS.maxTokensPerEvent();
        assertAgree(body("e-16", "gw", "a", "r", "m", 0, -1, 0, 0, time));
        assertAgree(body("e-17", "gw", "a", "r", "m", 0, 0, 0, Long.MIN_VALUE, time));
        assertAgree(body("e-18", "gw", "a", "r", "m", 0, max - 2, 1, 1, time));
        assertAgree(body("e-19", "gw", "a", "r", "m", 0, max - 2, 1, 2, time));
        assertAgree(
                body(
                        "e-20",
                        "gw",
                        "a",
                        "r",
                        "m",
                        0,
                        Long.MAX_VALUE,
                        Long.MAX_VALUE,
                        Long.MAX_VALUE,
                        time));
        assertAgree(body("e-21", "gw", "a", "r", "m", 0, 1, max, 0, time));
        // Times: the far future, the extremes of a long, and a day past its correction deadline.
        assertAgree(body("e-22", "gw", "a", "r", "m", 0, 1, 1, 1, NOW + 365 * 24 * HOUR));
        assertAgree(body("e-23", "gw", "a", "r", "m", 0, 1, 1, 1, Long.MAX_VALUE));
        assertAgree(body("e-24", "gw", "a", "r", "m", 0, 1, 1, 1, Long.MIN_VALUE));
        assertAgree(body("e-25", "gw", "a", "r", "m", 0, 1, 1, 1, NOW - 60 * 24 * HOUR));
        // A late event: its day closed by the partition's clock (the first one above set it to an
        // hour ago).
        assertAgree(body("e-26", "gw", "a", "r", "m", 0, 1, 1, 1, NOW - 3 * 24 * HOUR));
        assertThat(valid).isGreaterThanOrEqualTo(8);
    }

    @Test
    void agreesOnMalformedEncodings() {
        long time = NOW - HOUR;
        byte[] good = body("e-1", "gw", "acct-1", "CN-GD", "m", 0, 1, 2, 3, time);
        assertAgree(good);
        // Enum index: the last symbol, one past it, negative, and a huge one.
        for (long index : new long[] {5, 6, -1, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            assertAgree(
                    raw(
                            w -> {
                                w.string("e-m" + index)
                                        .string("gw")
                                        .string("a")
                                        .string("r")
                                        .string("m");
                                w.varint(index).varint(1).varint(1).varint(1).varint(time);
                            }));
        }
        // Varints: an int (the enum) and a long with too many continuation bytes, and ones cut off
        // by the end.
        assertAgree(
                raw(
                        w ->
                                w.string("e")
                                        .string("gw")
                                        .string("a")
                                        .string("r")
                                        .string("m")
                                        .bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x00)
                                        .varint(1)
                                        .varint(1)
                                        .varint(1)
                                        .varint(time)));
        assertAgree(
                raw(
                        w ->
                                w.string("e")
                                        .string("gw")
                                        .string("a")
                                        .string("r")
                                        .string("m")
                                        .bytes(0x80, 0x80, 0x80, 0x80, 0x70)
                                        .varint(1)
                                        .varint(1)
                                        .varint(1)
                                        .varint(time)));
        assertAgree(
                raw(
                        w ->
                                w.string("e")
                                        .string("gw")
                                        .string("a")
                                        .string("r")
                                        .string("m")
                                        .varint(0)
                                        .bytes(
                                                0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                                0xFF, 0x7F)
                                        .varint(1)
                                        .varint(1)
                                        .varint(time)));
        assertAgree(
                raw(
                        w ->
                                w.string("e")
                                        .string("gw")
                                        .string("a")
                                        .string("r")
                                        .string("m")
                                        .varint(0)
                                        .bytes(
                                                0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                                0xFF, 0xFF, 0x01)
                                        .varint(1)
                                        .varint(1)
                                        .varint(time)));
        assertAgree(
                raw(
                        w ->
                                w.string("e")
                                        .string("gw")
                                        .string("a")
                                        .string("r")
                                        .string("m")
                                        .varint(0)
                                        .varint(1)
                                        .varint(1)
                                        .varint(1)
                                        .bytes(0xFF, 0xFF)));
        // String lengths: negative, beyond the payload, and a huge one.
        assertAgree(
                raw(
                        w ->
                                w.varint(-1)
                                        .bytes('e')
                                        .string("gw")
                                        .string("a")
                                        .string("r")
                                        .string("m")
                                        .varint(0)
                                        .varint(1)
                                        .varint(1)
                                        .varint(1)
                                        .varint(time)));
        assertAgree(raw(w -> w.varint(1000).bytes('e')));
        assertAgree(raw(w -> w.varint(Long.MAX_VALUE).bytes('e')));
        // Invalid UTF-8 in a string: the job reads U+FFFD.
        assertAgree(
                raw(
                        w ->
                                w.string("e-u")
                                        .string("gw")
                                        .varint(2)
                                        .bytes(0xC3, 0x28)
                                        .string("r")
                                        .string("m")
                                        .varint(0)
                                        .varint(1)
                                        .varint(1)
                                        .varint(1)
                                        .varint(time)));
        assertAgree(
                raw(
                        w ->
                                w.string("e-v")
                                        .string("gw")
                                        .varint(1)
                                        .bytes(0xFF)
                                        .string("r")
                                        .string("m")
                                        .varint(0)
                                        .varint(1)
                                        .varint(1)
                                        .varint(1)
                                        .varint(time)));
        // Trailing bytes, an empty body, a bare or wrong header, an unknown writer schema, the size
        // limit.
        byte[] trailing = Arrays.copyOf(good, good.length + 1);
        assertAgree(trailing);
        assertAgree(Arrays.copyOf(good, 10));
        assertAgree(new byte[0]);
        assertAgree(new byte[] {(byte) 0xC3});
        byte[] wrongMarker = good.clone();
        wrongMarker[1] = 2;
        assertAgree(wrongMarker);
        byte[] unknownSchema = good.clone();
        unknownSchema[5] ^= 1;
        assertAgree(unknownSchema);
        assertAgree(
                body(
                        "e-big",
                        "gw",
                        "a",
                        "r",
                        "m".repeat(LIMITS.maxRecordBytes()),
                        0,
                        1,
                        1,
                        1,
                        time));
        assertThat(seen.get(RejectReason.MALFORMED)).isGreaterThan(10);
        assertThat(seen).containsKeys(RejectReason.UNKNOWN_SCHEMA, RejectReason.OVERSIZED);
    }

    @Test
    void readsPayloadsInsideALargerBuffer() {
        byte[] payload = body("e-1", "gw", "acct-1", "CN-GD", "m", 2, 4, 5, 6, NOW - HOUR);
        byte[] buffer = new byte[payload.length + 7];
        System.arraycopy(payload, 0, buffer, 3, payload.length);
        assertThat(scanner.scan(buffer, 3, payload.length, 0, NOW)).isNull();
        assertThat(text(scanner.bytes(), scanner.accountOffset(), scanner.accountLength()))
                .isEqualTo("acct-1");
        assertThat(scanner.modality()).isEqualTo(Modality.IMAGE.ordinal());
        assertThat(scanner.cachedTokens()).isEqualTo(6);
    }

    private void assertAgree(byte[] payload) {
        long now = System.currentTimeMillis();
        RejectReason fast = scanner.scan(payload, 0, payload.length, 0, now);
        IngestedRecord[] out = new IngestedRecord[1];
        job.deserialize(
                new ConsumerRecord<>("raw", 0, 0L, null, payload),
                new Collector<>() {
                    @Override
                    public void collect(IngestedRecord record) {
                        out[0] = record;
                    }

                    @Override
                    public void close() {}
                });
        IngestedRecord expected = out[0];
        if (expected.isRejected()) {
            assertThat(fast)
                    .as("verdict on %s", hex(payload))
                    .isEqualTo(expected.rejected.getReason());
            seen.merge(fast, 1, Integer::sum);
            return;
        }
        assertThat(fast).as("verdict on %s", hex(payload)).isNull();
        valid++;
        byte[] b = scanner.bytes();
        assertThat(text(b, scanner.eventIdOffset(), scanner.eventIdLength()))
                .isEqualTo(expected.event.eventId);
        assertThat(text(b, scanner.sourceOffset(), scanner.sourceLength()))
                .isEqualTo(expected.event.source);
        assertThat(text(b, scanner.accountOffset(), scanner.accountLength()))
                .isEqualTo(expected.event.accountId);
        assertThat(text(b, scanner.regionOffset(), scanner.regionLength()))
                .isEqualTo(expected.event.region);
        assertThat(text(b, scanner.modelOffset(), scanner.modelLength()))
                .isEqualTo(expected.event.model);
        assertThat(scanner.modality()).isEqualTo(expected.event.modality.ordinal());
        assertThat(scanner.inputTokens()).isEqualTo(expected.event.inputTokens);
        assertThat(scanner.outputTokens()).isEqualTo(expected.event.outputTokens);
        assertThat(scanner.cachedTokens()).isEqualTo(expected.event.cachedTokens);
        assertThat(scanner.eventTime()).isEqualTo(expected.event.eventTime);
        assertThat(scanner.late()).isEqualTo(expected.late);
    }

    private static String text(byte[] b, int offset, int length) {
        return new String(b, offset, length, StandardCharsets.UTF_8);
    }

    private static String hex(byte[] payload) {
        return HexFormat.of().formatHex(payload, 0, Math.min(payload.length, 64));
    }

    private byte[] body(
            String eventId,
            String source,
            String account,
            String region,
            String model,
            int modality,
            long input,
            long output,
            long cached,
            long eventTime) {
        return raw(
                w ->
                        w.string(eventId)
                                .string(source)
                                .string(account)
                                .string(region)
                                .string(model)
                                .varint(modality)
                                .varint(input)
                                .varint(output)
                                .varint(cached)
                                .varint(eventTime));
    }

    private static UsageEvent event(Random random) {
        return Fixtures.usageEventBuilder()
                .setEventId(Long.toHexString(random.nextLong()))
                .setSource("gateway-" + random.nextInt(12))
                .setAccountId("acct-" + random.nextInt(1000))
                .setModel("qwen3-max")
                .setModality(Modality.values()[random.nextInt(6)])
                .setInputTokens(random.nextInt(5000))
                .setOutputTokens(random.nextInt(5000))
                .setCachedTokens(random.nextInt(100))
                .setEventTime(Instant.ofEpochMilli(NOW - random.nextInt(24) * HOUR))
                .build();
    }

    /** A payload: the current schema's header and a body written byte by byte. */
    private static byte[] raw(Consumer<BodyWriter> body) {
        BodyWriter w = new BodyWriter();
        w.out.write(0xC3);
        w.out.write(0x01);
        long fingerprint = UsageEventScanner.CURRENT_FINGERPRINT;
        for (int i = 0; i < 8; i++) {
            w.out.write((int) (fingerprint >>> (8 * i)));
        }
        body.accept(w);
        return w.out.toByteArray();
    }

    /** Avro binary written by hand, so that it can also be written wrong. */
    static final class BodyWriter {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        BodyWriter varint(long value) {
            long v = (value << 1) ^ (value >> 63);
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
            return this;
        }

        BodyWriter string(String value) {
            byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
            varint(utf8.length);
            out.writeBytes(utf8);
            return this;
        }

        BodyWriter bytes(int... values) {
            for (int v : values) {
                out.write(v);
            }
            return this;
        }
    }
}
