package io.tokenmeter.io;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.LedgerEntry;
import io.tokenmeter.avro.PackageNotice;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.logic.WallClock;
import io.tokenmeter.metering.KafkaConfig;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.metering.SchemaRegistryConfig;
import io.tokenmeter.schema.AvroCodec;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.flink.util.function.SerializableSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The metering job's real Kafka source and sinks, built from its configuration: each sink from the
 * Kafka and schema registry sections, the sources from the sections their readers judge records by.
 */
public final class KafkaEndpoints {

    private KafkaEndpoints() {}

    /**
     * The raw usage topic, from the committed offsets of the consumer group (earliest when it has
     * none), decoded and validated by {@link UsageEventDeserializer}.
     */
    public static KafkaSource<IngestedRecord> rawUsageSource(MeteringConfig config) {
        return rawUsageSource(config, WallClock.system());
    }

    /**
     * As {@link #rawUsageSource(MeteringConfig)}, judging event times against {@code wallClock}
     * (tests).
     */
    public static KafkaSource<IngestedRecord> rawUsageSource(
            MeteringConfig config, WallClock wallClock) {
        OutputFraming.checkRegistryReachable(config.schemaRegistry());
        KafkaSourceBuilder<IngestedRecord> builder =
                KafkaSource.<IngestedRecord>builder()
                        // First, so that the job's own settings below win (MeteringConfig refuses
                        // the keys they set).
                        .setProperties(config.kafka().clients().consumer())
                        .setBootstrapServers(config.kafka().bootstrapServers())
                        .setTopics(config.kafka().topics().raw())
                        .setGroupId(config.kafka().consumerGroup())
                        .setStartingOffsets(
                                OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                        .setDeserializer(
                                new UsageEventDeserializer(
                                        config.validation().limits(),
                                        config.partitionClock(wallClock),
                                        config.dedup().key(),
                                        config.schemaRegistry().settings()))
                        // Producers may write the raw topic transactionally: never bill an aborted
                        // attempt.
                        .setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        if (config.kafka().stopAtLatestOffsets()) {
            builder.setBounded(OffsetsInitializer.latest());
        }
        return builder.build();
    }

    /**
     * The subscriptions topic (compacted, keyed by account and subscription), read like the raw
     * topic: from the committed offsets of the consumer group, earliest when it has none, so a
     * fresh job sees every subscription.
     */
    public static KafkaSource<SubscriptionRecord> subscriptionsSource(MeteringConfig config) {
        KafkaSourceBuilder<SubscriptionRecord> builder =
                KafkaSource.<SubscriptionRecord>builder()
                        .setProperties(config.kafka().clients().consumer())
                        .setBootstrapServers(config.kafka().bootstrapServers())
                        .setTopics(config.kafka().topics().subscriptions())
                        .setGroupId(config.kafka().consumerGroup())
                        .setStartingOffsets(
                                OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                        .setDeserializer(
                                new SubscriptionDeserializer(
                                        config.packageCatalog(), config.validation().limits()))
                        .setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        if (config.kafka().stopAtLatestOffsets()) {
            builder.setBounded(OffsetsInitializer.latest());
        }
        return builder.build();
    }

    /** Package notices, keyed by account id, exactly once. */
    public static KafkaSink<PackageNotice> noticesSink(
            KafkaConfig kafka, SchemaRegistryConfig registry) {
        return exactlyOnceSink(
                kafka,
                registry,
                SchemaRegistryConfig.NOTICES,
                kafka.topics().notices(),
                AvroCodec::packageNotices,
                PackageNotice::getAccountId);
    }

    /**
     * Billing records, keyed by account id, written in Kafka transactions committed with each
     * checkpoint.
     */
    public static KafkaSink<BillingRecord> billingSink(
            KafkaConfig kafka, SchemaRegistryConfig registry) {
        return exactlyOnceSink(
                kafka,
                registry,
                SchemaRegistryConfig.BILLING,
                kafka.topics().billing(),
                AvroCodec::billingRecords,
                BillingRecord::getAccountId);
    }

    /**
     * Rejected records, keyed by nothing (they spread over partitions), exactly once like billing
     * records.
     */
    public static KafkaSink<RejectedRecord> rejectedSink(
            KafkaConfig kafka, SchemaRegistryConfig registry) {
        return exactlyOnceSink(
                kafka,
                registry,
                SchemaRegistryConfig.REJECTED,
                kafka.topics().rejected(),
                AvroCodec::rejectedRecords,
                r -> null);
    }

    /** Account usage rows (hourly and daily), keyed by account id, exactly once. */
    public static KafkaSink<AccountUsage> accountUsageSink(
            KafkaConfig kafka, SchemaRegistryConfig registry) {
        return exactlyOnceSink(
                kafka,
                registry,
                SchemaRegistryConfig.ACCOUNT_USAGE,
                kafka.topics().accountUsage(),
                AvroCodec::accountUsage,
                AccountUsage::getAccountId);
    }

    /** Regional usage rows, keyed by region, exactly once. */
    public static KafkaSink<AreaUsage> regionalUsageSink(
            KafkaConfig kafka, SchemaRegistryConfig registry) {
        return exactlyOnceSink(
                kafka,
                registry,
                SchemaRegistryConfig.REGIONAL_USAGE,
                kafka.topics().regionalUsage(),
                AvroCodec::areaUsage,
                AreaUsage::getRegion);
    }

    /** National usage rows, keyed by model, exactly once. */
    public static KafkaSink<AreaUsage> nationalUsageSink(
            KafkaConfig kafka, SchemaRegistryConfig registry) {
        return exactlyOnceSink(
                kafka,
                registry,
                SchemaRegistryConfig.NATIONAL_USAGE,
                kafka.topics().nationalUsage(),
                AvroCodec::areaUsage,
                AreaUsage::getModel);
    }

    /**
     * The ledger behind I1, keyed by source topic and partition (each source partition's entries in
     * order on one ledger partition), exactly once: each entry commits with the records it counts.
     */
    public static KafkaSink<LedgerEntry> ledgerSink(
            KafkaConfig kafka, SchemaRegistryConfig registry) {
        return exactlyOnceSink(
                kafka,
                registry,
                SchemaRegistryConfig.LEDGER,
                kafka.topics().ledger(),
                AvroCodec::ledgerEntries,
                e -> e.getSourceTopic() + "/" + e.getSourcePartition());
    }

    /**
     * Producer settings of the sinks unless {@code kafka.producer.properties.*} sets them: the
     * outputs are about as many records as the input, and with Kafka's defaults (16 KiB batches, 5
     * ms linger, uncompressed) the broker spent a quarter more CPU on them (docs/benchmarks.md,
     * issue 14's fourth round). A read_committed reader sees the records only at the checkpoint's
     * commit anyway, so lingering 20 ms delays none.
     */
    static final Map<String, String> SINK_PRODUCER_DEFAULTS =
            Map.of(
                    ProducerConfig.LINGER_MS_CONFIG, "20",
                    ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 * 1024),
                    ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");

    /** The sinks' producer settings: {@link #SINK_PRODUCER_DEFAULTS}, then the configured ones. */
    static Properties sinkProducerProperties(KafkaClientProperties clients) {
        Properties properties = new Properties();
        properties.putAll(SINK_PRODUCER_DEFAULTS);
        properties.putAll(clients.producer());
        return properties;
    }

    /**
     * {@code output} (one of {@link SchemaRegistryConfig#OUTPUTS}) written to {@code topic} exactly
     * once.
     */
    private static <T extends SpecificRecord> KafkaSink<T> exactlyOnceSink(
            KafkaConfig kafka,
            SchemaRegistryConfig registry,
            String output,
            String topic,
            SerializableSupplier<AvroCodec<T>> codec,
            SerializableFunction<T, String> keyOf) {
        AvroKafkaSerializer<T> serializer =
                OutputFraming.serializer(registry, output, topic, codec, keyOf);
        return KafkaSink.<T>builder()
                // First, so that the job's own settings below win (MeteringConfig refuses the keys
                // they set).
                .setKafkaProducerConfig(sinkProducerProperties(kafka.clients()))
                .setBootstrapServers(kafka.bootstrapServers())
                .setRecordSerializer(serializer)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                // Each sink needs its own prefix: two sinks sharing one would fence each other's
                // transactions.
                .setTransactionalIdPrefix(kafka.transactionalIdPrefix() + "-" + output)
                // The sink's default (1 h) exceeds the broker's default transaction.max.timeout.ms
                // (15 min).
                .setProperty(
                        ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
                        Long.toString(kafka.transactionTimeout().toMillis()))
                // The limit MeteringConfig checked every output's largest size against at start-up
                // (I10).
                .setProperty(
                        ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
                        Integer.toString(kafka.producer().maxRequestSize()))
                .build();
    }
}
