package io.tokenmeter.io;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.SubscriptionAction;
import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.avro.TopUp;
import io.tokenmeter.logic.packages.SubscriptionLimits;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.testing.Fixtures;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SubscriptionDeserializerTest {

    private static final String TOPIC = "tokenmeter.subscriptions";

    private final SubscriptionDeserializer deserializer =
            new SubscriptionDeserializer(Fixtures.packageCatalog(ZoneId.of("Asia/Shanghai")));
    private final List<SubscriptionRecord> out = new ArrayList<>();
    private final Collector<SubscriptionRecord> collector =
            new Collector<>() {
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
        byte[] unknownPackage =
                AvroCodec.subscriptionEvents().encode(subscription("gold-unlimited"));
        byte[] garbage = {1, 2, 3};

        deserializer.deserialize(record(unknownPackage), collector);
        deserializer.deserialize(record(garbage), collector);

        assertThat(out)
                .extracting(r -> r.rejected.getReason())
                .containsExactly(RejectReason.MALFORMED, RejectReason.MALFORMED);
        assertThat(out.get(0).rejected.getMessage())
                .isEqualTo("package 'gold-unlimited' is not in the catalog");
        assertThat(out.get(0).rejected.getPayload().array()).isEqualTo(unknownPackage);
        assertThat(out.get(0).rejected.getSourceTopic()).isEqualTo(TOPIC);
    }

    /**
     * I7: values that overflowed the balances on every use (valid_until = Long.MAX_VALUE, a top-up
     * of Long.MAX_VALUE units) or that no arithmetic can take are rejected here, with the reason
     * and the bytes.
     */
    @Test
    void rejectsSubscriptionsWhoseValuesNoBalanceCanTake() {
        List<SubscriptionEvent> hostile =
                List.of(
                        with(s -> s.setValidUntil(Instant.ofEpochMilli(Long.MAX_VALUE))),
                        with(s -> s.setActivatedAt(Instant.ofEpochMilli(Long.MIN_VALUE))),
                        with(s -> s.setChangedAt(Instant.ofEpochMilli(-1))),
                        with(
                                s ->
                                        s.setTopUps(
                                                List.of(
                                                        new TopUp(
                                                                "t-1",
                                                                Long.MAX_VALUE,
                                                                Instant.parse(
                                                                        "2025-03-02T00:00:00Z"))))),
                        with(
                                s ->
                                        s.setTopUps(
                                                List.of(
                                                        new TopUp(
                                                                "t-1",
                                                                -5L,
                                                                Instant.parse(
                                                                        "2025-03-02T00:00:00Z"))))),
                        with(
                                s ->
                                        s.setTopUps(
                                                List.of(
                                                        new TopUp(
                                                                "t-1",
                                                                5L,
                                                                Instant.ofEpochMilli(
                                                                        Long.MAX_VALUE))))),
                        with(s -> s.setVersion(0)));
        for (SubscriptionEvent event : hostile) {
            deserializer.deserialize(
                    record(AvroCodec.subscriptionEvents().encode(event)), collector);
        }

        assertThat(out)
                .allSatisfy(
                        r -> {
                            assertThat(r.event).isNull();
                            assertThat(r.rejected.getReason())
                                    .isEqualTo(RejectReason.VALUE_OUT_OF_RANGE);
                        });
        assertThat(out).hasSize(hostile.size());
        assertThat(out.get(0).rejected.getMessage()).contains("valid_until");
        assertThat(out.get(3).rejected.getMessage()).contains(Long.toString(Long.MAX_VALUE));
    }

    @Test
    void passesTheLargestValuesTheBoundsAllow() {
        SubscriptionEvent event =
                with(
                        s -> {
                            s.setValidUntil(
                                    Instant.ofEpochMilli(SubscriptionLimits.LATEST_MILLIS - 1));
                            s.setTopUps(
                                    List.of(
                                            new TopUp(
                                                    "t-1",
                                                    SubscriptionLimits.MAX_TOP_UP_UNITS,
                                                    Instant.parse("2025-03-02T00:00:00Z"))));
                        });

        deserializer.deserialize(record(AvroCodec.subscriptionEvents().encode(event)), collector);

        assertThat(out).singleElement().satisfies(r -> assertThat(r.event).isEqualTo(event));
    }

    @Test
    void rejectsIdsLongerThanTheirCapAndOversizedRecords() {
        deserializer.deserialize(
                record(
                        AvroCodec.subscriptionEvents()
                                .encode(
                                        with(
                                                s ->
                                                        s.setSubscriptionId(
                                                                "s"
                                                                        .repeat(
                                                                                SubscriptionLimits
                                                                                                .MAX_ID_BYTES
                                                                                        + 1))))),
                collector);
        deserializer.deserialize(
                record(
                        AvroCodec.subscriptionEvents()
                                .encode(with(s -> s.setAccountId("a".repeat(129))))),
                collector);
        byte[] huge =
                AvroCodec.subscriptionEvents()
                        .encode(
                                with(
                                        s ->
                                                s.setTopUps(
                                                        Collections.nCopies(
                                                                10_000,
                                                                new TopUp(
                                                                        "t",
                                                                        1L,
                                                                        Instant.parse(
                                                                                "2025-03-02T00:00:00Z"))))));
        deserializer.deserialize(record(huge), collector);

        assertThat(out)
                .extracting(r -> r.rejected.getReason())
                .containsExactly(
                        RejectReason.FIELD_TOO_LONG,
                        RejectReason.FIELD_TOO_LONG,
                        RejectReason.OVERSIZED);
        assertThat(out.get(2).rejected.getPayload().remaining()).isEqualTo(65_536);
    }

    /**
     * A CANCEL may name a package retired from the catalog: its subscription must be able to end.
     */
    @Test
    void passesTheCancelOfARetiredPackageButNotItsOtherChanges() {
        SubscriptionEvent cancel =
                with(
                        s -> {
                            s.setPackageId("retired-gold");
                            s.setVersion(2);
                            s.setAction(SubscriptionAction.CANCEL);
                        });
        SubscriptionEvent renew =
                with(
                        s -> {
                            s.setPackageId("retired-gold");
                            s.setVersion(2);
                            s.setAction(SubscriptionAction.RENEW);
                        });

        deserializer.deserialize(record(AvroCodec.subscriptionEvents().encode(cancel)), collector);
        deserializer.deserialize(record(AvroCodec.subscriptionEvents().encode(renew)), collector);

        assertThat(out.get(0).event).isEqualTo(cancel);
        assertThat(out.get(1).rejected.getReason()).isEqualTo(RejectReason.MALFORMED);
    }

    @Test
    void skipsACompactionTombstone() {
        deserializer.deserialize(record(null), collector);

        assertThat(out).isEmpty();
    }

    private static ConsumerRecord<byte[], byte[]> record(byte[] value) {
        return new ConsumerRecord<>(TOPIC, 1, 7L, "acct-1/s-1".getBytes(), value);
    }

    private static SubscriptionEvent with(Consumer<SubscriptionEvent> change) {
        SubscriptionEvent event = subscription("monthly");
        change.accept(event);
        return event;
    }

    private static SubscriptionEvent subscription(String packageId) {
        return SubscriptionEvent.newBuilder()
                .setSubscriptionId("s-1")
                .setAccountId("acct-1")
                .setPackageId(packageId)
                .setVersion(1)
                .setAction(SubscriptionAction.ACTIVATE)
                .setChangedAt(Instant.parse("2025-03-01T00:00:00Z"))
                .setActivatedAt(Instant.parse("2025-03-01T00:00:00Z"))
                .setValidUntil(Instant.parse("2025-04-01T00:00:00Z"))
                .build();
    }
}
