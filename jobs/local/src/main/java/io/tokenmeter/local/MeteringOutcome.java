package io.tokenmeter.local;

import io.tokenmeter.avro.BillingLineItem;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.BillingRecordKind;
import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.local.ExpectedTotals.AccountDay;
import io.tokenmeter.logic.UsageTotals;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.schema.DecodeException;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** What the metering job wrote, read back from its output topics the way a billing system would. */
public final class MeteringOutcome {

    private final Map<AccountDay, UsageTotals> billed = new HashMap<>();
    private final EnumMap<BillingRecordKind, Long> billingRecords = new EnumMap<>(BillingRecordKind.class);
    private final EnumMap<RejectReason, Long> rejected = new EnumMap<>(RejectReason.class);
    private final Set<String> recordIds = new HashSet<>();
    private long repeatedRecordIds;
    private long billedTokens;
    private long eventsInAdjustments;

    /** Reads the billing and rejected topics to their ends with read_committed. */
    public static MeteringOutcome read(KafkaTopics kafka, String billingTopic, String rejectedTopic) {
        MeteringOutcome outcome = new MeteringOutcome();
        AvroCodec<BillingRecord> billingCodec = AvroCodec.billingRecords();
        AvroCodec<RejectedRecord> rejectedCodec = AvroCodec.rejectedRecords();
        kafka.readCommitted(billingTopic, r -> outcome.addBilling(decode(billingCodec, r.value(), billingTopic)));
        kafka.readCommitted(rejectedTopic, r -> outcome.addRejected(decode(rejectedCodec, r.value(), rejectedTopic)));
        return outcome;
    }

    void addBilling(BillingRecord record) {
        billingRecords.merge(record.getKind(), 1L, Long::sum);
        if (!recordIds.add(record.getRecordId())) {
            repeatedRecordIds++;
        }
        UsageTotals totals = billed.computeIfAbsent(
                new AccountDay(record.getAccountId(), record.getBillingDay()), k -> new UsageTotals());
        for (BillingLineItem line : record.getLineItems()) {
            totals.add(new UsageTotals(line.getInputTokens(), line.getOutputTokens(), line.getCachedTokens(),
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

    private static <T extends org.apache.avro.specific.SpecificRecord> T decode(
            AvroCodec<T> codec, byte[] value, String topic) {
        try {
            return codec.decode(value);
        } catch (DecodeException e) {
            throw new IllegalStateException("the job wrote an unreadable record to " + topic + ": " + e.getMessage());
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
