package io.tokenmeter.logic;

import static io.tokenmeter.testing.Fixtures.billingLine;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.UsageGranularity;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class WarehouseRowsTest {

    private static final Instant DAY_START = Instant.parse("2026-11-01T16:00:00Z");

    @Test
    void upsertsOnDayAndRecordIdAndOverwritesEveryOtherColumn() {
        String sql = WarehouseRows.BILLING_RECORDS.upsertStatement();

        assertThat(sql).startsWith("INSERT INTO billing_records (record_id, kind, version, ")
                .contains("?::jsonb")
                .contains(" ON CONFLICT (billing_day, record_id) DO UPDATE SET kind = EXCLUDED.kind, ")
                .endsWith("events = EXCLUDED.events")
                .doesNotContain(" record_id = EXCLUDED", "billing_day = EXCLUDED");
        assertThat(sql.chars().filter(c -> c == '?').count())
                .isEqualTo(WarehouseRows.BILLING_RECORDS.columns().size());
    }

    @Test
    void billingRecordRowSumsItsLineItemsAndCarriesThemAsJson() throws Exception {
        BillingRecord record = BillingRecord.newBuilder()
                .setRecordId("b-2").setKind(BillingRecordKind.ADJUSTMENT).setVersion(2).setCorrectsRecordId("b-1")
                .setAccountId("acct-1").setRegion("CN-GD").setBillingDay(LocalDate.of(2026, 11, 2))
                .setTimeZone("Asia/Shanghai").setDayStart(DAY_START).setDayEnd(DAY_START.plusSeconds(86_400))
                .setLineItems(List.of(
                        billingLine("glm-4.6", Modality.TEXT, 10, 20, 5, 1),
                        billingLine("qwen3-coder-plus \"v2\"", Modality.CODE, 1, 2, 3, 2)))
                .setTotalTokens(41).setEvents(3).build();

        Object[] row = WarehouseRows.billingRecord(record);

        assertThat(row).hasSize(WarehouseRows.BILLING_RECORDS.columns().size());
        assertThat(column(row, WarehouseRows.BILLING_RECORDS, "kind")).isEqualTo("ADJUSTMENT");
        assertThat(column(row, WarehouseRows.BILLING_RECORDS, "corrects_record_id")).isEqualTo("b-1");
        assertThat(column(row, WarehouseRows.BILLING_RECORDS, "billing_day")).isEqualTo(LocalDate.of(2026, 11, 2));
        assertThat(column(row, WarehouseRows.BILLING_RECORDS, "day_start"))
                .isEqualTo(OffsetDateTime.of(2026, 11, 1, 16, 0, 0, 0, ZoneOffset.UTC));
        assertThat(column(row, WarehouseRows.BILLING_RECORDS, "input_tokens")).isEqualTo(11L);
        assertThat(column(row, WarehouseRows.BILLING_RECORDS, "output_tokens")).isEqualTo(22L);
        assertThat(column(row, WarehouseRows.BILLING_RECORDS, "cached_tokens")).isEqualTo(8L);
        assertThat(column(row, WarehouseRows.BILLING_RECORDS, "total_tokens")).isEqualTo(41L);
        JsonNode lines = new ObjectMapper().readTree((String) column(row, WarehouseRows.BILLING_RECORDS, "line_items"));
        assertThat(lines).hasSize(2);
        assertThat(lines.get(1).get("model").asText()).isEqualTo("qwen3-coder-plus \"v2\"");
        assertThat(lines.get(1).get("modality").asText()).isEqualTo("CODE");
        assertThat(lines.get(1).get("events").asLong()).isEqualTo(2);
    }

    @Test
    void areaUsageRowKeepsGranularityWindowAndActiveAccounts() {
        AreaUsage usage = AreaUsage.newBuilder()
                .setRecordId("a-1").setKind(BillingRecordKind.ORIGINAL).setGranularity(UsageGranularity.HOUR)
                .setRegion("*").setBillingDay(LocalDate.of(2026, 11, 2)).setTimeZone("Asia/Shanghai")
                .setWindowStart(DAY_START).setWindowEnd(DAY_START.plusSeconds(3600)).setModel("kimi-k2")
                .setModality(Modality.TEXT).setInputTokens(1).setOutputTokens(2).setCachedTokens(3).setTotalTokens(6)
                .setEvents(1).setActiveAccounts(7).build();

        Object[] row = WarehouseRows.areaUsage(usage);

        assertThat(row).hasSize(WarehouseRows.NATIONAL_USAGE.columns().size());
        assertThat(column(row, WarehouseRows.NATIONAL_USAGE, "granularity")).isEqualTo("HOUR");
        assertThat(column(row, WarehouseRows.NATIONAL_USAGE, "window_end"))
                .isEqualTo(OffsetDateTime.of(2026, 11, 1, 17, 0, 0, 0, ZoneOffset.UTC));
        assertThat(column(row, WarehouseRows.NATIONAL_USAGE, "active_accounts")).isEqualTo(7L);
    }

    private static Object column(Object[] row, WarehouseRows.Table table, String column) {
        return row[table.columns().indexOf(column)];
    }
}
