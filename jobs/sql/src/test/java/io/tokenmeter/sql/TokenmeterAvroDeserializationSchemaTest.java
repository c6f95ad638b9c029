package io.tokenmeter.sql;

import static org.apache.flink.table.api.DataTypes.ARRAY;
import static org.apache.flink.table.api.DataTypes.BIGINT;
import static org.apache.flink.table.api.DataTypes.DATE;
import static org.apache.flink.table.api.DataTypes.FIELD;
import static org.apache.flink.table.api.DataTypes.INT;
import static org.apache.flink.table.api.DataTypes.ROW;
import static org.apache.flink.table.api.DataTypes.STRING;
import static org.apache.flink.table.api.DataTypes.TIMESTAMP_LTZ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.UsageGranularity;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.schema.SchemaRegistrySettings;
import io.tokenmeter.schema.WriterSchemas;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.RowType;
import org.junit.jupiter.api.Test;

class TokenmeterAvroDeserializationSchemaTest {

    private static final LocalDate DAY = LocalDate.of(2026, 3, 8);
    private static final Instant DAY_START = Instant.parse("2026-03-07T16:00:00Z");

    private static final DataType BILLING_COLUMNS =
            ROW(
                    FIELD("record_id", STRING()),
                    FIELD("kind", STRING()),
                    FIELD("version", INT()),
                    FIELD("corrects_record_id", STRING()),
                    FIELD("region", STRING()),
                    FIELD("billing_day", DATE()),
                    FIELD("day_start", TIMESTAMP_LTZ(3)),
                    FIELD(
                            "line_items",
                            ARRAY(
                                    ROW(
                                            FIELD("modality", STRING()),
                                            FIELD("model", STRING()),
                                            FIELD("output_tokens", BIGINT())))),
                    FIELD("total_tokens", BIGINT()));

    @Test
    void readsEnumsDatesTimestampsAndArraysOfLineItems() throws Exception {
        byte[] bytes = AvroCodec.billingRecords().encode(billingRecord());

        RowData row = open("BillingRecord", BILLING_COLUMNS, false).deserialize(bytes);

        assertThat(row.getString(0).toString()).isEqualTo("bill-1");
        assertThat(row.getString(1).toString()).isEqualTo("ADJUSTMENT");
        assertThat(row.getInt(2)).isEqualTo(2);
        assertThat(row.getString(3).toString()).isEqualTo("bill-0");
        assertThat(row.getString(4).toString()).isEqualTo("CN-GD");
        assertThat(row.getInt(5)).isEqualTo((int) DAY.toEpochDay());
        assertThat(row.getTimestamp(6, 3).toInstant()).isEqualTo(DAY_START);
        ArrayData lines = row.getArray(7);
        assertThat(lines.size()).isEqualTo(2);
        assertThat(lines.getRow(1, 3).getString(0).toString()).isEqualTo("CODE");
        assertThat(lines.getRow(1, 3).getString(1).toString()).isEqualTo("qwen3-coder-plus");
        assertThat(lines.getRow(1, 3).getLong(2)).isEqualTo(70);
        assertThat(row.getLong(8)).isEqualTo(385);
    }

    @Test
    void readsAnyColumnsInAnyOrder() throws Exception {
        AccountUsage usage =
                AccountUsage.newBuilder()
                        .setRecordId("u-1")
                        .setKind(BillingRecordKind.ORIGINAL)
                        .setGranularity(UsageGranularity.HOUR)
                        .setAccountId("acct-7")
                        .setRegion("CN-BJ")
                        .setBillingDay(DAY)
                        .setTimeZone("Asia/Shanghai")
                        .setWindowStart(DAY_START)
                        .setWindowEnd(DAY_START.plusSeconds(3600))
                        .setModel("glm-4.6")
                        .setModality(Modality.TEXT)
                        .setInputTokens(1)
                        .setOutputTokens(2)
                        .setCachedTokens(3)
                        .setTotalTokens(6)
                        .setEvents(1)
                        .build();
        DataType columns = ROW(FIELD("total_tokens", BIGINT()), FIELD("account_id", STRING()));

        RowData row =
                open("AccountUsage", columns, false)
                        .deserialize(AvroCodec.accountUsage().encode(usage));

        assertThat(row.getLong(0)).isEqualTo(6);
        assertThat(row.getString(1).toString()).isEqualTo("acct-7");
    }

    @Test
    void readsRecordsOfARetiredWriterSchema() throws Exception {
        // given: a billing record as the job wrote it before BillingRecord had a region
        Schema retired =
                WriterSchemas.byFingerprint("BillingRecord").values().stream()
                        .filter(s -> s.getField("region") == null)
                        .findFirst()
                        .orElseThrow();
        Schema lineSchema = retired.getField("line_items").schema().getElementType();
        Schema modality = lineSchema.getField("modality").schema();
        GenericRecord line =
                new GenericRecordBuilder(lineSchema)
                        .set("model", "glm-4.6")
                        .set("modality", new GenericData.EnumSymbol(modality, "CODE"))
                        .set("input_tokens", 1L)
                        .set("output_tokens", 2L)
                        .set("cached_tokens", 0L)
                        .set("events", 1L)
                        .build();
        GenericRecord old =
                new GenericRecordBuilder(retired)
                        .set("record_id", "bill-old")
                        .set(
                                "kind",
                                new GenericData.EnumSymbol(
                                        retired.getField("kind").schema(), "ORIGINAL"))
                        .set("version", 1)
                        .set("account_id", "acct-1")
                        .set("billing_day", (int) DAY.toEpochDay())
                        .set("time_zone", "Asia/Shanghai")
                        .set("day_start", DAY_START.toEpochMilli())
                        .set("day_end", DAY_START.plusSeconds(86_400).toEpochMilli())
                        .set("line_items", List.of(line))
                        .set("total_tokens", 3L)
                        .set("events", 1L)
                        .build();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        new BinaryMessageEncoder<GenericRecord>(GenericData.get(), retired).encode(old, bytes);

        // when
        RowData row =
                open("BillingRecord", BILLING_COLUMNS, false).deserialize(bytes.toByteArray());

        // then: the field the old writer did not have reads as its default
        assertThat(row.getString(0).toString()).isEqualTo("bill-old");
        assertThat(row.getString(4).toString()).isEmpty();
        assertThat(row.isNullAt(3)).isTrue();
        assertThat(row.getArray(7).getRow(0, 3).getString(0).toString()).isEqualTo("CODE");
    }

