package io.tokenmeter.metering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.PackageNotice;
import io.tokenmeter.avro.SubscriptionAction;
import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.avro.TopUp;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.schema.DecodeException;
import io.tokenmeter.testing.Fixtures;
import io.tokenmeter.testkit.FailingSource;
import io.tokenmeter.testkit.KafkaBrokerExtension;
import io.tokenmeter.testkit.KafkaTopics;
import io.tokenmeter.testkit.TestRuns;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.testutils.junit.SharedObjectsExtension;
import org.apache.flink.testutils.junit.SharedReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Token packages through the real broker, on a MiniCluster at parallelism 2: one job run, fed in
 * phases so that the order between subscriptions and usage is the one each case needs, with a task
 * failure in the middle. Each test checks one proof of docs/packages.md on the committed
 * (read_committed) notices and billing records.
 *
 * <p>Catalog (src/test/resources/packages-it.yaml): "monthly", 1,000 units a calendar month,
 * priority 10, rollover up to 300, overage 2,000,000 fen per million units until 2025-03-15 00:00
 * and 3,000,000 from then on; "booster", 200 units for 7 days, priority 1. One TEXT input token is
 * one unit. Zone Asia/Shanghai.
 */
class PackagesITCase {

    private static final ZoneId ZONE = ZoneId.of("Asia/Shanghai");
    private static final Duration CONSUME_TIMEOUT = Duration.ofSeconds(90);
    private static final String FAILING_ACCOUNT = "acct-failure";

    @RegisterExtension
    @Order(1)
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension FLINK = TestRuns.miniCluster();

    private static final SharedObjectsExtension SHARED = SharedObjectsExtension.create();

    private static AtomicBoolean failedOnce;
    private static List<PackageNotice> notices;
    private static List<BillingRecord> billing;

