package io.tokenmeter.bench;

import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.io.UsageEventDeserializer;
import io.tokenmeter.local.GeneratedRecord;
import io.tokenmeter.local.WorkloadGenerator;
import io.tokenmeter.local.WorkloadSource;
import io.tokenmeter.local.WorkloadSpec;
import io.tokenmeter.logic.PartitionClock;
import io.tokenmeter.logic.ValidationLimits;
import io.tokenmeter.metering.MeteringConfig;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The workload as an in-memory source whose parallel readers move through event time side by side, like the
 * partitions of a Kafka topic. {@link WorkloadSource} gives each reader a contiguous half of the workload, so at
 * parallelism 2 one reader starts a day ahead of the other: the job's watermark (the slower reader's) holds a
 * day of windows and dedup ids back until the end, and if the slow reader starts late its first records are
 * already behind the watermark. Here reader i of p reads records i, i + p, i + 2p, ...; otherwise it is the same:
 * the same records, decoded and validated by the same {@link UsageEventDeserializer}.
 */
final class InterleavedWorkloadSource {

    private InterleavedWorkloadSource() {}

    static Source<IngestedRecord, ?, ?> of(WorkloadSpec spec, MeteringConfig config) {
        return new DataGeneratorSource<>(
                new GenerateAndDecode(spec, config.validationLimits(), config.partitionClock()),
                spec.events(), TypeInformation.of(IngestedRecord.class));
    }

    /**
     * The workload index for the {@code value}-th number of the generator's sequence {@code [0, events)}, which
     * Flink cuts into {@code parallelism} contiguous splits, the first {@code events % parallelism} one longer
     * (NumberSequenceIterator#split). Number o of split i becomes index o * parallelism + i: a bijection of
     * [0, events) whatever the splits really are, and an interleaving when they are as described.
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

    private static final class GenerateAndDecode implements GeneratorFunction<Long, IngestedRecord>, Collector<IngestedRecord> {

        private final WorkloadSpec spec;
        private final ValidationLimits limits;
        private final PartitionClock clock;
        private transient int parallelism;
        private transient WorkloadGenerator generator;
        private transient UsageEventDeserializer deserializer;
        private transient IngestedRecord decoded;

        GenerateAndDecode(WorkloadSpec spec, ValidationLimits limits, PartitionClock clock) {
            this.spec = spec;
            this.limits = limits;
            this.clock = clock;
        }

        @Override
        public void open(SourceReaderContext readerContext) {
            parallelism = readerContext.currentParallelism();
            generator = new WorkloadGenerator(spec);
            deserializer = new UsageEventDeserializer(limits, clock);
            deserializer.open(null);
        }

        @Override
        public IngestedRecord map(Long value) {
            long index = spec.events() < parallelism ? value : interleave(value, spec.events(), parallelism);
            GeneratedRecord record = generator.record(index);
            byte[] key = record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8);
            deserializer.deserialize(new ConsumerRecord<>(WorkloadSource.TOPIC, 0, index, key, record.value()), this);
            IngestedRecord r = decoded;
            decoded = null;
            return r;
        }

        @Override
        public void collect(IngestedRecord record) {
            decoded = record;
        }

        @Override
        public void close() {}
    }
}
