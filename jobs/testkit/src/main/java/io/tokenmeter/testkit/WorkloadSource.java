package io.tokenmeter.testkit;

import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.io.UsageEventDeserializer;
import io.tokenmeter.logic.ingest.PartitionClock;
import io.tokenmeter.logic.ingest.SecretSource;
import io.tokenmeter.logic.ingest.ValidationLimits;
import io.tokenmeter.metering.MeteringConfig;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The workload as an in-memory Flink source, for benchmarks without a broker: each record is
 * generated, then decoded and validated by the same {@link UsageEventDeserializer} the Kafka source
 * uses, so the job does the same work per record. The records are the ones {@link WorkloadProducer}
 * would write. Parallel readers move through event time side by side, like the partitions of a
 * Kafka topic: reader i of p reads records i, i + p, i + 2p, ... (with contiguous shares, at
 * parallelism 2 one reader would start a day ahead, hold a day of windows and dedup ids back behind
 * the slower reader's watermark, and find its first records late if it started late). Across
 * readers there is no order, so a conflicting duplicate may be read before the event whose id it
 * reuses: the expected totals hold exactly for workloads without poison records.
 */
public final class WorkloadSource {

    /** The name the records carry as their source topic. */
    public static final String TOPIC = "in-memory-workload";

    private WorkloadSource() {}

    public static DataGeneratorSource<IngestedRecord> of(WorkloadSpec spec, MeteringConfig config) {
        return new DataGeneratorSource<>(
                new GenerateAndDecode(
                        spec,
                        config.validation().limits(),
                        config.partitionClock(),
                        config.dedup().key()),
                spec.events(),
                TypeInformation.of(IngestedRecord.class));
    }

    /**
     * The workload index for the {@code value}-th number of the generator's sequence {@code [0,
     * events)}, which Flink cuts into {@code parallelism} contiguous splits, the first {@code
     * events % parallelism} one longer (NumberSequenceIterator#split). Number o of split i becomes
     * index o * parallelism + i: a bijection of [0, events) whatever the splits really are, and an
     * interleaving when they are as described.
     */
    static long interleave(long value, long events, int parallelism) {
        long base = events / parallelism;
        long extra = events % parallelism;
        long longSplits = extra * (base + 1);
        long split;
        long offset;
        if (value < longSplits) {
            split = value / (base + 1);
            offset = value % (base + 1);
        } else {
            split = extra + (value - longSplits) / base;
            offset = (value - longSplits) % base;
        }
        return offset * parallelism + split;
    }

    static final class GenerateAndDecode implements GeneratorFunction<Long, IngestedRecord> {

        private final WorkloadSpec spec;
        private final ValidationLimits limits;
        private final PartitionClock clock;
        private final SecretSource dedupKey;
        private transient int parallelism;
        private transient WorkloadGenerator generator;
        private transient UsageEventDeserializer deserializer;
        private transient SingleRecord decoded;

        GenerateAndDecode(
                WorkloadSpec spec,
                ValidationLimits limits,
                PartitionClock clock,
                SecretSource dedupKey) {
            this.spec = spec;
            this.limits = limits;
            this.clock = clock;
            this.dedupKey = dedupKey;
        }

        @Override
        public void open(SourceReaderContext readerContext) {
            parallelism = readerContext.currentParallelism();
            generator = new WorkloadGenerator(spec);
            deserializer = new UsageEventDeserializer(limits, clock, dedupKey);
            deserializer.open(null);
            decoded = new SingleRecord();
        }

        @Override
        public IngestedRecord map(Long value) {
            long index =
                    spec.events() < parallelism
                            ? value
                            : interleave(value, spec.events(), parallelism);
            GeneratedRecord record = generator.record(index);
            byte[] key =
                    record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8);
            deserializer.deserialize(
                    new ConsumerRecord<>(TOPIC, 0, index, key, record.value()), decoded);
            return decoded.take();
        }
    }

    /** The deserializer emits exactly one record per input; this holds it. */
    private static final class SingleRecord implements Collector<IngestedRecord> {
        private IngestedRecord record;

        @Override
        public void collect(IngestedRecord r) {
            record = r;
        }

        @Override
        public void close() {}

        IngestedRecord take() {
            IngestedRecord r = record;
            record = null;
            return r;
        }
    }
}
