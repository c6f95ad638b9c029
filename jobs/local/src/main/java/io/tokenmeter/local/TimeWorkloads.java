package io.tokenmeter.local;

import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.testkit.ExpectedTotals;
import io.tokenmeter.testkit.GeneratedRecord;
import io.tokenmeter.testkit.GeneratedRecord.Kind;
import io.tokenmeter.testkit.WorkloadGenerator;
import io.tokenmeter.testkit.WorkloadProducer;
import io.tokenmeter.testkit.WorkloadSpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.commons.rng.core.source64.SplitMix64;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The workloads of the two event-time faults of the fault suite: a live one whose billing day ends
 * a minute after it is written (quiet-then-restore), and a multi-day backlog with producer retries
 * a day or more after their first delivery (replay-with-stall).
 */
final class TimeWorkloads {

    private TimeWorkloads() {}

    /**
     * Live traffic up to a billing midnight a little ahead of the wall clock, in a fixed-offset
     * zone chosen so that its midnight falls there; then nothing. The previous day took only late
     * events, and its correction deadline falls {@link #PREVIOUS_DAY_DEADLINE} after that midnight
     * (a correction horizon of a day and that much): so within half a minute of quiet, by the wall
     * clock alone, the last hour and the day close and the day before is forgotten.
     */
    static final class Live {

        /**
         * From writing the workload to the billing midnight: time to start the job and read
         * everything first.
         */
        static final Duration LEAD = Duration.ofSeconds(75);

        static final Duration PREVIOUS_DAY_DEADLINE = Duration.ofSeconds(20);

        /**
         * Workload span before the midnight; the last events are this far before it (jitter is ±30
         * s).
         */
        static final Duration SPAN = Duration.ofHours(2);

        static final Duration LAST_EVENT_BEFORE_MIDNIGHT = Duration.ofSeconds(35);

        final Instant midnight;
        final ZoneOffset zone;
        final WorkloadSpec spec;

        Live(long events, int accounts, long seed) {
            midnight = Instant.now().plus(LEAD).truncatedTo(ChronoUnit.SECONDS);
            int offset = (int) Math.floorMod(-midnight.getEpochSecond(), 86_400L);
            zone = ZoneOffset.ofTotalSeconds(offset > 18 * 3600 ? offset - 86_400 : offset);
            Instant start = midnight.minus(SPAN);
            spec =
                    WorkloadSpec.clean(events, accounts, seed)
                            .withRates(0.01, 0.005, 0.005)
                            .during(start, SPAN.minus(LAST_EVENT_BEFORE_MIDNIGHT), zone);
        }

        /**
         * The correction horizon that puts the previous day's deadline {@link
         * #PREVIOUS_DAY_DEADLINE} after midnight.
         */
        Duration correctionHorizon() {
            return Duration.ofDays(1).plus(PREVIOUS_DAY_DEADLINE);
        }

        /** The day that ends at {@link #midnight}. */
        LocalDate closingDay() {
            return LocalDate.ofInstant(midnight.minusMillis(1), zone);
        }

        Instant previousDayDeadline() {
            return midnight.plus(PREVIOUS_DAY_DEADLINE);
        }

