package io.tokenmeter.metering;

import static io.tokenmeter.config.YamlBinding.require;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.tokenmeter.logic.ingest.ValidationLimits;
import java.io.Serializable;
import java.time.Duration;

/**
 * The limits input must respect to be billed ({@code validation.*}).
 *
 * @param maxTokensPerEvent a larger sum of the three counts: TOKENS_OUT_OF_RANGE
 * @param futureSkew event_time further ahead of the job's wall clock: FUTURE_TIMESTAMP
 * @param maxRecordBytes larger raw records are rejected as OVERSIZED before decoding
 * @param maxLineItemsPerDay distinct line items per account and billing day; more:
 *     TOO_MANY_LINE_ITEMS
 */
public record ValidationConfig(
        @JsonProperty(defaultValue = "10000000") long maxTokensPerEvent,
        @JsonProperty(defaultValue = "5 min") Duration futureSkew,
        @JsonProperty(defaultValue = "65536") int maxRecordBytes,
        @JsonProperty(defaultValue = "256") int maxEventIdBytes,
        @JsonProperty(defaultValue = "128") int maxSourceBytes,
        @JsonProperty(defaultValue = "128") int maxAccountIdBytes,
        @JsonProperty(defaultValue = "64") int maxRegionBytes,
        @JsonProperty(defaultValue = "128") int maxModelBytes,
        @JsonProperty(defaultValue = "1000") int maxLineItemsPerDay)
        implements Serializable {

    /** Named in the rejection of usage that would add one line item too many. */
    public static final String MAX_LINE_ITEMS_PER_DAY = "validation.max-line-items-per-day";

    /** The longest string cap: ids and names, not documents. */
    static final int MAX_FIELD_BYTES = 4096;

    public ValidationConfig {
        require(maxTokensPerEvent >= 1, "max-tokens-per-event", "must be at least 1");
        require(!futureSkew.isNegative(), "future-skew", "must not be negative");
        require(maxRecordBytes >= 64, "max-record-bytes", "must be at least 64");
        requireCap(maxEventIdBytes, "max-event-id-bytes");
        requireCap(maxSourceBytes, "max-source-bytes");
        requireCap(maxAccountIdBytes, "max-account-id-bytes");
        requireCap(maxRegionBytes, "max-region-bytes");
        requireCap(maxModelBytes, "max-model-bytes");
        require(maxLineItemsPerDay >= 1, "max-line-items-per-day", "must be at least 1");
    }

    /** These limits as the validation logic takes them. */
    public ValidationLimits limits() {
        return new ValidationLimits(
                maxTokensPerEvent,
                futureSkew.toMillis(),
                maxRecordBytes,
                maxEventIdBytes,
                maxSourceBytes,
                maxAccountIdBytes,
                maxRegionBytes,
                maxModelBytes);
    }

    private static void requireCap(int bytes, String key) {
        require(
                bytes >= 1 && bytes <= MAX_FIELD_BYTES,
                key,
                "must be between 1 and " + MAX_FIELD_BYTES);
    }
}
