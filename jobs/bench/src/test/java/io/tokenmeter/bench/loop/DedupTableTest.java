package io.tokenmeter.bench.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DedupTableTest {

    private record Id(long high, long low) {}

    @Test
    void behavesLikeAMapThatForgetsByExpiryBucket() {
        // A small table: forgotten ids are swept out and the table grows many times on the way.
        DedupTable table = new DedupTable(4);
        Map<Id, long[]> reference = new HashMap<>();
        Random random = new Random(4);
        long watermark = 0;
        for (int i = 0; i < 400_000; i++) {
            // Few distinct keys, so that retries, conflicts and ids coming back after their expiry
            // all happen; a narrow range of high bits puts many ids into the same probe runs.
            Id id = new Id(random.nextInt(64), random.nextInt(4_000));
            if (random.nextInt(1_000) == 0) {
                id = new Id(0, 0); // the key that marks empty slots
            }
            long content = random.nextInt(3);
            long expiry = watermark + 1 + random.nextInt(50);
            long[] live = reference.get(id);
            int expected =
                    live == null
                            ? DedupTable.ADDED
                            : live[0] == content
                                    ? DedupTable.SAME_CONTENT
                                    : DedupTable.OTHER_CONTENT;
            if (live == null) {
                reference.put(id, new long[] {content, expiry});
            }
            assertThat(table.putIfAbsent(id.high(), id.low(), content, expiry))
                    .as("op %d", i)
                    .isEqualTo(expected);
            assertThat(table.liveIds()).isEqualTo(reference.size());
            if (random.nextInt(200) == 0) {
                watermark += random.nextInt(20);
                table.expireUpTo(watermark);
                for (Iterator<long[]> it = reference.values().iterator(); it.hasNext(); ) {
                    if (it.next()[1] <= watermark) {
                        it.remove();
                    }
                }
                assertThat(table.liveIds()).isEqualTo(reference.size());
            }
        }
        assertThat(table.sweeps()).isPositive();
        table.expireUpTo(Long.MAX_VALUE);
        assertThat(table.liveIds()).isZero();
    }

    @Test
    void sweepKeepsEveryLiveIdFindable() {
        DedupTable table = new DedupTable(1_000);
        Random random = new Random(8);
        Map<Id, Long> all = new HashMap<>();
        for (int i = 0; i < 1_500; i++) {
            Id id = new Id(random.nextLong(), random.nextLong());
            long expiry = 1 + random.nextInt(10);
            all.put(id, expiry);
            table.putIfAbsent(id.high(), id.low(), 7, expiry);
        }
        table.expireUpTo(5);
        table.sweep();
        all.forEach(
                (id, expiry) ->
                        assertThat(table.putIfAbsent(id.high(), id.low(), 7, 100))
                                .isEqualTo(
                                        expiry <= 5 ? DedupTable.ADDED : DedupTable.SAME_CONTENT));
    }
}
