package io.tokenmeter.functions;

import static io.tokenmeter.testing.Fixtures.millis;
import static io.tokenmeter.testing.Fixtures.usageEvent;
import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.schema.AvroCodec;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The cap on distinct line items per account and billing day, decided while the original bytes are
 * at hand.
 */
class LineItemLimitFunctionTest {

    private static final BillingCalendar CALENDAR =
            new BillingCalendar(
                    ZoneId.of("Asia/Shanghai"), Duration.ofMinutes(15), Duration.ofDays(35));
    private static final int CAP = 4;
    private static final int MAX_PARALLELISM = 128;

    /** Shanghai day 2026-03-10 (from 03-09T16:00Z) takes corrections until 2026-04-14T16:00Z. */
    private static final long DEADLINE = millis("2026-04-14T16:00:00Z");

    /**
     * Where the heap backend's sweep removes the day: at the end of the (UTC) day of event time
     * that holds its deadline.
     */
    private static final long SWEPT = millis("2026-04-15T00:00:00Z");

    private KeyedOneInputStreamOperatorTestHarness<String, IngestedRecord, IngestedRecord> harness;

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    @Test
    void rejectsNewLinesBeyondTheCapWithTheirBytesAndKeepsBillingKnownOnes() throws Exception {
        // given: an account using CAP distinct models on one day
        harness = open(null);
        fillTheDay();

        // when: two more models, a known model, the same model in a new modality, another account,
        // another day
        IngestedRecord fifth =
                ingested("e-5", "acct-1", "model-5", Modality.TEXT, "2026-03-10T02:00:00Z", 10);
        harness.processElement(fifth, millis("2026-03-10T02:00:00Z"));
        harness.processElement(
                record("e-6", "acct-1", "model-6", Modality.TEXT, "2026-03-10T03:00:00Z", 11));
        harness.processElement(
                record("e-7", "acct-1", "model-0", Modality.TEXT, "2026-03-10T04:00:00Z", 12));
        harness.processElement(
                record("e-8", "acct-1", "model-0", Modality.CODE, "2026-03-10T04:00:00Z", 13));
        harness.processElement(
                record("e-9", "acct-2", "model-5", Modality.TEXT, "2026-03-10T04:00:00Z", 14));
        harness.processElement(
                record("e-10", "acct-1", "model-5", Modality.TEXT, "2026-03-11T01:00:00Z", 15));

        // then: each new line beyond the cap is rejected, as read; everything else passes
        assertThat(harness.extractOutputValues())
                .extracting(r -> r.event.eventId)
                .containsExactly("e-0", "e-1", "e-2", "e-3", "e-7", "e-9", "e-10");
        List<RejectedRecord> rejected = rejected();
        assertThat(rejected)
                .extracting(RejectedRecord::getReason)
                .containsOnly(RejectReason.TOO_MANY_LINE_ITEMS);
        assertThat(rejected)
                .extracting(RejectedRecord::getSourceOffset)
                .containsExactly(10L, 11L, 13L);
        assertThat(rejected.get(0).getPayload().array()).isEqualTo(fifth.payload);
        assertThat(rejected.get(0).getMessage())
                .contains("acct-1", "2026-03-10", "model-5", "validation.max-line-items-per-day");
    }

    @Test
    void keepsTheCountAcrossARestoreAndForgetsTheDayAtItsCorrectionDeadline() throws Exception {
        // given: a full day, snapshotted
        harness = open(null);
        fillTheDay();
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        harness.close();

        // when: restored, a new model arrives
        harness = open(snapshot);
        harness.processElement(
                record("e-5", "acct-1", "model-5", Modality.TEXT, "2026-03-10T02:00:00Z", 5));

        // then: still rejected; one state entry and no timer for the account; forgotten at its
        // deadline, and removed by the sweep once event time passed the deadline's day
        assertThat(harness.extractOutputValues()).isEmpty();
        assertThat(rejected())
                .extracting(RejectedRecord::getReason)
                .containsExactly(RejectReason.TOO_MANY_LINE_ITEMS);
        assertThat(harness.numKeyedStateEntries()).isEqualTo(1);
        assertThat(harness.numEventTimeTimers()).isZero();
        harness.processWatermark(new Watermark(DEADLINE - 1));
        harness.processWatermark(new Watermark(SWEPT - 1));
        assertThat(harness.numKeyedStateEntries()).isEqualTo(1);
        harness.processWatermark(new Watermark(SWEPT));
        assertThat(harness.numKeyedStateEntries()).isZero();

        // and usage of the forgotten day is too late here, so its lines are never counted afresh
        harness.processElement(
                record("e-6", "acct-1", "model-6", Modality.TEXT, "2026-03-10T02:00:00Z", 6));
        assertThat(rejected())
                .extracting(RejectedRecord::getReason)
                .containsExactly(RejectReason.TOO_LATE);
        assertThat(harness.numKeyedStateEntries()).isZero();
    }

