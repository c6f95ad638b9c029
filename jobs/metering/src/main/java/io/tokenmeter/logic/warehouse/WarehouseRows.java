package io.tokenmeter.logic.warehouse;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.BillingRecord;

/**
 * The job's records as rows of the warehouse tables (config/sql/postgres/warehouse.sql): column
 * name to value, as JSON that PostgreSQL's {@code jsonb_populate_record} reads (dates as {@code
 * YYYY-MM-DD}, instants as ISO-8601 UTC).
 *
 * <p>Every table's key is (billing_day, record_id): record ids are deterministic (I5), so a record
 * written again overwrites its own row. billing_day is in the key because the tables are
 * partitioned by it, and a key of a partitioned PostgreSQL table must include the partition column.
 */
public final class WarehouseRows {

    public static final String BILLING_RECORDS = "billing_records";
    public static final String ACCOUNT_DAILY_USAGE = "account_daily_usage";
    public static final String REGIONAL_USAGE = "regional_usage";
    public static final String NATIONAL_USAGE = "national_usage";

    private static final ObjectMapper JSON = new ObjectMapper();

    private WarehouseRows() {}

    public static WarehouseRow billingRecord(BillingRecord r) {
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
                    .put("events", line.getEvents())
                    .put("included_units", line.getIncludedUnits())
                    .put("overage_units", line.getOverageUnits())
                    .put("overage_amount", line.getOverageAmount());
        }
        ObjectNode row =
                JSON.createObjectNode()
                        .put("record_id", r.getRecordId())
                        .put("kind", r.getKind().name())
                        .put("version", r.getVersion())
                        .put("corrects_record_id", r.getCorrectsRecordId())
                        .put("account_id", r.getAccountId())
                        .put("region", r.getRegion())
                        .put("billing_day", r.getBillingDay().toString())
                        .put("time_zone", r.getTimeZone())
                        .put("day_start", r.getDayStart().toString())
                        .put("day_end", r.getDayEnd().toString());
        row.set("line_items", lines);
        row.put("input_tokens", input)
                .put("output_tokens", output)
                .put("cached_tokens", cached)
                .put("total_tokens", r.getTotalTokens())
                .put("events", r.getEvents());
        return new WarehouseRow(BILLING_RECORDS, json(row));
    }

    public static WarehouseRow accountUsage(AccountUsage u) {
        ObjectNode row =
                JSON.createObjectNode()
                        .put("record_id", u.getRecordId())
                        .put("kind", u.getKind().name())
                        .put("account_id", u.getAccountId())
                        .put("region", u.getRegion())
                        .put("billing_day", u.getBillingDay().toString())
                        .put("time_zone", u.getTimeZone())
                        .put("model", u.getModel())
                        .put("modality", u.getModality().name())
                        .put("input_tokens", u.getInputTokens())
                        .put("output_tokens", u.getOutputTokens())
                        .put("cached_tokens", u.getCachedTokens())
                        .put("total_tokens", u.getTotalTokens())
                        .put("events", u.getEvents());
        return new WarehouseRow(ACCOUNT_DAILY_USAGE, json(row));
    }

    public static WarehouseRow regionalUsage(AreaUsage u) {
        return new WarehouseRow(REGIONAL_USAGE, json(area(u)));
    }

    public static WarehouseRow nationalUsage(AreaUsage u) {
        return new WarehouseRow(NATIONAL_USAGE, json(area(u)));
    }

    private static ObjectNode area(AreaUsage u) {
        return JSON.createObjectNode()
                .put("record_id", u.getRecordId())
                .put("kind", u.getKind().name())
                .put("granularity", u.getGranularity().name())
                .put("region", u.getRegion())
                .put("billing_day", u.getBillingDay().toString())
                .put("time_zone", u.getTimeZone())
                .put("window_start", u.getWindowStart().toString())
                .put("window_end", u.getWindowEnd().toString())
                .put("model", u.getModel())
                .put("modality", u.getModality().name())
                .put("input_tokens", u.getInputTokens())
                .put("output_tokens", u.getOutputTokens())
                .put("cached_tokens", u.getCachedTokens())
                .put("total_tokens", u.getTotalTokens())
                .put("events", u.getEvents())
                .put("active_accounts", u.getActiveAccounts());
    }

    private static String json(ObjectNode row) {
        try {
            return JSON.writeValueAsString(row);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a warehouse row as JSON", e);
        }
    }
}
