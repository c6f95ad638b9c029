package io.tokenmeter.metering;

import java.io.Serializable;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.util.TimeUtils;

/**
 * The optional PostgreSQL warehouse sink ({@code warehouse.postgres.*} in {@code config/metering.yaml}): off while
 * the URL is empty. The password never sits in the configuration, nor anywhere the configuration goes (the job
 * graph, logs, this record's {@code toString}): {@code password-file} names a file, or else {@code password-env}
 * an environment variable, that the tasks read when they connect ({@link #password()}).
 */
public record WarehouseConfig(
        String url,
        String user,
        String passwordEnv,
        String passwordFile,
        boolean exactlyOnce,
        int batchSize,
        Duration batchInterval,
        int maxRetries)
        implements Serializable {

    public static final String URL = "warehouse.postgres.url";
    public static final String USER = "warehouse.postgres.user";
    public static final String PASSWORD_ENV = "warehouse.postgres.password-env";
    public static final String PASSWORD_FILE = "warehouse.postgres.password-file";
    public static final String EXACTLY_ONCE = "warehouse.postgres.exactly-once";
    public static final String BATCH_SIZE = "warehouse.postgres.batch-size";
    public static final String BATCH_INTERVAL = "warehouse.postgres.batch-interval";
    public static final String MAX_RETRIES = "warehouse.postgres.max-retries";

    static final Map<String, String> DEFAULTS = Map.of(
            URL, "",
            USER, "",
            PASSWORD_ENV, "TOKENMETER_WAREHOUSE_PASSWORD",
            PASSWORD_FILE, "",
            EXACTLY_ONCE, "true",
            BATCH_SIZE, "1000",
            BATCH_INTERVAL, "1 s",
            MAX_RETRIES, "3");

    public WarehouseConfig {
        require(url.isEmpty() || url.startsWith("jdbc:postgresql://"), URL,
                "must be empty (no warehouse) or a PostgreSQL JDBC URL jdbc:postgresql://HOST:PORT/DATABASE");
        // A password in the URL would travel with it into the job graph and every message that names the URL.
        require(!url.toLowerCase(java.util.Locale.ROOT).matches(".*[?&;]password=.*"), URL,
                "must not carry a password: put it in the file " + PASSWORD_FILE + " names, or the variable "
                        + PASSWORD_ENV + " names");
        require(passwordEnv.matches("[A-Za-z_][A-Za-z0-9_]*"), PASSWORD_ENV, "must be an environment variable name");
        // Relative to what would depend on where each TaskManager was started.
        require(passwordFile.isEmpty() || java.nio.file.Path.of(passwordFile).isAbsolute(), PASSWORD_FILE,
                "must be empty (the password, if any, is in " + PASSWORD_ENV + ") or an absolute path");
        require(batchSize >= 1 && batchSize <= 100_000, BATCH_SIZE, "must be between 1 and 100000");
        require(!batchInterval.isNegative(), BATCH_INTERVAL, "must not be negative");
        require(maxRetries >= 0 && maxRetries <= 100, MAX_RETRIES, "must be between 0 and 100");
    }

    /**
     * Where the tasks read the password when they connect: the file {@code password-file} names, else the variable
     * {@code password-env} names; neither set means no password (trust or .pgpass authentication).
     */
    public io.tokenmeter.logic.SecretSource password() {
        return new io.tokenmeter.logic.SecretSource(passwordFile, passwordEnv, PASSWORD_FILE);
    }

    /** Whether the job writes to the warehouse at all. */
    public boolean enabled() {
        return !url.isEmpty();
    }

    static WarehouseConfig fromMap(Map<String, String> values) {
        return new WarehouseConfig(
                values.get(URL).trim(),
                values.get(USER).trim(),
                values.get(PASSWORD_ENV).trim(),
                values.get(PASSWORD_FILE).trim(),
                parseBoolean(values, EXACTLY_ONCE),
                parseInt(values, BATCH_SIZE),
                parseDuration(values, BATCH_INTERVAL),
                parseInt(values, MAX_RETRIES));
    }

    Map<String, String> asMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(URL, url);
        m.put(USER, user);
        m.put(PASSWORD_ENV, passwordEnv);
        m.put(PASSWORD_FILE, passwordFile);
        m.put(EXACTLY_ONCE, Boolean.toString(exactlyOnce));
        m.put(BATCH_SIZE, Integer.toString(batchSize));
        m.put(BATCH_INTERVAL, batchInterval.toMillis() + " ms");
        m.put(MAX_RETRIES, Integer.toString(maxRetries));
        return m;
    }

    private static boolean parseBoolean(Map<String, String> values, String key) {
        return switch (values.get(key).trim().toLowerCase()) {
            case "true" -> true;
            case "false" -> false;
            default -> throw invalid(key, values.get(key), new IllegalArgumentException("expected true or false"));
        };
    }

    private static int parseInt(Map<String, String> values, String key) {
        try {
            return Integer.parseInt(values.get(key).trim());
        } catch (NumberFormatException e) {
            throw invalid(key, values.get(key), e);
        }
    }

    private static Duration parseDuration(Map<String, String> values, String key) {
        try {
            return TimeUtils.parseDuration(values.get(key).trim());
        } catch (IllegalArgumentException e) {
            throw invalid(key, values.get(key), e);
        }
    }

    private static IllegalArgumentException invalid(String key, String text, Exception e) {
        return new IllegalArgumentException(
                "Configuration key '" + key + "' has an invalid value '" + text + "': " + e.getMessage(), e);
    }

    private static void require(boolean ok, String key, String problem) {
        if (!ok) {
            throw new IllegalArgumentException("Configuration key '" + key + "' " + problem);
        }
    }
}