    @BeforeAll
    static void runTheJobThroughEveryCase() throws Exception {
        MeteringConfig config =
                TestRuns.freshTopics(
                        KAFKA,
                        Map.of(
                                "packages.catalog", "src/test/resources/packages-it.yaml",
                                "kafka.stop-at-latest-offsets", "false",
                                // Raw partitions without traffic must hold event time back until
                                // the drain at the end, not let it follow the wall clock (years
                                // after these events) while the test waits between phases.
                                "event-time.source-idleness", "30 min"));
        // One job run serves every test of the class: its shared objects live through it, not
        // through one test.
        SHARED.beforeEach(null);
        SharedReference<AtomicBoolean> failed = SHARED.add(new AtomicBoolean());
        SharedReference<AtomicInteger> seen = SHARED.add(new AtomicInteger());
        // The dates of this test are long past: lateness by the partitions' own events only. The
        // reader throws once, on the failing account's second usage record.
        KafkaSource<IngestedRecord> failingSource =
                FailingSource.unbounded(
                        config,
                        TestRuns.LONG_PAST,
                        failed,
                        record ->
                                record.key() != null
                                        && FAILING_ACCOUNT.equals(
                                                new String(record.key(), StandardCharsets.UTF_8))
                                        && seen.get().incrementAndGet() == 2);
        KafkaTopics topics = KAFKA.topics();
        try (Feed feed = new Feed(config)) {
            // Phase 0: every package is bought before its usage arrives.
            feed.subscription(
                    "acct-priority",
                    "s-monthly",
                    "monthly",
                    1,
                    "2025-03-01T00:00",
                    "2025-04-01T00:00");
            feed.subscription(
                    "acct-priority",
                    "s-booster",
                    "booster",
                    1,
                    "2025-03-03T00:00",
                    "2025-03-10T00:00");
            feed.subscription(
                    "acct-rollover", "s-1", "monthly", 1, "2025-02-01T00:00", "2025-03-01T00:00");
            feed.subscription(
                    "acct-rollover",
                    "s-1",
                    "monthly",
                    2,
                    "2025-02-01T00:00",
                    "2025-04-01T00:00"); // renewed
            feed.subscription(
                    "acct-tariff", "s-1", "monthly", 1, "2025-03-01T00:00", "2025-04-01T00:00");
            feed.subscription(
                    "acct-late", "s-1", "monthly", 1, "2025-03-01T00:00", "2025-05-01T00:00");
            feed.subscription(
                    "acct-topup", "s-1", "monthly", 1, "2025-03-01T00:00", "2025-04-01T00:00");
            feed.subscription(
                    FAILING_ACCOUNT, "s-1", "monthly", 1, "2025-03-01T00:00", "2025-04-01T00:00");
            feed.flush();
            JobClient job = TestRuns.start(config, failingSource, true);
            topics.awaitConsumed(
                    config.kafka().consumerGroup(),
                    config.kafka().topics().subscriptions(),
                    CONSUME_TIMEOUT);

            // Phase 1: usage that later phases build on.
            feed.usage("acct-priority", "2025-03-04T10:00", 150);
            feed.usage("acct-priority", "2025-03-04T11:00", 100);
            feed.usage("acct-rollover", "2025-02-20T10:00", 900);
            feed.usage("acct-tariff", "2025-03-14T10:00", 1_000);
            feed.usage("acct-late", "2025-03-20T10:00", 900);
            feed.usage("acct-topup", "2025-03-10T10:00", 1_050);
            feed.usage(FAILING_ACCOUNT, "2025-03-10T10:00", 900);
            feed.flush();
            topics.awaitConsumed(
                    config.kafka().consumerGroup(), config.kafka().topics().raw(), CONSUME_TIMEOUT);

            // Phase 2: the next period, the tariff change, a late event, and the record the source
            // fails on once.
            feed.usage("acct-rollover", "2025-03-02T10:00", 1_050);
            feed.usage("acct-tariff", "2025-03-14T23:00", 10);
            feed.usage("acct-tariff", "2025-03-15T00:00", 10);
            feed.usage(
                    "acct-late",
                    "2025-04-02T10:00",
                    10); // moves the account's partition past March
            feed.usage("acct-late", "2025-03-31T23:00", 150); // then March's last day, late
            feed.usage(FAILING_ACCOUNT, "2025-03-11T10:00", 200);
            feed.subscription(
                    "acct-topup",
                    "s-1",
                    "monthly",
                    2,
                    "2025-03-01T00:00",
                    "2025-04-01T00:00",
                    new TopUp("t-1", 500L, instant("2025-03-12T09:00")));
            feed.flush();
            topics.awaitConsumed(
                    config.kafka().consumerGroup(), config.kafka().topics().raw(), CONSUME_TIMEOUT);
            topics.awaitConsumed(
                    config.kafka().consumerGroup(),
                    config.kafka().topics().subscriptions(),
                    CONSUME_TIMEOUT);

            // Phase 3: usage after the top-up.
            feed.usage("acct-topup", "2025-03-12T10:00", 400);
            feed.flush();
            topics.awaitConsumed(
                    config.kafka().consumerGroup(), config.kafka().topics().raw(), CONSUME_TIMEOUT);

            // Drain: the final watermark closes every day and period, the final savepoint commits
            // every output.
            Path savepoints =
                    Path.of(System.getProperty("java.io.tmpdir"), "packages-it-savepoints")
                            .toAbsolutePath();
            job.stopWithSavepoint(
                            true, savepoints.toUri().toString(), SavepointFormatType.CANONICAL)
                    .get();
        }
        failedOnce = new AtomicBoolean(failed.get().get());
        SHARED.afterEach(null);
        notices =
                decodeAll(
                        topics.readCommitted(config.kafka().topics().notices()),
                        AvroCodec.packageNotices());
        billing =
                decodeAll(
                        topics.readCommitted(config.kafka().topics().billing()),
                        AvroCodec.billingRecords());
    }

