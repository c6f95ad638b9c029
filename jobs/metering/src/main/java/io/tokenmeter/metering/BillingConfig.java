package io.tokenmeter.metering;

import static io.tokenmeter.config.YamlBinding.require;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.tokenmeter.logic.BillingCalendar;
import java.io.Serializable;
import java.time.Duration;
import java.time.ZoneId;

/**
 * Billing days ({@code billing.*}).
 *
 * @param timeZone billing days end at local midnight in this zone
 * @param dayCloseGrace event time after midnight when the ORIGINAL record is final
 * @param correctionHorizon later events for a day are rejected as TOO_LATE
 */
public record BillingConfig(
        @JsonProperty(defaultValue = "Asia/Shanghai") ZoneId timeZone,
        @JsonProperty(defaultValue = "15 min") Duration dayCloseGrace,
        @JsonProperty(defaultValue = "35 d") Duration correctionHorizon)
        implements Serializable {

    public BillingConfig {
        require(!dayCloseGrace.isNegative(), "day-close-grace", "must not be negative");
        require(
                correctionHorizon.compareTo(dayCloseGrace) > 0,
                "correction-horizon",
                "must be longer than billing.day-close-grace");
        require(
                correctionHorizon.compareTo(Duration.ofDays(400)) <= 0,
                "correction-horizon",
                "must be at most 400 d");
    }

    /** Billing days, their close and their correction deadline. */
    public BillingCalendar calendar() {
        return new BillingCalendar(timeZone, dayCloseGrace, correctionHorizon);
    }
}
