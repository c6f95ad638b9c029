package io.tokenmeter.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.tokenmeter.logic.ingest.SecretSource;
import io.tokenmeter.logic.warehouse.WarehouseRow;
import io.tokenmeter.logic.warehouse.WarehouseRows;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.metering.WarehouseConfig;
import io.tokenmeter.testing.PostgresExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Committer.CommitRequest;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.testutils.junit.SharedObjectsExtension;
import org.apache.flink.testutils.junit.SharedReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The exactly-once warehouse sink's writer and committer against a real PostgreSQL server: prepared
 * rows stay invisible until the commit, a commit repeated after a restore is recognised, and a
 * restarted writer rolls back exactly the prepared transactions of checkpoints that never
 * completed, releasing their row locks; in a Flink job that fails after checkpoints and restores,
 * every row shows once and none of the failed attempt.
 */
class TwoPhaseWarehouseSinkITCase {

    private static final Path SCHEMA =
            Path.of("..", "..", "config", "sql", "postgres", "warehouse.sql");
    private static final LocalDate DAY = LocalDate.of(2026, 3, 2);
    private static final AtomicInteger DATABASES = new AtomicInteger();

    @RegisterExtension
    @Order(1)
    static final PostgresExtension POSTGRES = new PostgresExtension();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    @RegisterExtension final SharedObjectsExtension sharedObjects = SharedObjectsExtension.create();

    private final WarehouseTransactionIds ids = new WarehouseTransactionIds("it-job-warehouse");
    private final List<AutoCloseable> opened = new ArrayList<>();
    private TwoPhaseWarehouseSink.Endpoint endpoint;
    private Connection reader;

    @BeforeEach
    void warehouse() throws Exception {
        String url = POSTGRES.createDatabase("two_phase_" + DATABASES.incrementAndGet());
        endpoint =
                new TwoPhaseWarehouseSink.Endpoint(
                        url, "", new SecretSource("", "", WarehouseConfig.PASSWORD_FILE));
        reader = DriverManager.getConnection(url);
        opened.add(reader);
        // The warehouse DDL and the day's partitions, as the local run's Warehouse.prepare applies
        // them.
        try (Statement statement = reader.createStatement()) {
            statement.execute(Files.readString(SCHEMA));
            statement.execute(
                    "SELECT tokenmeter_add_day_partitions(DATE '"
                            + DAY
                            + "', DATE '"
                            + DAY.plusDays(1)
                            + "')");
        }
    }

    @AfterEach
    void rollBackLeftovers() throws Exception {
        for (String gid : prepared()) {
            try (Statement statement = reader.createStatement()) {
                statement.execute("ROLLBACK PREPARED '" + gid + "'");
            }
        }
        Collections.reverse(opened);
        for (AutoCloseable c : opened) {
            c.close();
        }
    }

    @Test
    void preparedRowsAreInvisibleUntilCommittedAndASecondCommitIsRecognised() throws Exception {
        TwoPhaseWarehouseWriter writer = writer(0, 1, OptionalLong.empty());
        assertThat(writer.prepareCommit()).as("nothing written, no transaction").isEmpty();

        writer.write(row("a", 10), null);
        writer.write(row("b", 20), null);
        List<String> gids = List.copyOf(writer.prepareCommit());

        assertThat(gids).containsExactly(ids.name(0, 0, 0));
        assertThat(prepared()).containsExactlyElementsOf(gids);
        assertThat(tokens()).as("prepared, not committed").isZero();

        TwoPhaseWarehouseCommitter committer = committer();
        Request first = new Request(gids.get(0));
        committer.commit(List.of(first));
        assertThat(first.outcome).isEqualTo("committed");
        assertThat(tokens()).isEqualTo(30);
        assertThat(prepared()).isEmpty();

        Request again = new Request(gids.get(0));
        committer.commit(List.of(again));
        assertThat(again.outcome).isEqualTo("already committed");
        assertThat(tokens()).isEqualTo(30);
    }

