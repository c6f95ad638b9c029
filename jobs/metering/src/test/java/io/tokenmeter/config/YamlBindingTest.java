package io.tokenmeter.config;

import static io.tokenmeter.config.YamlBinding.require;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class YamlBindingTest {

    record Limits(
            @JsonProperty(defaultValue = "3") int retries,
            @JsonProperty(defaultValue = "PT1S") Duration pause) {
        Limits {
            require(retries <= 10, "retries", "must be at most 10");
        }
    }

    record Client(
            @JsonProperty(defaultValue = "") String name,
            Limits limits,
            Map<String, String> properties) {}

    record Shelf(List<Client> clients) {}

    private static final YamlBinding BINDING = new YamlBinding(YamlBinding.DOCUMENT, durations());

    private static SimpleModule durations() {
        SimpleModule module = new SimpleModule();
        YamlBinding.addTextual(module, Duration.class, Duration::parse, Duration::toString);
        return module;
    }

    @Test
    void fillsDeclaredDefaultsAndSetsDottedKeysThroughNestedRecordsIntoMaps() {
        ObjectNode tree = BINDING.emptyTree();
        YamlBinding.fillDefaults(tree, Client.class);
        YamlBinding.set(tree, "limits.retries", "5");
        YamlBinding.set(tree, "properties.security.protocol", "SSL");

        Client client = BINDING.bind(tree, Client.class);

        assertThat(client)
                .isEqualTo(
                        new Client(
                                "",
                                new Limits(5, Duration.ofSeconds(1)),
                                Map.of("security.protocol", "SSL")));
        assertThat(BINDING.flatten(BINDING.toTree(client)))
                .containsEntry("limits.retries", "5")
                .containsEntry("properties.security.protocol", "SSL")
                .containsEntry("limits.pause", "PT1S");
    }

    @Test
    void namesThePathOfARefusedValueAnInvalidValueAndAnUnknownKey() {
        assertThatThrownBy(
                        () ->
                                BINDING.bind(
                                        BINDING.readTree(
                                                """
                clients:
                  - limits: {retries: 1, pause: PT1S}
                  - limits: {retries: 11, pause: PT1S}
                """),
                                        Shelf.class))
                .hasMessage("clients[1].limits.retries: must be at most 10");
        assertThatThrownBy(
                        () ->
                                BINDING.bind(
                                        BINDING.readTree(
                                                """
                clients:
                  - limits: {retries: 1, pause: soon}
                """),
                                        Shelf.class))
                .hasMessageStartingWith("clients[0].limits.pause: has an invalid value 'soon'");
        assertThatThrownBy(
                        () ->
                                BINDING.bind(
                                        BINDING.readTree(
                                                """
                clients:
                  - limits: {retries: 1, pause: PT1S, retires: 2}
                """),
                                        Shelf.class))
                .hasMessage(
                        "clients[0].limits.retires: is not a known key; known: [pause, retries]");
    }
}
