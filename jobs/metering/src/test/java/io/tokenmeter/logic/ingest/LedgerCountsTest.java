package io.tokenmeter.logic.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.LedgerEntry;
import io.tokenmeter.logic.ingest.LedgerCounts.Column;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

class LedgerCountsTest {

    private static final long HOUR = 3_600_000L;
    private static final long T = Instant.parse("2026-03-10T01:00:00Z").toEpochMilli();

    @Test
    void countsEachColumnPerTopicPartitionAndHour() {
        LedgerCounts counts = new LedgerCounts();
        counts.add("raw", 0, T, Column.READ);
        counts.add("raw", 0, T + HOUR - 1, Column.READ);
        counts.add("raw", 0, T + HOUR - 1, Column.DUPLICATE);
        counts.add("raw", 1, T, Column.READ);
        counts.add("raw", 0, T + HOUR, Column.REJECTED);
        counts.add("other", 0, T, Column.READ);

        assertThat(drain(counts))
                .extracting(
                        LedgerEntry::getSourceTopic,
                        LedgerEntry::getSourcePartition,
                        e -> e.getHourStart().toEpochMilli(),
                        LedgerEntry::getRecordsRead,
                        LedgerEntry::getDuplicates,
                        LedgerEntry::getRejected)
                .containsExactlyInAnyOrder(
                        Tuple.tuple("raw", 0, T, 2L, 1L, 0L),
                        Tuple.tuple("raw", 1, T, 1L, 0L, 0L),
                        Tuple.tuple("raw", 0, T + HOUR, 0L, 0L, 1L),
                        Tuple.tuple("other", 0, T, 1L, 0L, 0L));
    }

    @Test
    void forgetsWhatItDrained() {
        LedgerCounts counts = new LedgerCounts();
        counts.add("raw", 0, T, Column.READ);
        assertThat(drain(counts)).hasSize(1);
        assertThat(counts.isEmpty()).isTrue();
        assertThat(drain(counts)).isEmpty();

        // The bucket counted last before the drain starts again from zero.
        counts.add("raw", 0, T, Column.READ);
        assertThat(drain(counts))
                .singleElement()
                .satisfies(e -> assertThat(e.getRecordsRead()).isEqualTo(1L));
    }

    @Test
    void bucketsEveryTimestampIntoItsUtcHourWithoutOverflow() {
        assertThat(LedgerCounts.hourStart(T + 1_234)).isEqualTo(T);
        assertThat(LedgerCounts.hourStart(-1)).isEqualTo(-HOUR); // Kafka's "no timestamp"
        assertThat(LedgerCounts.hourStart(Long.MAX_VALUE))
                .isLessThanOrEqualTo(Long.MAX_VALUE)
                .isGreaterThan(0);
        assertThat(LedgerCounts.hourStart(Long.MIN_VALUE)).isEqualTo(Long.MIN_VALUE);
        assertThat(LedgerCounts.hourStart(Long.MIN_VALUE + HOUR))
                .isGreaterThan(Long.MIN_VALUE)
                .isLessThanOrEqualTo(Long.MIN_VALUE + HOUR);
        LedgerCounts counts = new LedgerCounts();
        counts.add("raw", 0, Long.MIN_VALUE, Column.READ);
        counts.add("raw", 0, Long.MAX_VALUE, Column.READ);
        assertThat(drain(counts)).hasSize(2);
    }

    private static List<LedgerEntry> drain(LedgerCounts counts) {
        List<LedgerEntry> entries = new ArrayList<>();
        counts.drain(entries::add);
        return entries;
    }
}