    @Test
    void closingDiscardsRowsNotYetPrepared() throws Exception {
        TwoPhaseWarehouseWriter writer = writer(0, 1, OptionalLong.empty());
        writer.write(row("a", 10), null);
        writer.flush(false);
        writer.close();
        opened.remove(writer);

        assertThat(tokens()).isZero();
        assertThat(prepared()).isEmpty();
    }

    @Test
    void aRestoredWriterRollsBackTransactionsOfCheckpointsThatNeverCompleted() throws Exception {
        // given: an attempt that prepared rows for checkpoints 1, 2 and 3, then died after
        // checkpoint 2 completed but before its committer ran; another job's prepared transaction
        // is on the same server
        TwoPhaseWarehouseWriter failed = writer(0, 1, OptionalLong.empty());
        failed.write(row("a", 1), null);
        String forCheckpoint1 = single(failed.prepareCommit());
        failed.snapshotState(1);
        failed.write(row("b", 2), null);
        String forCheckpoint2 = single(failed.prepareCommit());
        failed.snapshotState(2);
        failed.write(row("c", 1000), null);
        String forCheckpoint3 = single(failed.prepareCommit());
        failed.close();
        opened.remove(failed);
        String otherJob = "other-job-warehouse:0:2:0";
        try (Connection other = DriverManager.getConnection(reader.getMetaData().getURL());
                Statement statement = other.createStatement()) {
            other.setAutoCommit(false);
            statement.execute("SELECT 1");
            statement.execute("PREPARE TRANSACTION '" + otherJob + "'");
        }
        assertThat(prepared())
                .containsExactlyInAnyOrder(
                        forCheckpoint1, forCheckpoint2, forCheckpoint3, otherJob);
        assertThatThrownBy(() -> upsertWithin1s(row("c", 7)))
                .as("the transaction for checkpoint 3 holds row c's lock")
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("lock timeout");

        // when: the job restores checkpoint 2 with a new writer (rescaled to two subtasks) and
        // replays row c
        TwoPhaseWarehouseWriter restored = writer(0, 2, OptionalLong.of(2));
        writer(1, 2, OptionalLong.of(2));

        // then: only the transaction of the incomplete checkpoint 3 is gone; the committer's and
        // the other job's stay
        assertThat(prepared()).containsExactlyInAnyOrder(forCheckpoint1, forCheckpoint2, otherJob);
        String replayed =
                assertTimeoutPreemptively(
                        Duration.ofSeconds(60),
                        () -> {
                            restored.write(row("c", 100), null);
                            return single(restored.prepareCommit());
                        },
                        "row c must not stay locked by the rolled-back transaction");
        assertThat(replayed).isEqualTo(ids.name(0, 2, 0));

        // and: the restored committables and the replay commit; the failed attempt's row c never
        // shows
        List<Request> requests =
                List.of(
                        new Request(forCheckpoint1),
                        new Request(forCheckpoint2),
                        new Request(replayed));
        committer().commit(new ArrayList<>(requests));
        assertThat(requests).extracting(r -> r.outcome).containsOnly("committed");
        assertThat(tokens()).isEqualTo(1 + 2 + 100);
        assertThat(prepared()).containsExactly(otherJob);
    }

