package io.tokenmeter.metering;

import static io.tokenmeter.config.YamlBinding.require;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.Serializable;
import java.time.Duration;

/**
 * Watermarks ({@code event-time.*}).
 *
 * @param outOfOrderness how far gateways buffer and retry
 * @param sourceIdleness after this, a quiet partition no longer holds back day close
 */
public record EventTimeConfig(
        @JsonProperty(defaultValue = "2 min") Duration outOfOrderness,
        @JsonProperty(defaultValue = "1 min") Duration sourceIdleness)
        implements Serializable {

    public EventTimeConfig {
        require(!outOfOrderness.isNegative(), "out-of-orderness", "must not be negative");
        require(
                !sourceIdleness.isNegative() && !sourceIdleness.isZero(),
                "source-idleness",
                "must be positive");
    }
}
