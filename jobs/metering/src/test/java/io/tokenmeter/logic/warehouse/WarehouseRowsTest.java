package io.tokenmeter.logic.warehouse;

import static io.tokenmeter.testing.Fixtures.billingLine;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.UsageGranularity;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.junit.jupiter.api.Test;

class WarehouseRowsTest {

    private static final Instant DAY_START = Instant.parse("2026-11-01T16:00:00Z");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void billingRecordRowSumsItsLineItemsAndCarriesThemAsJson() throws Exception {
        BillingRecord record =
                BillingRecord.newBuilder()
                        .setRecordId("b-2")
                        .setKind(BillingRecordKind.ADJUSTMENT)
                        .setVersion(2)
                        .setCorrectsRecordId("b-1")
                        .setAccountId("acct-1")
                        .setRegion("CN-GD")
                        .setBillingDay(LocalDate.of(2026, 11, 2))
                        .setTimeZone("Asia/Shanghai")
                        .setDayStart(DAY_START)
                        .setDayEnd(DAY_START.plusSeconds(86_400))
                        .setLineItems(
                                List.of(
                                        billingLine("glm-4.6", Modality.TEXT, 10, 20, 5, 1),
                                        rated(
                                                billingLine(
                                                        "qwen3-coder-plus \"v2\"",
                                                        Modality.CODE,
                                                        1,
                                                        2,
                                                        3,
                                                        2),
                                                30,
                                                12,
                                                96)))
                        .setTotalTokens(41)
                        .setEvents(3)
                        .build();

        WarehouseRow row = WarehouseRows.billingRecord(record);

        assertThat(row.table).isEqualTo("billing_records");
        JsonNode columns = JSON.readTree(row.json);
        assertThat(columns.get("record_id").asText()).isEqualTo("b-2");
        assertThat(columns.get("kind").asText()).isEqualTo("ADJUSTMENT");
        assertThat(columns.get("version").asInt()).isEqualTo(2);
        assertThat(columns.get("corrects_record_id").asText()).isEqualTo("b-1");
        assertThat(columns.get("billing_day").asText()).isEqualTo("2026-11-02");
        assertThat(columns.get("day_start").asText()).isEqualTo("2026-11-01T16:00:00Z");
        assertThat(columns.get("input_tokens").asLong()).isEqualTo(11);
        assertThat(columns.get("output_tokens").asLong()).isEqualTo(22);
        assertThat(columns.get("cached_tokens").asLong()).isEqualTo(8);
        assertThat(columns.get("total_tokens").asLong()).isEqualTo(41);
        JsonNode lines = columns.get("line_items");
        assertThat(lines).hasSize(2);
        assertThat(lines.get(1).get("model").asText()).isEqualTo("qwen3-coder-plus \"v2\"");
        assertThat(lines.get(1).get("modality").asText()).isEqualTo("CODE");
        assertThat(lines.get(1).get("events").asLong()).isEqualTo(2);
        assertThat(lines.get(0).get("included_units").asLong()).isZero();
        assertThat(lines.get(1).get("included_units").asLong()).isEqualTo(30);
        assertThat(lines.get(1).get("overage_units").asLong()).isEqualTo(12);
        assertThat(lines.get(1).get("overage_amount").asLong()).isEqualTo(96);
    }

    private static BillingLineItem rated(
            BillingLineItem line, long included, long overage, long amount) {
        line.setIncludedUnits(included);
        line.setOverageUnits(overage);
        line.setOverageAmount(amount);
        return line;
    }

    @Test
    void anOriginalHasANullCorrectedRecord() throws Exception {
        BillingRecord original =
                BillingRecord.newBuilder()
                        .setRecordId("b-1")
                        .setKind(BillingRecordKind.ORIGINAL)
                        .setVersion(1)
                        .setCorrectsRecordId(null)
                        .setAccountId("acct-1")
                        .setRegion("CN-GD")
                        .setBillingDay(LocalDate.of(2026, 11, 2))
                        .setTimeZone("Asia/Shanghai")
                        .setDayStart(DAY_START)
                        .setDayEnd(DAY_START.plusSeconds(86_400))
                        .setLineItems(List.of())
                        .setTotalTokens(0)
                        .setEvents(0)
                        .build();

        JsonNode columns = JSON.readTree(WarehouseRows.billingRecord(original).json);

        assertThat(columns.get("corrects_record_id").isNull()).isTrue();
        assertThat(columns.get("line_items")).isEmpty();
    }

    @Test
    void usageRowsGoToTheirTablesWithWindowsAndActiveAccounts() throws Exception {
        AreaUsage usage =
                AreaUsage.newBuilder()
                        .setRecordId("a-1")
                        .setKind(BillingRecordKind.ORIGINAL)
                        .setGranularity(UsageGranularity.HOUR)
                        .setRegion("*")
                        .setBillingDay(LocalDate.of(2026, 11, 2))
                        .setTimeZone("Asia/Shanghai")
                        .setWindowStart(DAY_START)
                        .setWindowEnd(DAY_START.plusSeconds(3600))
                        .setModel("kimi-k2")
                        .setModality(Modality.TEXT)
                        .setInputTokens(1)
                        .setOutputTokens(2)
                        .setCachedTokens(3)
                        .setTotalTokens(6)
                        .setEvents(1)
                        .setActiveAccounts(7)
                        .build();
        AccountUsage day =
                AccountUsage.newBuilder()
                        .setRecordId("u-1")
                        .setKind(BillingRecordKind.ORIGINAL)
                        .setGranularity(UsageGranularity.DAY)
                        .setAccountId("acct-1")
                        .setRegion("CN-BJ")
                        .setBillingDay(LocalDate.of(2026, 11, 2))
                        .setTimeZone("Asia/Shanghai")
                        .setWindowStart(DAY_START)
                        .setWindowEnd(DAY_START.plusSeconds(86_400))
                        .setModel("kimi-k2")
                        .setModality(Modality.CODE)
                        .setInputTokens(1)
                        .setOutputTokens(2)
                        .setCachedTokens(3)
                        .setTotalTokens(6)
                        .setEvents(1)
                        .build();

        WarehouseRow national = WarehouseRows.nationalUsage(usage);
        WarehouseRow regional = WarehouseRows.regionalUsage(usage);
        WarehouseRow account = WarehouseRows.accountUsage(day);

        assertThat(national.table).isEqualTo("national_usage");
        assertThat(regional.table).isEqualTo("regional_usage");
        assertThat(regional.json).isEqualTo(national.json);
        JsonNode columns = JSON.readTree(national.json);
        assertThat(columns.get("granularity").asText()).isEqualTo("HOUR");
        assertThat(columns.get("window_end").asText()).isEqualTo("2026-11-01T17:00:00Z");
        assertThat(columns.get("active_accounts").asLong()).isEqualTo(7);
        assertThat(account.table).isEqualTo("account_daily_usage");
        assertThat(JSON.readTree(account.json).get("modality").asText()).isEqualTo("CODE");
    }

    @Test
    void warehouseRowIsAFlinkPojo() {
        assertThat(TypeInformation.of(WarehouseRow.class)).isInstanceOf(PojoTypeInfo.class);
    }
}
