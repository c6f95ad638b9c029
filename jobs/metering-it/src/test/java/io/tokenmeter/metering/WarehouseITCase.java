package io.tokenmeter.metering;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.logic.UsageTotals;
import io.tokenmeter.testing.PostgresExtension;
import io.tokenmeter.testkit.ExpectedTotals;
import io.tokenmeter.testkit.ExpectedTotals.AccountDay;
import io.tokenmeter.testkit.FailingSource;
import io.tokenmeter.testkit.KafkaBrokerExtension;
import io.tokenmeter.testkit.MeteringOutcome;
import io.tokenmeter.testkit.TestRuns;
import io.tokenmeter.testkit.Warehouse;
import io.tokenmeter.testkit.WorkloadSpec;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.testutils.junit.SharedObjectsExtension;
import org.apache.flink.testutils.junit.SharedReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The PostgreSQL warehouse sink against a real PostgreSQL server: after a task failure and a
 * restart that replays the input from the last checkpoint, the tables hold exactly the billed
 * usage, each record once; the cookbook's PostgreSQL queries (docs/analytics.md) run as written and
 * answer what the workload holds.
 */
class WarehouseITCase {

    private static final Path SCHEMA = Path.of("..", "..").resolve(Warehouse.SCHEMA);

    @RegisterExtension
    @Order(1)
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @RegisterExtension
    @Order(2)
    static final PostgresExtension POSTGRES = new PostgresExtension();

    @RegisterExtension
    @Order(3)
    static final MiniClusterExtension FLINK = TestRuns.miniCluster();

    @RegisterExtension final SharedObjectsExtension sharedObjects = SharedObjectsExtension.create();

    @Test
    void warehouseHoldsExactlyTheBilledUsageAfterAFailureAndRestart() throws Exception {
        // given: retries, late events and poison records on the raw topic, and a warehouse with its
        // tables
        WorkloadSpec spec =
                WorkloadSpec.clean(40_000, 500, 31)
                        .withRates(0.02, 0.01, 0.01)
                        .during(
                                CookbookAnswers.START,
                                Duration.ofDays(2),
                                ZoneId.of("Asia/Shanghai"));
        String url = POSTGRES.createDatabase("warehouse");
        MeteringConfig config =
                TestRuns.freshTopics(
                        KAFKA,
                        Map.of(
                                "warehouse.postgres.url",
                                url,
                                "warehouse.postgres.batch-size",
                                "500"));
        ExpectedTotals expected = TestRuns.produce(spec, config);
        Warehouse warehouse = Warehouse.connect(config.warehouse().postgres());
        warehouse.prepare(
                SCHEMA,
                CookbookAnswers.FIRST_DAY.minusDays(3),
                CookbookAnswers.SECOND_DAY.plusDays(1));

        // when: the job fails part-way (after days have closed and rows reached the warehouse),
        // restarts from its last checkpoint and finishes
        SharedReference<AtomicBoolean> failed = sharedObjects.add(new AtomicBoolean());
        TestRuns.run(
                config,
                FailingSource.bounded(
                        config,
                        TestRuns.LONG_PAST,
                        failed,
                        FailingSource.atOffsetOfPartitionZero(
                                endOffsetOfPartitionZero(config) * 6 / 10)),
                true);

        // then: the tables hold the billed usage exactly, each billing record once
        assertThat(failed.get()).isTrue();
        MeteringOutcome outcome = MeteringOutcome.read(KAFKA.topics(), config);
        assertThat(outcome.billedByAccountDay()).isEqualTo(expected.billedByAccountDay());
        assertExact(warehouse, expected, outcome);

        // and: the cookbook's PostgreSQL queries answer what the workload holds
        CookbookAnswers answers = new CookbookAnswers(spec, expected);
        Map<String, String> queries = Cookbook.queries("postgres");
        assertThat(queries)
                .as("the cookbook's PostgreSQL questions")
                .hasSizeGreaterThanOrEqualTo(6);
        for (Map.Entry<String, String> query : queries.entrySet()) {
            answers.check(query.getKey(), rows(warehouse, query.getValue()));
        }
        warehouse.close();
    }

    private static void assertExact(
            Warehouse warehouse, ExpectedTotals expected, MeteringOutcome outcome)
            throws Exception {
        Map<AccountDay, UsageTotals> billed = warehouse.billedByAccountDay();
        assertThat(billed)
                .as("billing_records per account and day")
                .isEqualTo(expected.billedByAccountDay());
        assertThat(warehouse.accountDailyUsage())
                .as("account_daily_usage per account and day")
                .isEqualTo(expected.billedByAccountDay());
        long billingRows = warehouse.number("SELECT count(*) FROM billing_records");
        assertThat(billingRows)
                .as("one row per billing record on the topic")
                .isEqualTo(outcome.billingRecords());
        assertThat(warehouse.number("SELECT count(DISTINCT record_id) FROM billing_records"))
                .isEqualTo(billingRows);
        assertThat(warehouse.number("SELECT sum(total_tokens) FROM billing_records"))
                .isEqualTo(expected.billedTokens());
        for (String area : List.of("regional_usage", "national_usage")) {
            for (String granularity : List.of("DAY", "HOUR")) {
                assertThat(
                                warehouse.number(
                                        "SELECT sum(total_tokens) FROM "
                                                + area
                                                + " WHERE granularity = '"
                                                + granularity
                                                + "'"))
                        .as(area + " " + granularity + " tokens")
                        .isEqualTo(expected.billedTokens());
            }
        }
        assertThat(warehouse.number("SELECT count(*) FROM billing_records_default"))
                .as("rows of days without a partition")
                .isZero();
    }

    private static long endOffsetOfPartitionZero(MeteringConfig config) {
        TopicPartition zero = new TopicPartition(config.kafka().topics().raw(), 0);
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(
                        Map.of(
                                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                                config.kafka().bootstrapServers()),
                        new ByteArrayDeserializer(),
                        new ByteArrayDeserializer())) {
            return consumer.endOffsets(List.of(zero)).get(zero);
        }
    }

    private static List<List<String>> rows(Warehouse warehouse, String sql) throws Exception {
        List<List<String>> rows = new ArrayList<>();
        try (Statement statement = warehouse.connection().createStatement();
                ResultSet result = statement.executeQuery(sql)) {
            ResultSetMetaData columns = result.getMetaData();
            while (result.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= columns.getColumnCount(); i++) {
                    row.add(result.getString(i));
                }
                rows.add(row);
            }
        }
        return rows;
    }
}
