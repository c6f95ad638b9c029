package io.tokenmeter.sql;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The SQL files of config/sql as a program runs them: {@code ${key}} placeholders filled in (keys
 * of config/metering.yaml, as scripts/sql.sh fills them), comments dropped, split into statements.
 */
public final class SqlScripts {

    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Za-z0-9_.\\-]+)}");

    private SqlScripts() {}

    /** The statements of every {@code *.sql} file directly in {@code dir}, files in name order. */
    public static List<String> statements(Path dir, Map<String, String> values) throws IOException {
        List<String> statements = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".sql")).sorted().toList()) {
                statements.addAll(split(fill(Files.readString(file), values)));
            }
        }
        return statements;
    }

    /**
     * {@code text} with every {@code ${key}} replaced by its value; an unknown key fails, naming
     * it.
     */
    public static String fill(String text, Map<String, String> values) {
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = values.get(m.group(1));
            if (value == null) {
                throw new IllegalArgumentException(
                        "No value for placeholder ${" + m.group(1) + "}");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        return m.appendTail(out).toString();
    }

    /**
     * The statements of a script: {@code --} comments removed (outside quotes), split at semicolons
     * that end a line. Enough for the table definitions and the cookbook, which keep one statement
     * per semicolon.
     */
    public static List<String> split(String script) {
        List<String> statements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : script.split("\n", -1)) {
            String code = withoutComment(line).stripTrailing();
            if (code.isBlank()) {
                continue;
            }
            current.append(code).append('\n');
            if (code.endsWith(";")) {
                String statement = current.toString().strip();
                statements.add(statement.substring(0, statement.length() - 1).strip());
                current.setLength(0);
            }
        }
        if (!current.toString().isBlank()) {
            statements.add(current.toString().strip());
        }
        return statements;
    }

    private static String withoutComment(String line) {
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\'') {
                quoted = !quoted;
            } else if (!quoted && c == '-' && i + 1 < line.length() && line.charAt(i + 1) == '-') {
                return line.substring(0, i);
            }
        }
        return line;
    }
}
