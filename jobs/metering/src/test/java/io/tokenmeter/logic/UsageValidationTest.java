package io.tokenmeter.logic;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.UsageEvent;
import java.time.Instant;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class UsageValidationTest {

    @Test
    void passesValidEvent() {
        assertThat(UsageValidation.check(event(e -> {}))).isNull();
    }

    @Test
    void passesZeroTokens() {
        assertThat(UsageValidation.check(event(e -> {
            e.setInputTokens(0);
            e.setOutputTokens(0);
            e.setCachedTokens(0);
        }))).isNull();
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
        assertViolation(event(e -> e.setInputTokens(-1)), RejectReason.TOKENS_OUT_OF_RANGE, "input=-1");
    }

    @Test
    void rejectsNegativeOutputTokensAsOutOfRange() {
        assertViolation(event(e -> e.setOutputTokens(-5)), RejectReason.TOKENS_OUT_OF_RANGE, "output=-5");
    }

    @Test
    void rejectsNegativeCachedTokensAsOutOfRange() {
        assertViolation(event(e -> e.setCachedTokens(Long.MIN_VALUE)), RejectReason.TOKENS_OUT_OF_RANGE,
                "cached=" + Long.MIN_VALUE);
    }

    private static void assertViolation(UsageEvent event, RejectReason reason, String messagePart) {
        UsageValidation.Violation violation = UsageValidation.check(event);
        assertThat(violation).isNotNull();
        assertThat(violation.reason()).isEqualTo(reason);
        assertThat(violation.message()).contains(messagePart);
    }

    private static UsageEvent event(Consumer<UsageEvent> change) {
        UsageEvent event = UsageEvent.newBuilder()
                .setEventId("evt-1")
                .setSource("gateway-a")
                .setAccountId("acct-1")
                .setRegion("CN-GD")
                .setModel("qwen-max")
                .setModality(Modality.TEXT)
                .setInputTokens(10)
                .setOutputTokens(20)
                .setCachedTokens(30)
                .setEventTime(Instant.parse("2026-03-10T01:00:00Z"))
                .build();
        change.accept(event);
        return event;
    }
}
