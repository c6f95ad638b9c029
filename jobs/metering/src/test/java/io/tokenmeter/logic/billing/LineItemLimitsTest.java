package io.tokenmeter.logic.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.Modality;
import org.junit.jupiter.api.Test;

class LineItemLimitsTest {

    @Test
    void admitsNewLinesUpToTheCapThenOnlyKnownOnes() {
        String[] day = null;
        for (int i = 0; i < 3; i++) {
            day = LineItemLimits.admit(day, LineItemLimits.lineKey(Modality.TEXT, "m" + i), 3);
            assertThat(day).hasSize(i + 1);
        }
        String[] full = day;

        assertThat(LineItemLimits.admit(full, LineItemLimits.lineKey(Modality.TEXT, "m3"), 3))
                .isNull();
        assertThat(LineItemLimits.admit(full, LineItemLimits.lineKey(Modality.TEXT, "m1"), 3))
                .isSameAs(full);
    }

    /** The same model in another modality is another line item. */
    @Test
    void countsModalityAndModelTogether() {
        String[] day = LineItemLimits.admit(null, LineItemLimits.lineKey(Modality.TEXT, "m"), 2);
        day = LineItemLimits.admit(day, LineItemLimits.lineKey(Modality.CODE, "m"), 2);

        assertThat(day).containsExactly("CODE/m", "TEXT/m");
        assertThat(LineItemLimits.admit(day, LineItemLimits.lineKey(Modality.IMAGE, "m"), 2))
                .isNull();
    }

    @Test
    void keepsKeysSortedWhateverTheOrderOfArrival() {
        String[] day = null;
        for (String model : new String[] {"c", "a", "d", "b"}) {
            day = LineItemLimits.admit(day, LineItemLimits.lineKey(Modality.TEXT, model), 10);
        }
        assertThat(day).containsExactly("TEXT/a", "TEXT/b", "TEXT/c", "TEXT/d");
    }
}
