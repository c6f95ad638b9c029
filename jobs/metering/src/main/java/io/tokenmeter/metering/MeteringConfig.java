package io.tokenmeter.metering;

import static io.tokenmeter.config.YamlBinding.require;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tokenmeter.config.YamlBinding;
import io.tokenmeter.io.KafkaClientProperties;
import io.tokenmeter.logic.WallClock;
import io.tokenmeter.logic.ingest.OutputLimits;
import io.tokenmeter.logic.ingest.PartitionClock;
import io.tokenmeter.logic.ingest.ValidationLimits;
import io.tokenmeter.logic.packages.PackageCatalog;
import io.tokenmeter.logic.packages.SubscriptionLimits;
import io.tokenmeter.schema.Framing;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.flink.util.TimeUtils;

/**
 * Everything the metering job can be told, typed and validated, in one section per concern. Each
 * setting is declared once, as a component of its section: its name (the component's, in kebab
 * case), type, default ({@link JsonProperty#defaultValue()}), check (the section's constructor) and
 * meaning (the section's Javadoc and {@code config/metering.yaml}, which shows every default).
 * Built from the defaults, then a YAML file, then {@code key=value} overrides with dotted keys; an
 * unknown key or a bad value fails start-up with a message naming the key.
 *
 * @param maxParallelism upper bound for rescaling; it fixes the number of key groups
 * @param packageCatalog the catalog {@code packages.catalog} names, read and validated once, here,
 *     on the client
 */
