package io.tokenmeter.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApplyTopicsTest {

    @Test
    void readsTheShippedTopicsEachOverTheDefaults() {
        List<ApplyTopics.TopicDefinition> topics =
                ApplyTopics.read(Path.of("../../config/topics.yaml"), null);

        ApplyTopics.TopicDefinition raw =
                topics.stream()
                        .filter(topic -> topic.name().equals("tokenmeter.usage.raw"))
                        .findFirst()
                        .orElseThrow();
        assertThat(raw.partitions()).isEqualTo(48);
        assertThat(raw.replicationFactor()).isEqualTo((short) 3);
        assertThat(raw.config())
                .containsEntry("min.insync.replicas", "2")
                .containsEntry("retention.ms", "604800000")
                .containsEntry("cleanup.policy", "delete");
        assertThat(topics).hasSize(9);
    }

    @Test
    void capsMinInsyncReplicasAtAReplicationOverride() {
        List<ApplyTopics.TopicDefinition> topics =
                ApplyTopics.read(Path.of("../../config/topics.yaml"), (short) 1);

        assertThat(topics)
                .allSatisfy(
                        topic -> {
                            assertThat(topic.replicationFactor()).isEqualTo((short) 1);
                            assertThat(topic.config()).containsEntry("min.insync.replicas", "1");
                        });
    }

    @Test
    void failsOnAnUnknownKeyOrABadValueNamingItsPath(@TempDir Path dir) throws Exception {
        Path typo =
                Files.writeString(
                        dir.resolve("typo.yaml"),
                        """
                topics:
                  usage:
                    partitons: 3
                """);
        assertThatThrownBy(() -> ApplyTopics.read(typo, null))
                .hasMessageContaining("topics.usage.partitons: is not a known key");

        Path zero =
                Files.writeString(
                        dir.resolve("zero.yaml"),
                        """
                defaults:
                  replication-factor: 1
                topics:
                  usage:
                    partitions: 0
                """);
        assertThatThrownBy(() -> ApplyTopics.read(zero, null))
                .hasMessageContaining("topics.usage.partitions: must be a positive number");
    }
}
