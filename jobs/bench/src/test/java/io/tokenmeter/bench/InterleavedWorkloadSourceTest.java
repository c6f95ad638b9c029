package io.tokenmeter.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.BitSet;
import org.junit.jupiter.api.Test;

class InterleavedWorkloadSourceTest {

    @Test
    void mapsTheSequenceOntoEveryIndexExactlyOnce() {
        for (long events : new long[] {1, 2, 7, 10, 1001}) {
            for (int parallelism = 1; parallelism <= 5; parallelism++) {
                BitSet seen = new BitSet();
                for (long v = 0; v < events; v++) {
                    long index = InterleavedWorkloadSource.interleave(v, events, parallelism);
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
            assertThat(InterleavedWorkloadSource.interleave(v, 10, 3) % 3).isZero();
        }
        assertThat(InterleavedWorkloadSource.interleave(4, 10, 3)).isEqualTo(1);
        assertThat(InterleavedWorkloadSource.interleave(5, 10, 3)).isEqualTo(4);
        assertThat(InterleavedWorkloadSource.interleave(7, 10, 3)).isEqualTo(2);
        assertThat(InterleavedWorkloadSource.interleave(9, 10, 3)).isEqualTo(8);
    }
}
