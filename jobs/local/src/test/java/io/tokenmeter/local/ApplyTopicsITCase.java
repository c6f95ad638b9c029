package io.tokenmeter.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.testkit.KafkaBrokerExtension;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/**
 * scripts/topics.sh's command against a real broker: creates, then repairs drift, and says what it
 * cannot repair.
 */
class ApplyTopicsITCase {

    private static final Path TOPICS = Path.of("../../config/topics.yaml");

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @Test
    void createsTheDefinedTopicsThenSetsDriftedConfigBackAndReportsExtraPartitions()
            throws Exception {
        List<ApplyTopics.TopicDefinition> defined = ApplyTopics.read(TOPICS, (short) 1);
        ApplyTopics.TopicDefinition billing =
                defined.stream()
                        .filter(t -> t.name().equals("tokenmeter.billing.records"))
                        .findFirst()
                        .orElseThrow();

        // when: applied to an empty cluster
        assertThat(apply()).isZero();

        // then: every topic exists as defined, min.insync.replicas capped at the replication factor
        try (Admin admin =
                Admin.create(
                        Map.of(
                                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                                KAFKA.bootstrapServers()))) {
            Map<String, TopicDescription> topics =
                    admin.describeTopics(
                                    defined.stream()
                                            .map(ApplyTopics.TopicDefinition::name)
                                            .toList())
                            .allTopicNames()
                            .get();
            for (ApplyTopics.TopicDefinition topic : defined) {
                assertThat(topics.get(topic.name()).partitions()).hasSize(topic.partitions());
                assertThat(config(admin, topic.name(), "retention.ms"))
                        .isEqualTo(topic.config().get("retention.ms"));
                assertThat(config(admin, topic.name(), "min.insync.replicas")).isEqualTo("1");
            }

            // given: someone changed a retention by hand
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, billing.name());
            admin.incrementalAlterConfigs(
                            Map.of(
                                    resource,
                                    List.of(
                                            new AlterConfigOp(
                                                    new ConfigEntry("retention.ms", "3600000"),
                                                    AlterConfigOp.OpType.SET))))
                    .all()
                    .get();

            // when / then: applying again sets it back, and succeeds
            assertThat(apply()).isZero();
            assertThat(config(admin, billing.name(), "retention.ms"))
                    .isEqualTo(billing.config().get("retention.ms"));

            // given: a topic with more partitions than defined, which Kafka cannot undo
            admin.createPartitions(
                            Map.of(
                                    billing.name(),
                                    NewPartitions.increaseTo(billing.partitions() + 2)))
                    .all()
                    .get();

            // when / then: reported as drift, with a failing exit status
            assertThat(apply()).isEqualTo(1);
        }
    }

    private static int apply() {
        return new CommandLine(new ApplyTopics())
                .execute(
                        "--bootstrap-servers",
                        KAFKA.bootstrapServers(),
                        "--file",
                        TOPICS.toString(),
                        "--replication-factor",
                        "1");
    }

    private static String config(Admin admin, String topic, String key) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return admin.describeConfigs(List.of(resource)).all().get().get(resource).get(key).value();
    }
}
