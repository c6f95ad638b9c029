package io.tokenmeter.logic.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.testing.Fixtures;
import java.time.Instant;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class UsageValidationTest {

    private static final long CEILING = 1_000;
    private static final long SKEW = 300_000;
    private static final ValidationLimits LIMITS = new ValidationLimits(CEILING, SKEW, 65_536);
    private static final Instant EVENT_TIME = Instant.parse("2026-03-10T01:00:00Z");

    /** The wall clock of most cases: an hour after the event, as for a normal event. */
    private static final long NOW = EVENT_TIME.toEpochMilli() + 3_600_000;

    /** Caps of these cases: small, so the boundaries are easy to see. */
    private static final ValidationLimits CAPS =
            new ValidationLimits(CEILING, SKEW, 65_536, 16, 10, 12, 6, 10);

    @Test
    void rejectsEveryStringFieldLongerThanItsCapAsFieldTooLong() {
        assertThat(checkCapped(event(e -> e.setEventId("e".repeat(17)))))
                .satisfies(v -> tooLong(v, "event_id"));
        assertThat(checkCapped(event(e -> e.setSource("s".repeat(11)))))
                .satisfies(v -> tooLong(v, "source"));
        assertThat(checkCapped(event(e -> e.setAccountId("a".repeat(13)))))
                .satisfies(v -> tooLong(v, "account_id"));
        assertThat(checkCapped(event(e -> e.setRegion("r".repeat(7)))))
                .satisfies(v -> tooLong(v, "region"));
        assertThat(checkCapped(event(e -> e.setModel("m".repeat(11)))))
                .satisfies(v -> tooLong(v, "model"));
    }

    @Test
    void passesStringsOfExactlyTheirCap() {
        assertThat(
                        checkCapped(
                                event(
                                        e -> {
                                            e.setEventId("e".repeat(16));
                                            e.setSource("s".repeat(10));
                                            e.setAccountId("a".repeat(12));
                                            e.setRegion("r".repeat(6));
                                            e.setModel("m".repeat(10));
                                        })))
                .isNull();
    }

    /** Caps are UTF-8 bytes, what the outputs are limited in: 4 Chinese characters are 12 bytes. */
    @Test
    void countsCapsInUtf8Bytes() {
        assertThat(checkCapped(event(e -> e.setModel("\u901a\u4e49\u5343\u95ee"))))
                .satisfies(
                        v -> {
                            tooLong(v, "model");
                            assertThat(v.message()).contains("12 UTF-8 bytes");
                        });
        assertThat(checkCapped(event(e -> e.setModel("\u901a\u4e49\u5343")))).isNull(); // 9 bytes
        // A character outside the BMP: two chars, four bytes.
        assertThat(ValidationLimits.utf8Length("\uD83D\uDE00")).isEqualTo(4);
    }

    /**
     * The reproduction: a 60,000-character model name. The message names the field, not its
     * value.
     */
    @Test
    void rejectsAHugeModelNameWithoutQuotingIt() {
        ValidationLimits defaults = new ValidationLimits(CEILING, SKEW, 65_536);
        UsageValidation.Violation v =
                UsageValidation.check(event(e -> e.setModel("x".repeat(60_000))), defaults, NOW);

        assertThat(v.reason()).isEqualTo(RejectReason.FIELD_TOO_LONG);
        assertThat(v.message()).contains("model", "60000", "128").hasSizeLessThan(200);
    }

    /**
     * Any event time: a future one is FUTURE_TIMESTAMP; none throws (Long.MAX_VALUE + skew would
     * overflow).
     */
    @Test
    void judgesExtremeEventTimesWithoutThrowing() {
        assertViolation(
                event(e -> e.setEventTime(Instant.ofEpochMilli(Long.MAX_VALUE))),
                RejectReason.FUTURE_TIMESTAMP,
                "event_time");
        assertThat(
                        UsageValidation.check(
                                event(e -> e.setEventTime(Instant.ofEpochMilli(Long.MAX_VALUE))),
                                LIMITS,
                                Long.MAX_VALUE - 1))
                .isNull();
        assertThat(check(event(e -> e.setEventTime(Instant.ofEpochMilli(Long.MIN_VALUE)))))
                .isNull();
    }

    private static UsageValidation.Violation checkCapped(UsageEvent event) {
        return UsageValidation.check(event, CAPS, NOW);
    }

    private static void tooLong(UsageValidation.Violation v, String field) {
        assertThat(v).isNotNull();
        assertThat(v.reason()).isEqualTo(RejectReason.FIELD_TOO_LONG);
        assertThat(v.message()).startsWith(field + " has");
    }

    @Test
    void passesValidEvent() {
        assertThat(check(event(e -> {}))).isNull();
    }

    @Test
    void passesZeroTokens() {
        assertThat(
                        check(
                                event(
                                        e -> {
                                            e.setInputTokens(0);
                                            e.setOutputTokens(0);
                                            e.setCachedTokens(0);
                                        })))
                .isNull();
    }

    @Test
    void rejectsBlankEventIdAsMissingField() {
        assertViolation(event(e -> e.setEventId(" ")), RejectReason.MISSING_FIELD, "event_id");
    }

    @Test
    void rejectsBlankSourceAsMissingField() {
        assertViolation(event(e -> e.setSource("")), RejectReason.MISSING_FIELD, "source");
    }

    @Test
    void rejectsBlankAccountIdAsMissingField() {
        assertViolation(event(e -> e.setAccountId("\t")), RejectReason.MISSING_FIELD, "account_id");
    }

    @Test
    void rejectsBlankModelAsMissingField() {
        assertViolation(event(e -> e.setModel("")), RejectReason.MISSING_FIELD, "model");
    }

    @Test
    void rejectsNegativeInputTokensAsOutOfRange() {
        assertViolation(
                event(e -> e.setInputTokens(-1)), RejectReason.TOKENS_OUT_OF_RANGE, "input=-1");
    }

    @Test
    void rejectsNegativeOutputTokensAsOutOfRange() {
        assertViolation(
                event(e -> e.setOutputTokens(-5)), RejectReason.TOKENS_OUT_OF_RANGE, "output=-5");
    }

    @Test
    void rejectsNegativeCachedTokensAsOutOfRange() {
        assertViolation(
                event(e -> e.setCachedTokens(Long.MIN_VALUE)),
                RejectReason.TOKENS_OUT_OF_RANGE,
                "cached=" + Long.MIN_VALUE);
    }

    @Test
    void passesEachCountExactlyAtTheCeiling() {
        assertThat(check(tokens(CEILING, 0, 0))).isNull();
        assertThat(check(tokens(0, CEILING, 0))).isNull();
        assertThat(check(tokens(0, 0, CEILING))).isNull();
    }

    @Test
    void passesSumExactlyAtTheCeiling() {
        assertThat(check(tokens(500, 300, 200))).isNull();
    }

    @Test
    void rejectsInputTokensAboveTheCeilingAsOutOfRange() {
        assertViolation(
                tokens(CEILING + 1, 0, 0),
                RejectReason.TOKENS_OUT_OF_RANGE,
                "input=" + (CEILING + 1));
    }

    @Test
    void rejectsOutputTokensAboveTheCeilingAsOutOfRange() {
        assertViolation(
                tokens(0, CEILING + 1, 0),
                RejectReason.TOKENS_OUT_OF_RANGE,
                "output=" + (CEILING + 1));
    }

    @Test
    void rejectsCachedTokensAboveTheCeilingAsOutOfRange() {
        assertViolation(
                tokens(0, 0, CEILING + 1),
                RejectReason.TOKENS_OUT_OF_RANGE,
                "cached=" + (CEILING + 1));
    }

    @Test
    void rejectsSumOneAboveTheCeilingAsOutOfRange() {
        assertViolation(
                tokens(500, 300, 201), RejectReason.TOKENS_OUT_OF_RANGE, "ceiling of " + CEILING);
    }

    @Test
    void rejectsHugeCountsWithoutOverflowingIntoAPass() {
        assertViolation(
                tokens(Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE),
                RejectReason.TOKENS_OUT_OF_RANGE,
                "input=" + Long.MAX_VALUE);
        assertViolation(
                tokens(CEILING, CEILING, CEILING), RejectReason.TOKENS_OUT_OF_RANGE, "ceiling");
    }

    @Test
    void passesEventTimeExactlyAtNowPlusSkew() {
        assertThat(UsageValidation.check(event(e -> {}), LIMITS, EVENT_TIME.toEpochMilli() - SKEW))
                .isNull();
    }

    @Test
    void rejectsEventTimeOneMillisecondBeyondNowPlusSkewAsFutureTimestamp() {
        UsageValidation.Violation violation =
                UsageValidation.check(event(e -> {}), LIMITS, EVENT_TIME.toEpochMilli() - SKEW - 1);

        assertThat(violation).isNotNull();
        assertThat(violation.reason()).isEqualTo(RejectReason.FUTURE_TIMESTAMP);
        assertThat(violation.message()).contains("event_time", EVENT_TIME.toString(), "300 s");
    }

    @Test
    void passesEventFromThePastWithoutSkew() {
        ValidationLimits noSkew = new ValidationLimits(CEILING, 0, 65_536);

        assertThat(UsageValidation.check(event(e -> {}), noSkew, EVENT_TIME.toEpochMilli()))
                .isNull();
        assertThat(UsageValidation.check(event(e -> {}), noSkew, EVENT_TIME.toEpochMilli() - 1))
                .extracting(UsageValidation.Violation::reason)
                .isEqualTo(RejectReason.FUTURE_TIMESTAMP);
    }

    private static UsageValidation.Violation check(UsageEvent event) {
        return UsageValidation.check(event, LIMITS, NOW);
    }

    private static UsageEvent tokens(long input, long output, long cached) {
        return event(
                e -> {
                    e.setInputTokens(input);
                    e.setOutputTokens(output);
                    e.setCachedTokens(cached);
                });
    }

    private static void assertViolation(UsageEvent event, RejectReason reason, String messagePart) {
        UsageValidation.Violation violation = check(event);
        assertThat(violation).isNotNull();
        assertThat(violation.reason()).isEqualTo(reason);
        assertThat(violation.message()).contains(messagePart);
    }

    private static UsageEvent event(Consumer<UsageEvent> change) {
        UsageEvent event = Fixtures.usageEventBuilder().setEventTime(EVENT_TIME).build();
        change.accept(event);
        return event;
    }
}