        /**
         * Per partition, in this order: an event for the previous day (past its correction deadline
         * by then: must be rejected as TOO_LATE), and an event for the closed last hour of the
         * closed day (must be billed as a correction). Each repeats an earlier event's account,
         * model and modality under a new event id, so that a window opened again would reuse the id
         * of the row it closed with.
         */
        List<List<GeneratedRecord>> stragglers(int partitions) {
            WorkloadGenerator generator = new WorkloadGenerator(spec);
            AvroCodec<UsageEvent> codec = AvroCodec.usageEvents();
            List<UsageEvent> previousDay = new ArrayList<>();
            List<UsageEvent> lastHour = new ArrayList<>();
            Set<String> accounts = new HashSet<>();
            long lastHourStart = midnight.minus(Duration.ofHours(1)).toEpochMilli();
            for (long i = spec.events() - 1;
                    i >= 0 && (previousDay.size() < partitions || lastHour.size() < partitions);
                    i--) {
                GeneratedRecord record = generator.record(i);
                UsageEvent event = record.event();
                if (event == null
                        || record.kind() == Kind.DUPLICATE
                        || accounts.contains(event.getAccountId())) {
                    continue;
                }
                boolean inPreviousDay =
                        LocalDate.ofInstant(event.getEventTime(), zone)
                                .equals(closingDay().minusDays(1));
                if (record.kind() == Kind.LATE
                        && inPreviousDay
                        && previousDay.size() < partitions) {
                    previousDay.add(event);
                    accounts.add(event.getAccountId());
                } else if (record.kind() == Kind.VALID
                        && event.getEventTime().toEpochMilli() >= lastHourStart
                        && lastHour.size() < partitions) {
                    lastHour.add(event);
                    accounts.add(event.getAccountId());
                }
            }
            if (previousDay.size() < partitions || lastHour.size() < partitions) {
                throw new IllegalStateException(
                        "the workload has too few late events or events in its last hour");
            }
            List<List<GeneratedRecord>> byPartition = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                UsageEvent tooLate =
                        UsageEvent.newBuilder(previousDay.get(p))
                                .setEventId(previousDay.get(p).getEventId() + "-straggler")
                                .build();
                UsageEvent late =
                        UsageEvent.newBuilder(lastHour.get(p))
                                .setEventId(lastHour.get(p).getEventId() + "-straggler")
                                .setEventTime(midnight.minusSeconds(1))
                                .build();
                byPartition.add(
                        List.of(
                                new GeneratedRecord(
                                        tooLate.getAccountId(),
                                        codec.encode(tooLate),
                                        Kind.TOO_LATE,
                                        tooLate),
                                new GeneratedRecord(
                                        late.getAccountId(), codec.encode(late), Kind.LATE, late)));
            }
            return byPartition;
        }
    }

    /**
     * A backlog days behind the wall clock: the seeded workload over {@link #SPAN}, ending a day
     * ago, with producer retries of earlier first deliveries {@link #RETRY_MIN_DELAY} to {@link
     * #RETRY_MAX_DELAY} of event time later (inside a {@link #DEDUP_HORIZON} dedup horizon), in the
     * order gateways would have written them; cut in two at {@link #FIRST_PART_SHARE} of its
     * records.
     */
    static final class Backlog {

        static final Duration SPAN = Duration.ofDays(3);
        static final Duration DEDUP_HORIZON = Duration.ofHours(36);
        static final Duration RETRY_MIN_DELAY = Duration.ofHours(26);
        static final Duration RETRY_MAX_DELAY = Duration.ofHours(34);
        static final double RETRY_RATE = 0.02;
        static final double FIRST_PART_SHARE = 0.4;

        final WorkloadSpec spec;
        final List<GeneratedRecord> records = new ArrayList<>();
        long retries;

        Backlog(long events, int accounts, long seed, ZoneId zone) {
            Instant start =
                    Instant.now()
                            .truncatedTo(ChronoUnit.HOURS)
                            .minus(SPAN)
                            .minus(Duration.ofDays(1));
            spec =
                    WorkloadSpec.clean(events, accounts, seed)
                            .withRates(0.01, 0.005, 0.005)
                            .during(start, SPAN, zone);
            WorkloadGenerator generator = new WorkloadGenerator(spec);
            // Retries due at each position of the workload, keyed by the position after which they
            // are written.
            TreeMap<Long, List<GeneratedRecord>> due = new TreeMap<>();
            SplitMix64 rng = new SplitMix64(seed ^ 0x5DEECE66DL);
            double perHour = (double) events / SPAN.toHours();
            for (long i = 0; i < events; i++) {
                GeneratedRecord record = generator.record(i);
                records.add(record);
                if (record.kind() == Kind.VALID && rng.nextDouble() < RETRY_RATE) {
                    double hours =
                            RETRY_MIN_DELAY.toHours()
                                    + rng.nextDouble()
                                            * (RETRY_MAX_DELAY.toHours()
                                                    - RETRY_MIN_DELAY.toHours());
                    long at = i + (long) (hours * perHour);
                    if (at < events) {
                        due.computeIfAbsent(at, k -> new ArrayList<>())
                                .add(
                                        new GeneratedRecord(
                                                record.key(),
                                                record.value(),
                                                Kind.DUPLICATE,
                                                record.event()));
                    }
                }
                List<GeneratedRecord> now = due.remove(i);
                if (now != null) {
                    records.addAll(now);
                    retries += now.size();
                }
            }
        }

        List<GeneratedRecord> firstPart() {
            return records.subList(0, (int) (records.size() * FIRST_PART_SHARE));
        }

        List<GeneratedRecord> secondPart() {
            return records.subList((int) (records.size() * FIRST_PART_SHARE), records.size());
        }

        /**
         * Retries in the second part whose first delivery is in the first: the ones a purged dedup
         * bills twice.
         */
        long retriesAcrossTheCut() {
            Set<String> firstIds = new HashSet<>();
            for (GeneratedRecord r : firstPart()) {
                if (r.kind() == Kind.VALID) {
                    firstIds.add(r.event().getSource() + "/" + r.event().getEventId());
                }
            }
            return secondPart().stream()
                    .filter(
                            r ->
                                    r.kind() == Kind.DUPLICATE
                                            && firstIds.contains(
                                                    r.event().getSource()
                                                            + "/"
                                                            + r.event().getEventId()))
                    .count();
        }
    }

    /**
     * One record per partition that brings event time up to the wall clock and is billed nowhere: a
     * gateway reusing the (source, event_id) of one of {@code firstDeliveries} for other usage,
     * stamped now, which deduplication rejects as CONFLICTING_DUPLICATE. Read within
     * out-of-orderness + idleness of its event time, it makes its partition live, so that the
     * partition's watermark moves on as time passes while it is quiet (I9) and closes what the
     * records before it left open. A partition whose newest event is old never moves by quiet: the
     * last days of a backlog, or a correction due after a restore, wait for live traffic — in
     * production the next minute's events, which here would fall in a day that closes only
     * tomorrow.
     *
     * @param firstDeliveries events billed earlier whose ids deduplication still remembers, at
     *     least one per partition
     */
    static List<GeneratedRecord> clockEvents(List<UsageEvent> firstDeliveries, int partitions) {
        AvroCodec<UsageEvent> codec = AvroCodec.usageEvents();
        Instant now = Instant.now();
        List<GeneratedRecord> records = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            UsageEvent event =
                    UsageEvent.newBuilder(firstDeliveries.get(p)).setEventTime(now).build();
            records.add(
                    new GeneratedRecord(
                            event.getAccountId(),
                            codec.encode(event),
                            Kind.CONFLICTING_DUPLICATE,
                            event));
        }
        return records;
    }

    /** The last {@code count} first deliveries of {@code records}, newest first. */
    static List<UsageEvent> lastFirstDeliveries(List<GeneratedRecord> records, int count) {
        List<UsageEvent> events = new ArrayList<>();
        for (int i = records.size() - 1; i >= 0 && events.size() < count; i--) {
            if (records.get(i).kind() == Kind.VALID) {
                events.add(records.get(i).event());
            }
        }
        return events;
    }

    /**
     * Writes {@code records} to {@code topic} in order, keyed by account (or to {@code partition}
     * when it is not negative), and adds each to {@code expected}.
     */
    static void write(
            List<GeneratedRecord> records,
            int partition,
            MeteringConfig config,
            ExpectedTotals expected) {
        String topic = config.kafka().topics().raw();
        Properties props =
                WorkloadProducer.producerProperties(
                        config.kafka().bootstrapServers(), config.kafka().clients());
        // Written right after a broker restart (replay-with-stall), a partition can refuse writes
        // for longer than the default 2 min delivery timeout: keep retrying (idempotent) instead.
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "300000");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<Future<?>> sent = new ArrayList<>();
            for (GeneratedRecord record : records) {
                byte[] key =
                        record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8);
                sent.add(
                        producer.send(
                                partition < 0
                                        ? new ProducerRecord<>(topic, key, record.value())
                                        : new ProducerRecord<>(
                                                topic, partition, key, record.value())));
                expected.add(record);
            }
            producer.flush();
            for (Future<?> f : sent) {
                f.get();
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not write to " + topic, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
