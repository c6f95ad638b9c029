package io.tokenmeter.logic;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.BillingRecord;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The warehouse tables (config/sql/postgres/warehouse.sql) as the job writes them: each table's upsert statement
 * and the row of statement parameters for one record.
 *
 * <p>Every table's key is (billing_day, record_id): record ids are deterministic (I5), so writing a record again —
 * after a restart, on a replay of the input — overwrites the row with the same values, and a table ends up with
 * exactly one row per record whatever was written twice. billing_day is in the key because the tables are
 * partitioned by it, and PostgreSQL keys on a partitioned table must include the partition column.
 */
public final class WarehouseRows {

    /** One warehouse table: its columns in parameter order, and the SQL casts some parameters need. */
    public record Table(String name, List<String> columns, List<String> jsonColumns) {

        /** {@code INSERT ... ON CONFLICT (billing_day, record_id) DO UPDATE SET every other column}. */
        public String upsertStatement() {
            String placeholders = columns.stream()
                    .map(c -> jsonColumns.contains(c) ? "?::jsonb" : "?")
                    .collect(Collectors.joining(", "));
            String updates = columns.stream()
                    .filter(c -> !KEY.contains(c))
                    .map(c -> c + " = EXCLUDED." + c)
                    .collect(Collectors.joining(", "));
            return "INSERT INTO " + name + " (" + String.join(", ", columns) + ") VALUES (" + placeholders + ")"
                    + " ON CONFLICT (" + String.join(", ", KEY) + ") DO UPDATE SET " + updates;
        }
    }

    static final List<String> KEY = List.of("billing_day", "record_id");

    public static final Table BILLING_RECORDS = new Table("billing_records", List.of(
            "record_id", "kind", "version", "corrects_record_id", "account_id", "region", "billing_day", "time_zone",
            "day_start", "day_end", "line_items", "input_tokens", "output_tokens", "cached_tokens", "total_tokens",
            "events"), List.of("line_items"));

    public static final Table ACCOUNT_DAILY_USAGE = new Table("account_daily_usage", List.of(
            "record_id", "kind", "account_id", "region", "billing_day", "time_zone", "model", "modality",
            "input_tokens", "output_tokens", "cached_tokens", "total_tokens", "events"), List.of());

    private static final List<String> AREA_COLUMNS = List.of(
            "record_id", "kind", "granularity", "region", "billing_day", "time_zone", "window_start", "window_end",
            "model", "modality", "input_tokens", "output_tokens", "cached_tokens", "total_tokens", "events",
            "active_accounts");

    public static final Table REGIONAL_USAGE = new Table("regional_usage", AREA_COLUMNS, List.of());

    public static final Table NATIONAL_USAGE = new Table("national_usage", AREA_COLUMNS, List.of());

    private static final ObjectMapper JSON = new ObjectMapper();

    private WarehouseRows() {}

    public static Object[] billingRecord(BillingRecord r) {
        long input = 0;
        long output = 0;
        long cached = 0;
        ArrayNode lines = JSON.createArrayNode();
        for (BillingLineItem line : r.getLineItems()) {
            input += line.getInputTokens();
            output += line.getOutputTokens();
            cached += line.getCachedTokens();
            lines.addObject()
                    .put("model", line.getModel())
                    .put("modality", line.getModality().name())
                    .put("input_tokens", line.getInputTokens())
                    .put("output_tokens", line.getOutputTokens())
                    .put("cached_tokens", line.getCachedTokens())
                    .put("events", line.getEvents());
        }
        return new Object[] {
            r.getRecordId(), r.getKind().name(), r.getVersion(), r.getCorrectsRecordId(), r.getAccountId(),
            r.getRegion(), r.getBillingDay(), r.getTimeZone(), utc(r.getDayStart()), utc(r.getDayEnd()),
            json(lines), input, output, cached, r.getTotalTokens(), r.getEvents()
        };
    }

    public static Object[] accountUsage(AccountUsage u) {
        return new Object[] {
            u.getRecordId(), u.getKind().name(), u.getAccountId(), u.getRegion(), u.getBillingDay(), u.getTimeZone(),
            u.getModel(), u.getModality().name(), u.getInputTokens(), u.getOutputTokens(), u.getCachedTokens(),
            u.getTotalTokens(), u.getEvents()
        };
    }

    public static Object[] areaUsage(AreaUsage u) {
        return new Object[] {
            u.getRecordId(), u.getKind().name(), u.getGranularity().name(), u.getRegion(), u.getBillingDay(),
            u.getTimeZone(), utc(u.getWindowStart()), utc(u.getWindowEnd()), u.getModel(), u.getModality().name(),
            u.getInputTokens(), u.getOutputTokens(), u.getCachedTokens(), u.getTotalTokens(), u.getEvents(),
            u.getActiveAccounts()
        };
    }

    /** timestamptz parameters: the JDBC driver maps OffsetDateTime, not Instant. */
    private static OffsetDateTime utc(Instant instant) {
        return instant.atOffset(ZoneOffset.UTC);
    }

    private static String json(ArrayNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write line items as JSON", e);
        }
    }
}