public record MeteringConfig(
        KafkaConfig kafka,
        SchemaRegistryConfig schemaRegistry,
        BillingConfig billing,
        EventTimeConfig eventTime,
        CheckpointConfig checkpoints,
        DedupConfig dedup,
        PreAggregationConfig preAggregation,
        ValidationConfig validation,
        MetricsConfig metrics,
        PackagesConfig packages,
        @JsonProperty(defaultValue = "720") int maxParallelism,
        Warehouse warehouse,
        FaultConfig faults,
        // Not a setting: left out of the tree a copy is bound from, and refused as a key (Jackson
        // would otherwise bind a record's ignored component under a kebab-case name).
        @JsonIgnore @JsonProperty(access = JsonProperty.Access.READ_ONLY) @Nullable
                PackageCatalog packageCatalog)
        implements Serializable {

    /** The warehouses the job can write to ({@code warehouse.*}); PostgreSQL for now. */
    public record Warehouse(WarehouseConfig postgres) implements Serializable {}

    private static final YamlBinding BINDING =
            new YamlBinding(
                    new YamlBinding.Messages() {
                        @Override
                        public String invalid(String path, String problem) {
                            return "Configuration key '" + path + "' " + problem;
                        }

                        @Override
                        public String unknown(String path, Collection<String> knownKeys) {
                            return "Unknown configuration key(s) ["
                                    + path
                                    + "]; known keys there are "
                                    + knownKeys
                                    + ", and Kafka client settings under "
                                    + List.of(
                                            KafkaClientProperties.COMMON_PREFIX + "*",
                                            KafkaClientProperties.CONSUMER_PREFIX + "*",
                                            KafkaClientProperties.PRODUCER_PREFIX + "*",
                                            KafkaClientProperties.ADMIN_PREFIX + "*");
                        }
                    },
                    valueTypes());

    private static SimpleModule valueTypes() {
        SimpleModule values = new SimpleModule("tokenmeter-configuration");
        YamlBinding.addTextual(
                values, Duration.class, TimeUtils::parseDuration, d -> d.toMillis() + " ms");
        YamlBinding.addTextual(values, ZoneId.class, ZoneId::of, ZoneId::getId);
        YamlBinding.addTextual(values, Framing.class, Framing::parse, Framing::configName);
        YamlBinding.addTextual(
                values,
                FaultConfig.Fault.class,
                FaultConfig.Fault::parse,
                FaultConfig.Fault::configName);
        return values;
    }

    public MeteringConfig {
        require(
                maxParallelism >= 1 && maxParallelism <= 32768,
                "max-parallelism",
                "must be between 1 and 32768");
        require(
                kafka.transactionTimeout().compareTo(checkpoints.interval()) > 0,
                "kafka.transaction-timeout",
                "must be longer than checkpoints.interval ("
                        + checkpoints.interval()
                        + "), or every transaction times out");
        requireOutputsFit(kafka, validation);
        if (packageCatalog == null) {
            packageCatalog = loadCatalog(packages.catalog(), billing.timeZone());
        }
    }

    /** The defaults alone. */
    public static MeteringConfig defaultConfig() {
        return fromMap(Map.of());
    }

    /** Defaults, then {@code yamlFile} if given, then the {@code key=value} overrides. */
    public static MeteringConfig load(@Nullable Path yamlFile, List<String> overrides) {
        // The file as dotted keys, as the overrides are: a file may nest its keys or write them
        // dotted.
        Map<String, String> values = new LinkedHashMap<>();
        if (yamlFile != null) {
            values.putAll(BINDING.flatten(BINDING.readTree(yamlFile, "Configuration file")));
        }
        for (String override : overrides) {
            int eq = override.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(
                        "Override '" + override + "' must look like key=value");
            }
            values.put(override.substring(0, eq), override.substring(eq + 1));
        }
        return fromMap(values);
    }

    /** Defaults overridden by {@code values}, which use the dotted keys. */
    public static MeteringConfig fromMap(Map<String, String> values) {
        return bind(BINDING.emptyTree(), values);
    }

    /** A copy with some keys changed; convenient for tests and the local runner. */
    public MeteringConfig with(Map<String, String> changes) {
        return bind(BINDING.toTree(this), changes);
    }

    /** This configuration as dotted keys and the textual values {@link #fromMap} reads back. */
    public Map<String, String> asMap() {
        return BINDING.flatten(BINDING.toTree(this));
    }

    private static MeteringConfig bind(ObjectNode tree, Map<String, String> overrides) {
        YamlBinding.fillDefaults(tree, MeteringConfig.class);
        overrides.forEach((key, value) -> YamlBinding.set(tree, key.trim(), value.trim()));
        return BINDING.bind(tree, MeteringConfig.class);
    }

    /** Every topic the job writes. */
    public List<String> outputTopics() {
        KafkaConfig.Topics topics = kafka.topics();
        List<String> written =
                new ArrayList<>(
                        List.of(
                                topics.billing(),
                                topics.rejected(),
                                topics.accountUsage(),
                                topics.regionalUsage(),
                                topics.nationalUsage(),
                                topics.ledger()));
        if (packagesEnabled()) {
            written.add(topics.notices());
        }
        return List.copyOf(written);
    }

    /** Whether token packages are on: {@code packages.catalog} names a catalog. */
    public boolean packagesEnabled() {
        return packageCatalog != null;
    }

    /** The per-partition lateness judge of the source, on the system clock. */
    public PartitionClock partitionClock() {
        return partitionClock(WallClock.system());
    }

    /**
     * The per-partition lateness judge of the source, on {@code wallClock} (tests with fixed
     * dates).
     */
    public PartitionClock partitionClock(WallClock wallClock) {
        return new PartitionClock(billing.calendar(), eventTime.outOfOrderness(), wallClock);
    }

    @Nullable
    private static PackageCatalog loadCatalog(String path, ZoneId zone) {
        if (path.isEmpty()) {
            return null;
        }
        try {
            return PackageCatalog.load(Path.of(path), zone);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw new IllegalArgumentException(
                    "Configuration key packages.catalog: " + e.getMessage(), e);
        }
    }

    /**
     * Fails unless every record the job can write, at the longest the caps allow, fits the
     * producer's max.request.size (I10). Each check names the key that sets the size of the record
     * it bounds.
     */
    private static void requireOutputsFit(KafkaConfig kafka, ValidationConfig caps) {
        int maxRequestSize = kafka.producer().maxRequestSize();
        long maxSourceTopicBytes =
                Math.max(
                        ValidationLimits.utf8Length(kafka.topics().raw()),
                        ValidationLimits.utf8Length(kafka.topics().subscriptions()));
        String than = " bytes, above kafka.producer.max-request-size (" + maxRequestSize + ")";
        long billing =
                OutputLimits.billingRecord(
                        caps.maxAccountIdBytes(),
                        caps.maxRegionBytes(),
                        caps.maxModelBytes(),
                        caps.maxLineItemsPerDay());
        require(
                billing <= maxRequestSize,
                "validation.max-line-items-per-day",
                "("
                        + caps.maxLineItemsPerDay()
                        + ") with validation.max-model-bytes ("
                        + caps.maxModelBytes()
                        + ") lets a billing record reach "
                        + billing
                        + than);
        long rejected =
                OutputLimits.rejectedRecord(
                        caps.maxRecordBytes(), (int) Math.min(maxSourceTopicBytes, 1 << 20));
        require(
                rejected <= maxRequestSize,
                "validation.max-record-bytes",
                "("
                        + caps.maxRecordBytes()
                        + ") lets a rejected-record envelope (payload, message and source topic) reach "
                        + rejected
                        + than);
        long row =
                Math.max(
                        OutputLimits.accountUsage(
                                caps.maxAccountIdBytes(),
                                caps.maxRegionBytes(),
                                caps.maxModelBytes()),
                        OutputLimits.areaUsage(caps.maxRegionBytes(), caps.maxModelBytes()));
        long notice =
                OutputLimits.packageNotice(
                        caps.maxAccountIdBytes(),
                        SubscriptionLimits.MAX_ID_BYTES,
                        SubscriptionLimits.MAX_ID_BYTES);
        require(
                Math.max(row, notice) <= maxRequestSize,
                "validation.max-account-id-bytes",
                "with validation.max-region-bytes and validation.max-model-bytes lets a usage row or notice reach "
                        + Math.max(row, notice)
                        + than);
    }
}
