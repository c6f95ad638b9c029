package io.tokenmeter.io;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.SubscriptionAction;
import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.testing.Fixtures;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SubscriptionDeserializerTest {

    private static final String TOPIC = "tokenmeter.subscriptions";

    private final SubscriptionDeserializer deserializer =
            new SubscriptionDeserializer(Fixtures.packageCatalog(ZoneId.of("Asia/Shanghai")));
    private final List<SubscriptionRecord> out = new ArrayList<>();
    private final Collector<SubscriptionRecord> collector = new Collector<>() {
        @Override
        public void collect(SubscriptionRecord record) {
            out.add(record);
        }

        @Override
        public void close() {}
    };

    @BeforeEach
    void open() {
        deserializer.open(null);
    }

    @Test
    void passesASubscriptionOfAKnownPackage() {
        SubscriptionEvent event = subscription("monthly");

        deserializer.deserialize(record(AvroCodec.subscriptionEvents().encode(event)), collector);

        assertThat(out).singleElement().satisfies(r -> assertThat(r.event).isEqualTo(event));
    }

    @Test
    void rejectsAnUnknownPackageAndUndecodableBytesWithTheirBytes() {
        byte[] unknownPackage = AvroCodec.subscriptionEvents().encode(subscription("gold-unlimited"));
        byte[] garbage = {1, 2, 3};

        deserializer.deserialize(record(unknownPackage), collector);
        deserializer.deserialize(record(garbage), collector);

        assertThat(out).extracting(r -> r.rejected.getReason())
                .containsExactly(RejectReason.MALFORMED, RejectReason.MALFORMED);
        assertThat(out.get(0).rejected.getMessage()).isEqualTo("package 'gold-unlimited' is not in the catalog");
        assertThat(out.get(0).rejected.getPayload().array()).isEqualTo(unknownPackage);
        assertThat(out.get(0).rejected.getSourceTopic()).isEqualTo(TOPIC);
    }

    @Test
    void skipsACompactionTombstone() {
        deserializer.deserialize(record(null), collector);

        assertThat(out).isEmpty();
    }

    private static ConsumerRecord<byte[], byte[]> record(byte[] value) {
        return new ConsumerRecord<>(TOPIC, 1, 7L, "acct-1/s-1".getBytes(), value);
    }

    private static SubscriptionEvent subscription(String packageId) {
        return SubscriptionEvent.newBuilder()
                .setSubscriptionId("s-1").setAccountId("acct-1").setPackageId(packageId).setVersion(1)
                .setAction(SubscriptionAction.ACTIVATE)
                .setChangedAt(Instant.parse("2025-03-01T00:00:00Z"))
                .setActivatedAt(Instant.parse("2025-03-01T00:00:00Z"))
                .setValidUntil(Instant.parse("2025-04-01T00:00:00Z"))
                .build();
    }
}
