package io.tokenmeter.metering;

import static io.tokenmeter.config.YamlBinding.require;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Locale;

/**
 * The fault suite's test hook ({@code faults.*}): none in production.
 *
 * @param inject where in the checkpoint cycle the job fails, once
 * @param afterCheckpoints checkpoints to complete first
 */
public record FaultConfig(
        @JsonProperty(defaultValue = "none") Fault inject,
        @JsonProperty(defaultValue = "2") int afterCheckpoints)
        implements Serializable {

    /** Where in the checkpoint cycle the job fails. */
    public enum Fault {
        /** Never: the production setting. */
        NONE,
        /**
         * A task failure on the first record after the checkpoint: the next barrier never comes.
         */
        FAIL_BEFORE_BARRIER,
        /** The TaskManager process dies while the checkpoint's asynchronous part is running. */
        KILL_DURING_SNAPSHOT,
        /**
         * The TaskManager process dies once the checkpoint completed, before its Kafka transactions
         * commit.
         */
        KILL_AFTER_CHECKPOINT;

        /** Parses the configuration spelling, e.g. {@code kill-after-checkpoint}. */
        public static Fault parse(String text) {
            try {
                return valueOf(text.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "expected one of "
                                + Arrays.stream(values()).map(Fault::configName).toList());
            }
        }

        /** The configuration spelling. */
        public String configName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    public FaultConfig {
        require(afterCheckpoints >= 1, "after-checkpoints", "must be at least 1");
    }
}
