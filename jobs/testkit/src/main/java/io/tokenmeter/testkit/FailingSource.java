package io.tokenmeter.testkit;

import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.io.UsageEventDeserializer;
import io.tokenmeter.logic.WallClock;
import io.tokenmeter.metering.MeteringConfig;
import java.io.IOException;
import java.io.Serializable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.testutils.junit.SharedObjectsExtension;
import org.apache.flink.testutils.junit.SharedReference;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The job's raw topic, read like the real source reads it, except that the reader throws once, on
 * the first record {@code failOn} picks: a task failure at a place the test chooses, after which
 * the job restarts from its last checkpoint. Whether it has failed is a {@link SharedReference} of
 * the test's {@link SharedObjectsExtension}, the same object in the test and in every task of its
 * MiniCluster, and fresh for every test.
 */
public final class FailingSource {

    /** Which record the reader fails on; asked for each record until it has failed. */
    @FunctionalInterface
    public interface FailOn extends Predicate<ConsumerRecord<byte[], byte[]>>, Serializable {}

    private FailingSource() {}

    /**
     * The raw topic up to its end as of the start, through a reader that fails once on the record
     * {@code failOn} picks.
     */
    public static KafkaSource<IngestedRecord> bounded(
            MeteringConfig config,
            WallClock wallClock,
            SharedReference<AtomicBoolean> failed,
            FailOn failOn) {
        return builder(config, wallClock, failed, failOn)
                .setBounded(OffsetsInitializer.latest())
                .build();
    }

    /**
     * The raw topic, unbounded, through a reader that fails once on the record {@code failOn}
     * picks.
     */
    public static KafkaSource<IngestedRecord> unbounded(
            MeteringConfig config,
            WallClock wallClock,
            SharedReference<AtomicBoolean> failed,
            FailOn failOn) {
        return builder(config, wallClock, failed, failOn).build();
    }

    /** Fails on the record at {@code offset} of partition 0. */
    public static FailOn atOffsetOfPartitionZero(long offset) {
        return record -> record.partition() == 0 && record.offset() == offset;
    }

    private static KafkaSourceBuilder<IngestedRecord> builder(
            MeteringConfig config,
            WallClock wallClock,
            SharedReference<AtomicBoolean> failed,
            FailOn failOn) {
        return KafkaSource.<IngestedRecord>builder()
                .setBootstrapServers(config.kafka().bootstrapServers())
                .setTopics(config.kafka().topics().raw())
                .setGroupId(config.kafka().consumerGroup())
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setDeserializer(
                        new FailOnce(
                                new UsageEventDeserializer(
                                        config.validation().limits(),
                                        config.partitionClock(wallClock),
                                        config.dedup().key()),
                                failed,
                                failOn));
    }

    /** Decodes like {@code delegate}, but throws once, on the first record {@code failOn} picks. */
    private static final class FailOnce
            implements KafkaRecordDeserializationSchema<IngestedRecord> {

        private final KafkaRecordDeserializationSchema<IngestedRecord> delegate;
        private final SharedReference<AtomicBoolean> failed;
        private final FailOn failOn;

        FailOnce(
                KafkaRecordDeserializationSchema<IngestedRecord> delegate,
                SharedReference<AtomicBoolean> failed,
                FailOn failOn) {
            this.delegate = delegate;
            this.failed = failed;
            this.failOn = failOn;
        }

        @Override
        public void open(DeserializationSchema.InitializationContext context) throws Exception {
            delegate.open(context);
        }

        @Override
        public void deserialize(
                ConsumerRecord<byte[], byte[]> record, Collector<IngestedRecord> out)
                throws IOException {
            if (!failed.get().get()
                    && failOn.test(record)
                    && failed.get().compareAndSet(false, true)) {
                throw new IllegalStateException(
                        "injected failure at offset "
                                + record.offset()
                                + " of partition "
                                + record.partition()
                                + " of "
                                + record.topic());
            }
            delegate.deserialize(record, out);
        }

        @Override
        public TypeInformation<IngestedRecord> getProducedType() {
            return delegate.getProducedType();
        }
    }
}
