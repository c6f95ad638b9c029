package io.tokenmeter.testkit;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.LedgerEntry;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.UsageGranularity;
import io.tokenmeter.logic.UsageTotals;
import io.tokenmeter.logic.rollups.AreaRollups;
import io.tokenmeter.metering.MeteringConfig;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.schema.DecodeException;
import io.tokenmeter.schema.RegistryWriterSchemas;
import io.tokenmeter.schema.SchemaRegistryClient;
import io.tokenmeter.testkit.ExpectedTotals.AccountDay;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.specific.SpecificRecord;

/** What the metering job wrote, read back from its output topics the way a billing system would. */
public final class MeteringOutcome {

    /**
     * The job's ledger behind I1, summed over all its committed entries.
     *
     * @param read records the job read from its source, valid or not
     * @param duplicates retries the job dropped
     * @param rejected records the job sent to the rejected topic
     * @param entries ledger entries summed
     */
    public record Ledger(long read, long duplicates, long rejected, long entries) {}

    private final Map<AccountDay, UsageTotals> billed = new HashMap<>();
    private final EnumMap<BillingRecordKind, Long> billingRecords =
            new EnumMap<>(BillingRecordKind.class);
    private final EnumMap<RejectReason, Long> rejected = new EnumMap<>(RejectReason.class);
    private final Set<String> recordIds = new HashSet<>();
    private long repeatedRecordIds;
    private long billedTokens;
    private long eventsInAdjustments;
    private long ledgerRead;
    private long ledgerDuplicates;
    private long ledgerRejected;
    private long ledgerEntries;

    /** Usage summed per window and dimension, as the rollups see it. */
    private final Map<String, UsageTotals> accountUsageByArea = new HashMap<>();

    private final Map<String, UsageTotals> regionalUsage = new HashMap<>();
    private final Map<String, UsageTotals> nationalUsage = new HashMap<>();

    /** Account usage per account and billing day, from the hourly rows and from the daily rows. */
    private final Map<AccountDay, UsageTotals> accountHourRowsByDay = new HashMap<>();

    private final Map<AccountDay, UsageTotals> accountDayRows = new HashMap<>();

    /**
     * Reads every output topic of the job to its end with read_committed, in either framing (the
     * registry's, when {@code schema-registry.url} is set).
     */
    public static MeteringOutcome read(KafkaTopics kafka, MeteringConfig config) {
        MeteringOutcome outcome = new MeteringOutcome();
        RegistryWriterSchemas registry =
                config.schemaRegistry().enabled()
                        ? new SchemaRegistryClient(config.schemaRegistry().settings())
                        : RegistryWriterSchemas.notConfigured("schema-registry.url is empty");
        AvroCodec<BillingRecord> billingCodec =
                AvroCodec.billingRecords().withRegistry(registry, 100);
        AvroCodec<RejectedRecord> rejectedCodec =
                AvroCodec.rejectedRecords().withRegistry(registry, 100);
        AvroCodec<AccountUsage> accountCodec = AvroCodec.accountUsage().withRegistry(registry, 100);
        AvroCodec<AreaUsage> areaCodec = AvroCodec.areaUsage().withRegistry(registry, 100);
        String billing = config.kafka().topics().billing();
        String rejected = config.kafka().topics().rejected();
        kafka.readCommitted(
                billing, r -> outcome.addBilling(decode(billingCodec, r.value(), billing)));
        kafka.readCommitted(
                rejected, r -> outcome.addRejected(decode(rejectedCodec, r.value(), rejected)));
        String accounts = config.kafka().topics().accountUsage();
        kafka.readCommitted(
                accounts, r -> outcome.addAccountUsage(decode(accountCodec, r.value(), accounts)));
        String regional = config.kafka().topics().regionalUsage();
        kafka.readCommitted(
                regional, r -> add(outcome.regionalUsage, decode(areaCodec, r.value(), regional)));
        String national = config.kafka().topics().nationalUsage();
        kafka.readCommitted(
                national, r -> add(outcome.nationalUsage, decode(areaCodec, r.value(), national)));
        AvroCodec<LedgerEntry> ledgerCodec = AvroCodec.ledgerEntries().withRegistry(registry, 100);
        String ledger = config.kafka().topics().ledger();
        kafka.readCommitted(
                ledger, r -> outcome.addLedgerEntry(decode(ledgerCodec, r.value(), ledger)));
        return outcome;
    }

    void addAccountUsage(AccountUsage row) {
        UsageTotals totals =
                new UsageTotals(
                        row.getInputTokens(),
                        row.getOutputTokens(),
                        row.getCachedTokens(),
                        row.getEvents());
        accountUsageByArea
                .computeIfAbsent(
                        areaKey(
                                row.getGranularity(),
                                row.getWindowStart().toEpochMilli(),
                                row.getRegion(),
                                row.getModality().name(),
                                row.getModel()),
                        k -> new UsageTotals())
                .add(totals);
        Map<AccountDay, UsageTotals> byDay =
                row.getGranularity() == UsageGranularity.HOUR
                        ? accountHourRowsByDay
                        : accountDayRows;
        byDay.computeIfAbsent(
                        new AccountDay(row.getAccountId(), row.getBillingDay()),
                        k -> new UsageTotals())
                .add(totals);
    }