    @Test
    void readsTheStateAgainForADayNoLongerKeptInMemory() throws Exception {
        // given: a full day, then more accounts than are kept in memory
        harness = open(null);
        fillTheDay();
        for (int i = 0; i <= LineItemLimitFunction.CACHED_ACCOUNTS; i++) {
            harness.processElement(
                    record(
                            "o-" + i,
                            "other-" + i,
                            "model-0",
                            Modality.TEXT,
                            "2026-03-10T01:00:00Z",
                            100 + i));
        }

        // when: the first account adds a line, then uses a known one
        harness.processElement(
                record("e-5", "acct-1", "model-5", Modality.TEXT, "2026-03-10T02:00:00Z", 5));
        harness.processElement(
                record("e-6", "acct-1", "model-1", Modality.TEXT, "2026-03-10T02:00:00Z", 6));

        // then: the cap still holds, and the known line still passes
        assertThat(rejected()).extracting(RejectedRecord::getSourceOffset).containsExactly(5L);
        assertThat(harness.extractOutputValues()).extracting(r -> r.event.eventId).contains("e-6");
    }

    /**
     * Issue #14: on RocksDB no timer and no delete: the compaction filter removes an account's
     * lines once the watermark reached the latest correction deadline among its days, and keeps
     * them before — across a restore at another parallelism too.
     */
    @Test
    void onRocksDbTheCompactionRemovesAnAccountsLinesAtItsLastDeadlineOnly() throws Exception {
        // given: acct-1 with a full day and one line on the next day, acct-2 with one line
        harness = open(null, true, 1, 0);
        fillTheDay();
        harness.processElement(
                record("e-4", "acct-1", "model-0", Modality.TEXT, "2026-03-11T01:00:00Z", 4));
        harness.processElement(
                record("e-5", "acct-2", "model-0", Modality.TEXT, "2026-03-10T01:00:00Z", 5));
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        harness.close();

        // when: restored at parallelism 2, each subtask holding its own accounts
        long entries = 0;
        List<RejectedRecord> rejectedAfterRestore = new ArrayList<>();
        List<String> passedAfterRestore = new ArrayList<>();
        for (int subtask = 0; subtask < 2; subtask++) {
            harness =
                    open(
                            AbstractStreamOperatorTestHarness.repartitionOperatorState(
                                    snapshot, MAX_PARALLELISM, 1, 2, subtask),
                            true,
                            2,
                            subtask);
            harness.processWatermark(new Watermark(DEADLINE - 1));
            compact();
            entries += rocksDbEntries();
            if (KeyGroupRangeAssignment.assignKeyToParallelOperator("acct-1", MAX_PARALLELISM, 2)
                    != subtask) {
                harness.close();
                continue;
            }
            // acct-1's full day still holds where acct-1 now is
            harness.processElement(
                    record("e-6", "acct-1", "model-9", Modality.TEXT, "2026-03-10T02:00:00Z", 6));
            rejectedAfterRestore.addAll(rejected());
            harness.processWatermark(new Watermark(DEADLINE));
            compact();
            // acct-2's only day passed its deadline; acct-1 keeps its next day
            harness.processElement(
                    record("e-7", "acct-1", "model-8", Modality.TEXT, "2026-03-11T02:00:00Z", 7));
            harness.extractOutputValues().forEach(r -> passedAfterRestore.add(r.event.eventId));
            harness.close();
        }
        harness = open(null); // closed after the test

        // then
        assertThat(entries).isEqualTo(2);
        assertThat(rejectedAfterRestore)
                .filteredOn(r -> r.getSourceOffset() == 6L)
                .extracting(RejectedRecord::getReason)
                .containsExactly(RejectReason.TOO_MANY_LINE_ITEMS);
        assertThat(passedAfterRestore).containsExactly("e-7");
    }

