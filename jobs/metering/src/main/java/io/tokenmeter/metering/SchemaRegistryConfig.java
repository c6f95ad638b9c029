package io.tokenmeter.metering;

import static io.tokenmeter.config.YamlBinding.require;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.tokenmeter.schema.Framing;
import io.tokenmeter.schema.SchemaRegistrySettings;
import java.io.Serializable;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import javax.annotation.Nullable;

/**
 * The optional Confluent-compatible schema registry ({@code schema-registry.*} in {@code
 * config/metering.yaml}). With a URL, the raw topic's reader also bills records in the registry
 * framing ({@code 00} + schema id), their writer schemas fetched by id, and each output topic can
 * be written in that framing ({@code schema-registry.output-framing.<output>: registry}), its
 * schema registered under {@code <topic>-value} at start-up. Without one, records in the registry
 * framing are rejected as UNKNOWN_SCHEMA and every output is written in Avro single-object
 * encoding.
 *
 * @param url base URL of the registry's Confluent API, without credentials; empty: no registry
 * @param cacheSize schema ids (and their readers) kept per reader
 * @param requestTimeout one HTTP request
 * @param giveUpAfter while the registry cannot answer, retry this long, then fail the task
 * @param outputFraming the framing of each output topic
 */
public record SchemaRegistryConfig(
        @JsonProperty(defaultValue = "") String url,
        @JsonProperty(defaultValue = "1000") int cacheSize,
        @JsonProperty(defaultValue = "10 s") Duration requestTimeout,
        @JsonProperty(defaultValue = "1 min") Duration giveUpAfter,
        OutputFraming outputFraming)
        implements Serializable {

    public static final String BILLING = "billing";
    public static final String REJECTED = "rejected";
    public static final String ACCOUNT_USAGE = "account-usage";
    public static final String REGIONAL_USAGE = "regional-usage";
    public static final String NATIONAL_USAGE = "national-usage";
    public static final String LEDGER = "ledger";
    public static final String NOTICES = "notices";

    /** Every output whose framing can be chosen; the names of {@code kafka.topics.*}. */
    public static final List<String> OUTPUTS =
            List.of(
                    BILLING,
                    REJECTED,
                    ACCOUNT_USAGE,
                    REGIONAL_USAGE,
                    NATIONAL_USAGE,
                    LEDGER,
                    NOTICES);

    /**
     * The framing of each output topic: single-object (no registry needed) or registry (needs the
     * URL).
     */
    public record OutputFraming(
            @JsonProperty(defaultValue = "single-object") Framing billing,
            @JsonProperty(defaultValue = "single-object") Framing rejected,
            @JsonProperty(defaultValue = "single-object") Framing accountUsage,
            @JsonProperty(defaultValue = "single-object") Framing regionalUsage,
            @JsonProperty(defaultValue = "single-object") Framing nationalUsage,
            @JsonProperty(defaultValue = "single-object") Framing ledger,
            @JsonProperty(defaultValue = "single-object") Framing notices)
            implements Serializable {

        /** The framing of {@code output}, one of {@link #OUTPUTS}. */
        public Framing of(String output) {
            return switch (output) {
                case BILLING -> billing;
                case REJECTED -> rejected;
                case ACCOUNT_USAGE -> accountUsage;
                case REGIONAL_USAGE -> regionalUsage;
                case NATIONAL_USAGE -> nationalUsage;
                case LEDGER -> ledger;
                case NOTICES -> notices;
                default ->
                        throw new IllegalArgumentException(
                                "no output is called '" + output + "'; outputs are " + OUTPUTS);
            };
        }
    }

    public SchemaRegistryConfig {
        url = url.trim();
        require(
                url.isEmpty() || isHttpUrl(url),
                "url",
                "must be empty (no registry) or the http:// or https:// base URL of the Confluent API");
        // Credentials in the URL would travel with it into the job graph, logs and every message
        // naming it.
        require(
                url.isEmpty() || URI.create(url).getRawUserInfo() == null,
                "url",
                "must not carry credentials");
        require(
                cacheSize >= 1 && cacheSize <= 1_000_000,
                "cache-size",
                "must be between 1 and 1000000");
        require(
                !requestTimeout.isNegative() && !requestTimeout.isZero(),
                "request-timeout",
                "must be positive");
        require(!giveUpAfter.isNegative(), "give-up-after", "must not be negative");
        for (String output : OUTPUTS) {
            require(
                    outputFraming.of(output) == Framing.SINGLE_OBJECT || !url.isEmpty(),
                    "output-framing." + output,
                    "is registry, which needs schema-registry.url");
        }
    }

    /** Whether a registry is configured. */
    public boolean enabled() {
        return !url.isEmpty();
    }

    /** How readers and writers reach the registry; null without one. */
    @Nullable
    public SchemaRegistrySettings settings() {
        return enabled()
                ? new SchemaRegistrySettings(url, cacheSize, requestTimeout, giveUpAfter)
                : null;
    }

    /** The framing {@code output} (one of {@link #OUTPUTS}) is written in. */
    public Framing framing(String output) {
        return outputFraming.of(output);
    }

    private static boolean isHttpUrl(String text) {
        try {
            URI uri = new URI(text);
            return ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
                    && uri.getHost() != null;
        } catch (URISyntaxException e) {
            return false;
        }
    }
}
