package io.tokenmeter.metering;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.SubscriptionAction;
import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.avro.TopUp;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.io.KafkaEndpoints;
import io.tokenmeter.logic.UsageTotals;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.schema.DecodeException;
import io.tokenmeter.testing.Fixtures;
import io.tokenmeter.testkit.ExpectedTotals;
import io.tokenmeter.testkit.ExpectedTotals.AccountDay;
import io.tokenmeter.testkit.GeneratedRecord;
import io.tokenmeter.testkit.KafkaBrokerExtension;
import io.tokenmeter.testkit.MeteringOutcome;
import io.tokenmeter.testkit.TestRuns;
import io.tokenmeter.testkit.WorkloadSpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.flink.client.program.rest.RestClusterClient;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.InjectClusterClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * I7 and I10 through the real broker: every hostile record of issue #13 items 3–5 — strings far
 * beyond their caps, an account with more line items than a day may hold, event times at the ends
 * of the long range and at the epoch, subscriptions whose values overflowed the balances, the
 * CANCEL of a retired package — mixed into normal traffic. The job, allowed to restart, must never
 * fail over; every record it writes fits the producer's limit; every hostile record is on the
 * rejected topic with its reason and bytes; and the normal traffic bills exactly.
 */
class HostileRecordsITCase {

    private static final ZoneId ZONE = ZoneId.of("Asia/Shanghai");
    private static final String MANY_LINES = "acct-many-lines";
    private static final int LINE_CAP = 1_000; // validation.max-line-items-per-day, its default
    private static final int LINES_SENT = LINE_CAP + 12;

    @RegisterExtension
    @Order(1)
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension FLINK = TestRuns.miniCluster();

    private final AvroCodec<UsageEvent> usageCodec = AvroCodec.usageEvents();
    private final AvroCodec<SubscriptionEvent> subscriptionCodec = AvroCodec.subscriptionEvents();

    /** Each hostile record's bytes and the reason it must be rejected for. */
    private final Map<ByteBuffer, RejectReason> hostile = new LinkedHashMap<>();

    private int eventIds;

    @Test
    void survivesEveryHostileRecordWithoutARestartAndBillsTheRestExactly(
            @InjectClusterClient RestClusterClient<?> flink) throws Exception {
        // given: normal traffic (retries, late events) and, on the same topics, every hostile
        // record
        MeteringConfig config =
                TestRuns.freshTopics(
                        KAFKA, Map.of("packages.catalog", "src/test/resources/packages-it.yaml"));
        // Six hours of event time: the generator's retries repeat one of the 10,000 records before
        // them, which must lie within the 24 h dedup horizon for the expected totals to count them
        // once.
        Duration span = Duration.ofHours(6);
        WorkloadSpec spec =
                WorkloadSpec.clean(6_000, 200, 41)
                        .withRates(0.02, 0.01, 0)
                        .during(WorkloadSpec.defaultStart(ZONE, span), span, ZONE);
        ExpectedTotals expected = TestRuns.produce(spec, config);
        assertThat(expected.rejectedRecords())
                .as("the normal traffic has nothing to reject")
                .isZero();
        Instant day = spec.start().plus(Duration.ofHours(10));
        try (KafkaProducer<byte[], byte[]> producer = producer(config)) {
            sendHostileUsage(producer, config.kafka().topics().raw(), day);
            sendManyLines(producer, config.kafka().topics().raw(), day);
            sendHostileSubscriptions(producer, config.kafka().topics().subscriptions(), day);
        }

        // when: the job, with a restart strategy that would hide a failure, bills everything on the
        // topics
        JobClient job = TestRuns.start(config, KafkaEndpoints.rawUsageSource(config), true);
        job.getJobExecutionResult().get(5, TimeUnit.MINUTES);

        // then: it never failed over
        assertThat(TestRuns.failures(flink, job)).as("the job's exception history").isEmpty();

        // and every record it wrote fits the producer's limit (with room to spare: the line-item
        // cap held)
        int largest = 0;
        for (String topic : config.outputTopics()) {
            for (ConsumerRecord<byte[], byte[]> record : KAFKA.topics().readCommitted(topic)) {
                int size = record.value().length + (record.key() == null ? 0 : record.key().length);
                largest = Math.max(largest, size);
            }
        }
        assertThat(largest).isPositive().isLessThan(config.kafka().producer().maxRequestSize());

        // and every hostile record is rejected once, with its reason and its bytes; nothing else is
        // rejected
        Map<ByteBuffer, RejectReason> rejected = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record :
                KAFKA.topics().readCommitted(config.kafka().topics().rejected())) {
            RejectedRecord envelope = AvroCodec.rejectedRecords().decode(record.value());
            assertThat(rejected.put(envelope.getPayload(), envelope.getReason()))
                    .as("rejected twice: %s", envelope.getMessage())
                    .isNull();
        }
        assertThat(rejected).containsExactlyInAnyOrderEntriesOf(hostile);
        assertThat(hostile.values())
                .contains(
                        RejectReason.FIELD_TOO_LONG,
                        RejectReason.TOO_MANY_LINE_ITEMS,
                        RejectReason.TOO_LATE,
                        RejectReason.FUTURE_TIMESTAMP,
                        RejectReason.VALUE_OUT_OF_RANGE,
                        RejectReason.OVERSIZED,
                        RejectReason.TOKENS_OUT_OF_RANGE);

