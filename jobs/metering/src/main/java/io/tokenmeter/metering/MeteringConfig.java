package io.tokenmeter.metering;

import io.tokenmeter.functions.FaultInjection;
import io.tokenmeter.io.KafkaClientProperties;
import io.tokenmeter.logic.OutputLimits;
import io.tokenmeter.logic.PackageCatalog;
import io.tokenmeter.logic.SubscriptionLimits;
import io.tokenmeter.logic.ValidationLimits;
import io.tokenmeter.logic.WallClock;
import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import javax.annotation.Nullable;
import org.apache.flink.util.TimeUtils;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Everything the metering job can be told, typed and validated. Built from the defaults below, then a YAML file
 * (nested maps, flattened to dotted keys), then {@code key=value} overrides; any unknown key or bad value fails
 * start-up with a message naming the key.
 *
 * <p>Keys and defaults are documented in {@code config/metering.yaml}.
 */
public record MeteringConfig(
        String bootstrapServers,
        String rawTopic,
        String billingTopic,
        String rejectedTopic,
        String accountUsageTopic,
        String regionalUsageTopic,
        String nationalUsageTopic,
        String ledgerTopic,
        String consumerGroup,
        boolean stopAtLatestOffsets,
        Duration transactionTimeout,
        String transactionalIdPrefix,
        ZoneId billingZone,
        Duration dayCloseGrace,
        Duration correctionHorizon,
        Duration outOfOrderness,
        Duration sourceIdleness,
        Duration checkpointInterval,
        Duration checkpointMinPause,
        Duration dedupHorizon,
        String dedupKeyFile,
        int preAggregationMaxEntries,
        Duration preAggregationMaxDelay,
        long maxTokensPerEvent,
        Duration futureSkew,
        int maxRecordBytes,
        int maxEventIdBytes,
        int maxSourceBytes,
        int maxAccountIdBytes,
        int maxRegionBytes,
        int maxModelBytes,
        int maxLineItemsPerDay,
        int producerMaxRequestSize,
        java.util.List<String> metricRegions,
        java.util.List<String> metricModels,
        int maxParallelism,
        WarehouseConfig warehouse,
        FaultInjection.Fault fault,
        int faultAfterCheckpoints,
        String subscriptionsTopic,
        String noticesTopic,
        String packagesCatalog,
        @Nullable PackageCatalog packages,
        KafkaClientProperties kafkaClients,
        SchemaRegistryConfig schemaRegistry)
        implements Serializable {

    public static final String BOOTSTRAP_SERVERS = "kafka.bootstrap-servers";
    public static final String RAW_TOPIC = "kafka.topics.raw";
    public static final String BILLING_TOPIC = "kafka.topics.billing";
    public static final String REJECTED_TOPIC = "kafka.topics.rejected";
    public static final String ACCOUNT_USAGE_TOPIC = "kafka.topics.account-usage";
    public static final String REGIONAL_USAGE_TOPIC = "kafka.topics.regional-usage";
    public static final String NATIONAL_USAGE_TOPIC = "kafka.topics.national-usage";
    public static final String LEDGER_TOPIC = "kafka.topics.ledger";
    public static final String CONSUMER_GROUP = "kafka.consumer-group";
    public static final String STOP_AT_LATEST = "kafka.stop-at-latest-offsets";
    public static final String TRANSACTION_TIMEOUT = "kafka.transaction-timeout";
    public static final String TRANSACTIONAL_ID_PREFIX = "kafka.transactional-id-prefix";
    public static final String BILLING_ZONE = "billing.time-zone";
    public static final String DAY_CLOSE_GRACE = "billing.day-close-grace";
    public static final String CORRECTION_HORIZON = "billing.correction-horizon";
    public static final String OUT_OF_ORDERNESS = "event-time.out-of-orderness";
    public static final String SOURCE_IDLENESS = "event-time.source-idleness";
    public static final String CHECKPOINT_INTERVAL = "checkpoints.interval";
    public static final String CHECKPOINT_MIN_PAUSE = "checkpoints.min-pause";
    public static final String DEDUP_HORIZON = "dedup.horizon";
    public static final String DEDUP_KEY_FILE = "dedup.key-file";
    /** Holds the dedup key on the TaskManagers when {@link #DEDUP_KEY_FILE} is empty. */
    public static final String DEDUP_KEY_ENV = "TOKENMETER_DEDUP_KEY";
    public static final String PRE_AGGREGATION_MAX_ENTRIES = "pre-aggregation.max-entries";
    public static final String PRE_AGGREGATION_MAX_DELAY = "pre-aggregation.max-delay";
    public static final String MAX_TOKENS_PER_EVENT = "validation.max-tokens-per-event";
    public static final String FUTURE_SKEW = "validation.future-skew";
    public static final String MAX_RECORD_BYTES = "validation.max-record-bytes";
    public static final String MAX_EVENT_ID_BYTES = "validation.max-event-id-bytes";
    public static final String MAX_SOURCE_BYTES = "validation.max-source-bytes";
    public static final String MAX_ACCOUNT_ID_BYTES = "validation.max-account-id-bytes";
    public static final String MAX_REGION_BYTES = "validation.max-region-bytes";
    public static final String MAX_MODEL_BYTES = "validation.max-model-bytes";
    public static final String MAX_LINE_ITEMS_PER_DAY = "validation.max-line-items-per-day";
    public static final String PRODUCER_MAX_REQUEST_SIZE = "kafka.producer.max-request-size";
    public static final String METRIC_REGIONS = "metrics.regions";
    public static final String METRIC_MODELS = "metrics.models";
    public static final String MAX_PARALLELISM = "max-parallelism";
    public static final String FAULTS_INJECT = "faults.inject";
    public static final String SUBSCRIPTIONS_TOPIC = "kafka.topics.subscriptions";
    public static final String NOTICES_TOPIC = "kafka.topics.notices";
    public static final String PACKAGES_CATALOG = "packages.catalog";
    public static final String FAULTS_AFTER_CHECKPOINTS = "faults.after-checkpoints";

    /** The longest dedup horizon allowed: the correction horizon's default, beyond which nothing is billed. */
    static final Duration MAX_DEDUP_HORIZON = Duration.ofDays(35);

    /** The longest string cap: ids and names, not documents. */
    static final int MAX_FIELD_BYTES = 4096;

    /** The broker default for transaction.max.timeout.ms; a sink timeout above it fails the job at start. */
    static final Duration BROKER_DEFAULT_MAX_TRANSACTION_TIMEOUT = Duration.ofMinutes(15);

    private static final Map<String, String> DEFAULTS = defaults();

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put(BOOTSTRAP_SERVERS, "localhost:9092");
        d.put(RAW_TOPIC, "tokenmeter.usage.raw");
        d.put(BILLING_TOPIC, "tokenmeter.billing.records");
        d.put(REJECTED_TOPIC, "tokenmeter.usage.rejected");
        d.put(ACCOUNT_USAGE_TOPIC, "tokenmeter.usage.account");
        d.put(REGIONAL_USAGE_TOPIC, "tokenmeter.usage.regional");
        d.put(NATIONAL_USAGE_TOPIC, "tokenmeter.usage.national");
        d.put(LEDGER_TOPIC, "tokenmeter.metering.ledger");
        d.put(CONSUMER_GROUP, "tokenmeter-metering");
        d.put(STOP_AT_LATEST, "false");
        d.put(TRANSACTION_TIMEOUT, "10 min");
        d.put(TRANSACTIONAL_ID_PREFIX, "tokenmeter-metering");
        d.put(BILLING_ZONE, "Asia/Shanghai");
        d.put(DAY_CLOSE_GRACE, "15 min");
        d.put(CORRECTION_HORIZON, "35 d");
        d.put(OUT_OF_ORDERNESS, "2 min");
        d.put(SOURCE_IDLENESS, "1 min");
        d.put(CHECKPOINT_INTERVAL, "10 s");
        d.put(CHECKPOINT_MIN_PAUSE, "0 s");
        d.put(DEDUP_HORIZON, "24 h");
        d.put(DEDUP_KEY_FILE, "");
        d.put(PRE_AGGREGATION_MAX_ENTRIES, "20000");
        d.put(PRE_AGGREGATION_MAX_DELAY, "1 s");
        d.put(MAX_TOKENS_PER_EVENT, "10000000");
        d.put(FUTURE_SKEW, "5 min");
        d.put(MAX_RECORD_BYTES, "65536");
        d.put(MAX_EVENT_ID_BYTES, Integer.toString(ValidationLimits.DEFAULT_MAX_EVENT_ID_BYTES));
        d.put(MAX_SOURCE_BYTES, Integer.toString(ValidationLimits.DEFAULT_MAX_SOURCE_BYTES));
        d.put(MAX_ACCOUNT_ID_BYTES, Integer.toString(ValidationLimits.DEFAULT_MAX_ACCOUNT_ID_BYTES));
        d.put(MAX_REGION_BYTES, Integer.toString(ValidationLimits.DEFAULT_MAX_REGION_BYTES));
        d.put(MAX_MODEL_BYTES, Integer.toString(ValidationLimits.DEFAULT_MAX_MODEL_BYTES));
        d.put(MAX_LINE_ITEMS_PER_DAY, "1000");
        d.put(PRODUCER_MAX_REQUEST_SIZE, "1048576");
        d.put(METRIC_REGIONS, "CN-AH,CN-BJ,CN-CQ,CN-FJ,CN-GD,CN-GS,CN-GX,CN-GZ,CN-HA,CN-HB,CN-HE,CN-HI,CN-HL,CN-HN,"
                + "CN-JL,CN-JS,CN-JX,CN-LN,CN-NM,CN-NX,CN-QH,CN-SC,CN-SD,CN-SH,CN-SN,CN-SX,CN-TJ,CN-XJ,CN-XZ,CN-YN,CN-ZJ");
        d.put(METRIC_MODELS, "deepseek-v3.2,qwen3-max,qwen3-coder-plus,doubao-seed-1.6,glm-4.6,kimi-k2,ernie-4.5,"
                + "hunyuan-t1,qwen-image,seedream-4.0,hunyuan-image-3,cosyvoice-2,doubao-seed-tts,wan2.5-t2v,seedance-1.0");
        d.put(MAX_PARALLELISM, "720");
        d.putAll(WarehouseConfig.DEFAULTS);
        d.put(FAULTS_INJECT, "none");
        d.put(FAULTS_AFTER_CHECKPOINTS, "2");
        d.put(SUBSCRIPTIONS_TOPIC, "tokenmeter.subscriptions");
        d.put(NOTICES_TOPIC, "tokenmeter.package.notices");
        d.put(PACKAGES_CATALOG, "");
        d.putAll(SchemaRegistryConfig.DEFAULTS);
        return Map.copyOf(d);
    }

    public MeteringConfig {
        require(!bootstrapServers.isBlank(), BOOTSTRAP_SERVERS, "must not be empty");
        require(!rawTopic.isBlank(), RAW_TOPIC, "must not be empty");
        require(!billingTopic.isBlank(), BILLING_TOPIC, "must not be empty");
        require(!rejectedTopic.isBlank(), REJECTED_TOPIC, "must not be empty");
        require(!accountUsageTopic.isBlank(), ACCOUNT_USAGE_TOPIC, "must not be empty");
        require(!regionalUsageTopic.isBlank(), REGIONAL_USAGE_TOPIC, "must not be empty");
        require(!nationalUsageTopic.isBlank(), NATIONAL_USAGE_TOPIC, "must not be empty");
        require(!ledgerTopic.isBlank(), LEDGER_TOPIC, "must not be empty");
        require(!consumerGroup.isBlank(), CONSUMER_GROUP, "must not be empty");
        require(!transactionalIdPrefix.isBlank(), TRANSACTIONAL_ID_PREFIX, "must not be empty");
        // It also names the warehouse's prepared transactions, whose names PostgreSQL caps at 200 bytes.
        require(transactionalIdPrefix.length() <= 100, TRANSACTIONAL_ID_PREFIX, "must have at most 100 characters");
        require(isPositive(transactionTimeout), TRANSACTION_TIMEOUT, "must be positive");
        require(transactionTimeout.compareTo(checkpointInterval) > 0, TRANSACTION_TIMEOUT,
                "must be longer than " + CHECKPOINT_INTERVAL + " (" + checkpointInterval + "), or every transaction times out");
        require(!dayCloseGrace.isNegative(), DAY_CLOSE_GRACE, "must not be negative");
        require(correctionHorizon.compareTo(dayCloseGrace) > 0, CORRECTION_HORIZON,
                "must be longer than " + DAY_CLOSE_GRACE);
        require(correctionHorizon.compareTo(Duration.ofDays(400)) <= 0, CORRECTION_HORIZON, "must be at most 400 d");
        require(!outOfOrderness.isNegative(), OUT_OF_ORDERNESS, "must not be negative");
        require(isPositive(sourceIdleness), SOURCE_IDLENESS, "must be positive");
        require(isPositive(checkpointInterval), CHECKPOINT_INTERVAL, "must be positive");
        require(!checkpointMinPause.isNegative(), CHECKPOINT_MIN_PAUSE, "must not be negative");
        require(isPositive(dedupHorizon) && dedupHorizon.compareTo(MAX_DEDUP_HORIZON) <= 0, DEDUP_HORIZON,
                "must be positive and at most " + MAX_DEDUP_HORIZON.toDays() + " d");
        // Relative to what would depend on where each TaskManager was started.
        require(dedupKeyFile.isEmpty() || Path.of(dedupKeyFile).isAbsolute(), DEDUP_KEY_FILE,
                "must be empty (the key is in " + DEDUP_KEY_ENV + ") or an absolute path");
        require(preAggregationMaxEntries >= 1 && preAggregationMaxEntries <= 10_000_000, PRE_AGGREGATION_MAX_ENTRIES,
                "must be between 1 and 10000000");
        require(isPositive(preAggregationMaxDelay), PRE_AGGREGATION_MAX_DELAY, "must be positive");
        require(maxTokensPerEvent >= 1, MAX_TOKENS_PER_EVENT, "must be at least 1");
        require(!futureSkew.isNegative(), FUTURE_SKEW, "must not be negative");
        require(maxRecordBytes >= 64, MAX_RECORD_BYTES, "must be at least 64");
        requireCap(maxEventIdBytes, MAX_EVENT_ID_BYTES);
        requireCap(maxSourceBytes, MAX_SOURCE_BYTES);
        requireCap(maxAccountIdBytes, MAX_ACCOUNT_ID_BYTES);
        requireCap(maxRegionBytes, MAX_REGION_BYTES);
        requireCap(maxModelBytes, MAX_MODEL_BYTES);
        require(maxLineItemsPerDay >= 1, MAX_LINE_ITEMS_PER_DAY, "must be at least 1");
        require(producerMaxRequestSize >= 1024, PRODUCER_MAX_REQUEST_SIZE, "must be at least 1024");
        requireOutputsFit(producerMaxRequestSize, maxAccountIdBytes, maxRegionBytes, maxModelBytes,
                maxLineItemsPerDay, maxRecordBytes, Math.max(ValidationLimits.utf8Length(rawTopic),
                        ValidationLimits.utf8Length(subscriptionsTopic)));
        require(metricRegions.size() <= 100, METRIC_REGIONS, "may name at most 100 regions (each is a label value)");
        require(metricModels.size() <= 50, METRIC_MODELS, "may name at most 50 models (each is a label value)");
        require(maxParallelism >= 1 && maxParallelism <= 32768, MAX_PARALLELISM, "must be between 1 and 32768");
        require(faultAfterCheckpoints >= 1, FAULTS_AFTER_CHECKPOINTS, "must be at least 1");
        require(!subscriptionsTopic.isBlank(), SUBSCRIPTIONS_TOPIC, "must not be empty");
        require(!noticesTopic.isBlank(), NOTICES_TOPIC, "must not be empty");
    }

    /** The defaults alone. */
    public static MeteringConfig defaultConfig() {
        return fromMap(Map.of());
    }

    /** Defaults, then {@code yamlFile} if given, then the {@code key=value} overrides. */
    public static MeteringConfig load(Path yamlFile, List<String> overrides) {
        Map<String, String> values = new LinkedHashMap<>();
        if (yamlFile != null) {
            values.putAll(readYaml(yamlFile));
        }
        for (String override : overrides) {
            int eq = override.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("Override '" + override + "' must look like key=value");
            }
            values.put(override.substring(0, eq).trim(), override.substring(eq + 1).trim());
        }
        return fromMap(values);
    }

    /** Defaults overridden by {@code values}, which use the dotted keys. */
    public static MeteringConfig fromMap(Map<String, String> values) {
        List<String> unknown = new ArrayList<>();
        for (String key : values.keySet()) {
            if (!DEFAULTS.containsKey(key) && !KafkaClientProperties.isClientSetting(key)) {
                unknown.add(key);
            }
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("Unknown configuration key(s) " + unknown + "; known keys are "
                    + new TreeMap<>(DEFAULTS).keySet() + ", and Kafka client settings under "
                    + List.of(KafkaClientProperties.COMMON_PREFIX + "*", KafkaClientProperties.CONSUMER_PREFIX + "*",
                            KafkaClientProperties.PRODUCER_PREFIX + "*", KafkaClientProperties.ADMIN_PREFIX + "*"));
        }
        Map<String, String> v = new LinkedHashMap<>(DEFAULTS);
        v.putAll(values);
        return new MeteringConfig(
                v.get(BOOTSTRAP_SERVERS),
                v.get(RAW_TOPIC),
                v.get(BILLING_TOPIC),
                v.get(REJECTED_TOPIC),
                v.get(ACCOUNT_USAGE_TOPIC),
                v.get(REGIONAL_USAGE_TOPIC),
                v.get(NATIONAL_USAGE_TOPIC),
                v.get(LEDGER_TOPIC),
                v.get(CONSUMER_GROUP),
                parse(v, STOP_AT_LATEST, MeteringConfig::parseBoolean),
                parse(v, TRANSACTION_TIMEOUT, TimeUtils::parseDuration),
                v.get(TRANSACTIONAL_ID_PREFIX),
                parse(v, BILLING_ZONE, ZoneId::of),
                parse(v, DAY_CLOSE_GRACE, TimeUtils::parseDuration),
                parse(v, CORRECTION_HORIZON, TimeUtils::parseDuration),
                parse(v, OUT_OF_ORDERNESS, TimeUtils::parseDuration),
                parse(v, SOURCE_IDLENESS, TimeUtils::parseDuration),
                parse(v, CHECKPOINT_INTERVAL, TimeUtils::parseDuration),
                parse(v, CHECKPOINT_MIN_PAUSE, TimeUtils::parseDuration),
                parse(v, DEDUP_HORIZON, TimeUtils::parseDuration),
                v.get(DEDUP_KEY_FILE).trim(),
                parse(v, PRE_AGGREGATION_MAX_ENTRIES, Integer::parseInt),
                parse(v, PRE_AGGREGATION_MAX_DELAY, TimeUtils::parseDuration),
                parse(v, MAX_TOKENS_PER_EVENT, Long::parseLong),
                parse(v, FUTURE_SKEW, TimeUtils::parseDuration),
                parse(v, MAX_RECORD_BYTES, Integer::parseInt),
                parse(v, MAX_EVENT_ID_BYTES, Integer::parseInt),
                parse(v, MAX_SOURCE_BYTES, Integer::parseInt),
                parse(v, MAX_ACCOUNT_ID_BYTES, Integer::parseInt),
                parse(v, MAX_REGION_BYTES, Integer::parseInt),
                parse(v, MAX_MODEL_BYTES, Integer::parseInt),
                parse(v, MAX_LINE_ITEMS_PER_DAY, Integer::parseInt),
                parse(v, PRODUCER_MAX_REQUEST_SIZE, Integer::parseInt),
                parse(v, METRIC_REGIONS, MeteringConfig::parseList),
                parse(v, METRIC_MODELS, MeteringConfig::parseList),
                parse(v, MAX_PARALLELISM, Integer::parseInt),
                WarehouseConfig.fromMap(v),
                parse(v, FAULTS_INJECT, FaultInjection.Fault::parse),
                parse(v, FAULTS_AFTER_CHECKPOINTS, Integer::parseInt),
                v.get(SUBSCRIPTIONS_TOPIC),
                v.get(NOTICES_TOPIC),
                v.get(PACKAGES_CATALOG).trim(),
                loadCatalog(v.get(PACKAGES_CATALOG).trim(), parse(v, BILLING_ZONE, ZoneId::of)),
                KafkaClientProperties.fromConfig(v),
                SchemaRegistryConfig.fromMap(v));
    }

    /** A copy with some keys changed; convenient for tests and the local runner. */
    public MeteringConfig with(Map<String, String> changes) {
        Map<String, String> values = new LinkedHashMap<>(asMap());
        values.putAll(changes);
        return fromMap(values);
    }

    /** This configuration as dotted keys and the textual values {@link #fromMap} reads back. */
    public Map<String, String> asMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(BOOTSTRAP_SERVERS, bootstrapServers);
        m.put(RAW_TOPIC, rawTopic);
        m.put(BILLING_TOPIC, billingTopic);
        m.put(REJECTED_TOPIC, rejectedTopic);
        m.put(ACCOUNT_USAGE_TOPIC, accountUsageTopic);
        m.put(REGIONAL_USAGE_TOPIC, regionalUsageTopic);
        m.put(NATIONAL_USAGE_TOPIC, nationalUsageTopic);
        m.put(LEDGER_TOPIC, ledgerTopic);
        m.put(CONSUMER_GROUP, consumerGroup);
        m.put(STOP_AT_LATEST, Boolean.toString(stopAtLatestOffsets));
        m.put(TRANSACTION_TIMEOUT, transactionTimeout.toMillis() + " ms");
        m.put(TRANSACTIONAL_ID_PREFIX, transactionalIdPrefix);
        m.put(BILLING_ZONE, billingZone.getId());
        m.put(DAY_CLOSE_GRACE, dayCloseGrace.toMillis() + " ms");
        m.put(CORRECTION_HORIZON, correctionHorizon.toMillis() + " ms");
        m.put(OUT_OF_ORDERNESS, outOfOrderness.toMillis() + " ms");
        m.put(SOURCE_IDLENESS, sourceIdleness.toMillis() + " ms");
        m.put(CHECKPOINT_INTERVAL, checkpointInterval.toMillis() + " ms");
        m.put(CHECKPOINT_MIN_PAUSE, checkpointMinPause.toMillis() + " ms");
        m.put(DEDUP_HORIZON, dedupHorizon.toMillis() + " ms");
        m.put(DEDUP_KEY_FILE, dedupKeyFile);
        m.put(PRE_AGGREGATION_MAX_ENTRIES, Integer.toString(preAggregationMaxEntries));
        m.put(PRE_AGGREGATION_MAX_DELAY, preAggregationMaxDelay.toMillis() + " ms");
        m.put(MAX_TOKENS_PER_EVENT, Long.toString(maxTokensPerEvent));
        m.put(FUTURE_SKEW, futureSkew.toMillis() + " ms");
        m.put(MAX_RECORD_BYTES, Integer.toString(maxRecordBytes));
        m.put(MAX_EVENT_ID_BYTES, Integer.toString(maxEventIdBytes));
        m.put(MAX_SOURCE_BYTES, Integer.toString(maxSourceBytes));
        m.put(MAX_ACCOUNT_ID_BYTES, Integer.toString(maxAccountIdBytes));
        m.put(MAX_REGION_BYTES, Integer.toString(maxRegionBytes));
        m.put(MAX_MODEL_BYTES, Integer.toString(maxModelBytes));
        m.put(MAX_LINE_ITEMS_PER_DAY, Integer.toString(maxLineItemsPerDay));
        m.put(PRODUCER_MAX_REQUEST_SIZE, Integer.toString(producerMaxRequestSize));
        m.put(METRIC_REGIONS, String.join(",", metricRegions));
        m.put(METRIC_MODELS, String.join(",", metricModels));
        m.put(MAX_PARALLELISM, Integer.toString(maxParallelism));
        m.putAll(warehouse.asMap());
        m.put(FAULTS_INJECT, fault.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
        m.put(FAULTS_AFTER_CHECKPOINTS, Integer.toString(faultAfterCheckpoints));
        m.put(SUBSCRIPTIONS_TOPIC, subscriptionsTopic);
        m.put(NOTICES_TOPIC, noticesTopic);
        m.put(PACKAGES_CATALOG, packagesCatalog);
        m.putAll(kafkaClients.asConfig());
        m.putAll(schemaRegistry.asMap());
        return m;
    }

    /** Where the TaskManagers read the dedup key: {@code dedup.key-file}, else {@code TOKENMETER_DEDUP_KEY}. */
    public io.tokenmeter.logic.SecretSource dedupKey() {
        return new io.tokenmeter.logic.SecretSource(dedupKeyFile, DEDUP_KEY_ENV, DEDUP_KEY_FILE);
    }

    /** The limits input must respect to be billed. */
    public io.tokenmeter.logic.ValidationLimits validationLimits() {
        return new ValidationLimits(maxTokensPerEvent, futureSkew.toMillis(), maxRecordBytes,
                maxEventIdBytes, maxSourceBytes, maxAccountIdBytes, maxRegionBytes, maxModelBytes);
    }

    /** Every topic the job writes. */
    public java.util.List<String> outputTopics() {
        List<String> topics = new ArrayList<>(
                List.of(billingTopic, rejectedTopic, accountUsageTopic, regionalUsageTopic, nationalUsageTopic,
                        ledgerTopic));
        if (packagesEnabled()) {
            topics.add(noticesTopic);
        }
        return List.copyOf(topics);
    }

    /** Whether token packages are on: {@code packages.catalog} names a catalog. */
    public boolean packagesEnabled() {
        return packages != null;
    }

    /** The catalog of {@code packages.catalog}, read and validated once, here, on the client. */
    @Nullable
    private static PackageCatalog loadCatalog(String path, ZoneId zone) {
        if (path.isEmpty()) {
            return null;
        }
        try {
            return PackageCatalog.load(Path.of(path), zone);
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            throw new IllegalArgumentException("Configuration key " + PACKAGES_CATALOG + ": " + e.getMessage(), e);
        }
    }

    /** The bounded label values of the job's metrics. */
    public io.tokenmeter.logic.MetricLabels metricLabels() {
        return new io.tokenmeter.logic.MetricLabels(
                new java.util.HashSet<>(metricRegions), new java.util.HashSet<>(metricModels));
    }

    /** Billing days, their close and their correction deadline, as configured. */
    public io.tokenmeter.logic.BillingCalendar billingCalendar() {
        return new io.tokenmeter.logic.BillingCalendar(billingZone, dayCloseGrace, correctionHorizon);
    }

    /** The per-partition lateness judge of the source, on the system clock. */
    public io.tokenmeter.logic.PartitionClock partitionClock() {
        return partitionClock(WallClock.system());
    }

    /** The per-partition lateness judge of the source, on {@code wallClock} (tests with fixed dates). */
    public io.tokenmeter.logic.PartitionClock partitionClock(WallClock wallClock) {
        return new io.tokenmeter.logic.PartitionClock(billingCalendar(), outOfOrderness, wallClock);
    }

    private static Map<String, String> readYaml(Path file) {
        Object root;
        try (Reader reader = Files.newBufferedReader(file)) {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
        } catch (IOException e) {
            throw new IllegalArgumentException("Cannot read configuration file " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Configuration file " + file + " is not valid YAML: " + e.getMessage(), e);
        }
        Map<String, String> flat = new LinkedHashMap<>();
        if (root != null) {
            if (!(root instanceof Map<?, ?> map)) {
                throw new IllegalArgumentException("Configuration file " + file + " must hold a YAML mapping");
            }
            flatten("", map, flat);
        }
        return flat;
    }

    private static void flatten(String prefix, Map<?, ?> map, Map<String, String> into) {
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = prefix + e.getKey();
            if (e.getValue() instanceof Map<?, ?> nested) {
                flatten(key + ".", nested, into);
            } else if (e.getValue() == null) {
                throw new IllegalArgumentException("Configuration key '" + key + "' has no value");
            } else {
                into.put(key, e.getValue().toString());
            }
        }
    }

    private static <T> T parse(Map<String, String> values, String key, Function<String, T> parser) {
        String text = values.get(key);
        try {
            return parser.apply(text.trim());
        } catch (IllegalArgumentException | DateTimeException e) {
            throw new IllegalArgumentException(
                    "Configuration key '" + key + "' has an invalid value '" + text + "': " + e.getMessage(), e);
        }
    }

    /** A comma-separated list (a YAML list arrives as "[a, b]"); blanks dropped. */
    private static java.util.List<String> parseList(String text) {
        String inner = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        return java.util.Arrays.stream(inner.split(","))
                .map(String::trim)
                .filter(item -> !item.isEmpty())
                .toList();
    }

    private static boolean parseBoolean(String text) {
        return switch (text.toLowerCase()) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("expected true or false");
        };
    }

    private static boolean isPositive(Duration d) {
        return !d.isNegative() && !d.isZero();
    }

    private static void requireCap(int bytes, String key) {
        require(bytes >= 1 && bytes <= MAX_FIELD_BYTES, key, "must be between 1 and " + MAX_FIELD_BYTES);
    }

    /**
     * Fails unless every record the job can write, at the longest the caps allow, fits the producer's
     * max.request.size (I10). Each check names the key that sets the size of the record it bounds.
     */
    private static void requireOutputsFit(int maxRequestSize, int maxAccountIdBytes, int maxRegionBytes,
            int maxModelBytes, int maxLineItemsPerDay, int maxRecordBytes, long maxSourceTopicBytes) {
        String than = " bytes, above " + PRODUCER_MAX_REQUEST_SIZE + " (" + maxRequestSize + ")";
        long billing = OutputLimits.billingRecord(maxAccountIdBytes, maxRegionBytes, maxModelBytes, maxLineItemsPerDay);
        require(billing <= maxRequestSize, MAX_LINE_ITEMS_PER_DAY, "(" + maxLineItemsPerDay + ") with "
                + MAX_MODEL_BYTES + " (" + maxModelBytes + ") lets a billing record reach " + billing + than);
        long rejected = OutputLimits.rejectedRecord(maxRecordBytes, (int) Math.min(maxSourceTopicBytes, 1 << 20));
        require(rejected <= maxRequestSize, MAX_RECORD_BYTES, "(" + maxRecordBytes + ") lets a rejected-record"
                + " envelope (payload, message and source topic) reach " + rejected + than);
        long row = Math.max(OutputLimits.accountUsage(maxAccountIdBytes, maxRegionBytes, maxModelBytes),
                OutputLimits.areaUsage(maxRegionBytes, maxModelBytes));
        long notice = OutputLimits.packageNotice(maxAccountIdBytes, SubscriptionLimits.MAX_ID_BYTES,
                SubscriptionLimits.MAX_ID_BYTES);
        require(Math.max(row, notice) <= maxRequestSize, MAX_ACCOUNT_ID_BYTES, "with " + MAX_REGION_BYTES + " and "
                + MAX_MODEL_BYTES + " lets a usage row or notice reach " + Math.max(row, notice) + than);
    }

    private static void require(boolean ok, String key, String problem) {
        if (!ok) {
            throw new IllegalArgumentException("Configuration key '" + key + "' " + problem);
        }
    }
}
