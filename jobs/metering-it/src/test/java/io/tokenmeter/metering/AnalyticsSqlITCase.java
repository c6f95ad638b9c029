package io.tokenmeter.metering;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.io.KafkaEndpoints;
import io.tokenmeter.sql.SqlScripts;
import io.tokenmeter.testkit.ExpectedTotals;
import io.tokenmeter.testkit.KafkaBrokerExtension;
import io.tokenmeter.testkit.TestRuns;
import io.tokenmeter.testkit.WorkloadSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The analyst's view: the shipped table definitions (config/sql) and every Flink SQL query of the
 * cookbook (docs/analytics.md), exactly as written, over the topics of a real run through a real
 * broker; each answer checked against what the workload generator says it must be.
 */
class AnalyticsSqlITCase {

    static final Path SQL_DEFINITIONS = Path.of("..", "..", "config", "sql");
    private static final Pattern SET = Pattern.compile("SET\\s+'([^']+)'\\s*=\\s*'([^']*)'");

    @RegisterExtension
    @Order(1)
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension FLINK = TestRuns.miniCluster();

    @Test
    void cookbookQueriesAnswerWhatTheWorkloadHolds() throws Exception {
        // given: a metered workload with retries, late events and poison records of every kind
        WorkloadSpec spec =
                WorkloadSpec.clean(30_000, 500, 29)
                        .withRates(0.02, 0.01, 0.02)
                        .during(
                                CookbookAnswers.START,
                                Duration.ofDays(2),
                                ZoneId.of("Asia/Shanghai"));
        MeteringConfig config = TestRuns.freshTopics(KAFKA, Map.of());
        ExpectedTotals expected = TestRuns.produce(spec, config);
        TestRuns.run(config, KafkaEndpoints.rawUsageSource(config, TestRuns.LONG_PAST), false);
        CookbookAnswers answers = new CookbookAnswers(spec, expected);

        // when: an analyst's session registers the shipped tables over the run's topics
        TableEnvironment sql = session(SqlScripts.statements(SQL_DEFINITIONS, config.asMap()));

        // then: every cookbook query runs as written and gives the workload's answer
        Map<String, String> queries = Cookbook.queries("flink");
        assertThat(queries.keySet())
                .as("the cookbook's Flink SQL questions")
                .hasSizeGreaterThanOrEqualTo(8);
        Map<String, Integer> answered = new HashMap<>();
        for (Map.Entry<String, String> query : queries.entrySet()) {
            List<List<String>> rows = rows(sql.executeSql(query.getValue()));
            answers.check(query.getKey(), rows);
            answered.put(query.getKey(), rows.size());
        }
        assertThat(answered)
                .as("rows per query")
                .allSatisfy((query, rows) -> assertThat(rows).isPositive());
    }

    /** A table session like the SQL client's: SET statements configure it, the others run in it. */
    static TableEnvironment session(List<String> statements) {
        Configuration settings = new Configuration();
        List<String> definitions = new ArrayList<>();
        for (String statement : statements) {
            Matcher set = SET.matcher(statement);
            if (set.matches()) {
                settings.setString(set.group(1), set.group(2));
            } else {
                definitions.add(statement);
            }
        }
        TableEnvironment sql = TableEnvironment.create(settings);
        definitions.forEach(sql::executeSql);
        return sql;
    }

    private static List<List<String>> rows(TableResult result) throws Exception {
        List<List<String>> rows = new ArrayList<>();
        try (CloseableIterator<Row> it = result.collect()) {
            while (it.hasNext()) {
                Row row = it.next();
                rows.add(
                        IntStream.range(0, row.getArity())
                                .mapToObj(i -> String.valueOf(row.getField(i)))
                                .toList());
            }
        }
        return rows;
    }
}
