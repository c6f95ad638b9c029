package io.tokenmeter.io;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.utils.AppInfoParser;

/**
 * The Kafka client settings an operator passes through to every Kafka client the job and its tools
 * create: security (TLS, SASL), timeouts, DNS lookup, config providers. Four sections of the job
 * configuration, applied in this order, later ones winning:
 *
 * <ul>
 *   <li>{@code kafka.properties.*} — every client (consumers, producers, admin clients); such a key
 *       must mean something to all three;
 *   <li>{@code kafka.consumer.properties.*} — the sources' consumers (and the admin client the
 *       Kafka source's enumerator builds from them) and the tools' readers;
 *   <li>{@code kafka.producer.properties.*} — the exactly-once sinks' producers and the tools'
 *       writers;
 *   <li>{@code kafka.admin.properties.*} — the tools' admin clients (topic creation, offsets,
 *       ACLs).
 * </ul>
 *
 * <p>The job owns a few settings because its guarantees rest on them (exactly once, read committed,
 * its own group and transactional ids, I10's request size); those keys are refused with a message
 * naming the job's own key, if any. Every other key must be one the Kafka client of its section
 * knows, so a typo fails at start-up.
 *
 * <p>Secrets never sit in these values: a setting Kafka declares a password ({@code
 * sasl.jaas.config}, {@code ssl.keystore.password}, ...) must hold a config-provider reference such
 * as {@code ${file:/etc/tokenmeter/kafka.properties:password}} or {@code ${env:KAFKA_PASSWORD}},
 * and so must a {@code password="..."} inside a JAAS line. The references travel unresolved — in
 * the job graph, this object's {@code toString}, the logs — and each Kafka client resolves them in
 * its constructor (kafka-clients' {@code AbstractConfig} reads {@code config.providers}), that is
 * on the TaskManager, the moment it connects.
 */
public final class KafkaClientProperties implements Serializable {

    private static final long serialVersionUID = 1L;

    public static final String COMMON_PREFIX = "kafka.properties.";
    public static final String CONSUMER_PREFIX = "kafka.consumer.properties.";
    public static final String PRODUCER_PREFIX = "kafka.producer.properties.";
    public static final String ADMIN_PREFIX = "kafka.admin.properties.";

    private static final List<String> PREFIXES =
            List.of(COMMON_PREFIX, CONSUMER_PREFIX, PRODUCER_PREFIX, ADMIN_PREFIX);

    /** Settings the job sets itself, and the job key (if any) that sets each. */
    private static final Map<String, String> OWNED_BY_THE_JOB = ownedByTheJob();

    /** Keys of the Flink Kafka source, not of the Kafka consumer, that an operator may tune. */
    private static final Set<String> FLINK_SOURCE_KEYS =
            Set.of(
                    "partition.discovery.interval.ms",
                    "client.id.prefix",
                    "register.consumer.metrics");

    /**
     * A config-provider reference, as kafka-clients' ConfigTransformer finds them:
     * ${provider:[path:]key}.
     */
    private static final Pattern REFERENCE =
            Pattern.compile("\\$\\{([^}]*?):(([^}]*?):)?([^}]*?)\\}");

    /**
     * A password or secret option inside a JAAS line, quoted or not, whose value is not a
     * reference.
     */
    private static final Pattern LITERAL_JAAS_PASSWORD =
            Pattern.compile(
                    "(?i)(\\w*(?:password|secret))\\s*=\\s*(?!\"?\\$\\{)(\"[^\"]*\"|[^\\s;]+)");

    private final TreeMap<String, String> common;
    private final TreeMap<String, String> consumer;
    private final TreeMap<String, String> producer;
    private final TreeMap<String, String> admin;

    private KafkaClientProperties(
            Map<String, String> common,
            Map<String, String> consumer,
            Map<String, String> producer,
            Map<String, String> admin) {
        this.common = new TreeMap<>(common);
        this.consumer = new TreeMap<>(consumer);
        this.producer = new TreeMap<>(producer);
        this.admin = new TreeMap<>(admin);
    }

    /** No settings: plaintext clients with Kafka's defaults. */
    public static KafkaClientProperties none() {
        return new KafkaClientProperties(Map.of(), Map.of(), Map.of(), Map.of());
    }