    @Test
    void aJobThatFailsAfterCheckpointsShowsEveryRowOnceAndNoneOfTheFailedAttempt()
            throws Exception {
        // given: a job whose rows carry the attempt that wrote them, failing once while taking a
        // checkpoint
        int rows = 2_500;
        SharedReference<AtomicBoolean> failed = sharedObjects.add(new AtomicBoolean());
        Configuration configuration = new Configuration();
        configuration.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        configuration.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 2);
        configuration.set(
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(configuration);
        env.setParallelism(2);
        env.enableCheckpointing(100);
        env.fromSource(
                        new DataGeneratorSource<>(
                                i -> i, rows, RateLimiterStrategy.perSecond(800), Types.LONG),
                        WatermarkStrategy.noWatermarks(),
                        "Numbers")
                .map(new FailOnceAfterCheckpoints(failed))
                .sinkTo(
                        new TwoPhaseWarehouseSink(
                                endpoint, "job-it-warehouse", 50, Duration.ofMillis(200), 3));

        // when
        env.execute("two-phase-warehouse-it");

        // then: each number once (a failed attempt's visible row would be a second row for its
        // number), none left prepared, and the restarted attempt did write rows
        assertThat(failed.get()).isTrue();
        assertThat(number("SELECT count(*) FROM national_usage")).isEqualTo(rows);
        assertThat(number("SELECT count(DISTINCT total_tokens) FROM national_usage"))
                .isEqualTo(rows);
        assertThat(number("SELECT count(*) FROM national_usage WHERE record_id LIKE 'attempt-1-%'"))
                .isPositive();
        assertThat(prepared()).isEmpty();
    }

    /**
     * Issue #13 item 9: the at-least-once sink no longer uses flink-connector-jdbc's connection
     * options (which carry the password); it connects through the Endpoint, reading the password
     * file in the task.
     */
    @Test
    void theAtLeastOnceSinkConnectsInTheTaskWithThePasswordFileItNames() throws Exception {
        // given: the warehouse settings of a job writing at least once, the password in a file (the
        // test server trusts loopback, so any password is accepted: what counts is that the sink
        // reads the file and connects)
        Path passwordFile =
                Files.writeString(
                        Files.createTempDirectory("warehouse-it").resolve("password"),
                        "not-checked-by-trust");
        WarehouseConfig config =
                MeteringConfig.fromMap(
                                Map.of(
                                        "warehouse.postgres.url",
                                        reader.getMetaData().getURL(),
                                        WarehouseConfig.PASSWORD_FILE,
                                        passwordFile.toAbsolutePath().toString(),
                                        "warehouse.postgres.exactly-once",
                                        "false",
                                        "warehouse.postgres.batch-size",
                                        "7"))
                        .warehouse()
                        .postgres();
        int rows = 100;
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.fromSource(
                        new DataGeneratorSource<>(i -> i, rows, Types.LONG),
                        WatermarkStrategy.noWatermarks(),
                        "Numbers")
                .map(new NumberedRows())
                .sinkTo(new WarehouseSinks(config, "job-it-warehouse").sink());

        // when
        env.execute("at-least-once-warehouse-it");

        // then
        assertThat(number("SELECT count(*) FROM national_usage WHERE record_id LIKE 'alo-%'"))
                .isEqualTo(rows);
        assertThat(
                        number(
                                "SELECT sum(total_tokens) FROM national_usage WHERE record_id LIKE 'alo-%'"))
                .isEqualTo(rows * (rows + 1) / 2);
    }

    static final class NumberedRows implements MapFunction<Long, WarehouseRow> {
        @Override
        public WarehouseRow map(Long i) {
            return row("alo-" + i, i + 1);
        }
    }

    private TwoPhaseWarehouseWriter writer(int subtask, int parallelism, OptionalLong restored)
            throws Exception {
        TwoPhaseWarehouseWriter writer =
                new TwoPhaseWarehouseWriter(
                        endpoint, ids, subtask, parallelism, restored, 10, 60_000);
        opened.add(writer);
        return writer;
    }

    private TwoPhaseWarehouseCommitter committer() {
        TwoPhaseWarehouseCommitter committer = new TwoPhaseWarehouseCommitter(endpoint, 2);
        opened.add(committer);
        return committer;
    }

    private static String single(Collection<String> gids) {
        assertThat(gids).hasSize(1);
        return gids.iterator().next();
    }

