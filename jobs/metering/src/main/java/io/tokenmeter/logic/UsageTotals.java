package io.tokenmeter.logic;

import java.util.Objects;

/**
 * Token and event counts of one line of usage. A Flink POJO (public no-argument constructor and
 * fields) so it can live in keyed state without Kryo. Counts are exact 64-bit integers; adding past
 * {@link Long#MAX_VALUE} throws rather than wraps.
 */
public class UsageTotals {

    public long inputTokens;
    public long outputTokens;
    public long cachedTokens;
    public long events;

    public UsageTotals() {}

    public UsageTotals(long inputTokens, long outputTokens, long cachedTokens, long events) {
        this.inputTokens = inputTokens;
        this.outputTokens = outputTokens;
        this.cachedTokens = cachedTokens;
        this.events = events;
    }

    /** Adds one event's tokens. */
    public UsageTotals addEvent(long input, long output, long cached) {
        inputTokens = Math.addExact(inputTokens, input);
        outputTokens = Math.addExact(outputTokens, output);
        cachedTokens = Math.addExact(cachedTokens, cached);
        events = Math.addExact(events, 1);
        return this;
    }

    public UsageTotals add(UsageTotals other) {
        inputTokens = Math.addExact(inputTokens, other.inputTokens);
        outputTokens = Math.addExact(outputTokens, other.outputTokens);
        cachedTokens = Math.addExact(cachedTokens, other.cachedTokens);
        events = Math.addExact(events, other.events);
        return this;
    }

    public long totalTokens() {
        return Math.addExact(Math.addExact(inputTokens, outputTokens), cachedTokens);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UsageTotals t
                && inputTokens == t.inputTokens
                && outputTokens == t.outputTokens
                && cachedTokens == t.cachedTokens
                && events == t.events;
    }

    @Override
    public int hashCode() {
        return Objects.hash(inputTokens, outputTokens, cachedTokens, events);
    }

    @Override
    public String toString() {
        return "UsageTotals{input="
                + inputTokens
                + ", output="
                + outputTokens
                + ", cached="
                + cachedTokens
                + ", events="
                + events
                + '}';
    }
}
