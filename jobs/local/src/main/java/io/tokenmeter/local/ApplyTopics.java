package io.tokenmeter.local;

import static io.tokenmeter.config.YamlBinding.require;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.tokenmeter.config.YamlBinding;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.testkit.KafkaTopics;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Makes a Kafka cluster's topics match {@code config/topics.yaml}: creates the missing ones, raises
 * partition counts, sets configs that drifted, and reports what cannot change in place. Running it
 * twice changes nothing the second time.
 */
@Command(
        name = "topics",
        mixinStandardHelpOptions = true,
        description = "Applies the topic definitions (config/topics.yaml) to a Kafka cluster.")
final class ApplyTopics implements Callable<Integer> {

    /** One topic as config/topics.yaml defines it. */
    record TopicDefinition(
            String name, int partitions, short replicationFactor, Map<String, String> config) {}

    @Option(names = "--bootstrap-servers", required = true)
    String bootstrapServers;

    @Option(
            names = "--file",
            defaultValue = "config/topics.yaml",
            description = "Topic definitions (default ${DEFAULT-VALUE}).")
    Path file;

    @Option(
            names = "--command-config",
            description = "Admin client properties (security settings), as for Kafka's tools.")
    Path commandConfig;

    @Option(
            names = "--config",
            description =
                    "The metering job's YAML: its kafka.properties.* and "
                            + "kafka.admin.properties.* settings configure the admin client (--command-config wins over them).")
    Path jobConfig;

    @Option(
            names = "--replication-factor",
            description =
                    "Overrides every topic's replication factor, for a cluster "
                            + "with fewer brokers; min.insync.replicas is capped at it.")
    Short replicationFactor;

    @Option(names = "--dry-run", description = "Reports what would change, changes nothing.")
    boolean dryRun;

    @Override
    public Integer call() throws Exception {
        List<TopicDefinition> wanted = read(file, replicationFactor);
        Properties props =
                jobConfig == null
                        ? new Properties()
                        : MeteringConfig.load(jobConfig, List.of()).kafka().clients().admin();
        if (commandConfig != null) {
            try (Reader reader = Files.newBufferedReader(commandConfig)) {
                props.load(reader);
            }
        }
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        int problems = 0;
        try (Admin admin = Admin.create(props)) {
            Collection<String> existing = admin.listTopics().names().get();
            List<TopicDefinition> toReconcile = new ArrayList<>();
            for (TopicDefinition topic : wanted) {
                if (existing.contains(topic.name()) || !create(admin, topic)) {
                    toReconcile.add(topic);
                }
            }
            if (!dryRun) {
                KafkaTopics.awaitLeaders(
                        admin, wanted.stream().map(TopicDefinition::name).toList());
            }
            for (TopicDefinition topic : toReconcile) {
                problems += reconcile(admin, topic);
            }
        }
        System.out.println(
                problems == 0
                        ? "TOPICS OK"
                        : "TOPICS DRIFT " + problems + " difference(s) need a manual step");
        return problems == 0 ? 0 : 1;
    }

