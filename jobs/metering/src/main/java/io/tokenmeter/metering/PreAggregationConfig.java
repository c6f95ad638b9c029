package io.tokenmeter.metering;

import static io.tokenmeter.config.YamlBinding.require;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.Serializable;
import java.time.Duration;

/**
 * Pre-aggregation before the shuffle by account ({@code pre-aggregation.*}).
 *
 * @param maxEntries distinct sums held per subtask before they are passed on
 * @param maxDelay and at least this often, so live metrics lag by no more
 */
public record PreAggregationConfig(
        @JsonProperty(defaultValue = "20000") int maxEntries,
        @JsonProperty(defaultValue = "1 s") Duration maxDelay)
        implements Serializable {

    public PreAggregationConfig {
        require(
                maxEntries >= 1 && maxEntries <= 10_000_000,
                "max-entries",
                "must be between 1 and 10000000");
        require(!maxDelay.isNegative() && !maxDelay.isZero(), "max-delay", "must be positive");
    }
}
