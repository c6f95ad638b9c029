package io.tokenmeter.metering;

import static org.assertj.core.api.Assertions.assertThat;

import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.io.KafkaEndpoints;
import io.tokenmeter.logic.UsageTotals;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.schema.Framing;
import io.tokenmeter.schema.SchemaRegistryClient;
import io.tokenmeter.sql.SqlScripts;
import io.tokenmeter.testing.Fixtures;
import io.tokenmeter.testkit.Await;
import io.tokenmeter.testkit.ExpectedTotals;
import io.tokenmeter.testkit.ExpectedTotals.AccountDay;
import io.tokenmeter.testkit.KafkaBrokerExtension;
import io.tokenmeter.testkit.MeteringOutcome;
import io.tokenmeter.testkit.SchemaRegistryExtension;
import io.tokenmeter.testkit.TcpGate;
import io.tokenmeter.testkit.TestRuns;
import io.tokenmeter.testkit.WorkloadSpec;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.client.program.rest.RestClusterClient;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.test.junit5.InjectClusterClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 15 item 4 end to end, through a real broker and a real Confluent-compatible schema
 * registry: the raw topic carries the generator's single-object records and a foreign,
 * registry-aware producer's records (Apicurio's serde, Confluent framing) written with an evolved
 * UsageEvent (an added optional field) that the producer registered itself; the job bills both
 * exactly, rejects an unknown schema id with its reason and id, and writes billing, account usage
 * and rejected records in the registry framing, which a foreign consumer and the analyst SQL read
 * back. And while the registry is out of reach the job fails and restarts rather than rejecting
 * anything, then bills every record once when it is back.
 */
class SchemaRegistryITCase {

    private static final ZoneId ZONE = ZoneId.of("Asia/Shanghai");
    private static final int FOREIGN_EVENTS = 200;
    private static final int UNKNOWN_SCHEMA_ID = 0x7F00_0001;

    @RegisterExtension
    @Order(1)
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @RegisterExtension
    @Order(2)
    static final SchemaRegistryExtension REGISTRY = new SchemaRegistryExtension();

    @RegisterExtension
    @Order(3)
    static final MiniClusterExtension FLINK = TestRuns.miniCluster();