    /** A national DAY row whose id and total tokens the test picks. */
    private static WarehouseRow row(String id, long totalTokens) {
        return new WarehouseRow(
                WarehouseRows.NATIONAL_USAGE,
                """
                {"record_id": "%s", "kind": "ORIGINAL", "granularity": "DAY", "region": "ALL", "billing_day": "%s",
                 "time_zone": "UTC", "window_start": "%sT00:00:00Z", "window_end": "%sT00:00:00Z", "model": "m",
                 "modality": "text", "input_tokens": %d, "output_tokens": 0, "cached_tokens": 0,
                 "total_tokens": %d, "events": 1, "active_accounts": 1}"""
                        .formatted(id, DAY, DAY, DAY.plusDays(1), totalTokens, totalTokens));
    }

    private void upsertWithin1s(WarehouseRow row) throws SQLException {
        try (Connection c = DriverManager.getConnection(reader.getMetaData().getURL());
                Statement statement = c.createStatement();
                var upsert = c.prepareStatement(WarehouseSinks.UPSERT)) {
            statement.execute("SET lock_timeout = '1s'");
            upsert.setString(1, row.table);
            upsert.setString(2, row.json);
            upsert.execute();
        }
    }

    private long number(String sql) throws SQLException {
        try (Statement statement = reader.createStatement();
                ResultSet result = statement.executeQuery(sql)) {
            result.next();
            return result.getLong(1);
        }
    }

    private long tokens() throws SQLException {
        return number("SELECT coalesce(sum(total_tokens), 0) FROM national_usage");
    }

    private List<String> prepared() throws SQLException {
        List<String> gids = new ArrayList<>();
        try (Statement statement = reader.createStatement();
                ResultSet result =
                        statement.executeQuery(
                                "SELECT gid FROM pg_prepared_xacts WHERE database = current_database() ORDER BY gid")) {
            while (result.next()) {
                gids.add(result.getString(1));
            }
        }
        return gids;
    }

    /**
     * Numbers as rows whose id names the attempt. Fails once, in a first attempt that has seen two
     * checkpoints complete, while taking the next checkpoint: the sink has just prepared its
     * transaction for that checkpoint, which can then never complete, so the restore must roll it
     * back rather than let its rows show.
     */
    static final class FailOnceAfterCheckpoints extends RichMapFunction<Long, WarehouseRow>
            implements CheckpointListener, CheckpointedFunction {

        private final SharedReference<AtomicBoolean> failed;
        private int completed;

        FailOnceAfterCheckpoints(SharedReference<AtomicBoolean> failed) {
            this.failed = failed;
        }

        @Override
        public WarehouseRow map(Long i) {
            return row(
                    "attempt-" + getRuntimeContext().getTaskInfo().getAttemptNumber() + "-" + i, i);
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) {
            if (getRuntimeContext().getTaskInfo().getAttemptNumber() == 0
                    && completed >= 2
                    && failed.get().compareAndSet(false, true)) {
                throw new IllegalStateException(
                        "injected failure in checkpoint " + context.getCheckpointId());
            }
        }

        @Override
        public void initializeState(FunctionInitializationContext context) {}

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            completed++;
        }
    }

    /** Records how the committer settled one committable. */
    private static final class Request implements CommitRequest<String> {

        private final String gid;
        private String outcome = "committed";

        Request(String gid) {
            this.gid = gid;
        }

        @Override
        public String getCommittable() {
            return gid;
        }

        @Override
        public int getNumberOfRetries() {
            return 0;
        }

        @Override
        public void signalFailedWithKnownReason(Throwable t) {
            outcome = "failed: " + t.getMessage();
        }

        @Override
        public void signalFailedWithUnknownReason(Throwable t) {
            outcome = "failed: " + t.getMessage();
        }

        @Override
        public void retryLater() {
            outcome = "retry";
        }

        @Override
        public void updateAndRetryLater(String committable) {
            outcome = "retry";
        }

        @Override
        public void signalAlreadyCommitted() {
            outcome = "already committed";
        }
    }
}
