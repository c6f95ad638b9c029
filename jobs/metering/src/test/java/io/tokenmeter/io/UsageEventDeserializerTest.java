package io.tokenmeter.io;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.Usage;
import io.tokenmeter.logic.WallClock;
import io.tokenmeter.logic.ingest.EventFingerprints;
import io.tokenmeter.logic.ingest.PartitionClock;
import io.tokenmeter.logic.ingest.SecretSource;
import io.tokenmeter.logic.ingest.ValidationLimits;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.schema.SchemaRegistrySettings;
import io.tokenmeter.schema.SchemaRegistryUnavailableException;
import io.tokenmeter.testing.Fixtures;
import java.io.Serializable;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.assertj.core.api.Assertions;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class UsageEventDeserializerTest {

    private static final String TOPIC = "tokenmeter.usage.raw";
    private static final ValidationLimits LIMITS =
            new ValidationLimits(10_000_000, 300_000, 65_536);

    private static final BillingCalendar CALENDAR =
            new BillingCalendar(
                    ZoneId.of("Asia/Shanghai"), Duration.ofMinutes(15), Duration.ofDays(35));
    private static final Duration OUT_OF_ORDERNESS = Duration.ofMinutes(2);

    /**
     * A fresh clock per test: partition clocks are state, and tests must not see each other's
     * events.
     */
    /**
     * The wall clock of the lateness verdicts: just before day 2026-03-10's correction deadline
     * (04-14T16:00Z). Future timestamps are judged against the system clock.
     */
    private static final Instant NOW = Instant.parse("2026-04-14T15:59:00Z");

    private final PartitionClock clock =
            new PartitionClock(CALENDAR, OUT_OF_ORDERNESS, WallClock.fixed(NOW.toEpochMilli()));
    private final UsageEventDeserializer deserializer =
            new UsageEventDeserializer(LIMITS, clock, Fixtures.DEDUP_KEY);
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

        assertThat(out.records)
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.isRejected()).isFalse();
                            assertThat(r.event)
                                    .usingRecursiveComparison()
                                    .ignoringFields("readAt")
                                    .isEqualTo(Usage.of(event));
                            assertThat(r.event.readAt)
                                    .as("the wall clock at read, for the package notice latency")
                                    .isPositive();
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
    void rejectsRegistryFramedRecordAsUnknownSchemaWhenNoRegistryIsConfigured() throws Exception {
        byte[] payload = AvroCodec.usageEvents().encodeWithSchemaId(event("evt-1", 10), 17);

        deserializer.deserialize(new ConsumerRecord<>(TOPIC, 1, 9L, null, payload), out);

        RejectedRecord rejected = singleRejection();
        assertThat(rejected.getReason()).isEqualTo(RejectReason.UNKNOWN_SCHEMA);
        assertThat(rejected.getMessage())
                .contains(
                        "schema id 17", "no schema registry is configured", "schema-registry.url");
        assertThat(bytes(rejected.getPayload())).isEqualTo(payload);
    }

    @Test
    void failsRatherThanRejectsWhenTheRegistryCannotBeReached() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        UsageEventDeserializer withRegistry =
                new UsageEventDeserializer(
                        LIMITS,
                        clock,
                        Fixtures.DEDUP_KEY,
                        new SchemaRegistrySettings(
                                "http://127.0.0.1:" + closedPort,
                                10,
                                Duration.ofSeconds(1),
                                Duration.ofMillis(300)));
        withRegistry.open(null);
        byte[] payload = AvroCodec.usageEvents().encodeWithSchemaId(event("evt-1", 10), 17);

        Assertions.assertThatThrownBy(
                        () ->
                                withRegistry.deserialize(
                                        new ConsumerRecord<>(TOPIC, 1, 9L, null, payload), out))
                .isInstanceOf(SchemaRegistryUnavailableException.class)
                .hasMessageContaining(TOPIC + "-1@9")
                .hasMessageContaining("until the schema registry answers");
        assertThat(out.records)
                .as("neither billed nor rejected: read again after the restart")
                .isEmpty();
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
    void rejectsRecordAboveMaxBytesAsOversizedWithItsFirstBytesAndProvenance() throws Exception {
        byte[] payload = AvroCodec.usageEvents().encode(event("evt-1", 10));
        UsageEventDeserializer small = openedWith(payload.length - 1);

        small.deserialize(record(4, 77L, 1_700_000_000_000L, payload), out);

        RejectedRecord rejected = singleRejection();
        assertThat(rejected.getReason()).isEqualTo(RejectReason.OVERSIZED);
        assertThat(rejected.getMessage())
                .contains(payload.length + " bytes")
                .contains("limit of " + (payload.length - 1));
        assertThat(bytes(rejected.getPayload()))
                .isEqualTo(Arrays.copyOf(payload, payload.length - 1));
        assertThat(rejected.getSourceTopic()).isEqualTo(TOPIC);
        assertThat(rejected.getSourcePartition()).isEqualTo(4);
        assertThat(rejected.getSourceOffset()).isEqualTo(77L);
        assertThat(rejected.getSourceTimestamp())
                .isEqualTo(Instant.ofEpochMilli(1_700_000_000_000L));
        assertThat(out.records.get(0).offset).isEqualTo(77L);
    }

    @Test
    void passesRecordOfExactlyMaxBytes() throws Exception {
        byte[] payload = AvroCodec.usageEvents().encode(event("evt-1", 10));
        UsageEventDeserializer exact = openedWith(payload.length);

        exact.deserialize(new ConsumerRecord<>(TOPIC, 0, 1L, null, payload), out);

        assertThat(out.records)
                .singleElement()
                .satisfies(r -> assertThat(r.isRejected()).isFalse());
    }

    /** The size is checked before decoding: an oversized record is not even parsed. */
    @Test
    void rejectsOversizedGarbageAsOversizedNotMalformed() throws Exception {
        byte[] garbage = new byte[LIMITS.maxRecordBytes() + 1];
        Arrays.fill(garbage, (byte) 0x7f);

        deserializer.deserialize(new ConsumerRecord<>(TOPIC, 0, 3L, null, garbage), out);

        RejectedRecord rejected = singleRejection();
        assertThat(rejected.getReason()).isEqualTo(RejectReason.OVERSIZED);
        assertThat(bytes(rejected.getPayload()))
                .isEqualTo(Arrays.copyOf(garbage, LIMITS.maxRecordBytes()));
    }

    @Test
    void rejectsEventFromTheFutureAsFutureTimestamp() throws Exception {
        UsageEvent event = event("evt-1", 10);
        event.setEventTime(Instant.now().plusSeconds(3_600));
        byte[] payload = AvroCodec.usageEvents().encode(event);

        deserializer.deserialize(record(6, 13L, 1_700_000_000_000L, payload), out);

        RejectedRecord rejected = singleRejection();
        assertThat(rejected.getReason()).isEqualTo(RejectReason.FUTURE_TIMESTAMP);
        assertThat(rejected.getMessage()).contains("event_time");
        assertThat(bytes(rejected.getPayload())).isEqualTo(payload);
        assertThat(rejected.getSourcePartition()).isEqualTo(6);
        assertThat(rejected.getSourceOffset()).isEqualTo(13L);
    }

    @Test
    void passesEventSlightlyAheadOfTheClockWithinSkew() throws Exception {
        UsageEvent event = event("evt-1", 10);
        event.setEventTime(Instant.now().plusSeconds(60));

        deserializer.deserialize(
                new ConsumerRecord<>(TOPIC, 0, 1L, null, AvroCodec.usageEvents().encode(event)),
                out);

        assertThat(out.records)
                .singleElement()
                .satisfies(r -> assertThat(r.isRejected()).isFalse());
    }

    @Test
    void rejectsTokensAboveCeilingAsOutOfRange() throws Exception {
        byte[] payload = AvroCodec.usageEvents().encode(event("evt-1", LIMITS.maxTokensPerEvent()));

        deserializer.deserialize(new ConsumerRecord<>(TOPIC, 0, 1L, null, payload), out);

        RejectedRecord rejected = singleRejection();
        assertThat(rejected.getReason()).isEqualTo(RejectReason.TOKENS_OUT_OF_RANGE);
        assertThat(rejected.getMessage()).contains("ceiling");
    }

    /**
     * Shanghai day 2026-03-10 closes at 2026-03-10T16:15Z: once partition 3 has read past that (+ 2
     * min + 1 ms), late.
     */
    @Test
    void flagsEventOfADayClosedByItsPartitionsClockAsLate() throws Exception {
        UsageEvent newest =
                event(
                        "evt-new",
                        10,
                        "2026-03-10T16:17:00.001Z"); // clock: 16:15, the close of 03-10
        UsageEvent old = event("evt-old", 10, "2026-03-10T01:00:00Z");
        byte[] oldPayload = AvroCodec.usageEvents().encode(old);

        deserializer.deserialize(
                record(3, 10L, 1_000L, AvroCodec.usageEvents().encode(newest)), out);
        deserializer.deserialize(record(3, 11L, 2_000L, oldPayload), out);

        assertThat(out.records).hasSize(2);
        assertThat(out.records.get(0).isRejected()).isFalse();
        assertThat(out.records.get(0).late).isFalse();
        assertThat(out.records.get(1))
                .satisfies(
                        r -> {
                            assertThat(r.isRejected()).isFalse();
                            assertThat(r.late).isTrue();
                            assertThat(r.event)
                                    .usingRecursiveComparison()
                                    .ignoringFields("readAt")
                                    .isEqualTo(Usage.of(old));
                            assertThat(r.payload).isEqualTo(oldPayload);
                            assertThat(r.partition).isEqualTo(3);
                            assertThat(r.offset).isEqualTo(11L);
                        });
    }

    @Test
    void keepsEventOnTimeWhileItsPartitionsClockIsJustBeforeTheClose() throws Exception {
        deserializer.deserialize(
                record(
                        3,
                        10L,
                        1_000L,
                        AvroCodec.usageEvents()
                                .encode(event("evt-new", 10, "2026-03-10T16:17:00Z"))),
                out);
        deserializer.deserialize(
                record(
                        3,
                        11L,
                        2_000L,
                        AvroCodec.usageEvents()
                                .encode(event("evt-old", 10, "2026-03-10T01:00:00Z"))),
                out);

        assertThat(out.records)
                .extracting(r -> r.isRejected(), r -> r.late)
                .containsExactly(Tuple.tuple(false, false), Tuple.tuple(false, false));
    }

    /**
     * Day 2026-03-10 takes corrections until 2026-04-14T16:00Z: past that (+ 2 min + 1 ms) its
     * events are rejected.
     */
    @Test
    void rejectsEventOfADayPastItsCorrectionDeadlineAsTooLateWithOriginalBytes() throws Exception {
        UsageEvent newest =
                event("evt-new", 10, "2026-04-14T16:02:00.001Z"); // clock: the deadline of 03-10
        UsageEvent tooLate = event("evt-old", 10, "2026-03-10T01:00:00Z");
        byte[] payload = AvroCodec.usageEvents().encode(tooLate);
        UsageEvent nextDay =
                event("evt-next-day", 10, "2026-03-10T16:00:00Z"); // 03-11: still correctable

        deserializer.deserialize(
                record(2, 20L, 1_000L, AvroCodec.usageEvents().encode(newest)), out);
        deserializer.deserialize(record(2, 21L, 1_700_000_000_000L, payload), out);
        deserializer.deserialize(
                record(2, 22L, 3_000L, AvroCodec.usageEvents().encode(nextDay)), out);

        assertThat(out.records).hasSize(3);
        assertThat(out.records.get(0).isRejected()).isFalse();
        IngestedRecord rejectedRecord = out.records.get(1);
        assertThat(rejectedRecord.isRejected()).isTrue();
        assertThat(rejectedRecord.event).isNull();
        assertThat(rejectedRecord.offset).isEqualTo(21L);
        RejectedRecord rejected = rejectedRecord.rejected;
        assertThat(rejected.getReason()).isEqualTo(RejectReason.TOO_LATE);
        assertThat(rejected.getMessage()).contains("2026-03-10");
        assertThat(bytes(rejected.getPayload())).isEqualTo(payload);
        assertThat(rejected.getSourceTopic()).isEqualTo(TOPIC);
        assertThat(rejected.getSourcePartition()).isEqualTo(2);
        assertThat(rejected.getSourceOffset()).isEqualTo(21L);
        assertThat(rejected.getSourceTimestamp())
                .isEqualTo(Instant.ofEpochMilli(1_700_000_000_000L));
        assertThat(out.records.get(2))
                .satisfies(
                        r -> {
                            assertThat(r.isRejected()).isFalse();
                            assertThat(r.late).isTrue();
                            assertThat(r.event)
                                    .usingRecursiveComparison()
                                    .ignoringFields("readAt")
                                    .isEqualTo(Usage.of(nextDay));
                        });
    }

    @Test
    void judgesEachPartitionByItsOwnEvents() throws Exception {
        deserializer.deserialize(
                record(
                        2,
                        1L,
                        1_000L,
                        AvroCodec.usageEvents()
                                .encode(event("evt-new", 10, "2026-04-14T16:02:00.001Z"))),
                out);
        byte[] old = AvroCodec.usageEvents().encode(event("evt-old", 10, "2026-03-10T01:00:00Z"));

        deserializer.deserialize(record(5, 1L, 1_000L, old), out); // first of partition 5
        deserializer.deserialize(record(2, 2L, 1_000L, old), out);

        assertThat(out.records)
                .extracting(r -> r.partition, IngestedRecord::isRejected, r -> r.late)
                .containsExactly(
                        Tuple.tuple(2, false, false),
                        Tuple.tuple(5, false, false),
                        Tuple.tuple(2, true, false));
    }

    /**
     * Only valid events move a partition's clock: a rejected record's event time is not to be
     * trusted.
     */
    @Test
    void doesNotAdvanceThePartitionsClockWithARejectedEvent() throws Exception {
        deserializer.deserialize(
                record(
                        1,
                        1L,
                        1_000L,
                        AvroCodec.usageEvents()
                                .encode(event("evt-first", 10, "2026-03-10T00:00:00Z"))),
                out);
        deserializer.deserialize(
                record(
                        1,
                        2L,
                        1_000L,
                        AvroCodec.usageEvents()
                                .encode(event("evt-invalid", -3, "2026-04-20T00:00:00Z"))),
                out);
        deserializer.deserialize(
                record(
                        1,
                        3L,
                        1_000L,
                        AvroCodec.usageEvents()
                                .encode(event("evt-old", 10, "2026-03-10T01:00:00Z"))),
                out);

        assertThat(out.records)
                .extracting(IngestedRecord::isRejected, r -> r.late)
                .containsExactly(
                        Tuple.tuple(false, false),
                        Tuple.tuple(true, false),
                        Tuple.tuple(false, false));
        assertThat(out.records.get(1).rejected.getReason())
                .isEqualTo(RejectReason.TOKENS_OUT_OF_RANGE);
    }

    /**
     * I7, I2: extreme event times as the first records of fresh partitions, judged against the real
     * clock. Before: Long.MIN_VALUE threw ArithmeticException in BillingCalendar (a restart loop),
     * and 0 was billed as on time for 1970-01-01.
     */
    @Test
    void rejectsExtremeEventTimesAsTooLateOrFutureWithoutThrowing() throws Exception {
        UsageEventDeserializer onTheSystemClock =
                new UsageEventDeserializer(
                        LIMITS, new PartitionClock(CALENDAR, OUT_OF_ORDERNESS), Fixtures.DEDUP_KEY);
        onTheSystemClock.open(null);
        long[] times = {Long.MIN_VALUE, Long.MIN_VALUE + 1, -1, 0, Long.MAX_VALUE};
        for (int i = 0; i < times.length; i++) {
            UsageEvent event = event("evt-" + i, 10);
            event.setEventTime(Instant.ofEpochMilli(times[i]));
            onTheSystemClock.deserialize(
                    record(i, 0L, 1_000L, AvroCodec.usageEvents().encode(event)), out);
        }

        assertThat(out.records)
                .extracting(r -> r.rejected.getReason())
                .containsExactly(
                        RejectReason.TOO_LATE,
                        RejectReason.TOO_LATE,
                        RejectReason.TOO_LATE,
                        RejectReason.TOO_LATE,
                        RejectReason.FUTURE_TIMESTAMP);
        assertThat(out.records.get(3).rejected.getMessage()).contains("1970-01-01");
    }

    /**
     * I10: the reproduction — 18 distinct 60,000-character models of one account — never
     * reaches billing.
     */
    @Test
    void rejectsModelNamesLongerThanTheirCapAsFieldTooLongWithTheirBytes() throws Exception {
        for (int i = 0; i < 18; i++) {
            UsageEvent event = event("evt-" + i, 10);
            event.setModel(Character.toString('a' + i).repeat(60_000));
            deserializer.deserialize(
                    record(0, i, 1_000L, AvroCodec.usageEvents().encode(event)), out);
        }

        assertThat(out.records)
                .hasSize(18)
                .allSatisfy(
                        r -> {
                            assertThat(r.rejected.getReason())
                                    .isEqualTo(RejectReason.FIELD_TOO_LONG);
                            assertThat(r.rejected.getMessage())
                                    .startsWith("model has 60000 UTF-8 bytes");
                            assertThat(r.rejected.getPayload().remaining()).isGreaterThan(60_000);
                        });
    }

    /**
     * Issue #14: the dedup key is computed once, here, and only read by the partitioning and
     * deduplication.
     */
    @Test
    void keysEachValidEventByItsSourceAndEventIdUnderTheSecretKey() throws Exception {
        UsageEvent first = event("evt-1", 10);
        UsageEvent other = event("evt-2", 10);
        other.setSource("gateway-b");

        deserializer.deserialize(record(0, 1L, 1_000L, AvroCodec.usageEvents().encode(first)), out);
        deserializer.deserialize(record(0, 2L, 1_000L, AvroCodec.usageEvents().encode(other)), out);

        EventFingerprints fingerprints = new EventFingerprints(Fixtures.DEDUP_KEY_TEXT);
        long[] firstKey = fingerprints.dedupKey(first.getSource(), "evt-1");
        long[] otherKey = fingerprints.dedupKey("gateway-b", "evt-2");
        assertThat(out.records)
                .extracting(r -> r.dedupKeyHigh, r -> r.dedupKeyLow)
                .containsExactly(
                        Tuple.tuple(firstKey[0], firstKey[1]),
                        Tuple.tuple(otherKey[0], otherKey[1]));
    }

    /**
     * The source reads the key where it runs, when it opens: a job without one fails at start-up,
     * for good.
     */
    @Test
    void failsAtOpenWithoutADedupKeyNamingTheSettings() {
        SecretSource none =
                new SecretSource(
                        "",
                        "TOKENMETER_DEDUP_KEY",
                        "dedup.key-file",
                        (UnaryOperator<String> & Serializable) name -> null);
        UsageEventDeserializer keyless = new UsageEventDeserializer(LIMITS, clock, none);

        Assertions.assertThatThrownBy(() -> keyless.open(null))
                .isInstanceOf(SuppressRestartsException.class)
                .hasStackTraceContaining("dedup.key-file")
                .hasStackTraceContaining("TOKENMETER_DEDUP_KEY");
    }

    @Test
    void producesIngestedRecords() {
        assertThat(deserializer.getProducedType().getTypeClass()).isEqualTo(IngestedRecord.class);
    }

    private UsageEventDeserializer openedWith(int maxRecordBytes) {
        UsageEventDeserializer d =
                new UsageEventDeserializer(
                        new ValidationLimits(
                                LIMITS.maxTokensPerEvent(),
                                LIMITS.futureSkewMillis(),
                                maxRecordBytes),
                        clock,
                        Fixtures.DEDUP_KEY);
        d.open(null);
        return d;
    }

    private static ConsumerRecord<byte[], byte[]> record(
            int partition, long offset, long timestamp, byte[] value) {
        return new ConsumerRecord<>(
                TOPIC,
                partition,
                offset,
                timestamp,
                TimestampType.CREATE_TIME,
                0,
                value.length,
                null,
                value,
                new RecordHeaders(),
                Optional.empty());
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
        return event(id, inputTokens, "2026-03-10T01:00:00Z");
    }

    private static UsageEvent event(String id, long inputTokens, String eventTime) {
        return Fixtures.usageEventBuilder()
                .setEventId(id)
                .setInputTokens(inputTokens)
                .setOutputTokens(5)
                .setCachedTokens(0)
                .setEventTime(Instant.parse(eventTime))
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
