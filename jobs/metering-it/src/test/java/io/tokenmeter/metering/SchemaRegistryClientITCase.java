package io.tokenmeter.metering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.io.KafkaEndpoints;
import io.tokenmeter.schema.DecodeException;
import io.tokenmeter.schema.SchemaRegistryClient;
import io.tokenmeter.schema.SchemaRegistrySettings;
import io.tokenmeter.schema.SchemaRegistryUnavailableException;
import io.tokenmeter.testkit.SchemaRegistryExtension;
import java.time.Duration;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The registry client and the job's start-up against a real Confluent-compatible registry
 * (Apicurio's ccompat API, global compatibility BACKWARD): ids, unknown ids, refusals and a wrong
 * URL, each told apart.
 */
class SchemaRegistryClientITCase {

    @RegisterExtension
    static final SchemaRegistryExtension REGISTRY = new SchemaRegistryExtension();

    @Test
    void registersASchemaAndFetchesItBackById() throws Exception {
        SchemaRegistryClient client = client(REGISTRY.confluentApiUrl());

        int id = client.register("client-it.usage-value", UsageEvent.getClassSchema());

        assertThat(client(REGISTRY.confluentApiUrl()).writerSchema(id))
                .isEqualTo(UsageEvent.getClassSchema());
        assertThat(client.register("client-it.usage-value", UsageEvent.getClassSchema()))
                .as("registering the same schema again gives the same id")
                .isEqualTo(id);
    }

    @Test
    void answersAnUnknownIdAsUnknownSchemaNamingTheId() {
        assertThatThrownBy(() -> client(REGISTRY.confluentApiUrl()).writerSchema(987_654))
                .isInstanceOfSatisfying(
                        DecodeException.class,
                        e -> {
                            assertThat(e.failure())
                                    .isEqualTo(DecodeException.Failure.UNKNOWN_SCHEMA);
                            assertThat(e.getMessage())
                                    .contains("schema id 987654", REGISTRY.confluentApiUrl());
                        });
    }

    @Test
    void answersEveryIdARecordCanNameWithASchemaOrUnknownSchemaNeverAFailure() {
        SchemaRegistryClient client = client(REGISTRY.confluentApiUrl());

        // The 4 bytes of a hostile record: zero, the largest signed, and ids only unsigned reading
        // makes positive.
        for (int id : new int[] {0, Integer.MAX_VALUE, Integer.MIN_VALUE, -1}) {
            assertThatThrownBy(() -> client.writerSchema(id))
                    .as("id %s", Integer.toUnsignedString(id))
                    .isInstanceOfSatisfying(
                            DecodeException.class,
                            e ->
                                    assertThat(e.failure())
                                            .isEqualTo(DecodeException.Failure.UNKNOWN_SCHEMA));
        }
    }

    @Test
    void reportsAnIncompatibleSchemaWithTheRegistrysMessage() {
        SchemaRegistryClient client = client(REGISTRY.confluentApiUrl());
        client.register("client-it.incompatible-value", UsageEvent.getClassSchema());
        Schema withARequiredField =
                SchemaBuilder.record("UsageEvent")
                        .namespace("io.tokenmeter.avro")
                        .fields()
                        .requiredString("event_id")
                        .requiredString("tenant")
                        .endRecord();

        assertThatThrownBy(
                        () -> client.register("client-it.incompatible-value", withARequiredField))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(
                        "refused io.tokenmeter.avro.UsageEvent under subject client-it.incompatible-value")
                .hasMessageContaining("HTTP 409")
                .hasMessageContaining("Incompatible");
    }

    @Test
    void treatsAUrlThatIsNoConfluentApiAsUnavailableNotAsUnknownIds() {
        // A 404 without the API's "schema not found" code: a wrong URL, which must not reject every
        // record.
        assertThatThrownBy(() -> client(REGISTRY.serverUrl()).writerSchema(1))
                .isInstanceOf(SchemaRegistryUnavailableException.class)
                .hasMessageContaining("HTTP 404");
    }

    @Test
    void failsTheStartUpOnAnIncompatibleOutputSchemaNamingTheTopic() {
        // given: the billing topic's subject holds a schema whose records BillingRecord cannot read
        // (it lacks BillingRecord's required fields), so BACKWARD compatibility refuses
        // BillingRecord as its next version
        String topic = "client-it.billing";
        Schema other =
                SchemaBuilder.record("BillingRecord")
                        .namespace("io.tokenmeter.avro")
                        .fields()
                        .requiredString("record_id")
                        .endRecord();
        client(REGISTRY.confluentApiUrl()).register(topic + "-value", other);
        MeteringConfig config =
                MeteringConfig.defaultConfig()
                        .with(
                                Map.of(
                                        "kafka.topics.billing",
                                        topic,
                                        "schema-registry.url",
                                        REGISTRY.confluentApiUrl(),
                                        "schema-registry.output-framing."
                                                + SchemaRegistryConfig.BILLING,
                                        "registry"));

        // when / then: building the billing sink registers BillingRecord, and the registry refuses
        // it
        assertThatThrownBy(
                        () -> KafkaEndpoints.billingSink(config.kafka(), config.schemaRegistry()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Output topic client-it.billing")
                .hasMessageContaining("schema-registry.output-framing.billing")
                .hasMessageContaining("Incompatible");
    }

    @Test
    void failsTheStartUpOnARegistryThatIsNotThereNamingTheKey() {
        MeteringConfig config =
                MeteringConfig.defaultConfig()
                        .with(
                                Map.of(
                                        "schema-registry.url",
                                        REGISTRY.serverUrl() + "/not-the-api",
                                        "schema-registry.give-up-after",
                                        "1 s"));

        assertThatThrownBy(() -> KafkaEndpoints.rawUsageSource(config))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("schema-registry.url")
                .hasMessageContaining("HTTP 404");
    }

    private static SchemaRegistryClient client(String url) {
        return new SchemaRegistryClient(
                new SchemaRegistrySettings(url, 100, Duration.ofSeconds(5), Duration.ofSeconds(2)));
    }
}
