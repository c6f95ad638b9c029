package io.tokenmeter.io;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Names of the warehouse sink's prepared PostgreSQL transactions, {@code
 * PREFIX:SUBTASK:AFTER:SEQUENCE}: the job's prefix, the writer subtask, the last checkpoint the
 * writer saw before the transaction's first row, and a running number. From a name alone a
 * restarted writer can tell which prepared transactions belong to checkpoints that never completed
 * (see {@link #isDangling}).
 */
public final class WarehouseTransactionIds {

    /** PostgreSQL's limit on a prepared transaction's name (GIDSIZE - 1). */
    public static final int MAX_LENGTH = 199;

    /** Room for ":SUBTASK:AFTER:SEQUENCE" with three long values. */
    public static final int MAX_PREFIX_LENGTH = MAX_LENGTH - 3 * (1 + 19);

    private final String prefix;

    public WarehouseTransactionIds(String prefix) {
        if (prefix.isEmpty() || prefix.length() > MAX_PREFIX_LENGTH) {
            throw new IllegalArgumentException(
                    "A warehouse transaction prefix must have 1 to "
                            + MAX_PREFIX_LENGTH
                            + " characters: '"
                            + prefix
                            + "'");
        }
        this.prefix = prefix;
    }

    /** One transaction's name. */
    public String name(int subtask, long afterCheckpoint, long sequence) {
        return prefix + ":" + subtask + ":" + afterCheckpoint + ":" + sequence;
    }

    /**
     * The parts of a name of this prefix, or empty for another job's (or another tool's)
     * transaction.
     */
    public Optional<Parsed> parse(String gid) {
        if (!gid.startsWith(prefix + ":")) {
            return Optional.empty();
        }
        String[] parts = gid.substring(prefix.length() + 1).split(":", -1);
        if (parts.length != 3) {
            return Optional.empty();
        }
        try {
            int subtask = Integer.parseInt(parts[0]);
            long after = Long.parseLong(parts[1]);
            long sequence = Long.parseLong(parts[2]);
            return subtask < 0 || after < 0 || sequence < 0
                    ? Optional.empty()
                    : Optional.of(new Parsed(subtask, after, sequence));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether writer {@code subtask} of {@code parallelism}, started from {@code
     * restoredCheckpoint} (empty: a fresh start), must roll back the prepared transaction {@code
     * gid}. A transaction written after checkpoint A is prepared with the next checkpoint the
     * writer sees, so it belongs to a checkpoint up to the restored one exactly when A is below it:
     * those the committer restores and commits, later ones never completed. A fresh start owns no
     * committables, so everything of the prefix is left over. Each old subtask's transactions go to
     * exactly one new subtask (old index modulo the parallelism), so after rescaling none is left
     * behind and no writer rolls back what another writer of the same attempt has just prepared.
     */
    public boolean isDangling(
            String gid, int subtask, int parallelism, OptionalLong restoredCheckpoint) {
        return parse(gid)
                .filter(p -> p.subtask() % parallelism == subtask)
                .filter(
                        p ->
                                restoredCheckpoint.isEmpty()
                                        || p.afterCheckpoint() >= restoredCheckpoint.getAsLong())
                .isPresent();
    }

    /** The dangling ones of {@code gids}, see {@link #isDangling}. */
    public List<String> dangling(
            List<String> gids, int subtask, int parallelism, OptionalLong restoredCheckpoint) {
        return gids.stream()
                .filter(g -> isDangling(g, subtask, parallelism, restoredCheckpoint))
                .toList();
    }

    /** A name's parts. */
    public record Parsed(int subtask, long afterCheckpoint, long sequence) {}
}
