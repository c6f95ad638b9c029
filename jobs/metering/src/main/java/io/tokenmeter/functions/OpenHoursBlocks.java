package io.tokenmeter.functions;

import io.tokenmeter.avro.state.UsageLineState;
import io.tokenmeter.logic.billing.OpenHours;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.types.StringValue;

/**
 * The open hours of an account-metering subtask as the elements of its union list state: blocks of
 * up to {@value #ACCOUNT_HOURS_PER_BLOCK} account-hours, in the account state's line encoding.
 * Flink asks the checkpoint file for its position at every list element and keeps each offset in
 * the checkpoint's metadata; with an element per line that cost more than the lines themselves.
 *
 * <p>A block: the format ({@value #FORMAT}), then up to its end per account-hour the account id,
 * region, hour start and lines ({@link AccountStateSerializer#writeLines}).
 */
final class OpenHoursBlocks {

    static final int FORMAT = 1;

    static final int ACCOUNT_HOURS_PER_BLOCK = 4096;

    private OpenHoursBlocks() {}

    /** Every open line of {@code hours}, as blocks. */
    static List<byte[]> write(OpenHours hours) throws IOException {
        List<byte[]> blocks = new ArrayList<>();
        DataOutputSerializer block = new DataOutputSerializer(64 * 1024);
        int[] inBlock = {0};
        hours.forEachAccountHour(
                (accountId, region, hourStart, lines) -> {
                    if (inBlock[0] == ACCOUNT_HOURS_PER_BLOCK) {
                        blocks.add(block.getCopyOfBuffer());
                        inBlock[0] = 0;
                    }
                    if (inBlock[0] == 0) {
                        block.clear();
                        block.writeByte(FORMAT);
                    }
                    StringValue.writeString(accountId, block);
                    StringValue.writeString(region, block);
                    block.writeLong(hourStart);
                    AccountStateSerializer.writeLines(lines, block);
                    inBlock[0]++;
                });
        if (inBlock[0] > 0) {
            blocks.add(block.getCopyOfBuffer());
        }
        return blocks;
    }

    /**
     * Adds to {@code hours} the account-hours in {@code blocks} (after rescaling: of all subtasks)
     * whose account {@code owned} accepts.
     */
    static void read(Iterable<byte[]> blocks, Predicate<String> owned, OpenHours hours)
            throws IOException {
        DataInputDeserializer in = new DataInputDeserializer();
        for (byte[] block : blocks) {
            in.setBuffer(block);
            int format = in.readUnsignedByte();
            if (format != FORMAT) {
                throw new IOException(
                        "open hours in block format " + format + ", this build reads " + FORMAT);
            }
            while (in.available() > 0) {
                String accountId = StringValue.readString(in);
                String region = StringValue.readString(in);
                long hourStart = in.readLong();
                List<UsageLineState> lines = AccountStateSerializer.readLines(in);
                if (owned.test(accountId)) {
                    hours.restore(accountId, region, hourStart, lines);
                }
            }
        }
    }
}
