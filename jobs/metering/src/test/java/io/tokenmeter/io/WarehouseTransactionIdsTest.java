package io.tokenmeter.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class WarehouseTransactionIdsTest {

    private final WarehouseTransactionIds ids = new WarehouseTransactionIds("job-a:warehouse");

    @Test
    void aNameCarriesSubtaskCheckpointAndSequenceAndParsesBack() {
        String gid = ids.name(3, 41, 7);
        assertThat(gid).isEqualTo("job-a:warehouse:3:41:7");
        assertThat(ids.parse(gid)).contains(new WarehouseTransactionIds.Parsed(3, 41, 7));
    }

    @Test
    void namesOfOtherPrefixesOrShapesAreNotOurs() {
        assertThat(ids.parse("job-ab:warehouse:3:41:7")).isEmpty();
        assertThat(ids.parse("job-a:warehouse:3:41")).isEmpty();
        assertThat(ids.parse("job-a:warehouse:3:x:7")).isEmpty();
        assertThat(ids.parse("job-a:warehouse:-1:4:7")).isEmpty();
        assertThat(ids.parse("other:1:2:3")).isEmpty();
    }

    @Test
    void theLongestNameFitsPostgresLimit() {
        String prefix = "p".repeat(WarehouseTransactionIds.MAX_PREFIX_LENGTH);
        String gid =
                new WarehouseTransactionIds(prefix)
                        .name(Integer.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE);
        assertThat(gid.length()).isLessThanOrEqualTo(WarehouseTransactionIds.MAX_LENGTH);
        assertThatThrownBy(() -> new WarehouseTransactionIds(prefix + "p"))
                .hasMessageContaining("1 to");
        assertThatThrownBy(() -> new WarehouseTransactionIds("")).hasMessageContaining("1 to");
    }

    @Test
    void afterARestoreTransactionsOfLaterCheckpointsAreDanglingAndEarlierOnesTheCommitters() {
        // restored from checkpoint 5: rows after checkpoint 4 were prepared with 5 and are restored
        // committables
        OptionalLong restored = OptionalLong.of(5);
        assertThat(ids.isDangling(ids.name(0, 4, 0), 0, 1, restored)).isFalse();
        assertThat(ids.isDangling(ids.name(0, 3, 0), 0, 1, restored)).isFalse();
        assertThat(ids.isDangling(ids.name(0, 5, 0), 0, 1, restored)).isTrue();
        assertThat(ids.isDangling(ids.name(0, 9, 2), 0, 1, restored)).isTrue();
    }

    @Test
    void aFreshStartRollsBackEverythingOfItsPrefixOnly() {
        List<String> gids =
                List.of(ids.name(0, 4, 0), ids.name(0, 0, 0), "job-b:warehouse:0:9:0", "manual-tx");
        assertThat(ids.dangling(gids, 0, 1, OptionalLong.empty()))
                .containsExactly(ids.name(0, 4, 0), ids.name(0, 0, 0));
    }

    @Test
    void eachOldSubtaskIsCleanedByExactlyOneNewSubtaskAfterRescaling() {
        List<String> gids =
                List.of(ids.name(0, 7, 0), ids.name(1, 7, 0), ids.name(2, 7, 0), ids.name(3, 7, 0));
        OptionalLong restored = OptionalLong.of(7);
        // scaled down from 4 to 2
        assertThat(ids.dangling(gids, 0, 2, restored))
                .containsExactly(ids.name(0, 7, 0), ids.name(2, 7, 0));
        assertThat(ids.dangling(gids, 1, 2, restored))
                .containsExactly(ids.name(1, 7, 0), ids.name(3, 7, 0));
        // scaled up from 4 to 6: subtasks 4 and 5 own nothing old, and leave the others' new ones
        // alone
        assertThat(ids.dangling(gids, 3, 6, restored)).containsExactly(ids.name(3, 7, 0));
        assertThat(ids.dangling(gids, 5, 6, restored)).isEmpty();
    }
}
