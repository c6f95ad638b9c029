package io.tokenmeter.metering;

import static io.tokenmeter.config.YamlBinding.require;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.tokenmeter.logic.ingest.SecretSource;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Deduplication ({@code dedup.*}).
 *
 * @param horizon each (source, event_id) is counted once within this much event-time progress; at
 *     most 35 d
 * @param keyFile absolute path of the dedup key's file on the TaskManagers; empty: {@link #KEY_ENV}
 *     holds the key
 */
public record DedupConfig(
        @JsonProperty(defaultValue = "24 h") Duration horizon,
        @JsonProperty(defaultValue = "") String keyFile)
        implements Serializable {

    /** Holds the dedup key on the TaskManagers when {@code dedup.key-file} is empty. */
    public static final String KEY_ENV = "TOKENMETER_DEDUP_KEY";

    /**
     * The longest dedup horizon allowed: the correction horizon's default, beyond which nothing is
     * billed.
     */
    static final Duration MAX_HORIZON = Duration.ofDays(35);

    public DedupConfig {
        keyFile = keyFile.trim();
        require(
                !horizon.isNegative() && !horizon.isZero() && horizon.compareTo(MAX_HORIZON) <= 0,
                "horizon",
                "must be positive and at most " + MAX_HORIZON.toDays() + " d");
        // Relative to what would depend on where each TaskManager was started.
        require(
                keyFile.isEmpty() || Path.of(keyFile).isAbsolute(),
                "key-file",
                "must be empty (the key is in " + KEY_ENV + ") or an absolute path");
    }

    /**
     * Where the TaskManagers read the dedup key: {@code dedup.key-file}, else {@code
     * TOKENMETER_DEDUP_KEY}.
     */
    public SecretSource key() {
        return new SecretSource(keyFile, KEY_ENV, "dedup.key-file");
    }
}
