package io.tokenmeter.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.testkit.BrokerSecurity;
import io.tokenmeter.testkit.KafkaBrokerExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The topic tool against the secured broker of {@code SecuredKafkaITCase} (jobs/metering-it): it
 * connects with the Kafka settings of a job configuration file, here the admin certificate's.
 */
class SecuredApplyTopicsITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.secured();

    @TempDir Path dir;

    @Test
    void topicToolAppliesTheTopicsAsTheAdminPrincipalFromTheJobConfiguration() throws Exception {
        // given: a job configuration file whose Kafka settings are the admin certificate's (mTLS)
        BrokerSecurity security = KAFKA.security();
        StringBuilder yaml = new StringBuilder();
        security.mtlsSettings(BrokerSecurity.ADMIN)
                .forEach(
                        (key, value) ->
                                yaml.append(key)
                                        .append(": '")
                                        .append(value.replace("'", "''"))
                                        .append("'\n"));
        Path jobConfig = Files.writeString(dir.resolve("metering.yaml"), yaml);

        // when: the topic tool applies config/topics.yaml with it
        int exit =
                new CommandLine(new ApplyTopics())
                        .execute(
                                "--bootstrap-servers",
                                security.mtlsBootstrap(),
                                "--config",
                                jobConfig.toString(),
                                "--file",
                                "../../config/topics.yaml",
                                "--replication-factor",
                                "1");

        // then: the topics exist
        assertThat(exit).isZero();
        try (Admin admin = KAFKA.topics().admin()) {
            assertThat(admin.listTopics().names().get())
                    .contains("tokenmeter.usage.raw", "tokenmeter.billing.records");
        }
    }
}
