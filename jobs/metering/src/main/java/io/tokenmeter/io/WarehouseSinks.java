package io.tokenmeter.io;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.UsageGranularity;
import io.tokenmeter.logic.warehouse.WarehouseRow;
import io.tokenmeter.logic.warehouse.WarehouseRows;
import io.tokenmeter.metering.OperatorIds;
import io.tokenmeter.metering.WarehouseConfig;
import java.sql.Connection;
import java.sql.SQLException;
import javax.annotation.Nullable;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.connector.jdbc.JdbcExecutionOptions;
import org.apache.flink.connector.jdbc.core.datastream.sink.JdbcSink;
import org.apache.flink.connector.jdbc.datasource.connections.JdbcConnectionProvider;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL warehouse: billing records, daily account usage and the regional and national
 * rollups upserted into the tables of config/sql/postgres/warehouse.sql.
 *
 * <p>Exactly once by default, like the Kafka outputs ({@link TwoPhaseWarehouseSink}): each subtask
 * writes a checkpoint's rows in one PostgreSQL transaction, prepares it ({@code PREPARE
 * TRANSACTION}) with the checkpoint and commits it ({@code COMMIT PREPARED}) when the checkpoint
 * completes, so rows of an attempt that fails before its checkpoint never become visible; a
 * restarted writer rolls back the prepared transactions of checkpoints that never completed, whose
 * row locks would otherwise block the replay (the server needs {@code max_prepared_transactions} >
 * 0). Why that matters: after a restart the job may cut late usage into ADJUSTMENT versions
 * differently, so a version written by the failed attempt could differ from, or be missing in, the
 * retry; the Kafka sinks abort such output, and so must this one. Transactions are named after the
 * Kafka transactional id prefix plus {@code -warehouse}, so two jobs with their own prefixes never
 * touch each other's. {@code warehouse.postgres.exactly-once: false} writes at least once instead
 * through flink-connector-jdbc, for servers without prepared transactions; the tables are then
 * exact only for runs without failures (docs/analytics.md).
 */
public final class WarehouseSinks {

    /**
     * The procedure of config/sql/postgres/warehouse.sql that upserts a JSON row into the table it
     * names.
     */
    static final String UPSERT = "CALL tokenmeter_upsert(?, ?::jsonb)";

    private static final Logger LOG = LoggerFactory.getLogger(WarehouseSinks.class);
    private static final int VALIDATION_TIMEOUT_SECONDS = 60;

    private final WarehouseConfig config;
    private final String transactionPrefix;

    /**
     * @param transactionPrefix names the job's prepared transactions (exactly once); unique per job
     */
    public WarehouseSinks(WarehouseConfig config, String transactionPrefix) {
        this.config = config;
        this.transactionPrefix = transactionPrefix;
    }

    /** Adds the warehouse sink to the job's output streams. */
    public void attach(
            DataStream<BillingRecord> billing,
            DataStream<AccountUsage> accountUsage,
            DataStream<AreaUsage> regional,
            DataStream<AreaUsage> national) {
        DataStream<WarehouseRow> billingRows =
                billing.map(WarehouseRows::billingRecord)
                        .uid(OperatorIds.WAREHOUSE_BILLING_ROWS)
                        .name("Warehouse rows: billing records");
        DataStream<WarehouseRow> accountRows =
                accountUsage
                        .filter(row -> row.getGranularity() == UsageGranularity.DAY)
                        .uid(OperatorIds.WAREHOUSE_ACCOUNT_DAYS)
                        .name("Warehouse: daily account usage only")
                        .map(WarehouseRows::accountUsage)
                        .uid(OperatorIds.WAREHOUSE_ACCOUNT_ROWS)
                        .name("Warehouse rows: daily account usage");
        DataStream<WarehouseRow> regionalRows =
                regional.map(WarehouseRows::regionalUsage)
                        .uid(OperatorIds.WAREHOUSE_REGIONAL_ROWS)
                        .name("Warehouse rows: regional usage");
        DataStream<WarehouseRow> nationalRows =
                national.map(WarehouseRows::nationalUsage)
                        .uid(OperatorIds.WAREHOUSE_NATIONAL_ROWS)
                        .name("Warehouse rows: national usage");
        // One sink for all four tables: one prepared transaction per subtask and checkpoint, and
        // transaction names that need not tell sinks apart.
        billingRows
                .union(accountRows, regionalRows, nationalRows)
                .sinkTo(sink())
                .uid(OperatorIds.WAREHOUSE_SINK)
                .name("Warehouse (PostgreSQL)");
    }

    /**
     * The sink; it carries where the password is, never the password (read by the tasks when they
     * connect).
     */
    Sink<WarehouseRow> sink() {
        TwoPhaseWarehouseSink.Endpoint endpoint =
                new TwoPhaseWarehouseSink.Endpoint(config.url(), config.user(), config.password());
        if (config.exactlyOnce()) {
            return new TwoPhaseWarehouseSink(
                    endpoint,
                    transactionPrefix,
                    config.batchSize(),
                    config.batchInterval(),
                    config.maxRetries() + 1);
        }
        return JdbcSink.<WarehouseRow>builder()
                .withQueryStatement(
                        UPSERT,
                        (statement, row) -> {
                            statement.setString(1, row.table);
                            statement.setString(2, row.json);
                        })
                .withExecutionOptions(
                        JdbcExecutionOptions.builder()
                                .withBatchSize(config.batchSize())
                                .withBatchIntervalMs(config.batchInterval().toMillis())
                                .withMaxRetries(config.maxRetries())
                                .build())
                .buildAtLeastOnce(new Connections(endpoint));
    }

    /**
     * The at-least-once sink's connection, opened through {@link TwoPhaseWarehouseSink.Endpoint} in
     * the writer's task: flink-connector-jdbc's own provider would carry the password inside the
     * sink.
     */
    static final class Connections implements JdbcConnectionProvider {

        private static final long serialVersionUID = 1L;

        private final TwoPhaseWarehouseSink.Endpoint endpoint;
        @Nullable private transient Connection connection;

        Connections(TwoPhaseWarehouseSink.Endpoint endpoint) {
            this.endpoint = endpoint;
        }

        @Nullable
        @Override
        public Connection getConnection() {
            return connection;
        }

        @Override
        public boolean isConnectionValid() throws SQLException {
            return connection != null && connection.isValid(VALIDATION_TIMEOUT_SECONDS);
        }

        @Override
        public Connection getOrEstablishConnection() throws SQLException {
            if (connection == null) {
                connection = endpoint.connect(true);
            }
            return connection;
        }

        @Override
        public void closeConnection() {
            if (connection != null) {
                try {
                    connection.close();
                } catch (SQLException e) {
                    LOG.warn(
                            "Closing the warehouse connection to {} failed: {}",
                            endpoint,
                            e.getMessage());
                }
                connection = null;
            }
        }

        @Override
        public Connection reestablishConnection() throws SQLException {
            closeConnection();
            return getOrEstablishConnection();
        }

        @Override
        public String toString() {
            return endpoint.toString();
        }
    }
}
