package io.tokenmeter.io;

import io.tokenmeter.logic.ingest.SecretSource;
import io.tokenmeter.logic.warehouse.WarehouseRow;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Collection;
import java.util.Properties;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.SupportsWriterState;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * The exactly-once warehouse sink: each writer subtask upserts a checkpoint's rows in one
 * PostgreSQL transaction, prepares it ({@code PREPARE TRANSACTION}) with the checkpoint and hands
 * its name to the committer, which commits it ({@code COMMIT PREPARED}) once the checkpoint is
 * complete. See {@link TwoPhaseWarehouseWriter} and {@link TwoPhaseWarehouseCommitter}. The writer
 * keeps no state of its own; it is stateful only to learn the checkpoint ids its transaction names
 * carry.
 */
public final class TwoPhaseWarehouseSink
        implements Sink<WarehouseRow>,
                SupportsCommitter<String>,
                SupportsWriterState<WarehouseRow, String> {

    private static final long serialVersionUID = 1L;

    private final Endpoint endpoint;
    private final String transactionPrefix;
    private final int batchSize;
    private final long batchIntervalMillis;
    private final int commitAttempts;

    /**
     * @param transactionPrefix names this job's prepared transactions; no other job may use it
     * @param commitAttempts how often the committer tries a commit that fails with an unknown error
     */
    public TwoPhaseWarehouseSink(
            Endpoint endpoint,
            String transactionPrefix,
            int batchSize,
            Duration batchInterval,
            int commitAttempts) {
        new WarehouseTransactionIds(
                transactionPrefix); // fails at job build time, not in the task, on a bad prefix
        this.endpoint = endpoint;
        this.transactionPrefix = transactionPrefix;
        this.batchSize = batchSize;
        this.batchIntervalMillis = batchInterval.toMillis();
        this.commitAttempts = Math.max(1, commitAttempts);
    }

    @Override
    public StatefulSinkWriter<WarehouseRow, String> createWriter(WriterInitContext context)
            throws IOException {
        return new TwoPhaseWarehouseWriter(
                endpoint,
                new WarehouseTransactionIds(transactionPrefix),
                context.getTaskInfo().getIndexOfThisSubtask(),
                context.getTaskInfo().getNumberOfParallelSubtasks(),
                context.getRestoredCheckpointId(),
                batchSize,
                batchIntervalMillis);
    }

    @Override
    public StatefulSinkWriter<WarehouseRow, String> restoreWriter(
            WriterInitContext context, Collection<String> recoveredState) throws IOException {
        return createWriter(context);
    }

    @Override
    public SimpleVersionedSerializer<String> getWriterStateSerializer() {
        return new Utf8Serializer();
    }

    @Override
    public Committer<String> createCommitter(CommitterInitContext context) {
        return new TwoPhaseWarehouseCommitter(endpoint, commitAttempts);
    }

    @Override
    public SimpleVersionedSerializer<String> getCommittableSerializer() {
        return new Utf8Serializer();
    }

    /**
     * Where the warehouse is, and where its password is: read at each connect, in the task that
     * connects, so the password is never part of the sink that travels in the job graph. No
     * password (neither file nor variable set) means trust or .pgpass authentication.
     */
    public record Endpoint(String url, String user, SecretSource password) implements Serializable {

        Connection connect(boolean autoCommit) throws SQLException {
            Properties properties = new Properties();
            if (!user.isEmpty()) {
                properties.setProperty("user", user);
            }
            String secret = password.read();
            if (secret != null) {
                properties.setProperty("password", secret);
            }
            Connection connection = DriverManager.getConnection(url, properties);
            connection.setAutoCommit(autoCommit);
            return connection;
        }

        @Override
        public String toString() {
            return url;
        }
    }

    /** A committable: the name of one prepared transaction. */
    static final class Utf8Serializer implements SimpleVersionedSerializer<String> {

        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(String value) {
            return value.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public String deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1) {
                throw new IOException(
                        "Unknown warehouse transaction serializer version " + version);
            }
            return new String(serialized, StandardCharsets.UTF_8);
        }
    }

    /** A SQL string literal: prepared transaction names cannot be bind parameters. */
    static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }
}
