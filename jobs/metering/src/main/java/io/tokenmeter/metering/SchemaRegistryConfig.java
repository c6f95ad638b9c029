package io.tokenmeter.metering;

import io.tokenmeter.schema.Framing;
import io.tokenmeter.schema.SchemaRegistrySettings;
import java.io.Serializable;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.flink.util.TimeUtils;

/**
 * The optional Confluent-compatible schema registry ({@code schema-registry.*} in {@code config/metering.yaml}).
 * With a URL, the raw topic's reader also bills records in the registry framing ({@code 00} + schema id), their
 * writer schemas fetched by id, and each output topic can be written in that framing
 * ({@code schema-registry.output-framing.<output>: registry}), its schema registered under {@code <topic>-value} at
 * start-up. Without one, records in the registry framing are rejected as UNKNOWN_SCHEMA and every output is
 * written in Avro single-object encoding.
 */
public record SchemaRegistryConfig(
        String url,
        int cacheSize,
        Duration requestTimeout,
        Duration giveUpAfter,
        Map<String, Framing> outputFraming)
        implements Serializable {

    public static final String URL = "schema-registry.url";
    public static final String CACHE_SIZE = "schema-registry.cache-size";
    public static final String REQUEST_TIMEOUT = "schema-registry.request-timeout";
    public static final String GIVE_UP_AFTER = "schema-registry.give-up-after";
    /** Followed by an output's name: {@code schema-registry.output-framing.billing}. */
    public static final String OUTPUT_FRAMING = "schema-registry.output-framing.";

    public static final String BILLING = "billing";
    public static final String REJECTED = "rejected";
    public static final String ACCOUNT_USAGE = "account-usage";
    public static final String REGIONAL_USAGE = "regional-usage";
    public static final String NATIONAL_USAGE = "national-usage";
    public static final String LEDGER = "ledger";
    public static final String NOTICES = "notices";
    /** Every output whose framing can be chosen; the names of {@code kafka.topics.*}. */
    public static final List<String> OUTPUTS =
            List.of(BILLING, REJECTED, ACCOUNT_USAGE, REGIONAL_USAGE, NATIONAL_USAGE, LEDGER, NOTICES);

    static final Map<String, String> DEFAULTS = defaults();

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put(URL, "");
        d.put(CACHE_SIZE, "1000");
        d.put(REQUEST_TIMEOUT, "10 s");
        d.put(GIVE_UP_AFTER, "1 min");
        for (String output : OUTPUTS) {
            d.put(OUTPUT_FRAMING + output, Framing.SINGLE_OBJECT.configName());
        }
        return Map.copyOf(d);
    }

    public SchemaRegistryConfig {
        outputFraming = Map.copyOf(outputFraming);
        require(url.isEmpty() || isHttpUrl(url), URL,
                "must be empty (no registry) or the http:// or https:// base URL of the Confluent API");
        // Credentials in the URL would travel with it into the job graph, logs and every message naming it.
        require(url.isEmpty() || URI.create(url).getRawUserInfo() == null, URL, "must not carry credentials");
        require(cacheSize >= 1 && cacheSize <= 1_000_000, CACHE_SIZE, "must be between 1 and 1000000");
        require(isPositive(requestTimeout), REQUEST_TIMEOUT, "must be positive");
        require(!giveUpAfter.isNegative(), GIVE_UP_AFTER, "must not be negative");
        for (String output : OUTPUTS) {
            require(outputFraming.get(output) == Framing.SINGLE_OBJECT || !url.isEmpty(), OUTPUT_FRAMING + output,
                    "is registry, which needs " + URL);
        }
    }

    /** Whether a registry is configured. */
    public boolean enabled() {
        return !url.isEmpty();
    }

    /** How readers and writers reach the registry; null without one. */
    @Nullable
    public SchemaRegistrySettings settings() {
        return enabled() ? new SchemaRegistrySettings(url, cacheSize, requestTimeout, giveUpAfter) : null;
    }

    /** The framing {@code output} (one of {@link #OUTPUTS}) is written in. */
    public Framing framing(String output) {
        Framing framing = outputFraming.get(output);
        if (framing == null) {
            throw new IllegalArgumentException("no output is called '" + output + "'; outputs are " + OUTPUTS);
        }
        return framing;
    }

    static SchemaRegistryConfig fromMap(Map<String, String> values) {
        Map<String, Framing> framing = new LinkedHashMap<>();
        for (String output : OUTPUTS) {
            String key = OUTPUT_FRAMING + output;
            try {
                framing.put(output, Framing.parse(values.get(key)));
            } catch (IllegalArgumentException e) {
                throw invalid(key, values.get(key), e);
            }
        }
        return new SchemaRegistryConfig(
                values.get(URL).trim(),
                parseInt(values, CACHE_SIZE),
                parseDuration(values, REQUEST_TIMEOUT),
                parseDuration(values, GIVE_UP_AFTER),
                framing);
    }

    Map<String, String> asMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(URL, url);
        m.put(CACHE_SIZE, Integer.toString(cacheSize));
        m.put(REQUEST_TIMEOUT, requestTimeout.toMillis() + " ms");
        m.put(GIVE_UP_AFTER, giveUpAfter.toMillis() + " ms");
        for (String output : OUTPUTS) {
            m.put(OUTPUT_FRAMING + output, outputFraming.get(output).configName());
        }
        return m;
    }

    private static boolean isHttpUrl(String text) {
        try {
            URI uri = new URI(text);
            return ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static boolean isPositive(Duration d) {
        return !d.isNegative() && !d.isZero();
    }

    private static int parseInt(Map<String, String> values, String key) {
        try {
            return Integer.parseInt(values.get(key).trim());
        } catch (NumberFormatException e) {
            throw invalid(key, values.get(key), e);
        }
    }

    private static Duration parseDuration(Map<String, String> values, String key) {
        try {
            return TimeUtils.parseDuration(values.get(key).trim());
        } catch (IllegalArgumentException e) {
            throw invalid(key, values.get(key), e);
        }
    }

    private static IllegalArgumentException invalid(String key, String text, Exception e) {
        return new IllegalArgumentException(
                "Configuration key '" + key + "' has an invalid value '" + text + "': " + e.getMessage(), e);
    }

    private static void require(boolean ok, String key, String problem) {
        if (!ok) {
            throw new IllegalArgumentException("Configuration key '" + key + "' " + problem);
        }
    }
}
