package io.tokenmeter.functions;

import io.tokenmeter.metering.FaultConfig;
import io.tokenmeter.metering.FaultConfig.Fault;
import io.tokenmeter.metering.OperatorIds;
import java.util.Locale;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fault suite's hook: fails the job at a precise point of the checkpoint cycle, once. Inert (a
 * pass-through) unless {@code faults.inject} is set; always in the graph under the same uid,
 * holding no state, so savepoints taken with and without faults restore into each other.
 *
 * <p>Only subtask 0 in its first attempt injects, after {@code faults.after-checkpoints}
 * checkpoints completed, so the job recovers from the fault instead of meeting it again after every
 * restart.
 */
public final class FaultInjection<T> extends RichMapFunction<T, T>
        implements CheckpointedFunction, CheckpointListener {

    /**
     * Thrown by {@link Fault#FAIL_BEFORE_BARRIER}; its name shows in the job's exception history.
     */
    public static final class InjectedFault extends RuntimeException {
        InjectedFault(String message) {
            super(message);
        }
    }

    /** Exit status of a TaskManager killed by this hook, for its log. */
    static final int HALT_STATUS = 137;

    /** Long enough for the synchronous part to return, short against any checkpoint's upload. */
    private static final long ASYNC_PART_DELAY_MS = 20;

    private static final Logger LOG = LoggerFactory.getLogger(FaultInjection.class);

    private final Fault fault;
    private final int afterCheckpoints;

    private transient boolean armed;
    private transient int completedCheckpoints;

    public FaultInjection(Fault fault, int afterCheckpoints) {
        this.fault = fault;
        this.afterCheckpoints = afterCheckpoints;
    }

    /**
     * {@code stream} followed by the hook as {@code faults} sets it, chained to it under its stable
     * uid.
     */
    public static <T> SingleOutputStreamOperator<T> after(
            SingleOutputStreamOperator<T> stream, FaultConfig faults) {
        return stream.map(new FaultInjection<T>(faults.inject(), faults.afterCheckpoints()))
                .returns(stream.getType())
                .uid(OperatorIds.FAULT_INJECTION)
                .name("Fault injection (" + faults.inject().name().toLowerCase(Locale.ROOT) + ")");
    }

    @Override
    public void open(OpenContext openContext) {
        var task = getRuntimeContext().getTaskInfo();
        armed =
                fault != Fault.NONE
                        && task.getIndexOfThisSubtask() == 0
                        && task.getAttemptNumber() == 0;
    }

    @Override
    public T map(T value) {
        if (due(Fault.FAIL_BEFORE_BARRIER)) {
            armed = false;
            throw new InjectedFault(
                    "injected task failure after checkpoint "
                            + completedCheckpoints
                            + ", before the next barrier");
        }
        return value;
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) {
        if (due(Fault.KILL_DURING_SNAPSHOT)) {
            armed = false;
            // Halting here would hold back the barrier; halting from beside the task a moment after
            // this synchronous part returns lands in the asynchronous part, which starts right
            // after it.
            long checkpointId = context.getCheckpointId();
            Thread killer =
                    new Thread(
                            () -> {
                                try {
                                    Thread.sleep(ASYNC_PART_DELAY_MS);
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                                halt("during the asynchronous part of checkpoint " + checkpointId);
                            },
                            "fault-injection");
            killer.setDaemon(true);
            killer.start();
        }
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        completedCheckpoints++;
        if (due(Fault.KILL_AFTER_CHECKPOINT)) {
            halt(
                    "after checkpoint "
                            + checkpointId
                            + " completed, before its Kafka transactions commit");
        }
    }

    @Override
    public void initializeState(FunctionInitializationContext context) {
        // No state: the hook must never make a savepoint depend on whether faults were injected.
    }

    private boolean due(Fault kind) {
        return armed && fault == kind && completedCheckpoints >= afterCheckpoints;
    }

    private static void halt(String when) {
        LOG.warn("Fault injection: halting this TaskManager {}", when);
        Runtime.getRuntime().halt(HALT_STATUS);
    }
}
