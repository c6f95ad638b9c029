package io.tokenmeter.metering;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The queries of docs/analytics.md, exactly as written there. Each query's code fence follows a
 * marker comment {@code <!-- flink: NAME -->} or {@code <!-- postgres: NAME -->}; NAME ties it to
 * the check of its answer.
 */
final class Cookbook {

    static final Path DOC = Path.of("..", "..", "docs", "analytics.md");

    private static final Pattern QUERY =
            Pattern.compile(
                    "<!-- (flink|postgres): ([a-z0-9-]+) -->\\s*```sql\\n(.*?)```", Pattern.DOTALL);

    private Cookbook() {}

    /** The queries of one dialect ("flink" or "postgres"), by name, in the order of the page. */
    static Map<String, String> queries(String dialect) throws IOException {
        Map<String, String> queries = new LinkedHashMap<>();
        Matcher m = QUERY.matcher(Files.readString(DOC));
        while (m.find()) {
            if (m.group(1).equals(dialect)) {
                String sql = m.group(3).strip();
                queries.put(
                        m.group(2), sql.endsWith(";") ? sql.substring(0, sql.length() - 1) : sql);
            }
        }
        return queries;
    }
}
