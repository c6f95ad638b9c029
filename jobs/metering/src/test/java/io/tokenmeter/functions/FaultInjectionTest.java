package io.tokenmeter.functions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenmeter.metering.FaultConfig.Fault;
import io.tokenmeter.metering.MeteringConfig;
import java.util.Map;
import org.apache.flink.streaming.api.operators.StreamMap;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * The fault suite's hook: fails once where told, and is a plain pass-through otherwise. (Kills are
 * not testable here.)
 */
class FaultInjectionTest {

    @Test
    void failsSubtaskZeroOnceOnTheFirstRecordAfterTheConfiguredCheckpoints() throws Exception {
        try (var harness = harness(Fault.FAIL_BEFORE_BARRIER, 2, 0)) {
            harness.processElement(new StreamRecord<>("a"));
            harness.notifyOfCompletedCheckpoint(1);
            harness.processElement(new StreamRecord<>("b"));
            harness.notifyOfCompletedCheckpoint(2);

            assertThatThrownBy(() -> harness.processElement(new StreamRecord<>("c")))
                    .isInstanceOf(FaultInjection.InjectedFault.class)
                    .hasMessageContaining("after checkpoint 2");
            harness.processElement(new StreamRecord<>("d"));

            assertThat(harness.extractOutputValues()).containsExactly("a", "b", "d");
        }
    }

    @Test
    void otherSubtasksPassEverythingThrough() throws Exception {
        try (var harness = harness(Fault.FAIL_BEFORE_BARRIER, 1, 1)) {
            harness.notifyOfCompletedCheckpoint(1);
            harness.processElement(new StreamRecord<>("a"));
            harness.notifyOfCompletedCheckpoint(2);
            harness.processElement(new StreamRecord<>("b"));

            assertThat(harness.extractOutputValues()).containsExactly("a", "b");
        }
    }

    @Test
    void isInertByDefault() throws Exception {
        MeteringConfig config = MeteringConfig.defaultConfig();
        assertThat(config.faults().inject()).isEqualTo(Fault.NONE);
        try (var harness =
                harness(config.faults().inject(), config.faults().afterCheckpoints(), 0)) {
            for (int checkpoint = 1; checkpoint <= 5; checkpoint++) {
                harness.processElement(new StreamRecord<>("r" + checkpoint));
                harness.snapshot(checkpoint, checkpoint);
                harness.notifyOfCompletedCheckpoint(checkpoint);
            }
            assertThat(harness.extractOutputValues()).containsExactly("r1", "r2", "r3", "r4", "r5");
        }
    }

    @Test
    void readsTheFaultFromConfigurationAndNamesTheKeyOfABadOne() {
        MeteringConfig config =
                MeteringConfig.fromMap(
                        Map.of(
                                "faults.inject",
                                "kill-after-checkpoint",
                                "faults.after-checkpoints",
                                "3"));
        assertThat(config.faults().inject()).isEqualTo(Fault.KILL_AFTER_CHECKPOINT);
        assertThat(config.faults().afterCheckpoints()).isEqualTo(3);
        assertThat(MeteringConfig.fromMap(config.asMap())).isEqualTo(config);

        assertThatThrownBy(() -> MeteringConfig.fromMap(Map.of("faults.inject", "explode")))
                .hasMessageContaining("'faults.inject'")
                .hasMessageContaining("kill-during-snapshot");
        assertThatThrownBy(() -> MeteringConfig.fromMap(Map.of("faults.after-checkpoints", "0")))
                .hasMessageContaining("'faults.after-checkpoints'");
    }

    private static OneInputStreamOperatorTestHarness<String, String> harness(
            Fault fault, int afterCheckpoints, int subtask) throws Exception {
        OneInputStreamOperatorTestHarness<String, String> harness =
                new OneInputStreamOperatorTestHarness<>(
                        new StreamMap<>(new FaultInjection<String>(fault, afterCheckpoints)),
                        2,
                        2,
                        subtask);
        harness.open();
        return harness;
    }
}
