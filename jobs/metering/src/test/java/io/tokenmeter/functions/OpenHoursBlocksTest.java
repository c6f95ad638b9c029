package io.tokenmeter.functions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.logic.UsagePartial;
import io.tokenmeter.logic.billing.OpenHours;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OpenHoursBlocksTest {

    private static final long HOUR = 3_600_000L;

    @Test
    void writesManyAccountHoursPerBlockAndReadsBackEveryLine() throws IOException {
        OpenHours hours = hours(10_000);

        List<byte[]> blocks = OpenHoursBlocks.write(hours);
        OpenHours restored = new OpenHours();
        OpenHoursBlocks.read(blocks, accountId -> true, restored);

        assertThat(blocks).hasSize(3); // 10,000 account-hours, 4,096 per block
        assertThat(closed(restored)).isEqualTo(closed(hours)).hasSize(15_000);
    }

    @Test
    void restoresOnlyTheAccountsTheSubtaskOwns() throws IOException {
        List<byte[]> blocks = OpenHoursBlocks.write(hours(100));
        OpenHours restored = new OpenHours();

        OpenHoursBlocks.read(blocks, accountId -> accountId.endsWith("7"), restored);

        assertThat(closed(restored))
                .hasSize(12) // acct-7, acct-17, acct-27: three hours each, four lines
                .allSatisfy(line -> assertThat(line).startsWith("acct-").contains("7 "));
    }

    @Test
    void writesNoBlockWithoutOpenHoursAndRefusesAnUnknownFormat() throws IOException {
        assertThat(OpenHoursBlocks.write(new OpenHours())).isEmpty();
        assertThatThrownBy(
                        () ->
                                OpenHoursBlocks.read(
                                        List.of(new byte[] {9}), id -> true, new OpenHours()))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("format 9");
    }

    /**
     * {@code accountHours} account-hours over three hours; every other one has two lines, every
     * tenth account no region.
     */
    private static OpenHours hours(int accountHours) {
        OpenHours hours = new OpenHours();
        for (int i = 0; i < accountHours; i++) {
            String account = "acct-" + (i / 3);
            hours.add(usage(account, i % 10 == 9 ? null : "region-" + i % 4, i % 3, "m", i));
            if (i % 2 == 0) {
                hours.add(usage(account, "region-" + i % 4, i % 3, "other", Long.MAX_VALUE - i));
            }
        }
        return hours;
    }

    private static UsagePartial usage(
            String account, String region, int hour, String model, long tokens) {
        UsagePartial usage = new UsagePartial();
        usage.accountId = account;
        usage.region = region;
        usage.model = model;
        usage.modality = Modality.TEXT;
        usage.hourStart = hour * HOUR;
        usage.inputTokens = tokens;
        usage.outputTokens = 2;
        usage.cachedTokens = 3;
        usage.events = 1;
        return usage;
    }

    /** Every line, closed in order, as text. */
    private static List<String> closed(OpenHours hours) {
        List<String> lines = new ArrayList<>();
        hours.closeUpTo(
                Long.MAX_VALUE,
                (accountId, region, hourStart, line) ->
                        lines.add(accountId + " " + region + " " + hourStart + " " + line));
        return lines;
    }
}
