package io.tokenmeter.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SqlScriptsTest {

    @Test
    void splitsAtLineEndingSemicolonsAndDropsCommentsOutsideQuotes() {
        List<String> statements =
                SqlScripts.split(
                        """
                -- a table
                CREATE TABLE t (a STRING) -- trailing
                WITH ('x' = 'a--b;c');

                SELECT a FROM t;
                """);

        assertThat(statements)
                .containsExactly(
                        "CREATE TABLE t (a STRING)\nWITH ('x' = 'a--b;c')", "SELECT a FROM t");
    }

    @Test
    void fillsPlaceholdersAndFailsOnAnUnknownOne() {
        assertThat(
                        SqlScripts.fill(
                                "'${kafka.topics.billing}' at '${a}'",
                                Map.of("kafka.topics.billing", "b$1", "a", "x")))
                .isEqualTo("'b$1' at 'x'");
        assertThatThrownBy(() -> SqlScripts.fill("${nope}", Map.of()))
                .hasMessage("No value for placeholder ${nope}");
    }

    @Test
    void theShippedDefinitionsCreateEveryOutputTable() throws Exception {
        Map<String, String> values =
                Map.of(
                        "kafka.bootstrap-servers", "broker:9092",
                        "kafka.topics.billing", "billing",
                        "kafka.topics.rejected", "rejected",
                        "kafka.topics.account-usage", "account",
                        "kafka.topics.regional-usage", "regional",
                        "kafka.topics.national-usage", "national",
                        "kafka.topics.notices", "notices",
                        "kafka.topics.ledger", "ledger",
                        "billing.time-zone", "Asia/Shanghai",
                        "schema-registry.url", "");

        List<String> statements = SqlScripts.statements(Path.of("../../config/sql"), values);

        assertThat(
                        statements.stream()
                                .filter(s -> s.startsWith("CREATE TABLE"))
                                .map(s -> s.split("\\s+")[2]))
                .containsExactly(
                        "account_usage",
                        "regional_usage",
                        "national_usage",
                        "billing_records",
                        "rejected_records",
                        "package_notices",
                        "ledger");
        assertThat(statements).noneMatch(s -> s.contains("${"));
    }
}
