package io.tokenmeter.testkit;

import io.tokenmeter.io.KafkaClientProperties;
import io.tokenmeter.metering.MeteringConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Topic administration and reading a topic to its end, as the local run and the tests need them;
 * every client it makes carries the pass-through settings ({@link KafkaClientProperties}) it was
 * given, e.g. TLS and SASL.
 */
public final class KafkaTopics {

    private final String bootstrapServers;
    private final KafkaClientProperties clients;

    /** Plaintext clients with Kafka's defaults. */
    public KafkaTopics(String bootstrapServers) {
        this(bootstrapServers, KafkaClientProperties.none());
    }

    public KafkaTopics(String bootstrapServers, KafkaClientProperties clients) {
        this.bootstrapServers = bootstrapServers;
        this.clients = clients;
    }

    /** The cluster and client settings of a job configuration. */
    public static KafkaTopics of(MeteringConfig config) {
        return new KafkaTopics(config.kafka().bootstrapServers(), config.kafka().clients());
    }

    /** An admin client with these settings; the caller closes it. */
    public Admin admin() {
        return Admin.create(clients.admin(bootstrapServers));
    }

    /**
     * Creates each topic with {@code partitions} partitions (replication 1); existing topics are
     * left alone.
     */
    public void create(int partitions, Collection<String> topics) throws InterruptedException {
        try (Admin admin = admin()) {
            List<NewTopic> newTopics =
                    topics.stream()
                            .map(t -> new NewTopic(t, partitions, (short) 1))
                            .collect(Collectors.toList());
            for (var result : admin.createTopics(newTopics).values().entrySet()) {
                try {
                    result.getValue().get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException(
                                "cannot create topic " + result.getKey(), e.getCause());
                    }
                }
            }
            awaitLeaders(admin, topics);
        }
    }

    /**
     * Waits until every partition of {@code topics} has a leader. An idempotent producer that
     * writes to a partition still being created can have its first batch refused and then loop on
     * OUT_OF_ORDER_SEQUENCE_NUMBER until its delivery timeout (seen with Kafka 4.2).
     */
    public static void awaitLeaders(Admin admin, Collection<String> topics)
            throws InterruptedException {
        boolean ready =
                Await.poll(
                        LEADERS_TIMEOUT,
                        Duration.ofMillis(500),
                        () -> {
                            try {
                                return admin
                                        .describeTopics(topics)
                                        .allTopicNames()
                                        .get()
                                        .values()
                                        .stream()
                                        .flatMap(description -> description.partitions().stream())
                                        .allMatch(
                                                partition ->
                                                        partition.leader() != null
                                                                && !partition.leader().isEmpty());
                            } catch (ExecutionException e) {
                                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                                    throw new IllegalStateException(
                                            "cannot describe topics " + topics, e.getCause());
                                }
                                return false;
                            }
                        },
                        Boolean::booleanValue);
        if (!ready) {
            throw new IllegalStateException(
                    "topics "
                            + topics
                            + " still lack partition leaders after "
                            + LEADERS_TIMEOUT.toSeconds()
                            + " s");
        }
    }

    private static final Duration LEADERS_TIMEOUT = Duration.ofSeconds(60);

    /**
     * Waits until consumer group {@code group} has committed, for every partition of {@code topic}
     * that holds records, an offset at its end: a Flink job reading with that group id has read
     * them all and completed a checkpoint covering them (the Kafka source commits offsets when a
     * checkpoint completes).
     */
    public void awaitConsumed(String group, String topic, Duration timeout)
            throws InterruptedException {
        Map<TopicPartition, Long> end = endOffsets(topic, "read_committed");
        try (Admin admin = admin()) {
            Map<TopicPartition, OffsetAndMetadata> committed =
                    Await.poll(
                            timeout,
                            Duration.ofMillis(100),
                            () -> {
                                try {
                                    return admin.listConsumerGroupOffsets(group)
                                            .partitionsToOffsetAndMetadata()
                                            .get();
                                } catch (ExecutionException e) {
                                    throw new IllegalStateException(
                                            "cannot read the offsets of group " + group,
                                            e.getCause());
                                }
                            },
                            c -> consumed(end, c));
            if (!consumed(end, committed)) {
                throw new IllegalStateException(
                        "group "
                                + group
                                + " has not consumed "
                                + topic
                                + " within "
                                + timeout
                                + ": end offsets "
                                + end
                                + ", committed "
                                + committed);
            }
        }
    }

    private static boolean consumed(
            Map<TopicPartition, Long> end, Map<TopicPartition, OffsetAndMetadata> committed) {
        return end.entrySet().stream()
                .allMatch(
                        e ->
                                e.getValue() == 0
                                        || (committed.get(e.getKey()) != null
                                                && committed.get(e.getKey()).offset()
                                                        >= e.getValue()));
    }

    /**
     * How many records {@code topic} holds now (end offsets minus start offsets, over all
     * partitions).
     */
    public long countRecords(String topic) {
        Properties props = clients.consumer(bootstrapServers);
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(
                        props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions =
                    consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                            .map(p -> new TopicPartition(topic, p.partition()))
                            .collect(Collectors.toList());
            Map<TopicPartition, Long> start = consumer.beginningOffsets(partitions);
            return consumer.endOffsets(partitions).entrySet().stream()
                    .mapToLong(e -> e.getValue() - start.get(e.getKey()))
                    .sum();
        }
    }

    /**
     * Partitions of {@code topic} whose last stable offset is below the high watermark: a
     * transaction is still open there, and read_committed consumers cannot get past it.
     */
    public List<TopicPartition> partitionsWithOpenTransactions(String topic) {
        Map<TopicPartition, Long> stable = endOffsets(topic, "read_committed");
        Map<TopicPartition, Long> written = endOffsets(topic, "read_uncommitted");
        return stable.entrySet().stream()
                .filter(e -> e.getValue() < written.get(e.getKey()))
                .map(Map.Entry::getKey)
                .sorted(Comparator.comparingInt(TopicPartition::partition))
                .collect(Collectors.toList());
    }

    private Map<TopicPartition, Long> endOffsets(String topic, String isolationLevel) {
        Properties props = clients.consumer(bootstrapServers);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolationLevel);
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(
                        props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions =
                    consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                            .map(p -> new TopicPartition(topic, p.partition()))
                            .collect(Collectors.toList());
            return consumer.endOffsets(partitions);
        }
    }

    /**
     * Reads every committed record of {@code topic} up to its end as of now, with
     * isolation.level=read_committed: records of open or aborted transactions are never seen, and
     * the read stops at the last stable offset.
     */
    public List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic) {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        readCommitted(topic, records::add);
        return records;
    }

    /**
     * Like {@link #readCommitted(String)}, handing each record to {@code sink} instead of keeping
     * them.
     */
    public long readCommitted(String topic, Consumer<ConsumerRecord<byte[], byte[]>> sink) {
        Properties props = clients.consumer(bootstrapServers);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        long count = 0;
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(
                        props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions =
                    consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                            .map(p -> new TopicPartition(topic, p.partition()))
                            .collect(Collectors.toList());
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            // For read_committed consumers the end offset is the last stable offset.
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> record :
                        consumer.poll(Duration.ofMillis(500))) {
                    if (record.offset()
                            < end.get(new TopicPartition(record.topic(), record.partition()))) {
                        sink.accept(record);
                        count++;
                    }
                }
            }
        }
        return count;
    }
}