    /**
     * Creates the topic; false if it turned out to exist (created a moment ago, the listing lagging
     * behind).
     */
    private boolean create(Admin admin, TopicDefinition topic)
            throws InterruptedException, ExecutionException {
        if (!dryRun) {
            try {
                admin.createTopics(
                                List.of(
                                        new NewTopic(
                                                        topic.name(),
                                                        topic.partitions(),
                                                        topic.replicationFactor())
                                                .configs(topic.config())))
                        .all()
                        .get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof TopicExistsException) {
                    return false;
                }
                throw e;
            }
        }
        System.out.printf(
                "%-32s create: %d partitions, replication %d, %s%n",
                topic.name(), topic.partitions(), topic.replicationFactor(), topic.config());
        return true;
    }

    private int reconcile(Admin admin, TopicDefinition topic)
            throws InterruptedException, ExecutionException {
        int problems = 0;
        TopicDescription description =
                admin.describeTopics(List.of(topic.name())).allTopicNames().get().get(topic.name());
        int partitions = description.partitions().size();
        if (partitions < topic.partitions()) {
            System.out.printf(
                    "%-32s partitions %d -> %d%n", topic.name(), partitions, topic.partitions());
            if (!dryRun) {
                admin.createPartitions(
                                Map.of(topic.name(), NewPartitions.increaseTo(topic.partitions())))
                        .all()
                        .get();
            }
        } else if (partitions > topic.partitions()) {
            System.out.printf(
                    "%-32s DRIFT has %d partitions, defined %d: Kafka cannot remove partitions%n",
                    topic.name(), partitions, topic.partitions());
            problems++;
        }
        int replication = description.partitions().get(0).replicas().size();
        if (replication != topic.replicationFactor()) {
            System.out.printf(
                    "%-32s DRIFT replication %d, defined %d: reassign partitions (kafka-reassign-partitions)%n",
                    topic.name(), replication, topic.replicationFactor());
            problems++;
        }
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic.name());
        Config actual = admin.describeConfigs(List.of(resource)).all().get().get(resource);
        List<AlterConfigOp> changes = new ArrayList<>();
        for (Map.Entry<String, String> e : topic.config().entrySet()) {
            ConfigEntry entry = actual.get(e.getKey());
            String current = entry == null ? null : entry.value();
            if (!e.getValue().equals(current)) {
                System.out.printf(
                        "%-32s config %s: %s -> %s%n",
                        topic.name(), e.getKey(), current, e.getValue());
                changes.add(
                        new AlterConfigOp(
                                new ConfigEntry(e.getKey(), e.getValue()),
                                AlterConfigOp.OpType.SET));
            }
        }
        if (!changes.isEmpty() && !dryRun) {
            admin.incrementalAlterConfigs(Map.of(resource, changes)).all().get();
        }
        if (problems == 0 && changes.isEmpty() && partitions == topic.partitions()) {
            System.out.printf("%-32s ok%n", topic.name());
        }
        return problems;
    }

    /** The one binding of topic files; errors read {@code path: problem}. */
    private static final YamlBinding BINDING =
            new YamlBinding(YamlBinding.DOCUMENT, new SimpleModule());

    /** config/topics.yaml as written. */
    private record TopicsFile(TopicSettings defaults, Map<String, TopicSettings> topics) {

        TopicsFile {
            defaults = defaults == null ? new TopicSettings(null, null, null) : defaults;
            require(topics != null && !topics.isEmpty(), "topics", "defines no topics");
        }
    }

    /** A topic's settings, or the defaults of every topic. */
    private record TopicSettings(
            Integer partitions, Integer replicationFactor, Map<String, String> config) {

        TopicSettings {
            config = config == null ? Map.of() : config;
            require(
                    partitions == null || partitions >= 1,
                    "partitions",
                    "must be a positive number");
            require(
                    replicationFactor == null || replicationFactor >= 1,
                    "replication-factor",
                    "must be at least 1");
        }
    }

    /** The topics of {@code file}: each topic's settings over the file's defaults. */
    static List<TopicDefinition> read(Path file, Short replicationOverride) {
        JsonNode document = BINDING.readTree(file, "topic definitions");
        TopicsFile topics;
        try {
            topics = BINDING.bind(document, TopicsFile.class);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        List<TopicDefinition> definitions = new ArrayList<>();
        topics.topics()
                .forEach(
                        (name, topic) -> {
                            Map<String, String> config =
                                    new LinkedHashMap<>(topics.defaults().config());
                            config.putAll(topic.config());
                            if (topic.partitions() == null) {
                                throw new IllegalArgumentException(
                                        file + ": topics." + name + ".partitions: is missing");
                            }
                            Integer rf =
                                    topic.replicationFactor() != null
                                            ? topic.replicationFactor()
                                            : topics.defaults().replicationFactor();
                            if (rf == null) {
                                throw new IllegalArgumentException(
                                        file
                                                + ": topics."
                                                + name
                                                + ".replication-factor: is missing"
                                                + " (here or in defaults)");
                            }
                            short replication =
                                    replicationOverride != null
                                            ? replicationOverride
                                            : rf.shortValue();
                            String minIsr = config.get("min.insync.replicas");
                            if (minIsr != null && Integer.parseInt(minIsr) > replication) {
                                config.put("min.insync.replicas", Short.toString(replication));
                            }
                            definitions.add(
                                    new TopicDefinition(
                                            name, topic.partitions(), replication, config));
                        });
        return definitions;
    }
}
