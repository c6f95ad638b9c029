package io.tokenmeter.testkit;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.logic.UsageTotals;
import io.tokenmeter.testkit.GeneratedRecord.Kind;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a correct pipeline must make of a workload: billed usage per account and billing day, and
 * how many records were duplicates or must be rejected.
 */
public final class ExpectedTotals {

    /** An account and one of its billing days. */
    public record AccountDay(String accountId, LocalDate day) implements Comparable<AccountDay> {
        @Override
        public int compareTo(AccountDay o) {
            int c = accountId.compareTo(o.accountId);
            return c != 0 ? c : day.compareTo(o.day);
        }
    }

    private final ZoneId billingZone;
    private final Map<AccountDay, UsageTotals> billed = new HashMap<>();
    private final EnumMap<Kind, Long> records = new EnumMap<>(Kind.class);

    public ExpectedTotals(ZoneId billingZone) {
        this.billingZone = billingZone;
        for (Kind kind : Kind.values()) {
            records.put(kind, 0L);
        }
    }

    public void add(GeneratedRecord record) {
        records.merge(record.kind(), 1L, Long::sum);
        if (record.kind().billed()) {
            UsageEvent e = record.event();
            AccountDay key =
                    new AccountDay(
                            e.getAccountId(), LocalDate.ofInstant(e.getEventTime(), billingZone));
            billed.computeIfAbsent(key, k -> new UsageTotals())
                    .addEvent(e.getInputTokens(), e.getOutputTokens(), e.getCachedTokens());
        }
    }

    /**
     * Adds a record produced a second time (the same input replayed within the dedup horizon):
     * whatever was billed or already a duplicate is now a duplicate; whatever was rejected is
     * rejected again, for the same reason.
     */
    public void addReplayed(GeneratedRecord record) {
        records.merge(record.kind().rejected() ? record.kind() : Kind.DUPLICATE, 1L, Long::sum);
    }

    public Map<AccountDay, UsageTotals> billedByAccountDay() {
        return billed;
    }

    public long records(Kind kind) {
        return records.get(kind);
    }

    public long totalRecords() {
        return records.values().stream().mapToLong(Long::longValue).sum();
    }

    public long rejectedRecords() {
        return rejectedByReason().values().stream().mapToLong(Long::longValue).sum();
    }

    /** How many records the job must reject, by the reason it must give. */
    public Map<RejectReason, Long> rejectedByReason() {
        Map<RejectReason, Long> byReason = new EnumMap<>(RejectReason.class);
        for (Kind kind : Kind.values()) {
            if (kind.rejected() && records(kind) > 0) {
                byReason.put(kind.rejectReason(), records(kind));
            }
        }
        return byReason;
    }

    public long billedTokens() {
        return billed.values().stream().mapToLong(UsageTotals::totalTokens).sum();
    }

    public long billedEvents() {
        return billed.values().stream().mapToLong(t -> t.events).sum();
    }

    /**
     * Writes the expected billing as CSV: account_id, billing_day, input, output, cached, total
     * tokens, events.
     */
    public void writeCsv(Path file) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(file)) {
            w.write(
                    "account_id,billing_day,input_tokens,output_tokens,cached_tokens,total_tokens,events\n");
            for (Map.Entry<AccountDay, UsageTotals> e : new TreeMap<>(billed).entrySet()) {
                UsageTotals t = e.getValue();
                w.write(
                        e.getKey().accountId()
                                + ","
                                + e.getKey().day()
                                + ","
                                + t.inputTokens
                                + ","
                                + t.outputTokens
                                + ","
                                + t.cachedTokens
                                + ","
                                + t.totalTokens()
                                + ","
                                + t.events
                                + "\n");
            }
        }
    }
}
