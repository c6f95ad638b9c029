package io.tokenmeter.metering;

import static io.tokenmeter.config.YamlBinding.require;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.tokenmeter.logic.ingest.SecretSource;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * The optional PostgreSQL warehouse sink ({@code warehouse.postgres.*} in {@code
 * config/metering.yaml}): off while the URL is empty. The password never sits in the configuration,
 * nor anywhere the configuration goes (the job graph, logs, this record's {@code toString}): {@code
 * password-file} names a file, or else {@code password-env} an environment variable, that the tasks
 * read when they connect ({@link #password()}).
 *
 * @param url jdbc:postgresql://HOST:PORT/DATABASE, without a password parameter; empty: no
 *     warehouse
 * @param user empty: the driver's default (or the URL's user parameter)
 * @param exactlyOnce each subtask's rows of a checkpoint in one prepared transaction; false: at
 *     least once
 * @param batchSize rows per JDBC batch; every checkpoint flushes too
 * @param batchInterval flush at least this often
 * @param maxRetries per failed batch (at least once) or commit (exactly once), then fail
 */
public record WarehouseConfig(
        @JsonProperty(defaultValue = "") String url,
        @JsonProperty(defaultValue = "") String user,
        @JsonProperty(defaultValue = "TOKENMETER_WAREHOUSE_PASSWORD") String passwordEnv,
        @JsonProperty(defaultValue = "") String passwordFile,
        @JsonProperty(defaultValue = "true") boolean exactlyOnce,
        @JsonProperty(defaultValue = "1000") int batchSize,
        @JsonProperty(defaultValue = "1 s") Duration batchInterval,
        @JsonProperty(defaultValue = "3") int maxRetries)
        implements Serializable {

    /** Named where the tasks fail to read the password file. */
    public static final String PASSWORD_FILE = "warehouse.postgres.password-file";

    public WarehouseConfig {
        url = url.trim();
        user = user.trim();
        passwordEnv = passwordEnv.trim();
        passwordFile = passwordFile.trim();
        require(
                url.isEmpty() || url.startsWith("jdbc:postgresql://"),
                "url",
                "must be empty (no warehouse) or a PostgreSQL JDBC URL jdbc:postgresql://HOST:PORT/DATABASE");
        // A password in the URL would travel with it into the job graph and every message that
        // names the URL.
        require(
                !url.toLowerCase(Locale.ROOT).matches(".*[?&;]password=.*"),
                "url",
                "must not carry a password: put it in the file "
                        + PASSWORD_FILE
                        + " names, or the variable "
                        + "warehouse.postgres.password-env names");
        require(
                passwordEnv.matches("[A-Za-z_][A-Za-z0-9_]*"),
                "password-env",
                "must be an environment variable name");
        // Relative to what would depend on where each TaskManager was started.
        require(
                passwordFile.isEmpty() || Path.of(passwordFile).isAbsolute(),
                "password-file",
                "must be empty (the password, if any, is in warehouse.postgres.password-env) or an absolute path");
        require(
                batchSize >= 1 && batchSize <= 100_000,
                "batch-size",
                "must be between 1 and 100000");
        require(!batchInterval.isNegative(), "batch-interval", "must not be negative");
        require(maxRetries >= 0 && maxRetries <= 100, "max-retries", "must be between 0 and 100");
    }

    /**
     * Where the tasks read the password when they connect: the file {@code password-file} names,
     * else the variable {@code password-env} names; neither set means no password (trust or .pgpass
     * authentication).
     */
    public SecretSource password() {
        return new SecretSource(passwordFile, passwordEnv, PASSWORD_FILE);
    }

    /** Whether the job writes to the warehouse at all. */
    public boolean enabled() {
        return !url.isEmpty();
    }
}
