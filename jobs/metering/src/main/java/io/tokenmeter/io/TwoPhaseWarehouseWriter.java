package io.tokenmeter.io;

import io.tokenmeter.logic.warehouse.WarehouseRow;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.OptionalLong;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Upserts rows through {@code tokenmeter_upsert} in JDBC batches inside one open transaction and
 * prepares it at each checkpoint; the prepared transaction's name is the committable. At start it
 * rolls back the prepared transactions a failed attempt left behind: they hold row locks, so the
 * replayed upserts of the same rows would wait forever.
 */
final class TwoPhaseWarehouseWriter
        implements CommittingSinkWriter<WarehouseRow, String>,
                StatefulSinkWriter<WarehouseRow, String> {

    private static final Logger LOG = LoggerFactory.getLogger(TwoPhaseWarehouseWriter.class);

    /**
     * A row locked by this subtask's own prepared transaction is released only when the committer,
     * in this same task thread, commits it; a wait for it could never end, so it fails the attempt
     * instead.
     */
    private static final String LOCK_TIMEOUT = "SET lock_timeout = '120s'";

    private final TwoPhaseWarehouseSink.Endpoint endpoint;
    private final WarehouseTransactionIds ids;
    private final int subtask;
    private final int batchSize;
    private final long batchIntervalMillis;
    private final Connection connection;
    private final PreparedStatement upsert;

    private long lastCheckpoint;
    private long sequence;
    private int batched;
    private long batchStartedAt;
    private boolean written;

    TwoPhaseWarehouseWriter(
            TwoPhaseWarehouseSink.Endpoint endpoint,
            WarehouseTransactionIds ids,
            int subtask,
            int parallelism,
            OptionalLong restoredCheckpoint,
            int batchSize,
            long batchIntervalMillis)
            throws IOException {
        this.endpoint = endpoint;
        this.ids = ids;
        this.subtask = subtask;
        this.batchSize = batchSize;
        this.batchIntervalMillis = batchIntervalMillis;
        this.lastCheckpoint = restoredCheckpoint.orElse(0);
        try {
            requirePreparedTransactions();
            rollBackDangling(parallelism, restoredCheckpoint);
            connection = endpoint.connect(false);
            try (Statement statement = connection.createStatement()) {
                statement.execute(LOCK_TIMEOUT);
            }
            connection.commit();
            upsert = connection.prepareStatement(WarehouseSinks.UPSERT);
        } catch (SQLException e) {
            throw new IOException(
                    "Cannot open the warehouse " + endpoint + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void write(WarehouseRow row, Context context) throws IOException {
        try {
            upsert.setString(1, row.table);
            upsert.setString(2, row.json);
            upsert.addBatch();
            if (batched++ == 0) {
                batchStartedAt = System.currentTimeMillis();
            }
            written = true;
            if (batched >= batchSize
                    || System.currentTimeMillis() - batchStartedAt >= batchIntervalMillis) {
                executeBatch();
            }
        } catch (SQLException e) {
            throw new IOException("Warehouse upsert failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void flush(boolean endOfInput) throws IOException {
        try {
            executeBatch();
        } catch (SQLException e) {
            throw new IOException("Warehouse upsert failed: " + e.getMessage(), e);
        }
    }

    @Override
    public Collection<String> prepareCommit() throws IOException {
        if (!written) {
            return List.of();
        }
        String gid = ids.name(subtask, lastCheckpoint, sequence++);
        try {
            executeBatch();
            try (Statement statement = connection.createStatement()) {
                statement.execute("PREPARE TRANSACTION " + TwoPhaseWarehouseSink.literal(gid));
            }
        } catch (SQLException e) {
            throw new IOException(
                    "Cannot prepare warehouse transaction " + gid + ": " + e.getMessage(), e);
        }
        written = false;
        return List.of(gid);
    }

    @Override
    public List<String> snapshotState(long checkpointId) {
        lastCheckpoint = checkpointId;
        return List.of();
    }

    @Override
    public void close() throws Exception {
        try (Connection c = connection;
                PreparedStatement p = upsert) {
            c.rollback();
        } catch (SQLException e) {
            // The server drops the connection's open transaction with it.
            LOG.debug("Closing the warehouse connection failed", e);
        }
    }

    private void executeBatch() throws SQLException {
        if (batched > 0) {
            upsert.executeBatch();
            batched = 0;
        }
    }

    /**
     * Fails at start, not at the first checkpoint, on a server that refuses PREPARE TRANSACTION.
     */
    private void requirePreparedTransactions() throws SQLException, IOException {
        try (Connection admin = endpoint.connect(true);
                Statement statement = admin.createStatement();
                ResultSet result = statement.executeQuery("SHOW max_prepared_transactions")) {
            result.next();
            if (Integer.parseInt(result.getString(1)) == 0) {
                throw new IOException(
                        "The warehouse "
                                + endpoint
                                + " has max_prepared_transactions = 0: set it above "
                                + "0 (postgresql.conf, restart) for warehouse.postgres.exactly-once: true, or set that key "
                                + "to false (at least once)");
            }
        }
    }

    /**
     * Rolls back the prepared transactions of this prefix that {@link
     * WarehouseTransactionIds#isDangling} names.
     */
    private void rollBackDangling(int parallelism, OptionalLong restoredCheckpoint)
            throws SQLException {
        try (Connection admin = endpoint.connect(true);
                Statement statement = admin.createStatement()) {
            List<String> gids = new ArrayList<>();
            try (ResultSet result =
                    statement.executeQuery(
                            "SELECT gid FROM pg_prepared_xacts WHERE database = current_database()")) {
                while (result.next()) {
                    gids.add(result.getString(1));
                }
            }
            for (String gid : ids.dangling(gids, subtask, parallelism, restoredCheckpoint)) {
                try {
                    statement.execute("ROLLBACK PREPARED " + TwoPhaseWarehouseSink.literal(gid));
                    LOG.info(
                            "Rolled back warehouse transaction {} of an attempt that did not complete its "
                                    + "checkpoint (restored checkpoint {})",
                            gid,
                            restoredCheckpoint);
                } catch (SQLException e) {
                    if (!TwoPhaseWarehouseCommitter.NO_SUCH_TRANSACTION.equals(e.getSQLState())) {
                        throw e;
                    }
                }
            }
        }
    }
}
