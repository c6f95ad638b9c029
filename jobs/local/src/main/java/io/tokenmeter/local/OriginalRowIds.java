package io.tokenmeter.local;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.schema.DecodeException;
import io.tokenmeter.testkit.KafkaTopics;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;

/**
 * ORIGINAL rows whose id an earlier ORIGINAL row of the same topic already carried, on every output
 * topic that closes windows: billing records, account usage, regional and national usage. A
 * consumer that upserts by {@code record_id} replaces the first with the second, so one such row is
 * a window (hour, day, rollup window) that closed and opened again (I8): the first total is lost.
 *
 * @param repeatedByTopic per topic, how many ORIGINAL rows repeated an id
 * @param samples up to a few of the repeated ids, with their topic
 */
record OriginalRowIds(Map<String, Long> repeatedByTopic, List<String> samples) {

    private static final int SAMPLES = 3;
    private static final int SAMPLE_CHARS = 300;

    /** Reads the four topics to their end with read_committed. */
    static OriginalRowIds read(KafkaTopics kafka, MeteringConfig config) {
        Map<String, Long> repeated = new LinkedHashMap<>();
        List<String> samples = new ArrayList<>();
        AvroCodec<BillingRecord> billing = AvroCodec.billingRecords();
        AvroCodec<AccountUsage> account = AvroCodec.accountUsage();
        AvroCodec<AreaUsage> area = AvroCodec.areaUsage();
        scan(
                kafka,
                config.kafka().topics().billing(),
                v -> decode(billing, v),
                BillingRecord::getKind,
                BillingRecord::getRecordId,
                repeated,
                samples);
        scan(
                kafka,
                config.kafka().topics().accountUsage(),
                v -> decode(account, v),
                AccountUsage::getKind,
                AccountUsage::getRecordId,
                repeated,
                samples);
        scan(
                kafka,
                config.kafka().topics().regionalUsage(),
                v -> decode(area, v),
                AreaUsage::getKind,
                AreaUsage::getRecordId,
                repeated,
                samples);
        scan(
                kafka,
                config.kafka().topics().nationalUsage(),
                v -> decode(area, v),
                AreaUsage::getKind,
                AreaUsage::getRecordId,
                repeated,
                samples);
        return new OriginalRowIds(repeated, List.copyOf(samples));
    }

    long total() {
        return repeatedByTopic.values().stream().mapToLong(Long::longValue).sum();
    }

    String summary() {
        StringBuilder s = new StringBuilder();
        repeatedByTopic.forEach(
                (topic, n) ->
                        s.append(s.length() == 0 ? "" : " · ").append(topic).append(' ').append(n));
        return s.toString();
    }

    private static <T> void scan(
            KafkaTopics kafka,
            String topic,
            Function<byte[], T> decode,
            Function<T, BillingRecordKind> kind,
            Function<T, String> id,
            Map<String, Long> repeated,
            List<String> samples) {
        Set<String> seen = new HashSet<>();
        long[] count = {0};
        kafka.readCommitted(
                topic,
                record -> {
                    T row = decode.apply(record.value());
                    if (kind.apply(row) == BillingRecordKind.ORIGINAL && !seen.add(id.apply(row))) {
                        count[0]++;
                        if (samples.size() < SAMPLES) {
                            String text = row.toString();
                            samples.add(
                                    topic
                                            + " "
                                            + (text.length() > SAMPLE_CHARS
                                                    ? text.substring(0, SAMPLE_CHARS) + "…"
                                                    : text));
                        }
                    }
                });
        repeated.put(topic, count[0]);
    }

    private static <T extends SpecificRecord> T decode(AvroCodec<T> codec, byte[] value) {
        try {
            return codec.decode(value);
        } catch (DecodeException e) {
            throw new IllegalStateException(
                    "the job wrote an unreadable record: " + e.getMessage());
        }
    }
}
