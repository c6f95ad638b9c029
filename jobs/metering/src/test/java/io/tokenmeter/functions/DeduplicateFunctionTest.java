package io.tokenmeter.functions;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.schema.AvroCodec;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.flink.api.common.accumulators.Accumulator;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DeduplicateFunctionTest {

    private static final Duration HORIZON = Duration.ofHours(24);
    private static final long H = HORIZON.toMillis();
    private static final AvroCodec<UsageEvent> CODEC = AvroCodec.usageEvents();
    private static final String TOPIC = "tokenmeter.usage.raw";
    private static final String T = "2026-03-10T01:00:00Z";
    private static final long T_MILLIS = Instant.parse(T).toEpochMilli();
    /** The name of the function's only state, for counting entries on RocksDB. */
    private static final String STATE_NAME = "first-content-hash";

    private final AtomicLong offsets = new AtomicLong(100);
    private KeyedOneInputStreamOperatorTestHarness<Tuple2<Long, Long>, IngestedRecord, IngestedRecord> harness;

    @BeforeEach
    void setUp() throws Exception {
        harness = newHarness();
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    @Test
    void passesFirstOccurrenceAndRemembersIt() throws Exception {
        long offset = process(event("gateway-a", "evt-1", 10, T));

        assertThat(harness.extractOutputValues()).singleElement().satisfies(r -> {
            assertThat(r.offset).isEqualTo(offset);
            assertThat(r.event).isEqualTo(event("gateway-a", "evt-1", 10, T));
        });
        assertThat(conflicts()).isEmpty();
        assertThat(harness.numKeyedStateEntries()).isEqualTo(1);
        assertThat(harness.numEventTimeTimers()).isEqualTo(1);
        assertThat(duplicatesCounted()).isZero();
    }

    @Test
    void dropsRetryWithSameContentAndCountsIt() throws Exception {
        long first = process(event("gateway-a", "evt-1", 10, T));
        process(event("gateway-a", "evt-1", 10, T));
        process(event("gateway-a", "evt-1", 10, T));

        assertThat(harness.extractOutputValues()).extracting(r -> r.offset).containsExactly(first);
        assertThat(conflicts()).isEmpty();
        assertThat(duplicatesCounted()).isEqualTo(2L);
        assertThat(harness.numKeyedStateEntries()).isEqualTo(1);
        assertThat(harness.numEventTimeTimers()).isEqualTo(1);
    }

    @Test
    void rejectsRepeatWithDifferentContentAsConflictingDuplicateKeepingTheFirst() throws Exception {
        long first = process(event("gateway-a", "evt-1", 10, T));
        UsageEvent repeat = event("gateway-a", "evt-1", 99, T);
        byte[] repeatPayload = CODEC.encode(repeat);
        harness.processElement(new StreamRecord<>(
                IngestedRecord.valid(repeat, TOPIC, 3, 4_242L, 55_555L, repeatPayload), T_MILLIS));

        assertThat(harness.extractOutputValues()).extracting(r -> r.offset).containsExactly(first);
        assertThat(conflicts()).singleElement().satisfies(rejected -> {
            assertThat(rejected.getReason()).isEqualTo(RejectReason.CONFLICTING_DUPLICATE);
            assertThat(rejected.getPayload()).isEqualTo(ByteBuffer.wrap(repeatPayload));
            assertThat(rejected.getSourceTopic()).isEqualTo(TOPIC);
            assertThat(rejected.getSourcePartition()).isEqualTo(3);
            assertThat(rejected.getSourceOffset()).isEqualTo(4_242L);
            assertThat(rejected.getSourceTimestamp()).isEqualTo(Instant.ofEpochMilli(55_555L));
            assertThat(rejected.getMessage()).contains("gateway-a", "evt-1");
        });
        assertThat(duplicatesCounted()).isZero();
        // A retry of the first content is still a plain duplicate.
        process(event("gateway-a", "evt-1", 10, T));
        assertThat(harness.extractOutputValues()).hasSize(1);
        assertThat(conflicts()).hasSize(1);
        assertThat(duplicatesCounted()).isEqualTo(1L);
    }

    @Test
    void passesSameEventIdFromDifferentSources() throws Exception {
        process(event("gateway-a", "evt-1", 10, T));
        process(event("gateway-b", "evt-1", 10, T));

        assertThat(harness.extractOutputValues())
                .extracting(r -> r.event.getSource())
                .containsExactly("gateway-a", "gateway-b");
        assertThat(conflicts()).isEmpty();
        assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
    }

    @Test
    void passesDifferentEventIdsFromOneSource() throws Exception {
        process(event("gateway-a", "evt-1", 10, T));
        process(event("gateway-a", "evt-2", 10, T));

        assertThat(harness.extractOutputValues()).extracting(r -> r.event.getEventId()).containsExactly("evt-1", "evt-2");
    }

    @Test
    void forgetsIdOnceWatermarkPassesEventTimePlusHorizon() throws Exception {
        process(event("gateway-a", "evt-1", 10, T));

        harness.processWatermark(T_MILLIS + H - 1);
        process(event("gateway-a", "evt-1", 10, T));
        assertThat(harness.extractOutputValues()).hasSize(1);
        assertThat(harness.numKeyedStateEntries()).isEqualTo(1);
        assertThat(harness.numEventTimeTimers()).isEqualTo(1);

        harness.processWatermark(T_MILLIS + H);
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();

        process(event("gateway-a", "evt-1", 10, T));
        assertThat(harness.extractOutputValues()).hasSize(2);
        assertThat(duplicatesCounted()).isEqualTo(1L);
    }

    /** An event already older than the horizon when it arrives is still remembered for a horizon of watermark. */
    @Test
    void remembersLateEventForHorizonOfWatermarkProgress() throws Exception {
        long watermark = T_MILLIS + 3 * H;
        harness.processWatermark(watermark);

        process(event("gateway-a", "evt-1", 10, T));
        assertThat(harness.extractOutputValues()).hasSize(1);
        assertThat(harness.numEventTimeTimers()).isEqualTo(1);

        harness.processWatermark(watermark + H - 1);
        process(event("gateway-a", "evt-1", 10, T));
        process(event("gateway-a", "evt-1", 11, T));
        assertThat(harness.extractOutputValues()).hasSize(1);
        assertThat(duplicatesCounted()).isEqualTo(1L);
        assertThat(conflicts()).hasSize(1);
        assertThat(harness.numKeyedStateEntries()).isEqualTo(1);

        harness.processWatermark(watermark + H);
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    @Test
    void clearsAllStateAndTimersOfManyIdsAfterHorizon() throws Exception {
        for (int i = 0; i < 50; i++) {
            process(event("gateway-" + (i % 3), "evt-" + i, i, T));
            process(event("gateway-" + (i % 3), "evt-" + i, i, T));
        }
        assertThat(harness.extractOutputValues()).hasSize(50);
        assertThat(duplicatesCounted()).isEqualTo(50L);
        assertThat(harness.numKeyedStateEntries()).isEqualTo(50);

        harness.processWatermark(T_MILLIS + H);

        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    /** On RocksDB the keys and content hashes go through serialization; retries and conflicts must still be told apart. */
    @Test
    void deduplicatesAndClearsOnRocksDb() throws Exception {
        harness.close();
        // Not ProcessFunctionTestHarnesses: it opens the harness, after which a state backend is ignored.
        harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new org.apache.flink.streaming.api.operators.KeyedProcessOperator<>(new DeduplicateFunction(HORIZON)),
                DeduplicateFunction.KEY, DeduplicateFunction.KEY_TYPE);
        harness.setStateBackend(new org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend());
        harness.open();
        assertThat(harness.getOperator().getKeyedStateBackend())
                .isInstanceOf(org.apache.flink.state.rocksdb.RocksDBKeyedStateBackend.class);

        long first = process(event("gateway-a", "evt-1", 10, T));
        long other = process(event("gateway-b", "evt-1", 10, T));
        process(event("gateway-a", "evt-1", 10, T));
        long conflicting = process(event("gateway-a", "evt-1", 12, T));

        assertThat(harness.extractOutputValues()).extracting(r -> r.offset).containsExactly(first, other);
        assertThat(conflicts()).extracting(RejectedRecord::getSourceOffset).containsExactly(conflicting);
        assertThat(duplicatesCounted()).isEqualTo(1L);
        assertThat(rocksDbEntries()).isEqualTo(2);
        assertThat(harness.numEventTimeTimers()).isEqualTo(2);

        harness.processWatermark(T_MILLIS + H);

        assertThat(rocksDbEntries()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
        process(event("gateway-a", "evt-1", 10, T));
        assertThat(harness.extractOutputValues()).hasSize(3);
    }

    private KeyedOneInputStreamOperatorTestHarness<Tuple2<Long, Long>, IngestedRecord, IngestedRecord> newHarness()
            throws Exception {
        return ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                new DeduplicateFunction(HORIZON), DeduplicateFunction.KEY, DeduplicateFunction.KEY_TYPE);
    }

    /** Processes {@code event} as read at the next offset; returns that offset. */
    private long process(UsageEvent event) throws Exception {
        long offset = offsets.getAndIncrement();
        IngestedRecord record = IngestedRecord.valid(event, TOPIC, 0, offset, 0L, CODEC.encode(event));
        harness.processElement(new StreamRecord<>(record, event.getEventTime().toEpochMilli()));
        return offset;
    }

    private List<RejectedRecord> conflicts() {
        var side = harness.getSideOutput(DeduplicateFunction.CONFLICTING);
        return side == null ? List.of() : side.stream().map(StreamRecord::getValue).toList();
    }

    private long duplicatesCounted() {
        Accumulator<?, ?> counter = harness.getEnvironment().getAccumulatorRegistry().getUserMap()
                .get(DeduplicateFunction.DUPLICATES_ACCUMULATOR);
        assertThat(counter).as("accumulator %s", DeduplicateFunction.DUPLICATES_ACCUMULATOR).isNotNull();
        return (Long) counter.getLocalValue();
    }

    private long rocksDbEntries() {
        try (Stream<Tuple2<Long, Long>> keys = harness.getOperator().<Tuple2<Long, Long>>getKeyedStateBackend()
                .getKeys(STATE_NAME, VoidNamespace.INSTANCE)) {
            return keys.count();
        }
    }

    private static UsageEvent event(String source, String eventId, long inputTokens, String time) {
        return UsageEvent.newBuilder()
                .setEventId(eventId)
                .setSource(source)
                .setAccountId("acct-1")
                .setRegion("CN-GD")
                .setModel("qwen-max")
                .setModality(Modality.TEXT)
                .setInputTokens(inputTokens)
                .setOutputTokens(5)
                .setCachedTokens(0)
                .setEventTime(Instant.parse(time))
                .build();
    }
}
