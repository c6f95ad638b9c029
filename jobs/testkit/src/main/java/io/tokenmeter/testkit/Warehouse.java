package io.tokenmeter.testkit;

import io.tokenmeter.logic.UsageTotals;
import io.tokenmeter.metering.WarehouseConfig;
import io.tokenmeter.testkit.ExpectedTotals.AccountDay;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The PostgreSQL warehouse as the local run and the tests see it: set up its tables, read back what
 * was billed.
 */
public final class Warehouse implements AutoCloseable {

    /** The warehouse DDL, relative to the repository root. */
    public static final Path SCHEMA = Path.of("config", "sql", "postgres", "warehouse.sql");

    private final Connection connection;

    private Warehouse(Connection connection) {
        this.connection = connection;
    }

    /**
     * Connects as the job would, with the user and password (file or environment) that {@code
     * config} names.
     */
    public static Warehouse connect(WarehouseConfig config) throws SQLException {
        Properties props = new Properties();
        if (!config.user().isEmpty()) {
            props.setProperty("user", config.user());
        }
        String password = config.password().read();
        if (password != null) {
            props.setProperty("password", password);
        }
        return new Warehouse(DriverManager.getConnection(config.url(), props));
    }

    /**
     * Applies the warehouse DDL (idempotent) and creates the daily partitions from {@code first} to
     * {@code last}.
     */
    public void prepare(Path schemaFile, LocalDate first, LocalDate last)
            throws SQLException, IOException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(Files.readString(schemaFile));
        }
        try (PreparedStatement partitions =
                connection.prepareStatement("SELECT tokenmeter_add_day_partitions(?, ?)")) {
            partitions.setObject(1, first);
            partitions.setObject(2, last);
            partitions.execute();
        }
    }

    /** Billed usage per account and day, summed over every version in billing_records. */
    public Map<AccountDay, UsageTotals> billedByAccountDay() throws SQLException {
        return usageByAccountDay("billing_records");
    }

    /** Usage per account and day, summed over account_daily_usage. */
    public Map<AccountDay, UsageTotals> accountDailyUsage() throws SQLException {
        return usageByAccountDay("account_daily_usage");
    }

    private Map<AccountDay, UsageTotals> usageByAccountDay(String table) throws SQLException {
        Map<AccountDay, UsageTotals> usage = new HashMap<>();
        try (Statement statement = connection.createStatement();
                ResultSet rows =
                        statement.executeQuery(
                                "SELECT account_id, billing_day, sum(input_tokens),"
                                        + " sum(output_tokens), sum(cached_tokens), sum(events) FROM "
                                        + table
                                        + " GROUP BY account_id, billing_day")) {
            while (rows.next()) {
                usage.put(
                        new AccountDay(rows.getString(1), rows.getObject(2, LocalDate.class)),
                        new UsageTotals(
                                rows.getLong(3),
                                rows.getLong(4),
                                rows.getLong(5),
                                rows.getLong(6)));
            }
        }
        return usage;
    }

    /** A single number from {@code sql}, e.g. a count or a sum. */
    public long number(String sql) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery(sql)) {
            rows.next();
            return rows.getLong(1);
        }
    }

    public Connection connection() {
        return connection;
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
