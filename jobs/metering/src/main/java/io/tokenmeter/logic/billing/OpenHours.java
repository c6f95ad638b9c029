package io.tokenmeter.logic.billing;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.state.UsageLineState;
import io.tokenmeter.logic.UsagePartial;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The hours not closed yet of the accounts one subtask meters, with their usage per model and
 * modality, in memory: an hour lives about an hour of event time, and closing it by the watermark
 * needs neither a timer nor a state read per account-hour. Closed in hour order as the watermark
 * passes their ends ({@link #closeUpTo}).
 *
 * <p>Each line is reported with its account's region of the latest usage seen of it, like the
 * account's billing.
 */
public final class OpenHours {

    /** Receives the lines of an hour that has closed. */
    @FunctionalInterface
    public interface ClosedLine {
        void accept(String accountId, String region, long hourStart, UsageLineState line);
    }

    /** Receives one account's lines of one open hour. */
    @FunctionalInterface
    public interface AccountHour<E extends Exception> {
        void accept(String accountId, String region, long hourStart, List<UsageLineState> lines)
                throws E;
    }

    /** Open hours by start; each with its accounts' lines, accounts in the order they came. */
    private final TreeMap<Long, Map<String, List<UsageLineState>>> hours = new TreeMap<>();

    /** Every account with an open hour: its latest region and how many of its hours are open. */
    private final Map<String, OpenAccount> accounts = new HashMap<>();

    private static final class OpenAccount {
        String region;
        int openHours;
    }

    /** Adds usage to its open hour. */
    public void add(UsagePartial usage) {
        addLine(
                usage.accountId,
                usage.region,
                usage.hourStart,
                usage.model,
                usage.modality,
                usage.inputTokens,
                usage.outputTokens,
                usage.cachedTokens,
                usage.events);
    }

    /** Notes the account's region of its latest usage, if it has an open hour. */
    public void noteRegion(String accountId, String region) {
        OpenAccount account = accounts.get(accountId);
        if (account != null) {
            account.region = region;
        }
    }

    /** The end of the earliest open hour, Long.MAX_VALUE when none is open. */
    public long earliestEnd() {
        return hours.isEmpty() ? Long.MAX_VALUE : hours.firstKey() + UsageRows.HOUR_MILLIS;
    }

    /**
     * Removes every hour that ends at or before {@code watermark} and hands its lines over, oldest
     * hour first.
     */
    public void closeUpTo(long watermark, ClosedLine out) {
        while (!hours.isEmpty() && hours.firstKey() + UsageRows.HOUR_MILLIS <= watermark) {
            Map.Entry<Long, Map<String, List<UsageLineState>>> hour = hours.pollFirstEntry();
            for (Map.Entry<String, List<UsageLineState>> usage : hour.getValue().entrySet()) {
                String accountId = usage.getKey();
                OpenAccount account = accounts.get(accountId);
                for (UsageLineState line : usage.getValue()) {
                    out.accept(accountId, account.region, hour.getKey(), line);
                }
                if (--account.openHours == 0) {
                    accounts.remove(accountId);
                }
            }
        }
    }

    /** How many account-hours are open. */
    public int size() {
        int size = 0;
        for (Map<String, List<UsageLineState>> hour : hours.values()) {
            size += hour.size();
        }
        return size;
    }

    /** Hands over every account's lines of every open hour, for a checkpoint. */
    public <E extends Exception> void forEachAccountHour(AccountHour<E> out) throws E {
        for (Map.Entry<Long, Map<String, List<UsageLineState>>> hour : hours.entrySet()) {
            for (Map.Entry<String, List<UsageLineState>> usage : hour.getValue().entrySet()) {
                String accountId = usage.getKey();
                out.accept(
                        accountId, accounts.get(accountId).region, hour.getKey(), usage.getValue());
            }
        }
    }

    /** Adds an account's lines of an open hour from a checkpoint. */
    public void restore(
            String accountId, String region, long hourStart, List<UsageLineState> lines) {
        for (UsageLineState usage : lines) {
            addLine(
                    accountId,
                    region,
                    hourStart,
                    usage.getModel(),
                    usage.getModality(),
                    usage.getInputTokens(),
                    usage.getOutputTokens(),
                    usage.getCachedTokens(),
                    usage.getEvents());
        }
    }

    private void addLine(
            String accountId,
            String region,
            long hourStart,
            String model,
            Modality modality,
            long inputTokens,
            long outputTokens,
            long cachedTokens,
            long events) {
        Map<String, List<UsageLineState>> hour =
                hours.computeIfAbsent(hourStart, start -> new LinkedHashMap<>());
        OpenAccount account = accounts.computeIfAbsent(accountId, id -> new OpenAccount());
        List<UsageLineState> lines = hour.get(accountId);
        if (lines == null) {
            lines = new ArrayList<>(2);
            hour.put(accountId, lines);
            account.openHours++;
        }
        account.region = region;
        UsageLines.add(lines, model, modality, inputTokens, outputTokens, cachedTokens, events);
    }
}
