package io.tokenmeter.io;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import org.apache.flink.api.connector.sink2.Committer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits the writer's prepared transactions once their checkpoint is complete. A name the server
 * no longer knows was committed before (a committable restored with a checkpoint after its commit);
 * the writer only rolls back transactions of checkpoints that never completed, never a
 * committable's.
 */
final class TwoPhaseWarehouseCommitter implements Committer<String> {

    /**
     * PostgreSQL's SQLSTATE undefined_object: "prepared transaction with identifier ... does not
     * exist".
     */
    static final String NO_SUCH_TRANSACTION = "42704";

    private static final Logger LOG = LoggerFactory.getLogger(TwoPhaseWarehouseCommitter.class);

    private final TwoPhaseWarehouseSink.Endpoint endpoint;
    private final int attempts;
    private Connection connection;

    TwoPhaseWarehouseCommitter(TwoPhaseWarehouseSink.Endpoint endpoint, int attempts) {
        this.endpoint = endpoint;
        this.attempts = attempts;
    }

    @Override
    public void commit(Collection<CommitRequest<String>> requests) throws InterruptedException {
        for (CommitRequest<String> request : requests) {
            String gid = request.getCommittable();
            try {
                if (connection == null) {
                    connection = endpoint.connect(true);
                }
                try (Statement statement = connection.createStatement()) {
                    statement.execute("COMMIT PREPARED " + TwoPhaseWarehouseSink.literal(gid));
                }
            } catch (SQLException e) {
                if (NO_SUCH_TRANSACTION.equals(e.getSQLState())) {
                    request.signalAlreadyCommitted();
                } else if (request.getNumberOfRetries() + 1 >= attempts) {
                    request.signalFailedWithUnknownReason(
                            new IOException(
                                    "Could not commit the prepared warehouse "
                                            + "transaction "
                                            + gid
                                            + " in "
                                            + attempts
                                            + " attempts; it stays prepared on "
                                            + endpoint
                                            + " (COMMIT PREPARED or ROLLBACK PREPARED it by hand): "
                                            + e.getMessage(),
                                    e));
                } else {
                    LOG.warn(
                            "Commit of warehouse transaction {} failed, retrying: {}",
                            gid,
                            e.getMessage());
                    closeQuietly();
                    Thread.sleep(1000L * (request.getNumberOfRetries() + 1));
                    request.retryLater();
                }
            }
        }
    }

    @Override
    public void close() {
        closeQuietly();
    }

    private void closeQuietly() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                LOG.debug("Closing the warehouse connection failed", e);
            }
            connection = null;
        }
    }
}
