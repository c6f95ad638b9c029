package io.tokenmeter.testkit;

import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.logic.UsageTotals;
import io.tokenmeter.testkit.ExpectedTotals.AccountDay;
import io.tokenmeter.testkit.GeneratedRecord.Kind;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Checks a run's output against the workload's expected totals: conservation (I1), exactness per
 * account and day (I2), rollups that add up (I3) and unique billing record ids (I5).
 *
 * <p>Conservation is checked from the outputs alone, never derived: the job's own ledger (records
 * read, duplicates, rejected; {@link MeteringOutcome#ledger()}) against the billing records and the
 * rejected topic.
 *
 * @param rawRecords records on the raw topic, all of which the job must have read
 * @param differingAccountDays account-days whose billed usage differs from the expected usage
 *     (either way)
 */
public record Reconciliation(
        ExpectedTotals expected,
        MeteringOutcome outcome,
        long rawRecords,
        long differingAccountDays,
        List<String> sampleDifferences) {

    private static final int SAMPLE_DIFFERENCES = 10;

    public static Reconciliation of(
            ExpectedTotals expected, MeteringOutcome outcome, long rawRecords) {
        Set<AccountDay> keys = new HashSet<>(expected.billedByAccountDay().keySet());
        keys.addAll(outcome.billedByAccountDay().keySet());
        long differing = 0;
        List<String> samples = new ArrayList<>();
        for (AccountDay key : new TreeSet<>(keys)) {
            UsageTotals want = expected.billedByAccountDay().getOrDefault(key, new UsageTotals());
            UsageTotals got = outcome.billedByAccountDay().getOrDefault(key, new UsageTotals());
            if (!want.equals(got)) {
                differing++;
                if (samples.size() < SAMPLE_DIFFERENCES) {
                    samples.add(
                            key.accountId()
                                    + " "
                                    + key.day()
                                    + ": billed "
                                    + got
                                    + ", expected "
                                    + want);
                }
            }
        }
        return new Reconciliation(expected, outcome, rawRecords, differing, List.copyOf(samples));
    }

    public long billedEvents() {
        return outcome.billedByAccountDay().values().stream().mapToLong(t -> t.events).sum();
    }

    /** Records the job counted as duplicates, in its ledger. */
    public long duplicates() {
        return outcome.ledger().duplicates();
    }

    /**
     * I1 in the outputs: the ledger read every record on the raw topic once, and each of them is
     * accounted for.
     */
    public boolean ledgerBalances() {
        MeteringOutcome.Ledger ledger = outcome.ledger();
        return ledger.read() == rawRecords
                && ledger.read() == billedEvents() + ledger.duplicates() + outcome.rejected()
                && ledger.rejected() == outcome.rejected();
    }

    /**
     * I1: every record read is billed, counted as a duplicate, or rejected — each exactly once, and
     * each in the place the workload says.
     */
    public boolean conserved() {
        return ledgerBalances()
                && duplicates() == expected.records(Kind.DUPLICATE)
                && outcome.rejectedByReason().equals(expected.rejectedByReason());
    }

    /** I2: every account-day billed exactly as expected. */
    public boolean exact() {
        return differingAccountDays == 0 && outcome.billedTokens() == expected.billedTokens();
    }

    /** I3: regional and national usage add up, and account usage agrees with billing. */
    public boolean rollupsAddUp() {
        return outcome.rollupMismatches().isEmpty();
    }

    /** I5 (as far as one run shows it): no billing record id appears twice. */
    public boolean uniqueIds() {
        return outcome.repeatedRecordIds() == 0;
    }

    public boolean ok() {
        return rawRecords == expected.totalRecords()
                && conserved()
                && exact()
                && rollupsAddUp()
                && uniqueIds();
    }

    /** A human-readable summary, then the machine-readable RECONCILED line. */
    public List<String> report() {
        List<String> lines = new ArrayList<>();
        lines.add(
                String.format(
                        "  produced           %,15d  (new %,d · late %,d · duplicates %,d · to reject %,d)",
                        expected.totalRecords(),
                        expected.records(Kind.VALID),
                        expected.records(Kind.LATE),
                        expected.records(Kind.DUPLICATE),
                        expected.rejectedRecords()));
        MeteringOutcome.Ledger ledger = outcome.ledger();
        lines.add(
                String.format(
                        "  read by the job    %,15d  the job's ledger (%,d records on the raw topic)",
                        ledger.read(), rawRecords));
        lines.add(
                String.format(
                        "  billed events      %,15d  in the billing records, expected %,d",
                        billedEvents(), expected.billedEvents()));
        lines.add(
                String.format(
                        "  duplicates         %,15d  the job's ledger, expected %,d",
                        ledger.duplicates(), expected.records(Kind.DUPLICATE)));
        lines.add(
                String.format(
                        "  rejected           %,15d  on the rejected topic (ledger %,d), expected %,d",
                        outcome.rejected(), ledger.rejected(), expected.rejectedRecords()));
        lines.add("    by reason        " + byReason(outcome.rejectedByReason()));
        lines.add("    expected         " + byReason(expected.rejectedByReason()));
        lines.add(
                String.format(
                        "  ledger (I1)        %,15d  read %s %,d billed + %,d duplicates + %,d rejected",
                        ledger.read(),
                        ledger.read() == billedEvents() + ledger.duplicates() + outcome.rejected()
                                ? "="
                                : "≠",
                        billedEvents(),
                        ledger.duplicates(),
                        outcome.rejected()));
        lines.add(
                String.format(
                        "  billing records    %,15d  (%,d ORIGINAL · %,d ADJUSTMENT)",
                        outcome.billingRecords(),
                        outcome.billingRecords(BillingRecordKind.ORIGINAL),
                        outcome.billingRecords(BillingRecordKind.ADJUSTMENT)));
        lines.add(
                String.format(
                        "  adjustments        %,15d  late events billed in ADJUSTMENTs, expected %,d",
                        adjustments(), expected.records(Kind.LATE)));
        lines.add(
                String.format(
                        "  billed tokens      %,15d  expected %,d",
                        outcome.billedTokens(), expected.billedTokens()));
        lines.add(
                String.format(
                        "  account-days       %,15d  billed, %,d differ from expected",
                        outcome.billedByAccountDay().size(), differingAccountDays));
        sampleDifferences.forEach(d -> lines.add("    differs: " + d));
        outcome.rollupMismatches().forEach(problem -> lines.add("    rollups: " + problem));
        lines.add(
                String.format(
                        "  invariants         I1 conservation %s · I2 exactness %s · I3 rollups add up %s"
                                + " · I5 unique record ids %s",
                        verdict(conserved()),
                        verdict(exact()),
                        verdict(rollupsAddUp()),
                        verdict(uniqueIds())));
        lines.add(
                String.format(
                        "RECONCILED events=%d rejected=%d duplicates=%d adjustments=%d billing_records=%d"
                                + " billed_tokens=%d expected_tokens=%d status=%s",
                        ledger.read(),
                        outcome.rejected(),
                        ledger.duplicates(),
                        adjustments(),
                        outcome.billingRecords(),
                        outcome.billedTokens(),
                        expected.billedTokens(),
                        ok() ? "OK" : "MISMATCH"));
        return lines;
    }

    /** Late events billed as corrections (the events in all ADJUSTMENT records). */
    public long adjustments() {
        return outcome.eventsInAdjustments();
    }

    private static String byReason(Map<RejectReason, Long> reasons) {
        return new TreeMap<>(reasons)
                .entrySet().stream()
                        .map(e -> e.getKey() + " " + String.format("%,d", e.getValue()))
                        .collect(Collectors.joining(" · "));
    }

    private static String verdict(boolean ok) {
        return ok ? "OK" : "FAILED";
    }
}
