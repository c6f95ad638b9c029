package io.tokenmeter.functions;

import static io.tokenmeter.testing.Fixtures.hourCorrection;
import static io.tokenmeter.testing.Fixtures.onTime;
import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.UsagePartial;
import io.tokenmeter.logic.billing.UsageBundle;
import io.tokenmeter.logic.billing.UsageRows;
import io.tokenmeter.logic.rollups.AreaBundle;
import io.tokenmeter.logic.rollups.AreaRollups;
import io.tokenmeter.testing.Fixtures;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PreAggregateOperatorTest {

    private static final BillingCalendar CALENDAR =
            new BillingCalendar(
                    ZoneId.of("Asia/Shanghai"), Duration.ofMinutes(15), Duration.ofDays(35));
    private static final long MAX_DELAY_MILLIS = 1_000;

    /** The end of the hour of every {@link #event}. */
    private static final long HOUR_END = Instant.parse("2026-03-10T03:00:00Z").toEpochMilli();

    private OneInputStreamOperatorTestHarness<UsagePartial, UsagePartial> harness;

    @BeforeEach
    void setUp() throws Exception {
        harness =
                new OneInputStreamOperatorTestHarness<>(
                        new PreAggregateOperator<>(
                                UsageBundle::new, 3, Duration.ofMillis(MAX_DELAY_MILLIS)));
        harness.setProcessingTime(0);
        harness.open();
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    @Test
    void passesTheSumsOnBeforeAWatermarkThatClosesTheirHour() throws Exception {
        process("a", 1);
        process("a", 10);
        assertThat(harness.getOutput()).isEmpty();

        harness.processWatermark(new Watermark(HOUR_END));

        assertThat(harness.getOutput()).hasSize(2);
        assertThat(harness.getOutput().poll())
                .isInstanceOfSatisfying(
                        StreamRecord.class,
                        r -> assertThat(((UsagePartial) r.getValue()).inputTokens).isEqualTo(11));
        assertThat(harness.getOutput().poll()).isEqualTo(new Watermark(HOUR_END));
    }

    @Test
    void keepsSummingAcrossWatermarksThatCloseNoneOfItsHours() throws Exception {
        process("a", 1);

        harness.processWatermark(new Watermark(HOUR_END - 1));
        process("a", 10);

        assertThat(harness.getOutput())
                .as("the watermark passes on at once, the sum stays")
                .containsExactly(new Watermark(HOUR_END - 1));
        harness.getOutput().clear();
        harness.processWatermark(new Watermark(HOUR_END + 1));
        assertThat(harness.getOutput().poll())
                .isInstanceOfSatisfying(
                        StreamRecord.class,
                        r -> assertThat(((UsagePartial) r.getValue()).inputTokens).isEqualTo(11));
        assertThat(harness.getOutput().poll()).isEqualTo(new Watermark(HOUR_END + 1));
    }

    @Test
    void passesTheSumsOnBeforeTheCheckpointBarrier() throws Exception {
        process("a", 1);
        process("b", 1);

        harness.prepareSnapshotPreBarrier(1);

        assertThat(harness.extractOutputValues())
                .extracting(p -> p.accountId)
                .containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void passesTheSumsOnWhenTheBundleIsFull() throws Exception {
        process("a", 1);
        process("b", 1);
        process("a", 1);
        assertThat(harness.extractOutputValues()).isEmpty();

        process("c", 1);

        assertThat(harness.extractOutputValues())
                .extracting(p -> p.accountId, p -> p.events)
                .containsExactlyInAnyOrder(
                        Tuple.tuple("a", 2L), Tuple.tuple("b", 1L), Tuple.tuple("c", 1L));
    }

    @Test
    void passesTheSumsOnAfterTheMaximumDelay() throws Exception {
        process("a", 1);

        harness.setProcessingTime(MAX_DELAY_MILLIS);

        assertThat(harness.extractOutputValues()).hasSize(1);
    }

    @Test
    void passesHourlyCorrectionsOnAtOnceAfterTheUsageReadBeforeThem() throws Exception {
        process("a", 1);
        UsagePartial correction = hourCorrection(event("a", 5), CALENDAR);

        harness.processElement(new StreamRecord<>(correction));

        assertThat(harness.extractOutputValues())
                .extracting(p -> p.inputTokens, p -> p.hourCorrectionId)
                .containsExactly(
                        Tuple.tuple(1L, null), Tuple.tuple(5L, correction.hourCorrectionId));
    }

    @Test
    void passesEverythingOnWhenItFinishes() throws Exception {
        process("a", 1);

        harness.getOperator().finish();

        List<UsagePartial> out = harness.extractOutputValues();
        assertThat(out).hasSize(1);
    }

    /**
     * A regional partial whose window had closed at the watermark — also one seen before a restore
     * — passes through unsummed, so the rollup's correction row keeps the account row's id.
     */
    @Test
    void passesPartialsOfClosedWindowsOnUnsummedAlsoAfterARestore() throws Exception {
        OneInputStreamOperatorTestHarness<AreaUsage, AreaUsage> area = areaHarness(null);
        AreaUsage partial =
                AreaRollups.regionalPartial(
                        UsageRows.hourCorrection(
                                hourCorrection(event("a", 5), CALENDAR), CALENDAR));
        long hourEnd = partial.getWindowEnd().toEpochMilli();
        area.processElement(new StreamRecord<>(partial));
        area.processElement(new StreamRecord<>(AreaUsage.newBuilder(partial).build()));
        assertThat(area.extractOutputValues()).as("open window: summed").isEmpty();
        area.processWatermark(new Watermark(hourEnd));
        assertThat(area.extractOutputValues())
                .singleElement()
                .satisfies(sum -> assertThat(sum.getEvents()).isEqualTo(2));
        OperatorSubtaskState snapshot = area.snapshot(1, 1);
        area.close();

        OneInputStreamOperatorTestHarness<AreaUsage, AreaUsage> restored = areaHarness(snapshot);
        restored.processElement(new StreamRecord<>(AreaUsage.newBuilder(partial).build()));
        restored.processElement(new StreamRecord<>(AreaUsage.newBuilder(partial).build()));

        assertThat(restored.extractOutputValues())
                .as("closed window: passed on one by one")
                .hasSize(2);
        restored.close();
    }

    private static OneInputStreamOperatorTestHarness<AreaUsage, AreaUsage> areaHarness(
            OperatorSubtaskState state) throws Exception {
        OneInputStreamOperatorTestHarness<AreaUsage, AreaUsage> h =
                new OneInputStreamOperatorTestHarness<>(
                        new PreAggregateOperator<>(
                                () -> new AreaBundle(CALENDAR),
                                100,
                                Duration.ofMillis(MAX_DELAY_MILLIS)));
        if (state != null) {
            h.initializeState(state);
        }
        h.open();
        return h;
    }

    private void process(String account, long inputTokens) throws Exception {
        harness.processElement(new StreamRecord<>(onTime(event(account, inputTokens), CALENDAR)));
    }

    private static UsageEvent event(String account, long input) {
        return Fixtures.usageEventBuilder()
                .setEventId(account + input)
                .setAccountId(account)
                .setModel("m")
                .setInputTokens(input)
                .setOutputTokens(0)
                .setCachedTokens(0)
                .setEventTime(Instant.parse("2026-03-10T02:10:00Z"))
                .build();
    }
}
