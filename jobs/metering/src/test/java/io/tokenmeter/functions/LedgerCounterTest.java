package io.tokenmeter.functions;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.LedgerEntry;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.logic.ingest.Rejections;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LedgerCounterTest {

    private static final String TOPIC = "tokenmeter.usage.raw";
    private static final long T = Instant.parse("2026-03-10T01:00:00Z").toEpochMilli();

    private OneInputStreamOperatorTestHarness<IngestedRecord, IngestedRecord> harness;

    @AfterEach
    void tearDown() throws Exception {
        if (harness != null) {
            harness.close();
        }
    }

    @Test
    void passesRecordsOnAndEmitsNothingBeforeTheBarrier() throws Exception {
        harness = open(LedgerCounter.recordsRead(), null);

        read(0, 100, T);
        read(0, 101, T + 1);

        assertThat(harness.extractOutputValues())
                .extracting(r -> r.offset)
                .containsExactly(100L, 101L);
        assertThat(entries()).isEmpty();
    }

    @Test
    void emitsItsCountsBeforeTheCheckpointBarrierAndStartsAgainFromZero() throws Exception {
        harness = open(LedgerCounter.recordsRead(), null);
        read(0, 100, T);
        read(0, 101, T);
        read(1, 7, T);

        harness.prepareSnapshotPreBarrier(1);

        assertThat(entries())
                .extracting(LedgerEntry::getSourcePartition, LedgerEntry::getRecordsRead)
                .containsExactlyInAnyOrder(Tuple.tuple(0, 2L), Tuple.tuple(1, 1L));
        harness.getSideOutput(LedgerCounter.ENTRIES).clear();

        read(0, 102, T);
        harness.prepareSnapshotPreBarrier(2);

        assertThat(entries())
                .singleElement()
                .satisfies(e -> assertThat(e.getRecordsRead()).isEqualTo(1L));
    }

    @Test
    void countsAfterARestoreOnlyWhatIsReadAgain() throws Exception {
        // given: a checkpoint whose counts went out before its barrier, then records counted after
        // it
        harness = open(LedgerCounter.recordsRead(), null);
        read(0, 100, T);
        harness.prepareSnapshotPreBarrier(1);
        OperatorSubtaskState checkpoint = harness.snapshot(1, 1);
        assertThat(sum(entries())).isEqualTo(1L);
        read(0, 101, T);
        read(0, 102, T);
        harness.close(); // the failure: counts not yet emitted are lost, like the transaction they
        // would be in

        // when: restored from the checkpoint, the source reads the records after it again
        harness = open(LedgerCounter.recordsRead(), checkpoint);
        read(0, 101, T);
        read(0, 102, T);
        harness.prepareSnapshotPreBarrier(2);

        // then: those records are counted once, and nothing of before the checkpoint comes back
        assertThat(sum(entries())).isEqualTo(2L);
    }

    @Test
    void emitsWhatIsLeftWhenTheInputEnds() throws Exception {
        harness = open(LedgerCounter.recordsRead(), null);
        read(3, 100, T);

        harness.getOperator().finish();

        assertThat(entries())
                .singleElement()
                .satisfies(
                        e -> {
                            assertThat(e.getSourceTopic()).isEqualTo(TOPIC);
                            assertThat(e.getSourcePartition()).isEqualTo(3);
                            assertThat(e.getHourStart()).isEqualTo(Instant.ofEpochMilli(T));
                            assertThat(e.getRecordsRead()).isEqualTo(1L);
                            assertThat(e.getDuplicates()).isZero();
                            assertThat(e.getRejected()).isZero();
                        });
    }

    @Test
    void countsDuplicatesInTheirOwnColumn() throws Exception {
        harness = open(LedgerCounter.duplicates(), null);
        read(0, 100, T);

        harness.prepareSnapshotPreBarrier(1);

        assertThat(entries())
                .singleElement()
                .satisfies(
                        e -> {
                            assertThat(e.getDuplicates()).isEqualTo(1L);
                            assertThat(e.getRecordsRead()).isZero();
                        });
    }

    @Test
    void countsRejectedRecordsWhereTheyWereRead() throws Exception {
        try (OneInputStreamOperatorTestHarness<RejectedRecord, RejectedRecord> rejected =
                new OneInputStreamOperatorTestHarness<>(LedgerCounter.rejected())) {
            rejected.open();
            RejectedRecord record =
                    Rejections.reject(
                            RejectReason.MALFORMED,
                            "bad",
                            new byte[] {1},
                            TOPIC,
                            2,
                            55,
                            T + 5,
                            T + 10);

            rejected.processElement(new StreamRecord<>(record));
            rejected.prepareSnapshotPreBarrier(1);

            assertThat(rejected.extractOutputValues()).containsExactly(record);
            assertThat(rejected.getSideOutput(LedgerCounter.ENTRIES))
                    .singleElement()
                    .satisfies(
                            r -> {
                                LedgerEntry e = r.getValue();
                                assertThat(e.getSourcePartition()).isEqualTo(2);
                                assertThat(e.getHourStart()).isEqualTo(Instant.ofEpochMilli(T));
                                assertThat(e.getRejected()).isEqualTo(1L);
                                assertThat(e.getRecordsRead()).isZero();
                            });
        }
    }

    private static OneInputStreamOperatorTestHarness<IngestedRecord, IngestedRecord> open(
            LedgerCounter<IngestedRecord> counter, OperatorSubtaskState restored) throws Exception {
        OneInputStreamOperatorTestHarness<IngestedRecord, IngestedRecord> h =
                new OneInputStreamOperatorTestHarness<>(counter);
        if (restored != null) {
            h.initializeState(restored);
        }
        h.open();
        return h;
    }

    private void read(int partition, long offset, long kafkaTimestamp) throws Exception {
        IngestedRecord record = new IngestedRecord();
        record.topic = TOPIC;
        record.partition = partition;
        record.offset = offset;
        record.kafkaTimestamp = kafkaTimestamp;
        harness.processElement(new StreamRecord<>(record));
    }

    private List<LedgerEntry> entries() {
        ConcurrentLinkedQueue<StreamRecord<LedgerEntry>> side =
                harness.getSideOutput(LedgerCounter.ENTRIES);
        return side == null ? List.of() : side.stream().map(StreamRecord::getValue).toList();
    }

    private static long sum(List<LedgerEntry> entries) {
        return entries.stream().mapToLong(LedgerEntry::getRecordsRead).sum();
    }
}
