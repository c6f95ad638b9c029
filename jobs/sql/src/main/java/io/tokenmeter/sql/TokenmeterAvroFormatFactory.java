package io.tokenmeter.sql;

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
 * The Flink SQL format {@code tokenmeter-avro}: reads the topics the metering job writes, in the job's own wire
 * format (Avro single-object encoding, writer schema named by fingerprint), with no schema registry.
 *
 * <pre>
 *   'format' = 'tokenmeter-avro',
 *   'tokenmeter-avro.record' = 'BillingRecord'
 * </pre>
 *
 * Columns are matched to the record's fields by name; a table may declare any subset of them, in any order. Enums
 * read as STRING, {@code date} as DATE, {@code timestamp-millis} as TIMESTAMP_LTZ(3), arrays of records as
 * ARRAY&lt;ROW&lt;...&gt;&gt;.
 */
public final class TokenmeterAvroFormatFactory implements DeserializationFormatFactory {

    public static final String IDENTIFIER = "tokenmeter-avro";

    public static final ConfigOption<String> RECORD = ConfigOptions.key("record")
            .stringType()
            .noDefaultValue()
            .withDescription("The Tokenmeter Avro record the topic holds: BillingRecord, AccountUsage, AreaUsage, "
                    + "RejectedRecord or UsageEvent.");

    public static final ConfigOption<Boolean> IGNORE_PARSE_ERRORS = ConfigOptions.key("ignore-parse-errors")
            .booleanType()
            .defaultValue(false)
            .withDescription("Skip records that cannot be read instead of failing the query.");

    @Override
    public DecodingFormat<DeserializationSchema<RowData>> createDecodingFormat(
            DynamicTableFactory.Context context, ReadableConfig formatOptions) {
        FactoryUtil.validateFactoryOptions(this, formatOptions);
        String record = formatOptions.get(RECORD);
        WriterSchemas.current(record); // an unknown record name fails here, naming the known ones
        boolean ignoreParseErrors = formatOptions.get(IGNORE_PARSE_ERRORS);

        return new ProjectableDecodingFormat<>() {
            @Override
            public DeserializationSchema<RowData> createRuntimeDecoder(
                    DynamicTableSource.Context sourceContext, DataType physicalDataType, int[][] projections) {
                DataType produced = Projection.of(projections).project(physicalDataType);
                TypeInformation<RowData> typeInfo = sourceContext.createTypeInformation(produced);
                return new TokenmeterAvroDeserializationSchema(
                        record, (RowType) produced.getLogicalType(), typeInfo, ignoreParseErrors);
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
        return Set.of(IGNORE_PARSE_ERRORS);
    }
}