    @Test
    void billsBothFramingsAndAnEvolvedProducerAndWritesOutputsForeignConsumersRead()
            throws Exception {
        // given: a job with a registry, writing billing, account usage and rejected records in the
        // registry framing
        MeteringConfig config =
                TestRuns.freshTopics(
                        KAFKA,
                        Map.of(
                                "schema-registry.url",
                                REGISTRY.confluentApiUrl(),
                                "schema-registry.output-framing." + SchemaRegistryConfig.BILLING,
                                "registry",
                                "schema-registry.output-framing."
                                        + SchemaRegistryConfig.ACCOUNT_USAGE,
                                "registry",
                                "schema-registry.output-framing." + SchemaRegistryConfig.REJECTED,
                                "registry"));
        // and single-object traffic with retries, late events and malformed records
        Duration span = Duration.ofHours(6);
        WorkloadSpec spec =
                WorkloadSpec.clean(2_000, 100, 47)
                        .withRates(0.02, 0.01, 0.01)
                        .during(WorkloadSpec.defaultStart(ZONE, span), span, ZONE);
        ExpectedTotals generated = TestRuns.produce(spec, config);
        Map<AccountDay, UsageTotals> expected = new TreeMap<>();
        generated
                .billedByAccountDay()
                .forEach((key, totals) -> expected.put(key, new UsageTotals().add(totals)));
        // and a foreign producer's events in the registry framing, written with an evolved schema
        // it registered
        try (KafkaProducer<String, GenericRecord> foreign = foreignProducer()) {
            for (int i = 0; i < FOREIGN_EVENTS; i++) {
                GenericRecord event = evolvedEvent(i, spec.start().plus(Duration.ofMinutes(i)));
                foreign.send(
                        new ProducerRecord<>(
                                config.kafka().topics().raw(),
                                (String) event.get("account_id"),
                                event));
                expected.computeIfAbsent(
                                new AccountDay(
                                        (String) event.get("account_id"),
                                        LocalDate.ofInstant(
                                                spec.start().plus(Duration.ofMinutes(i)), ZONE)),
                                k -> new UsageTotals())
                        .addEvent(i + 1, 2L * i, 3);
            }
        }
        // and a record in the registry framing naming a schema id the registry does not have
        byte[] unknownId =
                AvroCodec.usageEvents()
                        .encodeWithSchemaId(
                                Fixtures.usageEventBuilder()
                                        .setEventId("unknown-id")
                                        .setSource("gw")
                                        .setAccountId("acct-x")
                                        .setModel("qwen3-max")
                                        .setInputTokens(1)
                                        .setOutputTokens(1)
                                        .setCachedTokens(0)
                                        .setEventTime(spec.start())
                                        .build(),
                                UNKNOWN_SCHEMA_ID);
        try (KafkaProducer<byte[], byte[]> raw = rawProducer()) {
            raw.send(new ProducerRecord<>(config.kafka().topics().raw(), unknownId)).get();
        }

        // when: the job bills everything on the raw topic
        TestRuns.run(config, KafkaEndpoints.rawUsageSource(config), false);

        // then: both framings are billed exactly, the evolved producer's events included
        MeteringOutcome outcome = MeteringOutcome.read(KAFKA.topics(), config);
        assertThat(new TreeMap<>(outcome.billedByAccountDay())).isEqualTo(expected);
        assertThat(outcome.repeatedRecordIds()).isZero();
        assertThat(outcome.rollupMismatches()).isEmpty();

        // and the unknown id is rejected, naming it, with its bytes; the rest are the generator's
        // malformed records
        Map<RejectReason, Long> expectedReasons = new EnumMap<>(generated.rejectedByReason());
        expectedReasons.merge(RejectReason.UNKNOWN_SCHEMA, 1L, Long::sum);
        Map<RejectReason, Long> reasons = new EnumMap<>(RejectReason.class);
        List<RejectedRecord> unknown = new ArrayList<>();
        AvroCodec<RejectedRecord> rejectedCodec =
                AvroCodec.rejectedRecords()
                        .withRegistry(
                                new SchemaRegistryClient(config.schemaRegistry().settings()), 10);
        for (ConsumerRecord<byte[], byte[]> record :
                KAFKA.topics().readCommitted(config.kafka().topics().rejected())) {
            assertThat(Framing.isRegistryFramed(record.value()))
                    .as("in the registry framing")
                    .isTrue();
            RejectedRecord rejected = rejectedCodec.decode(record.value());
            reasons.merge(rejected.getReason(), 1L, Long::sum);
            if (rejected.getPayload().equals(ByteBuffer.wrap(unknownId))) {
                unknown.add(rejected);
            }
        }
        assertThat(reasons).isEqualTo(expectedReasons);
        assertThat(unknown)
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.getReason()).isEqualTo(RejectReason.UNKNOWN_SCHEMA);
                            assertThat(r.getMessage()).contains("schema id " + UNKNOWN_SCHEMA_ID);
                        });

        // and the job's ledger accounts for every record read (I1)
        MeteringOutcome.Ledger ledger = outcome.ledger();
        long billedEvents =
                outcome.billedByAccountDay().values().stream().mapToLong(t -> t.events).sum();
        assertThat(ledger.read())
                .isEqualTo(KAFKA.topics().countRecords(config.kafka().topics().raw()));
        assertThat(ledger.read()).isEqualTo(billedEvents + ledger.duplicates() + ledger.rejected());
        assertThat(ledger.rejected())
                .isEqualTo(expectedReasons.values().stream().mapToLong(Long::longValue).sum());

        // and a foreign, registry-aware consumer reads the billing records the job wrote
        long foreignRecords = 0;
        long foreignTokens = 0;
        for (GenericRecord billing : foreignRead(config.kafka().topics().billing())) {
            foreignRecords++;
            foreignTokens += (Long) billing.get("total_tokens");
        }
        assertThat(foreignRecords).isEqualTo(outcome.billingRecords()).isPositive();
        assertThat(foreignTokens)
                .isEqualTo(outcome.billedTokens())
                .isEqualTo(expected.values().stream().mapToLong(UsageTotals::totalTokens).sum());

        // and so does the analyst's SQL, through the shipped table definitions
        TableEnvironment sql =
                AnalyticsSqlITCase.session(
                        SqlScripts.statements(AnalyticsSqlITCase.SQL_DEFINITIONS, config.asMap()));
        try (CloseableIterator<Row> rows =
                sql.executeSql("SELECT COUNT(*), SUM(total_tokens) FROM billing_records")
                        .collect()) {
            Row row = rows.next();
            assertThat(row.getField(0)).isEqualTo(outcome.billingRecords());
            assertThat(row.getField(1)).isEqualTo(outcome.billedTokens());
        }
    }

    @Test
    void failsAndRestartsWhileTheRegistryIsUnreachableThenBillsEverythingOnce(
            @InjectClusterClient RestClusterClient<?> flink) throws Exception {
        try (TcpGate gate = new TcpGate(REGISTRY.port())) {
            // given: a job that reaches the registry through a gate, and registry-framed events on
            // the raw topic
            MeteringConfig config =
                    TestRuns.freshTopics(
                            KAFKA,
                            Map.of(
                                    "schema-registry.url",
                                    gate.url() + "/apis/ccompat/v7",
                                    "schema-registry.give-up-after",
                                    "1 s"));
            Instant start = WorkloadSpec.defaultStart(ZONE, Duration.ofHours(6));
            Map<AccountDay, UsageTotals> expected = new TreeMap<>();
            try (KafkaProducer<String, GenericRecord> foreign = foreignProducer()) {
                for (int i = 0; i < 50; i++) {
                    Instant time = start.plus(Duration.ofMinutes(i));
                    GenericRecord event = evolvedEvent(i, time);
                    foreign.send(
                            new ProducerRecord<>(
                                    config.kafka().topics().raw(),
                                    (String) event.get("account_id"),
                                    event));
                    expected.computeIfAbsent(
                                    new AccountDay(
                                            (String) event.get("account_id"),
                                            LocalDate.ofInstant(time, ZONE)),
                                    k -> new UsageTotals())
                            .addEvent(i + 1, 2L * i, 3);
                }
            }
            // and the job built (its start-up check passes), then the registry out of reach
            Source<IngestedRecord, ?, ?> source = KafkaEndpoints.rawUsageSource(config);
            gate.shut();

            // when: the job runs, with restarts allowed, and the registry comes back after its
            // first failure
            JobClient job = TestRuns.start(config, source, true);
            Await.until(
                    Duration.ofSeconds(60),
                    Duration.ofMillis(100),
                    () -> !TestRuns.failures(flink, job).isEmpty(),
                    "a failure within 60 s");
            gate.open();
            job.getJobExecutionResult().get(3, TimeUnit.MINUTES);

            // then: it failed because the registry did not answer, not because of a record
            assertThat(TestRuns.failures(flink, job))
                    .isNotEmpty()
                    .allSatisfy(
                            trace ->
                                    assertThat(trace)
                                            .contains("until the schema registry answers"));
            // and nothing was rejected or lost: every event is billed once
            MeteringOutcome outcome = MeteringOutcome.read(KAFKA.topics(), config);
            assertThat(KAFKA.topics().countRecords(config.kafka().topics().rejected())).isZero();
            assertThat(new TreeMap<>(outcome.billedByAccountDay())).isEqualTo(expected);
            assertThat(outcome.ledger().read()).isEqualTo(50);
            assertThat(outcome.ledger().rejected()).isZero();
        }
    }

    /**
     * UsageEvent plus an optional field: what a producer that evolved the schema on its own writes.
     */
    private static Schema evolvedSchema() {
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
                        "Added by the producer.",
                        Schema.Field.NULL_DEFAULT_VALUE));
        return Schema.createRecord(
                current.getName(), current.getDoc(), current.getNamespace(), false, fields);
    }

    private static final Schema EVOLVED = evolvedSchema();

    private static GenericRecord evolvedEvent(int i, Instant time) {
        GenericRecord record = new GenericData.Record(EVOLVED);
        record.put("event_id", "foreign-" + i);
        record.put("source", "foreign-gw");
        record.put("account_id", "acct-foreign-" + (i % 10));
        record.put("region", "CN-SH");
        record.put("model", "qwen3-max");
        record.put(
                "modality",
                new GenericData.EnumSymbol(EVOLVED.getField("modality").schema(), "TEXT"));
        record.put("input_tokens", (long) i + 1);
        record.put("output_tokens", 2L * i);
        record.put("cached_tokens", 3L);
        record.put("event_time", time.toEpochMilli());
        record.put("tenant", i % 2 == 0 ? "team-" + i : null);
        return record;
    }

    /**
     * Apicurio's serde in Confluent compatibility: magic byte 0 and the 4-byte content id, no
     * headers.
     */
    private static Map<String, Object> foreignSerdeSettings() {
        return Map.of(
                "apicurio.registry.url", REGISTRY.apicurioV2Url(),
                "apicurio.registry.as-confluent", "true",
                "apicurio.registry.use-id", "contentId",
                "apicurio.registry.headers.enabled", "false");
    }

    private static KafkaProducer<String, GenericRecord> foreignProducer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        // The producer registers its (evolved) schema under <topic>-value itself, as registry-aware
        // producers do.
        Map<String, Object> serde = new HashMap<>(foreignSerdeSettings());
        serde.put("apicurio.registry.auto-register", "true");
        AvroKafkaSerializer<GenericRecord> serializer = new AvroKafkaSerializer<>();
        serializer.configure(serde, false);
        return new KafkaProducer<>(props, new StringSerializer(), serializer);
    }

    private static KafkaProducer<byte[], byte[]> rawProducer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Every committed record of {@code topic}, read by Apicurio's deserializer. */
    private static List<GenericRecord> foreignRead(String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        AvroKafkaDeserializer<GenericRecord> deserializer = new AvroKafkaDeserializer<>();
        deserializer.configure(foreignSerdeSettings(), false);
        List<GenericRecord> records = new ArrayList<>();
        try (KafkaConsumer<String, GenericRecord> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), deserializer)) {
            List<TopicPartition> partitions =
                    consumer.partitionsFor(topic).stream()
                            .map(p -> new TopicPartition(topic, p.partition()))
                            .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                assertThat(System.nanoTime())
                        .as("read %s to its end within 60 s", topic)
                        .isLessThan(deadline);
                consumer.poll(Duration.ofMillis(200)).forEach(r -> records.add(r.value()));
            }
        }
        return records;
    }
}