    private static void add(Map<String, UsageTotals> sums, AreaUsage row) {
        sums.computeIfAbsent(
                        areaKey(
                                row.getGranularity(),
                                row.getWindowStart().toEpochMilli(),
                                row.getRegion(),
                                row.getModality().name(),
                                row.getModel()),
                        k -> new UsageTotals())
                .add(
                        new UsageTotals(
                                row.getInputTokens(),
                                row.getOutputTokens(),
                                row.getCachedTokens(),
                                row.getEvents()));
    }

    private static String areaKey(
            UsageGranularity granularity,
            long windowStart,
            String region,
            String modality,
            String model) {
        return granularity + "|" + windowStart + "|" + region + "|" + modality + "|" + model;
    }

    /**
     * I3 and the consistency of the usage outputs with billing: regional sums equal the sums over
     * accounts, national sums equal the sums over regions (per window, model and modality, hourly
     * and daily), and account usage per day — from hourly rows and from daily rows — equals what
     * was billed.
     *
     * @return what does not add up; empty when everything does
     */
    public List<String> rollupMismatches() {
        List<String> problems = new ArrayList<>();
        if (!regionalUsage.equals(accountUsageByArea)) {
            problems.add("regional usage differs from the sum over accounts");
        }
        Map<String, UsageTotals> regionsSummed = new HashMap<>();
        regionalUsage.forEach(
                (key, totals) -> {
                    String[] k = key.split("\\|", 5);
                    regionsSummed
                            .computeIfAbsent(
                                    k[0]
                                            + "|"
                                            + k[1]
                                            + "|"
                                            + AreaRollups.NATIONAL
                                            + "|"
                                            + k[3]
                                            + "|"
                                            + k[4],
                                    x -> new UsageTotals())
                            .add(totals);
                });
        if (!nationalUsage.equals(regionsSummed)) {
            problems.add("national usage differs from the sum over regions");
        }
        if (!accountDayRows.equals(billed)) {
            problems.add("daily account usage differs from the billing records");
        }
        if (!accountHourRowsByDay.equals(billed)) {
            problems.add("hourly account usage, summed per day, differs from the billing records");
        }
        if (nationalUsage.isEmpty() && !billed.isEmpty()) {
            problems.add("no national usage at all");
        }
        return problems;
    }

    void addBilling(BillingRecord record) {
        billingRecords.merge(record.getKind(), 1L, Long::sum);
        if (!recordIds.add(record.getRecordId())) {
            repeatedRecordIds++;
        }
        UsageTotals totals =
                billed.computeIfAbsent(
                        new AccountDay(record.getAccountId(), record.getBillingDay()),
                        k -> new UsageTotals());
        for (BillingLineItem line : record.getLineItems()) {
            totals.add(
                    new UsageTotals(
                            line.getInputTokens(),
                            line.getOutputTokens(),
                            line.getCachedTokens(),
                            line.getEvents()));
        }
        billedTokens += record.getTotalTokens();
        if (record.getKind() == BillingRecordKind.ADJUSTMENT) {
            eventsInAdjustments += record.getEvents();
        }
    }

    void addRejected(RejectedRecord record) {
        rejected.merge(record.getReason(), 1L, Long::sum);
    }

    void addLedgerEntry(LedgerEntry entry) {
        ledgerRead += entry.getRecordsRead();
        ledgerDuplicates += entry.getDuplicates();
        ledgerRejected += entry.getRejected();
        ledgerEntries++;
    }

    /**
     * The job's own count of what it read, dropped as duplicates and rejected: the sum of its
     * ledger entries.
     */
    public Ledger ledger() {
        return new Ledger(ledgerRead, ledgerDuplicates, ledgerRejected, ledgerEntries);
    }

    private static <T extends SpecificRecord> T decode(
            AvroCodec<T> codec, byte[] value, String topic) {
        try {
            return codec.decode(value);
        } catch (DecodeException e) {
            throw new IllegalStateException(
                    "the job wrote an unreadable record to " + topic + ": " + e.getMessage());
        }
    }

    /** Billed usage per account and day, summed over all versions of its billing records. */
    public Map<AccountDay, UsageTotals> billedByAccountDay() {
        return billed;
    }

    public long billedTokens() {
        return billedTokens;
    }

    public long billingRecords() {
        return billingRecords.values().stream().mapToLong(Long::longValue).sum();
    }

    public long billingRecords(BillingRecordKind kind) {
        return billingRecords.getOrDefault(kind, 0L);
    }

    /** Events billed through ADJUSTMENT records: the late events. */
    public long eventsInAdjustments() {
        return eventsInAdjustments;
    }

    /** How many billing records repeated an id already seen: 0 when output is exactly once. */
    public long repeatedRecordIds() {
        return repeatedRecordIds;
    }

    public long rejected() {
        return rejected.values().stream().mapToLong(Long::longValue).sum();
    }

    public Map<RejectReason, Long> rejectedByReason() {
        return rejected;
    }
}
