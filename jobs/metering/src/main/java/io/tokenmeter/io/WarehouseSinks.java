package io.tokenmeter.io;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.UsageGranularity;
import io.tokenmeter.logic.WarehouseRow;
import io.tokenmeter.logic.WarehouseRows;
import io.tokenmeter.metering.OperatorIds;
import io.tokenmeter.metering.WarehouseConfig;
import org.apache.flink.connector.jdbc.JdbcConnectionOptions;
import org.apache.flink.connector.jdbc.JdbcExactlyOnceOptions;
import org.apache.flink.connector.jdbc.JdbcExecutionOptions;
import org.apache.flink.connector.jdbc.core.datastream.sink.JdbcSink;
import org.apache.flink.connector.jdbc.core.datastream.sink.JdbcSinkBuilder;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.postgresql.xa.PGXADataSource;

/**
 * The PostgreSQL warehouse: billing records, daily account usage and the regional and national rollups upserted
 * into the tables of config/sql/postgres/warehouse.sql.
 *
 * <p>Exactly once by default, like the Kafka outputs: each subtask writes a checkpoint's rows in an XA transaction
 * that is prepared with the checkpoint and committed when it completes, so rows of an attempt that fails before its
 * checkpoint never become visible (the server needs {@code max_prepared_transactions} > 0). Why that matters: after
 * a restart the job may cut late usage into ADJUSTMENT versions differently, so a version written by the failed
 * attempt could differ from, or be missing in, the retry; the Kafka sinks abort such output, and so must this one.
 * The upsert on the deterministic record id makes a record written twice (a commit retried during recovery) one row.
 * {@code warehouse.postgres.exactly-once: false} writes at least once instead, for servers without prepared
 * transactions; the tables are then exact only for runs without failures (docs/analytics.md).
 */
public final class WarehouseSinks {

    /** The procedure of config/sql/postgres/warehouse.sql that upserts a JSON row into the table it names. */
    static final String UPSERT = "CALL tokenmeter_upsert(?, ?::jsonb)";

    private final WarehouseConfig config;

    public WarehouseSinks(WarehouseConfig config) {
        this.config = config;
    }

    /** Adds the warehouse sink to the job's output streams. */
    public void attach(DataStream<BillingRecord> billing, DataStream<AccountUsage> accountUsage,
            DataStream<AreaUsage> regional, DataStream<AreaUsage> national) {
        DataStream<WarehouseRow> billingRows = billing
                .map(WarehouseRows::billingRecord)
                .uid(OperatorIds.WAREHOUSE_BILLING_ROWS)
                .name("Warehouse rows: billing records");
        DataStream<WarehouseRow> accountRows = accountUsage
                .filter(row -> row.getGranularity() == UsageGranularity.DAY)
                .uid(OperatorIds.WAREHOUSE_ACCOUNT_DAYS)
                .name("Warehouse: daily account usage only")
                .map(WarehouseRows::accountUsage)
                .uid(OperatorIds.WAREHOUSE_ACCOUNT_ROWS)
                .name("Warehouse rows: daily account usage");
        DataStream<WarehouseRow> regionalRows = regional
                .map(WarehouseRows::regionalUsage)
                .uid(OperatorIds.WAREHOUSE_REGIONAL_ROWS)
                .name("Warehouse rows: regional usage");
        DataStream<WarehouseRow> nationalRows = national
                .map(WarehouseRows::nationalUsage)
                .uid(OperatorIds.WAREHOUSE_NATIONAL_ROWS)
                .name("Warehouse rows: national usage");
        // One sink for all four tables: the XA transaction ids of the JDBC sink name the job, subtask and
        // checkpoint but not the sink, so two exactly-once sinks of one job would collide on the server.
        billingRows.union(accountRows, regionalRows, nationalRows)
                .sinkTo(sink())
                .uid(OperatorIds.WAREHOUSE_SINK)
                .name("Warehouse (PostgreSQL)");
    }

    private JdbcSink<WarehouseRow> sink() {
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
        JdbcSinkBuilder<WarehouseRow> builder = JdbcSink.<WarehouseRow>builder()
                .withQueryStatement(UPSERT, (statement, row) -> {
                    statement.setString(1, row.table);
                    statement.setString(2, row.json);
                })
                .withExecutionOptions(JdbcExecutionOptions.builder()
                        .withBatchSize(config.batchSize())
                        .withBatchIntervalMs(config.batchInterval().toMillis())
                        // A retried batch inside an XA transaction could apply twice: exactly once never retries.
                        .withMaxRetries(config.exactlyOnce() ? 0 : config.maxRetries())
                        .build());
        if (!config.exactlyOnce()) {
            return builder.buildAtLeastOnce(connection.build());
        }
        String url = config.url();
        String user = config.user();
        return builder.buildExactlyOnce(
                JdbcExactlyOnceOptions.builder()
                        // PostgreSQL runs one XA transaction per connection at a time.
                        .withTransactionPerConnection(true)
                        .build(),
                () -> {
                    PGXADataSource dataSource = new PGXADataSource();
                    dataSource.setUrl(url);
                    if (!user.isEmpty()) {
                        dataSource.setUser(user);
                    }
                    if (password != null) {
                        dataSource.setPassword(password);
                    }
                    return dataSource;
                });
    }
}
