package io.tokenmeter.functions;

import io.tokenmeter.avro.LedgerEntry;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.logic.ingest.LedgerCounts;
import io.tokenmeter.logic.ingest.LedgerCounts.Column;
import java.io.Serializable;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

/**
 * Counts the records passing through it into the ledger behind I1 ({@link LedgerCounts}) and passes
 * them on unchanged. The counts live only in memory: they leave as {@link LedgerEntry} increments
 * on {@link #ENTRIES} before every checkpoint barrier and at the end of the input, so each count
 * travels to the ledger sink ahead of the barrier of the checkpoint that covers the records it
 * counts, and is committed in exactly that checkpoint's transaction. After a failure the counts not
 * yet committed are gone with the aborted transaction, and the records they counted are read and
 * counted again from the restored offsets. No state, so nothing to restore or rescale.
 */
public final class LedgerCounter<T> extends AbstractStreamOperator<T>
        implements OneInputStreamOperator<T, T> {

    public static final OutputTag<LedgerEntry> ENTRIES =
            new OutputTag<>("ledger-entries", TypeInformation.of(LedgerEntry.class));

    /** Where a record came from, and which column it counts in. */
    @FunctionalInterface
    public interface Posting<T> extends Serializable {
        void post(T record, LedgerCounts counts);
    }

    private final Posting<T> posting;
    private transient LedgerCounts counts;

    public LedgerCounter(Posting<T> posting) {
        this.posting = posting;
    }

    /** Every record read from the source, valid or rejected. */
    public static LedgerCounter<IngestedRecord> recordsRead() {
        return new LedgerCounter<>(
                (r, counts) -> counts.add(r.topic, r.partition, r.kafkaTimestamp, Column.READ));
    }

    /** Every retry dropped by deduplication. */
    public static LedgerCounter<IngestedRecord> duplicates() {
        return new LedgerCounter<>(
                (r, counts) ->
                        counts.add(r.topic, r.partition, r.kafkaTimestamp, Column.DUPLICATE));
    }

    /** Every raw record on its way to the rejected topic. */
    public static LedgerCounter<RejectedRecord> rejected() {
        return new LedgerCounter<>(
                (r, counts) ->
                        counts.add(
                                r.getSourceTopic(),
                                r.getSourcePartition(),
                                r.getSourceTimestamp().toEpochMilli(),
                                Column.REJECTED));
    }

    @Override
    public void open() throws Exception {
        super.open();
        counts = new LedgerCounts();
    }

    @Override
    public void processElement(StreamRecord<T> element) {
        posting.post(element.getValue(), counts);
        output.collect(element);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        emitCounts();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        emitCounts();
        super.finish();
    }

    private void emitCounts() {
        counts.drain(entry -> output.collect(ENTRIES, new StreamRecord<>(entry)));
    }
}
