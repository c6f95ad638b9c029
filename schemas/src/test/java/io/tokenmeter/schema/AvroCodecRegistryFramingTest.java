package io.tokenmeter.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.UsageEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

/**
 * The schema registry framing ({@code 00}, 4-byte big-endian schema id, body) beside single-object
 * encoding: the writer schema comes from a registry by id, here an in-memory one (the real server:
 * the registry ITCases of jobs/local).
 */
class AvroCodecRegistryFramingTest {

    /** UsageEvent as a producer that added an optional field (a compatible change) writes it. */
    static final Schema EVOLVED_USAGE_EVENT = evolvedUsageEvent();

    private final Map<Integer, Schema> registered = new HashMap<>();
    private final List<Integer> lookups = new ArrayList<>();
    private final RegistryWriterSchemas registry =
            id -> {
                lookups.add(id);
                Schema schema = registered.get(id);
                if (schema == null) {
                    throw new DecodeException(
                            DecodeException.Failure.UNKNOWN_SCHEMA,
                            "schema id " + id + " is not known");
                }
                return schema;
            };

    @Test
    void writesMagicByteAndBigEndianSchemaIdBeforeTheBody() {
        byte[] payload =
                AvroCodec.usageEvents().encodeWithSchemaId(usageEvent("evt-1"), 0x01020304);

        assertThat(Arrays.copyOf(payload, 5)).containsExactly(0, 1, 2, 3, 4);
        assertThat(Framing.isRegistryFramed(payload)).isTrue();
        assertThat(Framing.registrySchemaId(payload)).isEqualTo(0x01020304);
    }

    @Test
    void readsRegistryFramedEventsBesideSingleObjectOnes() throws Exception {
        registered.put(7, UsageEvent.getClassSchema());
        AvroCodec<UsageEvent> codec = AvroCodec.usageEvents().withRegistry(registry, 10);
        UsageEvent event = usageEvent("evt-1");

        assertThat(codec.decode(codec.encodeWithSchemaId(event, 7))).isEqualTo(event);
        assertThat(codec.decode(codec.encode(event))).isEqualTo(event);
    }

    @Test
    void readsAnEvolvedWriterSchemaWithAnAddedOptionalField() throws Exception {
        registered.put(42, EVOLVED_USAGE_EVENT);
        byte[] payload = registryFramed(42, evolvedEvent("evt-evolved", "team-a"));

        UsageEvent decoded = AvroCodec.usageEvents().withRegistry(registry, 10).decode(payload);

        assertThat(decoded.getEventId()).isEqualTo("evt-evolved");
        assertThat(decoded.getAccountId()).isEqualTo("acct-1");
        assertThat(decoded.getInputTokens()).isEqualTo(100);
        assertThat(decoded.getOutputTokens()).isEqualTo(20);
        assertThat(decoded.getCachedTokens()).isEqualTo(5);
        assertThat(decoded.getEventTime()).isEqualTo(Instant.parse("2026-03-10T01:02:03.004Z"));
    }

    @Test
    void asksTheRegistryOncePerSchemaId() throws Exception {
        registered.put(7, UsageEvent.getClassSchema());
        AvroCodec<UsageEvent> codec = AvroCodec.usageEvents().withRegistry(registry, 10);

        for (int i = 0; i < 5; i++) {
            codec.decode(codec.encodeWithSchemaId(usageEvent("evt-" + i), 7));
        }

        assertThat(lookups).containsExactly(7);
    }

    @Test
    void keepsAtMostCacheSizeReaders() throws Exception {
        for (int id = 1; id <= 3; id++) {
            registered.put(id, UsageEvent.getClassSchema());
        }
        AvroCodec<UsageEvent> codec = AvroCodec.usageEvents().withRegistry(registry, 2);

        for (int id : new int[] {1, 2, 3, 1}) {
            codec.decode(codec.encodeWithSchemaId(usageEvent("evt"), id));
        }

        assertThat(lookups)
                .as("id 1 was evicted by id 3 and looked up again")
                .containsExactly(1, 2, 3, 1);
    }

    @Test
    void rejectsAnUnknownSchemaIdAsUnknownSchemaNamingTheId() {
        AvroCodec<UsageEvent> codec = AvroCodec.usageEvents().withRegistry(registry, 10);
        byte[] payload = codec.encodeWithSchemaId(usageEvent("evt-1"), 99);

        assertThatThrownBy(() -> codec.decode(payload))
                .isInstanceOfSatisfying(
                        DecodeException.class,
                        e -> {
                            assertThat(e.failure())
                                    .isEqualTo(DecodeException.Failure.UNKNOWN_SCHEMA);
                            assertThat(e.getMessage()).contains("99");
                        });
    }

    @Test
    void rejectsRegistryFramingAsUnknownSchemaWhenNoRegistryIsConfigured() {
        AvroCodec<UsageEvent> codec =
                AvroCodec.usageEvents()
                        .withRegistry(
                                RegistryWriterSchemas.notConfigured("schema-registry.url is empty"),
                                10);
        byte[] payload = codec.encodeWithSchemaId(usageEvent("evt-1"), 5);

        assertThatThrownBy(() -> codec.decode(payload))
                .isInstanceOfSatisfying(
                        DecodeException.class,
                        e -> {
                            assertThat(e.failure())
                                    .isEqualTo(DecodeException.Failure.UNKNOWN_SCHEMA);
                            assertThat(e.getMessage())
                                    .contains(
                                            "schema id 5",
                                            "no schema registry is configured",
                                            "schema-registry.url is empty");
                        });
        assertThatThrownBy(() -> AvroCodec.usageEvents().decode(payload))
                .isInstanceOfSatisfying(
                        DecodeException.class,
                        e ->
                                assertThat(e.getMessage())
                                        .contains("no schema registry is configured"));
    }

