package io.tokenmeter.sql;

import io.tokenmeter.schema.SchemaRegistrySettings;
import io.tokenmeter.schema.WriterSchemas;
import java.time.Duration;
import java.util.Set;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.Projection;
import org.apache.flink.table.connector.format.DecodingFormat;
import org.apache.flink.table.connector.format.ProjectableDecodingFormat;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.factories.DeserializationFormatFactory;
import org.apache.flink.table.factories.DynamicTableFactory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.RowType;

/**
 * The Flink SQL format {@code tokenmeter-avro}: reads the topics the metering job writes, in the
 * job's own wire format (Avro single-object encoding, writer schema named by fingerprint) and,
 * given a Confluent-compatible schema registry, in the registry framing ({@code 00} + schema id)
 * the job writes with {@code schema-registry.output-framing.<output>: registry}; detected per
 * record.
 *
 * <pre>
 *   'format' = 'tokenmeter-avro',
 *   'tokenmeter-avro.record' = 'BillingRecord',
 *   'tokenmeter-avro.schema-registry.url' = 'http://registry:8081'   -- only for registry-framed topics
 * </pre>
 *
 * Columns are matched to the record's fields by name; a table may declare any subset of them, in
 * any order. Enums read as STRING, {@code date} as DATE, {@code timestamp-millis} as
 * TIMESTAMP_LTZ(3), arrays of records as ARRAY&lt;ROW&lt;...&gt;&gt;.
 */
public final class TokenmeterAvroFormatFactory implements DeserializationFormatFactory {

    public static final String IDENTIFIER = "tokenmeter-avro";

    private static final int REGISTRY_CACHE_SIZE = 1000;
    private static final Duration REGISTRY_REQUEST_TIMEOUT = Duration.ofSeconds(10);

    public static final ConfigOption<String> RECORD =
            ConfigOptions.key("record")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "The Tokenmeter Avro record the topic holds: BillingRecord, AccountUsage, AreaUsage, "
                                    + "RejectedRecord or UsageEvent.");

    public static final ConfigOption<Boolean> IGNORE_PARSE_ERRORS =
            ConfigOptions.key("ignore-parse-errors")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "Skip records that cannot be read instead of failing the query.");

    public static final ConfigOption<String> SCHEMA_REGISTRY_URL =
            ConfigOptions.key("schema-registry.url")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Base URL of the Confluent-compatible schema registry API holding the writer schemas "
                                    + "of registry-framed records: http://registry:8081, http://apicurio:8080/apis/ccompat/v7.");

    public static final ConfigOption<Duration> SCHEMA_REGISTRY_GIVE_UP_AFTER =
            ConfigOptions.key("schema-registry.give-up-after")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(1))
                    .withDescription(
                            "How long to retry while the schema registry cannot answer before failing.");

    @Override
    public DecodingFormat<DeserializationSchema<RowData>> createDecodingFormat(
            DynamicTableFactory.Context context, ReadableConfig formatOptions) {
        FactoryUtil.validateFactoryOptions(this, formatOptions);
        String record = formatOptions.get(RECORD);
        WriterSchemas.current(record); // an unknown record name fails here, naming the known ones
        boolean ignoreParseErrors = formatOptions.get(IGNORE_PARSE_ERRORS);
        // Empty means none, so the shipped table definitions can always pass the job's
        // schema-registry.url on.
        SchemaRegistrySettings registry =
                formatOptions
                        .getOptional(SCHEMA_REGISTRY_URL)
                        .filter(url -> !url.isBlank())
                        .map(
                                url ->
                                        new SchemaRegistrySettings(
                                                url,
                                                REGISTRY_CACHE_SIZE,
                                                REGISTRY_REQUEST_TIMEOUT,
                                                formatOptions.get(SCHEMA_REGISTRY_GIVE_UP_AFTER)))
                        .orElse(null);

        return new ProjectableDecodingFormat<>() {
            @Override
            public DeserializationSchema<RowData> createRuntimeDecoder(
                    DynamicTableSource.Context sourceContext,
                    DataType physicalDataType,
                    int[][] projections) {
                DataType produced = Projection.of(projections).project(physicalDataType);
                TypeInformation<RowData> typeInfo = sourceContext.createTypeInformation(produced);
                return new TokenmeterAvroDeserializationSchema(
                        record,
                        (RowType) produced.getLogicalType(),
                        typeInfo,
                        ignoreParseErrors,
                        registry);
            }

            @Override
            public ChangelogMode getChangelogMode() {
                return ChangelogMode.insertOnly();
            }
        };
    }

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of(RECORD);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Set.of(IGNORE_PARSE_ERRORS, SCHEMA_REGISTRY_URL, SCHEMA_REGISTRY_GIVE_UP_AFTER);
    }
}
