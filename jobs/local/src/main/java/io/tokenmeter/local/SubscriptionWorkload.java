package io.tokenmeter.local;

import io.tokenmeter.avro.SubscriptionAction;
import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.avro.TopUp;
import io.tokenmeter.io.KafkaClientProperties;
import io.tokenmeter.logic.packages.PackageCatalog;
import io.tokenmeter.logic.packages.PackageCatalog.Plan;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.testkit.WorkloadGenerator;
import io.tokenmeter.testkit.WorkloadSpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The subscriptions that go with a workload, seeded like it: which accounts bought which packages,
 * and the renewals, top-ups and cancellations that followed, as the versions of each subscription.
 *
 * <p>Mix, by the account's Zipf rank (rank 1 is the busiest): the 50 busiest accounts hold the
 * catalog's largest monthly plan; about a third of the others its smallest monthly plan (a fifth of
 * those renewed for the next month, one in twenty cancelled half-way through the workload); about
 * half of the 2,000 busiest hold an N-day booster too, and a fifth of those top it up half-way.
 * Everything is bought before the workload's first event.
 */
public final class SubscriptionWorkload {

    private static final int BUSIEST = 50;
    private static final int BOOSTED = 2_000;

    private SubscriptionWorkload() {}

    /** Every version of every subscription, in the order they happened per subscription. */
    public static List<SubscriptionEvent> generate(WorkloadSpec spec, PackageCatalog catalog) {
        List<Plan> monthly =
                catalog.packages().values().stream()
                        .filter(p -> p.validityDays() == 0)
                        .sorted(Comparator.comparingLong(Plan::includedUnits))
                        .toList();
        List<Plan> boosters =
                catalog.packages().values().stream()
                        .filter(p -> p.validityDays() > 0)
                        .sorted(Comparator.comparingInt(Plan::priority))
                        .toList();
        WorkloadGenerator names = new WorkloadGenerator(spec);
        ZoneId zone = spec.billingZone();
        Instant bought = spec.start().minus(Duration.ofHours(1));
        Instant halfWay = spec.start().plus(spec.span().dividedBy(2));
        LocalDate month = LocalDate.ofInstant(spec.start(), zone).withDayOfMonth(1);
        Instant monthEnd = month.plusMonths(1).atStartOfDay(zone).toInstant();

        List<SubscriptionEvent> events = new ArrayList<>();
        for (int rank = 1; rank <= spec.accounts(); rank++) {
            String account = names.accountId(rank);
            double u = uniform(spec.seed(), rank, 1);
            if (!monthly.isEmpty() && (rank <= BUSIEST || u < 0.3)) {
                Plan plan = rank <= BUSIEST ? monthly.get(monthly.size() - 1) : monthly.get(0);
                SubscriptionEvent v1 =
                        version(
                                account,
                                "sub-" + account + "-m",
                                plan.id(),
                                1,
                                SubscriptionAction.ACTIVATE,
                                bought,
                                bought,
                                monthEnd,
                                List.of());
                events.add(v1);
                double change = uniform(spec.seed(), rank, 2);
                if (change < 0.2) {
                    events.add(
                            next(
                                    v1,
                                    SubscriptionAction.RENEW,
                                    bought,
                                    month.plusMonths(2).atStartOfDay(zone).toInstant(),
                                    v1.getTopUps()));
                } else if (change > 0.95) {
                    events.add(
                            next(v1, SubscriptionAction.CANCEL, halfWay, halfWay, v1.getTopUps()));
                }
            }
            if (!boosters.isEmpty() && rank <= BOOSTED && uniform(spec.seed(), rank, 3) < 0.5) {
                Plan plan = boosters.get(0);
                Instant end =
                        LocalDate.ofInstant(bought, zone)
                                .plusDays(plan.validityDays())
                                .atStartOfDay(zone)
                                .toInstant();
                SubscriptionEvent v1 =
                        version(
                                account,
                                "sub-" + account + "-b",
                                plan.id(),
                                1,
                                SubscriptionAction.ACTIVATE,
                                bought,
                                bought,
                                end,
                                List.of());
                events.add(v1);
                if (uniform(spec.seed(), rank, 4) < 0.2) {
                    events.add(
                            next(
                                    v1,
                                    SubscriptionAction.TOP_UP,
                                    halfWay,
                                    end,
                                    List.of(new TopUp("top-up-1", plan.includedUnits(), halfWay))));
                }
            }
        }
        return events;
    }

    /** Counts by action, for the run's log. */
    public static Map<SubscriptionAction, Integer> byAction(List<SubscriptionEvent> events) {
        Map<SubscriptionAction, Integer> counts = new EnumMap<>(SubscriptionAction.class);
        events.forEach(e -> counts.merge(e.getAction(), 1, Integer::sum));
        return counts;
    }

    /**
     * Writes {@code events} to the compacted subscriptions topic, keyed by account/subscription.
     */
    public static void produce(
            List<SubscriptionEvent> events, String bootstrapServers, String topic)
            throws InterruptedException {
        produce(events, KafkaClientProperties.none(), bootstrapServers, topic);
    }

    /** As {@link #produce(List, String, String)}, with the pass-through {@code clients}. */
    public static void produce(
            List<SubscriptionEvent> events,
            KafkaClientProperties clients,
            String bootstrapServers,
            String topic)
            throws InterruptedException {
        Properties props = clients.producer(bootstrapServers);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        AvroCodec<SubscriptionEvent> codec = AvroCodec.subscriptionEvents();
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<Future<?>> sent = new ArrayList<>();
            for (SubscriptionEvent event : events) {
                byte[] key =
                        (event.getAccountId() + "/" + event.getSubscriptionId())
                                .getBytes(StandardCharsets.UTF_8);
                sent.add(producer.send(new ProducerRecord<>(topic, key, codec.encode(event))));
            }
            for (Future<?> future : sent) {
                future.get();
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot write subscriptions to " + topic, e.getCause());
        }
    }

    private static SubscriptionEvent version(
            String account,
            String id,
            String packageId,
            int version,
            SubscriptionAction action,
            Instant changedAt,
            Instant activatedAt,
            Instant validUntil,
            List<TopUp> topUps) {
        return SubscriptionEvent.newBuilder()
                .setSubscriptionId(id)
                .setAccountId(account)
                .setPackageId(packageId)
                .setVersion(version)
                .setAction(action)
                .setChangedAt(changedAt)
                .setActivatedAt(activatedAt)
                .setValidUntil(validUntil)
                .setTopUps(new ArrayList<>(topUps))
                .build();
    }

    private static SubscriptionEvent next(
            SubscriptionEvent before,
            SubscriptionAction action,
            Instant changedAt,
            Instant validUntil,
            List<TopUp> topUps) {
        return version(
                before.getAccountId(),
                before.getSubscriptionId(),
                before.getPackageId(),
                before.getVersion() + 1,
                action,
                changedAt,
                before.getActivatedAt(),
                validUntil,
                topUps);
    }

    private static double uniform(long seed, int rank, int purpose) {
        return (WorkloadGenerator.mix(seed * 0x9E3779B97F4A7C15L + rank * 31L + purpose) >>> 11)
                * 0x1.0p-53;
    }
}
