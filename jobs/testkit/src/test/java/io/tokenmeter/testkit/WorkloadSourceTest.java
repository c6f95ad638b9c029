package io.tokenmeter.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.BitSet;
import org.junit.jupiter.api.Test;

class WorkloadSourceTest {

    @Test
    void mapsTheSequenceOntoEveryIndexExactlyOnce() {
        for (long events : new long[] {1, 2, 7, 10, 1001}) {
            for (int parallelism = 1; parallelism <= 5; parallelism++) {
                BitSet seen = new BitSet();
                for (long v = 0; v < events; v++) {
                    long index = WorkloadSource.interleave(v, events, parallelism);
                    assertThat(index).isBetween(0L, events - 1);
                    assertThat(seen.get((int) index)).as("index %d seen twice", index).isFalse();
                    seen.set((int) index);
                }
                assertThat(seen.cardinality()).isEqualTo((int) events);
            }
        }
    }

    @Test
    void eachContiguousSplitReadsEveryParallelismthRecord() {
        // 10 records, 3 splits of Flink's NumberSequenceIterator: [0..3], [4..6], [7..9]
        for (long v = 0; v <= 3; v++) {
            assertThat(WorkloadSource.interleave(v, 10, 3) % 3).isZero();
        }
        assertThat(WorkloadSource.interleave(4, 10, 3)).isEqualTo(1);
        assertThat(WorkloadSource.interleave(5, 10, 3)).isEqualTo(4);
        assertThat(WorkloadSource.interleave(7, 10, 3)).isEqualTo(2);
        assertThat(WorkloadSource.interleave(9, 10, 3)).isEqualTo(8);
    }
}
