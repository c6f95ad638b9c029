package io.tokenmeter.bench.loop;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.io.UsageEventDeserializer;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.Usage;
import io.tokenmeter.logic.UsageTotals;
import io.tokenmeter.logic.ingest.EventFingerprints;
import io.tokenmeter.logic.ingest.PartitionClock;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.testkit.GeneratedRecord;
import io.tokenmeter.testkit.WorkloadGenerator;
import io.tokenmeter.testkit.WorkloadSource;
import io.tokenmeter.testkit.WorkloadSpec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The loop contender as it was before the rewrite (commit 94a0c25): the job's deserializer, records
 * and hash maps. Kept as the reference the rewritten {@link MeteringLoop} must agree with, total
 * for total; it counts into its own map instead of the benchmark's Tally.
 */
final class ReferenceLoop {

    private ReferenceLoop() {}

    /** The 128-bit dedup key. */
    private record EventId(long high, long low) {}

    /** One usage line: an account (with its region), a model and a modality. */
    private record Line(String account, String region, String model, Modality modality) {}

    /** One rolled-up line: a region ("*" nationally), a model and a modality. */
    private record AreaLine(String region, String model, Modality modality) {}

    static final class Loop implements Collector<IngestedRecord> {

        /**
         * The sums the old loop added to the benchmark's Tally, kept here so that tests can run it
         * twice.
         */
        final Map<String, Long> tally = new TreeMap<>();

        private void add(String name, long amount) {
            tally.merge(name, amount, Long::sum);
        }

        private void billed(String day, long tokens, long events) {
            add("billed.tokens", tokens);
            add("billed.tokens.day." + day, tokens);
            add("billed.events", events);
        }

        private void usage(String level, String granularity, long tokens) {
            add(level + "." + granularity + ".tokens", tokens);
            add(level + "." + granularity + ".rows", 1);
        }

        private final WorkloadSpec spec;
        private final BillingCalendar calendar;
        private final long horizonMillis;

        /** The job's keyed dedup key function, under the key the job would read. */
        private final EventFingerprints fingerprints;

        private final long outOfOrdernessMillis;
        private final UsageEventDeserializer deserializer;
        private IngestedRecord decoded;

        /**
         * Every id within the horizon, with its content hash; and the ids by the hour their memory
         * ends.
         */
        private final Map<EventId, Long> seen = new HashMap<>();

        private final TreeMap<Long, List<EventId>> expiries = new TreeMap<>();

        /** Open windows: hour (or day) start → line → usage. */
        private final TreeMap<Long, Map<Line, UsageTotals>> hours = new TreeMap<>();

        private final TreeMap<Long, Map<Line, UsageTotals>> days = new TreeMap<>();
        private long watermark = Long.MIN_VALUE;
        private long nextHousekeeping = Long.MIN_VALUE;

        long duplicates;
        long inputBytes;
        long maxLiveIds;
        long accountDays;
        long accountDayLines;
        long accountHourLines;

        Loop(WorkloadSpec spec, MeteringConfig config) {
            this(spec, config, config.partitionClock());
        }

        Loop(WorkloadSpec spec, MeteringConfig config, PartitionClock clock) {
            this.spec = spec;
            this.calendar = config.billing().calendar();
            this.horizonMillis = config.dedup().horizon().toMillis();
            this.fingerprints = EventFingerprints.load(config.dedup().key());
            this.outOfOrdernessMillis = config.eventTime().outOfOrderness().toMillis();
            this.deserializer =
                    new UsageEventDeserializer(
                            config.validation().limits(), clock, config.dedup().key());
            deserializer.open(null);
        }

        void run() {
            WorkloadGenerator generator = new WorkloadGenerator(spec);
            for (long i = 0; i < spec.events(); i++) {
                GeneratedRecord record = generator.record(i);
                byte[] key =
                        record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8);
                inputBytes += record.value().length + (key == null ? 0 : key.length);
                process(key, record.value(), i);
            }
            finish();
        }

        void process(byte[] key, byte[] value, long offset) {
            deserializer.deserialize(
                    new ConsumerRecord<>(WorkloadSource.TOPIC, 0, offset, key, value), this);
            process(decoded);
        }