    @Test
    void onRocksDbKeepsTheLinesUntilTheWatermarkReachesTheLastDeadline() throws Exception {
        harness = open(null, true, 1, 0);
        harness.processElement(
                record("e-1", "acct-1", "model-0", Modality.TEXT, "2026-03-10T01:00:00Z", 1));
        harness.processElement(
                record("e-2", "acct-1", "model-0", Modality.TEXT, "2026-03-11T01:00:00Z", 2));
        harness.processElement(
                record("e-3", "acct-2", "model-0", Modality.TEXT, "2026-03-10T01:00:00Z", 3));

        harness.processWatermark(new Watermark(DEADLINE - 1));
        compact();
        assertThat(rocksDbEntries()).isEqualTo(2);

        harness.processWatermark(new Watermark(DEADLINE));
        compact();
        assertThat(rocksDbEntries()).as("acct-2's only day is past its deadline").isEqualTo(1);

        harness.processWatermark(new Watermark(DEADLINE + Duration.ofDays(1).toMillis()));
        compact();
        assertThat(rocksDbEntries()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    private void compact() throws Exception {
        ((LineItemLimitFunction)
                        ((WatermarkRememberingOperator<?, ?, ?>) harness.getOperator())
                                .getUserFunction())
                .compactLines();
    }

    private long rocksDbEntries() {
        try (Stream<String> keys =
                harness.getOperator()
                        .<String>getKeyedStateBackend()
                        .getKeys(LineItemLimitFunction.STATE_NAME, VoidNamespace.INSTANCE)) {
            return keys.count();
        }
    }

    /** acct-1 uses CAP distinct models on 2026-03-10 (offsets 0 to CAP - 1). */
    private void fillTheDay() throws Exception {
        for (int i = 0; i < CAP; i++) {
            harness.processElement(
                    record(
                            "e-" + i,
                            "acct-1",
                            "model-" + i,
                            Modality.TEXT,
                            "2026-03-10T01:00:00Z",
                            i));
        }
    }

    private List<RejectedRecord> rejected() {
        var side = harness.getSideOutput(LineItemLimitFunction.REJECTED);
        if (side == null) {
            return List.of();
        }
        List<RejectedRecord> records = side.stream().map(StreamRecord::getValue).toList();
        side.clear();
        return records;
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, IngestedRecord, IngestedRecord>
            open(OperatorSubtaskState snapshot) throws Exception {
        return open(snapshot, false, 1, 0);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, IngestedRecord, IngestedRecord>
            open(OperatorSubtaskState snapshot, boolean rocksDb, int parallelism, int subtask)
                    throws Exception {
        var harness =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new WatermarkRememberingOperator<>(
                                new LineItemLimitFunction(CALENDAR, CAP)),
                        LineItemLimitFunction.KEY,
                        Types.STRING,
                        MAX_PARALLELISM,
                        parallelism,
                        subtask);
        if (rocksDb) {
            harness.setStateBackend(new EmbeddedRocksDBStateBackend());
        }
        if (snapshot != null) {
            harness.initializeState(snapshot);
        }
        harness.open();
        return harness;
    }

    private static StreamRecord<IngestedRecord> record(
            String id, String account, String model, Modality modality, String time, long offset) {
        return new StreamRecord<>(
                ingested(id, account, model, modality, time, offset), millis(time));
    }

    private static IngestedRecord ingested(
            String id, String account, String model, Modality modality, String time, long offset) {
        UsageEvent event = usageEvent(id, account, model, modality, 10, 5, 0, time);
        return IngestedRecord.valid(
                event, "raw", 0, offset, 1_000L, AvroCodec.usageEvents().encode(event));
    }
}
