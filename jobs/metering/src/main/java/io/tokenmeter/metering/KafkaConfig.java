package io.tokenmeter.metering;

import static io.tokenmeter.config.YamlBinding.require;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.tokenmeter.io.KafkaClientProperties;
import java.io.Serializable;
import java.time.Duration;
import java.util.Map;

/**
 * The Kafka cluster, the job's topics and its clients ({@code kafka.*} in {@code
 * config/metering.yaml}, which documents every setting).
 */
public record KafkaConfig(
        @JsonProperty(defaultValue = "localhost:9092") String bootstrapServers,
        Topics topics,
        @JsonProperty(defaultValue = "tokenmeter-metering") String consumerGroup,
        @JsonProperty(defaultValue = "false") boolean stopAtLatestOffsets,
        @JsonProperty(defaultValue = "10 min") Duration transactionTimeout,
        /* It also names the warehouse's prepared transactions, whose names PostgreSQL caps at 200 bytes. */
        @JsonProperty(defaultValue = "tokenmeter-metering") String transactionalIdPrefix,
        Map<String, String> properties,
        Clients consumer,
        Producer producer,
        Clients admin)
        implements Serializable {

    /** The topics the job reads and writes. */
    public record Topics(
            @JsonProperty(defaultValue = "tokenmeter.usage.raw") String raw,
            @JsonProperty(defaultValue = "tokenmeter.billing.records") String billing,
            @JsonProperty(defaultValue = "tokenmeter.usage.rejected") String rejected,
            @JsonProperty(defaultValue = "tokenmeter.usage.account") String accountUsage,
            @JsonProperty(defaultValue = "tokenmeter.usage.regional") String regionalUsage,
            @JsonProperty(defaultValue = "tokenmeter.usage.national") String nationalUsage,
            @JsonProperty(defaultValue = "tokenmeter.metering.ledger") String ledger,
            @JsonProperty(defaultValue = "tokenmeter.subscriptions") String subscriptions,
            @JsonProperty(defaultValue = "tokenmeter.package.notices") String notices)
            implements Serializable {

        public Topics {
            require(!raw.isBlank(), "raw", "must not be empty");
            require(!billing.isBlank(), "billing", "must not be empty");
            require(!rejected.isBlank(), "rejected", "must not be empty");
            require(!accountUsage.isBlank(), "account-usage", "must not be empty");
            require(!regionalUsage.isBlank(), "regional-usage", "must not be empty");
            require(!nationalUsage.isBlank(), "national-usage", "must not be empty");
            require(!ledger.isBlank(), "ledger", "must not be empty");
            require(!subscriptions.isBlank(), "subscriptions", "must not be empty");
            require(!notices.isBlank(), "notices", "must not be empty");
        }
    }

    /** A client section holding only pass-through settings ({@code consumer}, {@code admin}). */
    public record Clients(Map<String, String> properties) implements Serializable {

        public Clients {
            properties = Map.copyOf(properties);
        }
    }

    /**
     * The sinks' producers: the request size the job checks every output against (I10), and
     * pass-through ones.
     */
    public record Producer(
            @JsonProperty(defaultValue = "1048576") int maxRequestSize,
            Map<String, String> properties)
            implements Serializable {

        public Producer {
            properties = Map.copyOf(properties);
            require(maxRequestSize >= 1024, "max-request-size", "must be at least 1024");
        }
    }

    public KafkaConfig {
        properties = Map.copyOf(properties);
        require(!bootstrapServers.isBlank(), "bootstrap-servers", "must not be empty");
        require(!consumerGroup.isBlank(), "consumer-group", "must not be empty");
        require(!transactionalIdPrefix.isBlank(), "transactional-id-prefix", "must not be empty");
        require(
                transactionalIdPrefix.length() <= 100,
                "transactional-id-prefix",
                "must have at most 100 characters");
        require(
                !transactionTimeout.isNegative() && !transactionTimeout.isZero(),
                "transaction-timeout",
                "must be positive");
        // Validates the pass-through settings (the fields are not assigned yet, so not through
        // clients()).
        KafkaClientProperties.of(
                properties, consumer.properties(), producer.properties(), admin.properties());
    }

    /** The pass-through client settings of the four {@code properties} sections, validated. */
    public KafkaClientProperties clients() {
        return KafkaClientProperties.of(
                properties, consumer.properties(), producer.properties(), admin.properties());
    }
}
