package io.tokenmeter.metering;

import static io.tokenmeter.config.YamlBinding.require;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.Serializable;
import java.time.Duration;

/**
 * Checkpoints ({@code checkpoints.*}).
 *
 * @param interval billing output becomes visible at each completed checkpoint
 * @param minPause least time from the end of one checkpoint to the start of the next
 */
public record CheckpointConfig(
        @JsonProperty(defaultValue = "10 s") Duration interval,
        @JsonProperty(defaultValue = "0 s") Duration minPause)
        implements Serializable {

    public CheckpointConfig {
        require(!interval.isNegative() && !interval.isZero(), "interval", "must be positive");
        require(!minPause.isNegative(), "min-pause", "must not be negative");
    }
}
