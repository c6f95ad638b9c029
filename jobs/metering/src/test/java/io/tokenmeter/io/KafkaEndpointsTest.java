package io.tokenmeter.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class KafkaEndpointsTest {

    @Test
    void sinksBatchLingerAndCompressUnlessConfiguredOtherwise() {
        Properties defaults = KafkaEndpoints.sinkProducerProperties(KafkaClientProperties.none());

        assertThat(defaults)
                .containsEntry("linger.ms", "20")
                .containsEntry("batch.size", "262144")
                .containsEntry("compression.type", "lz4");
    }

    @Test
    void configuredProducerSettingsWinOverTheSinkDefaults() {
        Properties configured =
                KafkaEndpoints.sinkProducerProperties(
                        KafkaClientProperties.of(
                                Map.of("security.protocol", "SSL"),
                                Map.of(),
                                Map.of("linger.ms", "0", "compression.type", "zstd"),
                                Map.of()));

        assertThat(configured)
                .containsEntry("linger.ms", "0")
                .containsEntry("compression.type", "zstd")
                .containsEntry("batch.size", "262144")
                .containsEntry("security.protocol", "SSL");
    }
}
