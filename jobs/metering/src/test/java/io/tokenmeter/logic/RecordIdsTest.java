package io.tokenmeter.logic;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.Modality;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RecordIdsTest {

    @Test
    void givesSameIdForSameNamespaceAndParts() {
        assertThat(RecordIds.of("account-usage/hour", "acct-1", 1_000L, "qwen-max", "TEXT"))
                .isEqualTo(
                        RecordIds.of("account-usage/hour", "acct-1", 1_000L, "qwen-max", "TEXT"));
    }

    @Test
    void isANameBasedUuid() {
        UUID id = UUID.fromString(RecordIds.of("area-usage", "HOUR|0|CN-GD|TEXT|m"));

        assertThat(id.version()).isEqualTo(3);
        assertThat(id.variant()).isEqualTo(2);
    }

    @Test
    void differsByNamespace() {
        assertThat(RecordIds.of("area-usage", "x"))
                .isNotEqualTo(RecordIds.of("area-usage-correction", "x"));
        assertThat(RecordIds.of("account-usage/hour", "x"))
                .isNotEqualTo(RecordIds.of("account-usage/hour-correction", "x"));
    }

    @Test
    void differsByEveryPartAndTheirOrder() {
        List<String> ids =
                List.of(
                        RecordIds.of("ns", "a", "b"),
                        RecordIds.of("ns", "b", "a"),
                        RecordIds.of("ns", "a", "c"),
                        RecordIds.of("ns", "a"),
                        RecordIds.of("ns", "a", "b", ""),
                        RecordIds.of("ns"));

        assertThat(ids).doesNotHaveDuplicates();
    }

    @Test
    void doesNotCollideWhenPartsCouldBeRegrouped() {
        List<String> ids =
                List.of(
                        RecordIds.of("ns", "ab", "c"),
                        RecordIds.of("ns", "a", "bc"),
                        RecordIds.of("ns", "abc"),
                        RecordIds.of("ns", "a/1:b"),
                        RecordIds.of("ns", "a", "b"),
                        RecordIds.of("ns", "1:a", "b"),
                        RecordIds.of("ns", "a/b"));

        assertThat(ids).doesNotHaveDuplicates();
    }

    @Test
    void identifiesPartsByTheirText() {
        assertThat(RecordIds.of("ns", 42L, Modality.TEXT))
                .isEqualTo(RecordIds.of("ns", "42", "TEXT"));
    }
}