        // and the normal traffic bills exactly; the account with too many models is billed for the
        // lines it kept
        MeteringOutcome outcome = MeteringOutcome.read(KAFKA.topics(), config);
        Map<AccountDay, UsageTotals> billed = new HashMap<>(outcome.billedByAccountDay());
        UsageTotals manyLines =
                billed.remove(new AccountDay(MANY_LINES, LocalDate.ofInstant(day, ZONE)));
        Map<AccountDay, String> differences = new TreeMap<>();
        for (AccountDay key : union(billed.keySet(), expected.billedByAccountDay().keySet())) {
            if (!Objects.equals(billed.get(key), expected.billedByAccountDay().get(key))) {
                differences.put(
                        key,
                        "billed "
                                + billed.get(key)
                                + ", expected "
                                + expected.billedByAccountDay().get(key));
            }
        }
        assertThat(differences)
                .as("account-days billed otherwise than the normal traffic holds")
                .isEmpty();
        assertThat(manyLines)
                .isEqualTo(new UsageTotals(10L * LINE_CAP, 5L * LINE_CAP, 0, LINE_CAP));
        assertThat(outcome.repeatedRecordIds()).isZero();
        assertThat(outcome.rollupMismatches()).isEmpty();

        // and the job's own ledger accounts for every raw record, the hostile ones included (I1)
        MeteringOutcome.Ledger ledger = outcome.ledger();
        long rejectedRaw =
                KAFKA.topics().readCommitted(config.kafka().topics().rejected()).stream()
                        .filter(
                                r ->
                                        decodeRejected(r.value())
                                                .getSourceTopic()
                                                .equals(config.kafka().topics().raw()))
                        .count();
        long billedEvents =
                outcome.billedByAccountDay().values().stream().mapToLong(t -> t.events).sum();
        assertThat(ledger.read())
                .as("records read")
                .isEqualTo(KAFKA.topics().countRecords(config.kafka().topics().raw()));
        assertThat(ledger.rejected())
                .as("rejected raw records")
                .isEqualTo(rejectedRaw)
                .isPositive();
        assertThat(ledger.duplicates())
                .as("duplicates")
                .isEqualTo(expected.records(GeneratedRecord.Kind.DUPLICATE));
        assertThat(ledger.read())
                .as("read = billed + duplicates + rejected")
                .isEqualTo(billedEvents + ledger.duplicates() + rejectedRaw);
    }

    private static RejectedRecord decodeRejected(byte[] value) {
        try {
            return AvroCodec.rejectedRecords().decode(value);
        } catch (DecodeException e) {
            throw new AssertionError(e);
        }
    }

    private static Set<AccountDay> union(Set<AccountDay> a, Set<AccountDay> b) {
        Set<AccountDay> all = new TreeSet<>(a);
        all.addAll(b);
        return all;
    }

    /** Usage events no field of which may stop the job. */
    private void sendHostileUsage(
            KafkaProducer<byte[], byte[]> producer, String topic, Instant day) {
        // The reproduction: one account, 18 distinct 60,000-character models (a 1 MiB
        // billing record).
        for (int i = 0; i < 18; i++) {
            String model = Character.toString('a' + i).repeat(60_000);
            send(
                    producer,
                    topic,
                    usage("acct-huge-models", day, e -> e.setModel(model)),
                    RejectReason.FIELD_TOO_LONG);
        }
        send(
                producer,
                topic,
                usage("acct-hostile", day, e -> e.setEventId("e".repeat(5_000))),
                RejectReason.FIELD_TOO_LONG);
        send(
                producer,
                topic,
                usage("acct-hostile", day, e -> e.setSource("s".repeat(5_000))),
                RejectReason.FIELD_TOO_LONG);
        send(producer, topic, usage("a".repeat(5_000), day, e -> {}), RejectReason.FIELD_TOO_LONG);
        send(
                producer,
                topic,
                usage("acct-hostile", day, e -> e.setRegion("\u4e2d".repeat(30))),
                RejectReason.FIELD_TOO_LONG);
        send(
                producer,
                topic,
                usage("acct-hostile", day, e -> e.setModel("m".repeat(70_000))),
                RejectReason.OVERSIZED);
        // Event times at the ends of the long range, at and around the epoch, and past the horizon
        // by the wall clock.
        for (long t :
                new long[] {
                    Long.MIN_VALUE,
                    Long.MIN_VALUE + 1,
                    -1,
                    0,
                    1,
                    Instant.now().minus(Duration.ofDays(40)).toEpochMilli()
                }) {
            send(
                    producer,
                    topic,
                    usage("acct-old-" + t, day, e -> e.setEventTime(Instant.ofEpochMilli(t))),
                    RejectReason.TOO_LATE);
        }
        send(
                producer,
                topic,
                usage(
                        "acct-hostile",
                        day,
                        e -> e.setEventTime(Instant.ofEpochMilli(Long.MAX_VALUE))),
                RejectReason.FUTURE_TIMESTAMP);
        send(
                producer,
                topic,
                usage("acct-hostile", day, e -> e.setInputTokens(Long.MAX_VALUE)),
                RejectReason.TOKENS_OUT_OF_RANGE);
    }

    /**
     * One account with more distinct models in a day than a day may hold: the lines beyond the cap
     * are rejected.
     */
    private void sendManyLines(KafkaProducer<byte[], byte[]> producer, String topic, Instant day) {
        for (int i = 0; i < LINES_SENT; i++) {
            String model = String.format("model-%04d", i);
            UsageEvent event = usage(MANY_LINES, day.plusSeconds(i), e -> e.setModel(model));
            if (i < LINE_CAP) {
                producer.send(
                        new ProducerRecord<>(topic, key(MANY_LINES), usageCodec.encode(event)));
            } else {
                send(producer, topic, event, RejectReason.TOO_MANY_LINE_ITEMS);
            }
        }
        producer.flush();
    }

    private void sendHostileSubscriptions(
            KafkaProducer<byte[], byte[]> producer, String topic, Instant day) {
        sendSubscription(
                producer,
                topic,
                subscription(day, s -> s.setValidUntil(Instant.ofEpochMilli(Long.MAX_VALUE))),
                RejectReason.VALUE_OUT_OF_RANGE);
        sendSubscription(
                producer,
                topic,
                subscription(day, s -> s.setActivatedAt(Instant.ofEpochMilli(Long.MIN_VALUE))),
                RejectReason.VALUE_OUT_OF_RANGE);
        sendSubscription(
                producer,
                topic,
                subscription(day, s -> s.setTopUps(List.of(new TopUp("t-1", Long.MAX_VALUE, day)))),
                RejectReason.VALUE_OUT_OF_RANGE);
        sendSubscription(
                producer,
                topic,
                subscription(day, s -> s.setSubscriptionId("s".repeat(300))),
                RejectReason.FIELD_TOO_LONG);
        sendSubscription(
                producer,
                topic,
                subscription(day, s -> s.setSubscriptionId("s".repeat(70_000))),
                RejectReason.OVERSIZED);
        // A CANCEL naming a package no longer in the catalog is applied, not rejected.
        SubscriptionEvent cancel =
                subscription(
                        day,
                        s -> {
                            s.setPackageId("retired-gold");
                            s.setVersion(3);
                            s.setAction(SubscriptionAction.CANCEL);
                        });
        producer.send(
                new ProducerRecord<>(topic, key("acct-sub/s-1"), subscriptionCodec.encode(cancel)));
        producer.flush();
    }

    private UsageEvent usage(String account, Instant time, Consumer<UsageEvent> change) {
        UsageEvent event =
                Fixtures.usageEventBuilder()
                        .setEventId("hostile-" + ++eventIds)
                        .setSource("gw-hostile")
                        .setAccountId(account)
                        .setModel("qwen3-max")
                        .setOutputTokens(5)
                        .setCachedTokens(0)
                        .setEventTime(time)
                        .build();
        change.accept(event);
        return event;
    }

    private static SubscriptionEvent subscription(Instant day, Consumer<SubscriptionEvent> change) {
        SubscriptionEvent event =
                SubscriptionEvent.newBuilder()
                        .setSubscriptionId("s-1")
                        .setAccountId("acct-sub")
                        .setPackageId("monthly")
                        .setVersion(1)
                        .setAction(SubscriptionAction.ACTIVATE)
                        .setChangedAt(day)
                        .setActivatedAt(day)
                        .setValidUntil(day.plus(Duration.ofDays(30)))
                        .build();
        change.accept(event);
        return event;
    }

    private void send(
            KafkaProducer<byte[], byte[]> producer,
            String topic,
            UsageEvent event,
            RejectReason reason) {
        byte[] value = usageCodec.encode(event);
        expectRejected(value, reason);
        producer.send(new ProducerRecord<>(topic, key(event.getAccountId()), value));
    }

    private void sendSubscription(
            KafkaProducer<byte[], byte[]> producer,
            String topic,
            SubscriptionEvent event,
            RejectReason reason) {
        byte[] value = subscriptionCodec.encode(event);
        expectRejected(value, reason);
        producer.send(new ProducerRecord<>(topic, key("acct-sub/" + event.getVersion()), value));
    }

    /**
     * The rejected envelope holds the bytes as read, cut to validation.max-record-bytes when they
     * were larger.
     */
    private void expectRejected(byte[] value, RejectReason reason) {
        byte[] kept = reason == RejectReason.OVERSIZED ? Arrays.copyOf(value, 65_536) : value;
        hostile.put(ByteBuffer.wrap(kept), reason);
    }

    private static byte[] key(String text) {
        // Keys are cut short: the broker must take every hostile record, so that the job is the one
        // to judge it.
        return text.substring(0, Math.min(text.length(), 64)).getBytes(StandardCharsets.UTF_8);
    }

    private static KafkaProducer<byte[], byte[]> producer(MeteringConfig config) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }
}