    @Test
    void notifiesEachThresholdExactlyOnceAcrossATaskFailureAndRestart() {
        assertThat(failedOnce).as("the source failed once, and the job restarted").isTrue();
        assertThat(noticesOf(FAILING_ACCOUNT))
                .containsExactly(tuple("s-1", 80, false), tuple("s-1", 100, false));
        // Two notices for each of the six accounts: a threshold notified twice would show as a
        // repeated id.
        assertThat(notices)
                .extracting(PackageNotice::getNoticeId)
                .doesNotHaveDuplicates()
                .hasSize(12);
        assertThat(day(FAILING_ACCOUNT, "2025-03-11")).isEqualTo(new Rated(100, 100, 200));
    }

    @Test
    void drawsTheHigherPriorityPackageFirst() {
        assertThat(noticesOf("acct-priority"))
                .as(
                        "the booster (priority 1) is used up; the monthly package (priority 10) only gave 50 of 1,000")
                .containsExactly(tuple("s-booster", 80, false), tuple("s-booster", 100, false));
        assertThat(day("acct-priority", "2025-03-04")).isEqualTo(new Rated(250, 0, 0));
    }

    @Test
    void rollsUnusedUnitsIntoTheNextPeriod() {
        // February left 100 units unused: March allows 1,100, so 1,050 units are included and only
        // reach 80%.
        assertThat(noticesOf("acct-rollover"))
                .containsExactly(tuple("s-1", 80, false), tuple("s-1", 80, false));
        assertThat(notices)
                .filteredOn(n -> n.getAccountId().equals("acct-rollover"))
                .extracting(
                        n -> n.getPeriodStart().atZone(ZONE).toLocalDate(),
                        PackageNotice::getAllowanceUnits)
                .containsExactlyInAnyOrder(
                        tuple(LocalDate.of(2025, 2, 1), 1_000L),
                        tuple(LocalDate.of(2025, 3, 1), 1_100L));
        assertThat(day("acct-rollover", "2025-03-02")).isEqualTo(new Rated(1_050, 0, 0));
    }

    @Test
    void pricesOverageByTheTariffInForceAtEachEventsTime() {
        // 10 units over on each side of 2025-03-15 00:00: 2,000,000 then 3,000,000 fen per million
        // units.
        assertThat(day("acct-tariff", "2025-03-14")).isEqualTo(new Rated(1_000, 10, 20));
        assertThat(day("acct-tariff", "2025-03-15")).isEqualTo(new Rated(0, 10, 30));
        assertThat(noticesOf("acct-tariff"))
                .containsExactly(tuple("s-1", 80, false), tuple("s-1", 100, false));
    }

    @Test
    void notifiesALateEventCrossingAThresholdOfAClosedPeriodAsLate() {
        assertThat(noticesOf("acct-late"))
                .containsExactly(tuple("s-1", 80, false), tuple("s-1", 100, true));
        // Billed as the day's ADJUSTMENT: 100 units still included, 50 over at the March 15 tariff.
        assertThat(billing)
                .filteredOn(
                        r ->
                                r.getAccountId().equals("acct-late")
                                        && r.getBillingDay().equals(LocalDate.of(2025, 3, 31)))
                .filteredOn(r -> r.getKind() == BillingRecordKind.ADJUSTMENT)
                .flatExtracting(BillingRecord::getLineItems)
                .extracting(
                        BillingLineItem::getIncludedUnits,
                        BillingLineItem::getOverageUnits,
                        BillingLineItem::getOverageAmount)
                .containsExactly(tuple(100L, 50L, 150L));
    }

    @Test
    void aTopUpAfterOneHundredPercentIncludesUsageAgainWithoutNotifyingTwice() {
        assertThat(noticesOf("acct-topup"))
                .containsExactly(tuple("s-1", 80, false), tuple("s-1", 100, false));
        assertThat(day("acct-topup", "2025-03-10")).isEqualTo(new Rated(1_000, 50, 100));
        assertThat(day("acct-topup", "2025-03-12")).isEqualTo(new Rated(400, 0, 0));
    }

    /**
     * Included units, overage units and overage amount (fen) of one account-day, over all its
     * billing records.
     */
    record Rated(long included, long overage, long amount) {}