    @Test
    void rejectsAWriterSchemaThatCannotBeReadAsTheRecordAsUnknownSchema() {
        registered.put(3, BillingRecord.getClassSchema());
        AvroCodec<UsageEvent> codec = AvroCodec.usageEvents().withRegistry(registry, 10);
        byte[] payload = codec.encodeWithSchemaId(usageEvent("evt-1"), 3);

        assertThatThrownBy(() -> codec.decode(payload))
                .isInstanceOfSatisfying(
                        DecodeException.class,
                        e -> {
                            assertThat(e.failure())
                                    .isEqualTo(DecodeException.Failure.UNKNOWN_SCHEMA);
                            assertThat(e.getMessage())
                                    .contains("schema id 3", "BillingRecord", "cannot be read as");
                        });
    }

    @Test
    void letsAnUnavailableRegistryThroughRatherThanJudgingTheRecord() {
        AvroCodec<UsageEvent> codec =
                AvroCodec.usageEvents()
                        .withRegistry(
                                id -> {
                                    throw new SchemaRegistryUnavailableException(
                                            "registry down", null);
                                },
                                10);
        byte[] payload = codec.encodeWithSchemaId(usageEvent("evt-1"), 5);

        assertThatThrownBy(() -> codec.decode(payload))
                .isInstanceOf(SchemaRegistryUnavailableException.class);
    }

    @Test
    void rejectsTruncatedRegistryFramingAsMalformed() {
        registered.put(1, UsageEvent.getClassSchema());
        AvroCodec<UsageEvent> codec = AvroCodec.usageEvents().withRegistry(registry, 10);
        byte[] payload = codec.encodeWithSchemaId(usageEvent("evt-1"), 1);

        for (int length : new int[] {1, 4, 5, payload.length - 1}) {
            assertThatThrownBy(() -> codec.decode(Arrays.copyOf(payload, length)))
                    .as("%d of %d bytes", length, payload.length)
                    .isInstanceOfSatisfying(
                            DecodeException.class,
                            e ->
                                    assertThat(e.failure())
                                            .isEqualTo(DecodeException.Failure.MALFORMED));
        }
    }

    @Test
    void neverThrowsAnythingButDecodeExceptionOnMutatedRegistryFramedEvents() throws IOException {
        registered.put(1, UsageEvent.getClassSchema());
        registered.put(2, EVOLVED_USAGE_EVENT);
        AvroCodec<UsageEvent> codec = AvroCodec.usageEvents().withRegistry(registry, 10);
        List<byte[]> samples =
                List.of(
                        codec.encodeWithSchemaId(usageEvent("evt-1"), 1),
                        registryFramed(2, evolvedEvent("evt-2", "team-b")),
                        registryFramed(2, evolvedEvent("evt-3", null)));
        Random random = new Random(20261207L);
        int decoded = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] original = samples.get(random.nextInt(samples.size()));
            byte[] mutated = original.clone();
            if (random.nextInt(5) == 0) {
                mutated = Arrays.copyOf(original, random.nextInt(original.length));
            } else {
                mutated[random.nextInt(mutated.length)] = (byte) random.nextInt(256);
            }
            try {
                codec.decode(mutated);
                decoded++;
            } catch (DecodeException expected) {
                assertThat(expected.failure()).isNotNull();
            } catch (Throwable t) {
                fail(
                        "iteration "
                                + i
                                + " threw "
                                + t
                                + " for payload "
                                + HexFormat.of().formatHex(mutated),
                        t);
            }
        }
        assertThat(decoded).isPositive();
    }

    private static Schema evolvedUsageEvent() {
        Schema current = UsageEvent.getClassSchema();
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field field : current.getFields()) {
            fields.add(new Schema.Field(field, field.schema()));
        }
        fields.add(
                new Schema.Field(
                        "tenant",
                        Schema.createUnion(
                                Schema.create(Schema.Type.NULL), Schema.create(Schema.Type.STRING)),
                        "A field producers added later.",
                        Schema.Field.NULL_DEFAULT_VALUE));
        return Schema.createRecord(
                current.getName(), current.getDoc(), current.getNamespace(), false, fields);
    }

    static GenericRecord evolvedEvent(String eventId, String tenant) {
        Schema schema = EVOLVED_USAGE_EVENT;
        GenericRecord record = new GenericData.Record(schema);
        record.put("event_id", eventId);
        record.put("source", "foreign-gw");
        record.put("account_id", "acct-1");
        record.put("region", "CN-GD");
        record.put("model", "qwen3-max");
        record.put(
                "modality",
                new GenericData.EnumSymbol(schema.getField("modality").schema(), "TEXT"));
        record.put("input_tokens", 100L);
        record.put("output_tokens", 20L);
        record.put("cached_tokens", 5L);
        record.put("event_time", Instant.parse("2026-03-10T01:02:03.004Z").toEpochMilli());
        record.put("tenant", tenant);
        return record;
    }

    private static byte[] registryFramed(int id, GenericRecord record) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {0, 0, 0, 0, (byte) id});
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(record.getSchema()).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    private static UsageEvent usageEvent(String id) {
        return UsageEvent.newBuilder()
                .setEventId(id)
                .setSource("gateway-a")
                .setAccountId("acct-1")
                .setRegion("CN-GD")
                .setModel("qwen3-max")
                .setModality(Modality.TEXT)
                .setInputTokens(1_200)
                .setOutputTokens(345)
                .setCachedTokens(67)
                .setEventTime(Instant.parse("2026-03-10T01:02:03.004Z"))
                .build();
    }
}