    @Test
    void failsOnAnUnknownWriterSchemaUnlessToldToSkip() throws Exception {
        byte[] bytes = AvroCodec.billingRecords().encode(billingRecord());
        bytes[5] ^= 0x5A; // another fingerprint

        assertThatThrownBy(() -> open("BillingRecord", BILLING_COLUMNS, false).deserialize(bytes))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("is not a known BillingRecord schema");
        assertThat(open("BillingRecord", BILLING_COLUMNS, true).deserialize(bytes)).isNull();
        assertThatThrownBy(
                        () ->
                                open("BillingRecord", BILLING_COLUMNS, false)
                                        .deserialize(new byte[] {1, 2, 3}))
                .hasMessageContaining("no C3 01 header");
    }

    @Test
    void failsOnARegistryFramedRecordWhenTheTableNamesNoRegistryUnlessToldToSkip()
            throws Exception {
        byte[] bytes = AvroCodec.billingRecords().encodeWithSchemaId(billingRecord(), 12);

        assertThatThrownBy(() -> open("BillingRecord", BILLING_COLUMNS, false).deserialize(bytes))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("schema id 12")
                .hasMessageContaining("'tokenmeter-avro.schema-registry.url'");
        assertThat(open("BillingRecord", BILLING_COLUMNS, true).deserialize(bytes)).isNull();
    }

    @Test
    void failsWhenTheRegistryCannotAnswerEvenWhenToldToSkipParseErrors() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        TokenmeterAvroDeserializationSchema skipping =
                new TokenmeterAvroDeserializationSchema(
                        "BillingRecord",
                        (RowType) BILLING_COLUMNS.getLogicalType(),
                        TypeInformation.of(RowData.class),
                        true,
                        new SchemaRegistrySettings(
                                "http://127.0.0.1:" + closedPort,
                                10,
                                Duration.ofSeconds(1),
                                Duration.ofMillis(200)));
        skipping.open(null);
        byte[] bytes = AvroCodec.billingRecords().encodeWithSchemaId(billingRecord(), 12);

        assertThatThrownBy(() -> skipping.deserialize(bytes))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("until the schema registry answers");
    }

    @Test
    void rejectsColumnsThatAreNotFieldsOrHaveTheWrongType() {
        assertThatThrownBy(
                        () ->
                                open(
                                        "BillingRecord",
                                        ROW(
                                                FIELD(
                                                        "line_items",
                                                        ARRAY(ROW(FIELD("price", BIGINT()))))),
                                        false))
                .isInstanceOf(ValidationException.class)
                .hasMessageContaining(
                        "Column 'line_items[].price' is not a field of Avro record io.tokenmeter.avro.BillingLineItem");
        assertThatThrownBy(() -> open("BillingRecord", ROW(FIELD("total_tokens", INT())), false))
                .isInstanceOf(ValidationException.class)
                .hasMessageContaining("Column 'total_tokens' is INT");
        assertThatThrownBy(() -> open("Invoice", ROW(FIELD("total_tokens", BIGINT())), false))
                .hasMessageContaining("no Tokenmeter record is called 'Invoice'");
    }

    private static TokenmeterAvroDeserializationSchema open(
            String record, DataType columns, boolean ignoreErrors) {
        TokenmeterAvroDeserializationSchema schema =
                new TokenmeterAvroDeserializationSchema(
                        record,
                        (RowType) columns.getLogicalType(),
                        TypeInformation.of(RowData.class),
                        ignoreErrors);
        schema.open(null);
        return schema;
    }

    private static BillingRecord billingRecord() {
        return BillingRecord.newBuilder()
                .setRecordId("bill-1")
                .setKind(BillingRecordKind.ADJUSTMENT)
                .setVersion(2)
                .setCorrectsRecordId("bill-0")
                .setAccountId("acct-1")
                .setRegion("CN-GD")
                .setBillingDay(DAY)
                .setTimeZone("Asia/Shanghai")
                .setDayStart(DAY_START)
                .setDayEnd(DAY_START.plusSeconds(86_400))
                .setLineItems(
                        List.of(
                                new BillingLineItem(
                                        "deepseek-v3.2",
                                        Modality.TEXT,
                                        100L,
                                        50L,
                                        25L,
                                        2L,
                                        0L,
                                        0L,
                                        0L),
                                new BillingLineItem(
                                        "qwen3-coder-plus",
                                        Modality.CODE,
                                        100L,
                                        70L,
                                        40L,
                                        1L,
                                        0L,
                                        0L,
                                        0L)))
                .setTotalTokens(385)
                .setEvents(3)
                .build();
    }
}