    private static Rated day(String account, String day) {
        List<BillingLineItem> lines =
                billing.stream()
                        .filter(
                                r ->
                                        r.getAccountId().equals(account)
                                                && r.getBillingDay().equals(LocalDate.parse(day)))
                        .flatMap(r -> r.getLineItems().stream())
                        .toList();
        return new Rated(
                lines.stream().mapToLong(BillingLineItem::getIncludedUnits).sum(),
                lines.stream().mapToLong(BillingLineItem::getOverageUnits).sum(),
                lines.stream().mapToLong(BillingLineItem::getOverageAmount).sum());
    }

    /** (subscription, threshold, late) of an account's notices, in period and threshold order. */
    private static List<Tuple> noticesOf(String account) {
        return notices.stream()
                .filter(n -> n.getAccountId().equals(account))
                .sorted(
                        Comparator.comparing(PackageNotice::getPeriodStart)
                                .thenComparing(PackageNotice::getThresholdPercent))
                .map(n -> tuple(n.getSubscriptionId(), n.getThresholdPercent(), n.getLate()))
                .collect(Collectors.toList());
    }

    private static Instant instant(String localDateTime) {
        return LocalDateTime.parse(localDateTime).atZone(ZONE).toInstant();
    }

    private static <T extends SpecificRecord> List<T> decodeAll(
            List<ConsumerRecord<byte[], byte[]>> records, AvroCodec<T> codec) {
        List<T> decoded = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            try {
                decoded.add(codec.decode(record.value()));
            } catch (DecodeException e) {
                throw new AssertionError(e);
            }
        }
        return decoded;
    }

    /** Writes subscription events and usage events (TEXT input tokens) to the run's topics. */
    private static final class Feed implements AutoCloseable {

        private final MeteringConfig config;
        private final KafkaProducer<byte[], byte[]> producer;
        private final AvroCodec<UsageEvent> usageCodec = AvroCodec.usageEvents();
        private final AvroCodec<SubscriptionEvent> subscriptionCodec =
                AvroCodec.subscriptionEvents();
        private int eventIds;

        Feed(MeteringConfig config) {
            this.config = config;
            Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().bootstrapServers());
            props.put(ProducerConfig.ACKS_CONFIG, "all");
            producer =
                    new KafkaProducer<>(
                            props, new ByteArraySerializer(), new ByteArraySerializer());
        }

        void subscription(
                String account,
                String subscription,
                String packageId,
                int version,
                String activatedAt,
                String validUntil,
                TopUp... topUps) {
            SubscriptionEvent event =
                    SubscriptionEvent.newBuilder()
                            .setSubscriptionId(subscription)
                            .setAccountId(account)
                            .setPackageId(packageId)
                            .setVersion(version)
                            .setAction(
                                    topUps.length > 0
                                            ? SubscriptionAction.TOP_UP
                                            : version == 1
                                                    ? SubscriptionAction.ACTIVATE
                                                    : SubscriptionAction.RENEW)
                            .setChangedAt(instant(activatedAt))
                            .setActivatedAt(instant(activatedAt))
                            .setValidUntil(instant(validUntil))
                            .setTopUps(List.of(topUps))
                            .build();
            send(
                    config.kafka().topics().subscriptions(),
                    account + "/" + subscription,
                    subscriptionCodec.encode(event));
        }

        void usage(String account, String localHour, long inputTokens) {
            UsageEvent event =
                    Fixtures.usageEventBuilder()
                            .setEventId("e-" + ++eventIds)
                            .setSource("gw-1")
                            .setAccountId(account)
                            .setModel("qwen3-max")
                            .setInputTokens(inputTokens)
                            .setOutputTokens(0)
                            .setCachedTokens(0)
                            .setEventTime(instant(localHour))
                            .build();
            send(config.kafka().topics().raw(), account, usageCodec.encode(event));
        }

        void flush() {
            producer.flush();
        }

        private void send(String topic, String key, byte[] value) {
            producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value));
        }

        @Override
        public void close() {
            producer.close();
        }
    }
}