    /**
     * The settings of the four sections ({@code kafka.properties}, {@code
     * kafka.consumer.properties}, ...), each keyed by the Kafka client's own key, validated.
     *
     * @throws IllegalArgumentException naming the first key that is owned by the job, unknown to
     *     its clients, or a secret in plain text
     */
    public static KafkaClientProperties of(
            Map<String, String> common,
            Map<String, String> consumer,
            Map<String, String> producer,
            Map<String, String> admin) {
        List<Map<String, String>> sections = List.of(common, consumer, producer, admin);
        for (int i = 0; i < PREFIXES.size(); i++) {
            String prefix = PREFIXES.get(i);
            sections.get(i)
                    .forEach((clientKey, value) -> validate(prefix, clientKey, value.trim()));
        }
        return new KafkaClientProperties(common, consumer, producer, admin);
    }

    /**
     * The pass-through settings among {@code values}, dotted job keys such as {@code
     * kafka.properties.x}.
     */
    public static KafkaClientProperties fromConfig(Map<String, String> values) {
        List<Map<String, String>> sections =
                List.of(
                        new LinkedHashMap<>(),
                        new LinkedHashMap<>(),
                        new LinkedHashMap<>(),
                        new LinkedHashMap<>());
        values.forEach(
                (key, value) -> {
                    for (int i = 0; i < PREFIXES.size(); i++) {
                        if (key.startsWith(PREFIXES.get(i))) {
                            sections.get(i)
                                    .put(key.substring(PREFIXES.get(i).length()), value.trim());
                        }
                    }
                });
        return of(sections.get(0), sections.get(1), sections.get(2), sections.get(3));
    }

    private static void validate(String prefix, String clientKey, String value) {
        String key = prefix + clientKey;
        if (clientKey.isEmpty()) {
            throw invalid(key, "names no Kafka client setting");
        }
        String owner = OWNED_BY_THE_JOB.get(clientKey);
        if (owner != null) {
            throw invalid(
                    key,
                    "is set by the job itself and cannot be passed through"
                            + (owner.isEmpty() ? "" : ": use " + owner));
        }
        if (!knownTo(prefix, clientKey)) {
            throw invalid(
                    key,
                    prefix.equals(COMMON_PREFIX)
                            ? "is not a setting every Kafka client (consumer, producer, admin) knows; a setting of one kind"
                                    + " of client goes under "
                                    + CONSUMER_PREFIX
                                    + ", "
                                    + PRODUCER_PREFIX
                                    + " or "
                                    + ADMIN_PREFIX
                            : "is not a setting the Kafka "
                                    + section(prefix)
                                    + " knows (kafka-clients "
                                    + AppInfoParser.getVersion()
                                    + ")");
        }
        if (isPassword(clientKey) && !REFERENCE.matcher(value).find()) {
            throw invalid(
                    key,
                    "is a secret and must not be written in the configuration: give a config-provider"
                            + " reference instead, e.g. ${file:/etc/tokenmeter/kafka.properties:"
                            + clientKey
                            + "} or"
                            + " ${env:KAFKA_PASSWORD}, with config.providers set (docs/operations.md)");
        }
        Matcher literal = LITERAL_JAAS_PASSWORD.matcher(value);
        if (clientKey.endsWith("sasl.jaas.config") && literal.find()) {
            throw invalid(
                    key,
                    "holds "
                            + literal.group(1)
                            + " in plain text: write "
                            + literal.group(1)
                            + "=\"${file:/path:key}\" or "
                            + literal.group(1)
                            + "=\"${env:VARIABLE}\", with config.providers set (docs/operations.md)");
        }
    }

    private static boolean knownTo(String prefix, String clientKey) {
        if (clientKey.startsWith("config.providers.")) {
            return true; // config.providers.<name>.class and .param.*: read by AbstractConfig
            // itself
        }
        return switch (prefix) {
            case COMMON_PREFIX ->
                    ConsumerConfig.configNames().contains(clientKey)
                            && ProducerConfig.configNames().contains(clientKey)
                            && AdminClientConfig.configNames().contains(clientKey);
            case CONSUMER_PREFIX ->
                    ConsumerConfig.configNames().contains(clientKey)
                            || FLINK_SOURCE_KEYS.contains(clientKey);
            case PRODUCER_PREFIX -> ProducerConfig.configNames().contains(clientKey);
            default -> AdminClientConfig.configNames().contains(clientKey);
        };
    }

