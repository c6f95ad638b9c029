package io.tokenmeter.io;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.UsageGranularity;
import io.tokenmeter.logic.WarehouseRows;
import io.tokenmeter.metering.OperatorIds;
import io.tokenmeter.metering.WarehouseConfig;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import org.apache.flink.connector.jdbc.JdbcConnectionOptions;
import org.apache.flink.connector.jdbc.JdbcExecutionOptions;
import org.apache.flink.connector.jdbc.JdbcStatementBuilder;
import org.apache.flink.connector.jdbc.core.datastream.sink.JdbcSink;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * The PostgreSQL warehouse: billing records, daily account usage and the regional and national rollups upserted
 * into the tables of config/sql/postgres/warehouse.sql.
 *
 * <p>The JDBC sinks are at-least-once (a batch is flushed at every checkpoint; after a failure the job replays
 * from its last checkpoint and writes some rows again). The upsert on the deterministic record id makes a second
 * write of a record a no-op, so the tables hold each record exactly once.
 */
public final class WarehouseSinks {

    private final WarehouseConfig config;

    public WarehouseSinks(WarehouseConfig config) {
        this.config = config;
    }

    /** Adds the warehouse sinks to the job's output streams. */
    public void attach(DataStream<BillingRecord> billing, DataStream<AccountUsage> accountUsage,
            DataStream<AreaUsage> regional, DataStream<AreaUsage> national) {
        billing.sinkTo(sink(WarehouseRows.BILLING_RECORDS.upsertStatement(),
                        (statement, record) -> bind(statement, WarehouseRows.billingRecord(record))))
                .uid(OperatorIds.WAREHOUSE_BILLING_SINK)
                .name("Warehouse: billing records");
        accountUsage
                .filter(row -> row.getGranularity() == UsageGranularity.DAY)
                .uid(OperatorIds.WAREHOUSE_ACCOUNT_DAYS)
                .name("Warehouse: daily account usage only")
                .sinkTo(sink(WarehouseRows.ACCOUNT_DAILY_USAGE.upsertStatement(),
                        (statement, row) -> bind(statement, WarehouseRows.accountUsage(row))))
                .uid(OperatorIds.WAREHOUSE_ACCOUNT_USAGE_SINK)
                .name("Warehouse: daily account usage");
        regional.sinkTo(sink(WarehouseRows.REGIONAL_USAGE.upsertStatement(),
                        (statement, row) -> bind(statement, WarehouseRows.areaUsage(row))))
                .uid(OperatorIds.WAREHOUSE_REGIONAL_USAGE_SINK)
                .name("Warehouse: regional usage");
        national.sinkTo(sink(WarehouseRows.NATIONAL_USAGE.upsertStatement(),
                        (statement, row) -> bind(statement, WarehouseRows.areaUsage(row))))
                .uid(OperatorIds.WAREHOUSE_NATIONAL_USAGE_SINK)
                .name("Warehouse: national usage");
    }

    private <T> JdbcSink<T> sink(String upsert, JdbcStatementBuilder<T> binder) {
        JdbcConnectionOptions.JdbcConnectionOptionsBuilder connection =
                new JdbcConnectionOptions.JdbcConnectionOptionsBuilder()
                        .withUrl(config.url())
                        .withDriverName("org.postgresql.Driver");
        if (!config.user().isEmpty()) {
            connection.withUsername(config.user());
        }
        String password = System.getenv(config.passwordEnv());
        if (password != null) {
            connection.withPassword(password);
        }
        return JdbcSink.<T>builder()
                .withQueryStatement(upsert, binder)
                .withExecutionOptions(JdbcExecutionOptions.builder()
                        .withBatchSize(config.batchSize())
                        .withBatchIntervalMs(config.batchInterval().toMillis())
                        .withMaxRetries(config.maxRetries())
                        .build())
                .buildAtLeastOnce(connection.build());
    }

    private static void bind(PreparedStatement statement, Object[] values) throws SQLException {
        for (int i = 0; i < values.length; i++) {
            statement.setObject(i + 1, values[i]);
        }
    }
}