        void finish() {
            watermark = Long.MAX_VALUE;
            housekeeping();
        }

        @Override
        public void collect(IngestedRecord record) {
            decoded = record;
        }

        @Override
        public void close() {}

        private void process(IngestedRecord record) {
            if (record.isRejected()) {
                add("rejected", 1);
                return;
            }
            Usage event = record.event;
            long eventTime = event.eventTime;
            long[] id = fingerprints.dedupKey(event.source, event.eventId);
            EventId eventId = new EventId(id[0], id[1]);
            long content = EventFingerprints.contentHash(event);
            Long first = seen.putIfAbsent(eventId, content);
            if (first != null) {
                if (first == content) {
                    duplicates++;
                } else {
                    add("rejected", 1);
                }
                return;
            }
            long forgetAt = Math.max(eventTime, watermark) + horizonMillis;
            expiries.computeIfAbsent(
                            calendar.hourStart(forgetAt) + 3600_000L, h -> new ArrayList<>())
                    .add(eventId);
            maxLiveIds = Math.max(maxLiveIds, seen.size());

            Line line = new Line(event.accountId, event.region, event.model, event.modality);
            add(hours, calendar.hourStart(eventTime), line, event);
            add(days, calendar.dayStart(eventTime), line, event);

            watermark = Math.max(watermark, eventTime - outOfOrdernessMillis);
            if (watermark >= nextHousekeeping) {
                housekeeping();
                nextHousekeeping = calendar.hourStart(watermark) + 3600_000L;
            }
        }

        private static void add(
                TreeMap<Long, Map<Line, UsageTotals>> windows, long start, Line line, Usage e) {
            windows.computeIfAbsent(start, s -> new HashMap<>())
                    .computeIfAbsent(line, l -> new UsageTotals())
                    .addEvent(e.inputTokens, e.outputTokens, e.cachedTokens);
        }

        /**
         * Closes the hours and days the watermark has passed and forgets the ids whose horizon it
         * has passed.
         */
        private void housekeeping() {
            while (!hours.isEmpty() && hours.firstKey() + 3600_000L <= watermark) {
                Map<Line, UsageTotals> hour = hours.pollFirstEntry().getValue();
                accountHourLines += hour.size();
                emit("HOUR", hour);
            }
            while (!days.isEmpty() && calendar.closeTime(days.firstKey()) <= watermark) {
                long dayStart = days.firstKey();
                Map<Line, UsageTotals> day = days.pollFirstEntry().getValue();
                accountDayLines += day.size();
                String billingDay = calendar.billingDay(dayStart).toString();
                Map<String, UsageTotals> byAccount = new HashMap<>();
                day.forEach(
                        (line, usage) ->
                                byAccount
                                        .computeIfAbsent(line.account(), a -> new UsageTotals())
                                        .add(usage));
                accountDays += byAccount.size();
                byAccount.values().forEach(t -> billed(billingDay, t.totalTokens(), t.events));
                add("billing.records", byAccount.size());
                emit("DAY", day);
            }
            for (Iterator<Map.Entry<Long, List<EventId>>> it = expiries.entrySet().iterator();
                    it.hasNext(); ) {
                Map.Entry<Long, List<EventId>> bucket = it.next();
                if (bucket.getKey() > watermark) {
                    break;
                }
                bucket.getValue().forEach(seen::remove);
                it.remove();
            }
        }

        /** The account rows of a closed window, then their regional and national rollups. */
        private void emit(String granularity, Map<Line, UsageTotals> window) {
            Map<AreaLine, Long> regional = new HashMap<>();
            Map<AreaLine, Long> national = new HashMap<>();
            window.forEach(
                    (line, usage) -> {
                        usage("account", granularity, usage.totalTokens());
                        regional.merge(
                                new AreaLine(line.region(), line.model(), line.modality()),
                                usage.totalTokens(),
                                Long::sum);
                        national.merge(
                                new AreaLine("*", line.model(), line.modality()),
                                usage.totalTokens(),
                                Long::sum);
                    });
            regional.values().forEach(tokens -> usage("regional", granularity, tokens));
            national.values().forEach(tokens -> usage("national", granularity, tokens));
        }
    }
}
