package io.tokenmeter.logic.warehouse;

import java.util.Objects;

/**
 * One row for the warehouse: the table it goes to and its columns as a JSON object, which the
 * database's {@code tokenmeter_upsert} procedure (config/sql/postgres/warehouse.sql) upserts. A
 * Flink POJO.
 */
public final class WarehouseRow {

    /** billing_records, account_daily_usage, regional_usage or national_usage. */
    public String table;

    /** The row's columns by name, as JSON. */
    public String json;

    public WarehouseRow() {}

    public WarehouseRow(String table, String json) {
        this.table = table;
        this.json = json;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WarehouseRow that
                && Objects.equals(table, that.table)
                && Objects.equals(json, that.json);
    }

    @Override
    public int hashCode() {
        return Objects.hash(table, json);
    }

    @Override
    public String toString() {
        return table + " " + json;
    }
}
