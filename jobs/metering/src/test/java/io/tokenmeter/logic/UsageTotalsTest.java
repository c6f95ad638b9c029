package io.tokenmeter.logic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.flink.types.PojoTestUtils;
import org.junit.jupiter.api.Test;

class UsageTotalsTest {

    @Test
    void isSerializedAsPojoWithoutKryo() {
        PojoTestUtils.assertSerializedAsPojoWithoutKryo(UsageTotals.class);
    }

    @Test
    void addsEventsAndTotals() {
        UsageTotals totals = new UsageTotals().addEvent(1, 2, 3).addEvent(10, 20, 30);
        totals.add(new UsageTotals(100, 200, 300, 5));

        assertThat(totals).isEqualTo(new UsageTotals(111, 222, 333, 7));
        assertThat(totals.totalTokens()).isEqualTo(666);
    }

    @Test
    void throwsRatherThanWrapsOnOverflow() {
        UsageTotals totals = new UsageTotals(Long.MAX_VALUE, 0, 0, 1);

        assertThatThrownBy(() -> totals.addEvent(1, 0, 0)).isInstanceOf(ArithmeticException.class);
    }
}