    private static boolean isPassword(String clientKey) {
        for (ConfigDef def :
                List.of(
                        ConsumerConfig.configDef(),
                        ProducerConfig.configDef(),
                        AdminClientConfig.configDef())) {
            ConfigDef.ConfigKey key = def.configKeys().get(clientKey);
            if (key != null && key.type == ConfigDef.Type.PASSWORD) {
                return true;
            }
        }
        return false;
    }

    /** The settings for a consumer: the common ones, then the consumer section. */
    public Properties consumer() {
        return merged(consumer);
    }

    /** The settings for a producer: the common ones, then the producer section. */
    public Properties producer() {
        return merged(producer);
    }

    /** The settings for an admin client: the common ones, then the admin section. */
    public Properties admin() {
        return merged(admin);
    }

    /** As {@link #consumer()}, with {@code bootstrapServers}. */
    public Properties consumer(String bootstrapServers) {
        return withBootstrap(consumer(), bootstrapServers);
    }

    /** As {@link #producer()}, with {@code bootstrapServers}. */
    public Properties producer(String bootstrapServers) {
        return withBootstrap(producer(), bootstrapServers);
    }

    /** As {@link #admin()}, with {@code bootstrapServers}. */
    public Properties admin(String bootstrapServers) {
        return withBootstrap(admin(), bootstrapServers);
    }

    /** These settings as the dotted job keys {@link #fromConfig} reads. */
    public Map<String, String> asConfig() {
        Map<String, String> m = new LinkedHashMap<>();
        common.forEach((k, v) -> m.put(COMMON_PREFIX + k, v));
        consumer.forEach((k, v) -> m.put(CONSUMER_PREFIX + k, v));
        producer.forEach((k, v) -> m.put(PRODUCER_PREFIX + k, v));
        admin.forEach((k, v) -> m.put(ADMIN_PREFIX + k, v));
        return m;
    }

    /** Whether there are no settings at all. */
    public boolean isEmpty() {
        return common.isEmpty() && consumer.isEmpty() && producer.isEmpty() && admin.isEmpty();
    }

    /** The settings; secrets appear only as the references that were configured. */
    @Override
    public String toString() {
        return "KafkaClientProperties" + asConfig();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KafkaClientProperties other && asConfig().equals(other.asConfig());
    }

    @Override
    public int hashCode() {
        return asConfig().hashCode();
    }

    private Properties merged(Map<String, String> section) {
        Properties p = new Properties();
        p.putAll(common);
        p.putAll(section);
        return p;
    }

    private static Properties withBootstrap(Properties p, String bootstrapServers) {
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return p;
    }

    private static String section(String prefix) {
        return switch (prefix) {
            case CONSUMER_PREFIX -> "consumer";
            case PRODUCER_PREFIX -> "producer";
            default -> "admin client";
        };
    }

    private static IllegalArgumentException invalid(String key, String problem) {
        return new IllegalArgumentException("Configuration key '" + key + "' " + problem);
    }

    private static Map<String, String> ownedByTheJob() {
        Map<String, String> owned = new LinkedHashMap<>();
        owned.put("bootstrap.servers", "kafka.bootstrap-servers");
        owned.put("group.id", "kafka.consumer-group");
        owned.put("transactional.id", "kafka.transactional-id-prefix");
        owned.put("transaction.timeout.ms", "kafka.transaction-timeout");
        owned.put("max.request.size", "kafka.producer.max-request-size");
        // read_committed: an aborted producer attempt on the raw topic is never billed.
        owned.put("isolation.level", "");
        // Exactly-once sinks need idempotent producers with acks=all.
        owned.put("enable.idempotence", "");
        owned.put("acks", "");
        // The source commits offsets on checkpoints and starts from them (earliest when there are
        // none).
        owned.put("enable.auto.commit", "");
        owned.put("auto.offset.reset", "");
        owned.put("commit.offsets.on.checkpoint", "");
        owned.put("key.serializer", "");
        owned.put("value.serializer", "");
        owned.put("key.deserializer", "");
        owned.put("value.deserializer", "");
        return Map.copyOf(owned);
    }
}
