package io.tokenmeter.bench.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LineTableTest {

    @Test
    void sumsEachLineExactlyAndFoldsIntoAnotherTable() {
        LineTable hour = new LineTable(2);
        LineTable day = new LineTable(2);
        Map<Long, long[]> reference = new HashMap<>();
        Random random = new Random(2);
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 50_000; i++) {
                int account = random.nextInt(20_000);
                int product = random.nextInt(40);
                long input = random.nextInt(10_000);
                long output = random.nextInt(10_000);
                long cached = random.nextInt(100);
                hour.add(LineTable.key(account, product), input, output, cached);
                long[] sums =
                        reference.computeIfAbsent(
                                LineTable.key(account, product), k -> new long[4]);
                sums[0] += input;
                sums[1] += output;
                sums[2] += cached;
                sums[3]++;
            }
            day.addAll(hour);
            hour.clear();
            assertThat(hour.size()).isZero();
        }
        Map<Long, long[]> seen = new HashMap<>();
        day.forEach(
                (account, product, input, output, cached, events) ->
                        seen.put(
                                LineTable.key(account, product),
                                new long[] {input, output, cached, events}));
        assertThat(day.size()).isEqualTo(reference.size());
        assertThat(seen).containsOnlyKeys(reference.keySet());
        reference.forEach((key, sums) -> assertThat(seen.get(key)).containsExactly(sums));
    }

    @Test
    void keepsAccountAndProductApartForAnyIds() {
        LineTable table = new LineTable(4);
        table.add(LineTable.key(Integer.MAX_VALUE, Integer.MAX_VALUE), 1, 0, 0);
        table.add(LineTable.key(0, 0), 2, 0, 0);
        table.add(LineTable.key(1, 0), 3, 0, 0);
        Map<String, Long> seen = new HashMap<>();
        table.forEach(
                (account, product, input, output, cached, events) ->
                        seen.put(account + "/" + product, input));
        assertThat(seen)
                .containsOnly(
                        Map.entry(Integer.MAX_VALUE + "/" + Integer.MAX_VALUE, 1L),
                        Map.entry("0/0", 2L),
                        Map.entry("1/0", 3L));
    }

    @Test
    void refusesToWrapPastTheLargestLong() {
        LineTable table = new LineTable(4);
        table.add(LineTable.key(1, 1), Long.MAX_VALUE, 0, 0);
        assertThatThrownBy(() -> table.add(LineTable.key(1, 1), 1, 0, 0))
                .isInstanceOf(ArithmeticException.class);
    }
}
