package io.tokenmeter.logic.billing;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.state.UsageLineState;
import io.tokenmeter.logic.UsagePartial;
import java.util.List;

/** Usage lines (one per model and modality) as kept in state. */
public final class UsageLines {

    private UsageLines() {}

    /** Adds usage to the line of its model and modality, starting that line if there is none. */
    public static void add(
            List<UsageLineState> lines,
            String model,
            Modality modality,
            long inputTokens,
            long outputTokens,
            long cachedTokens,
            long events) {
        addTokens(
                findOrAdd(lines, model, modality), inputTokens, outputTokens, cachedTokens, events);
    }

    /**
     * Adds usage with its package rating (units drawn from packages, overage units and their exact
     * price) to the line of its model and modality, starting that line if there is none.
     */
    public static void add(List<UsageLineState> lines, UsagePartial usage) {
        UsageLineState line = findOrAdd(lines, usage.model, usage.modality);
        addTokens(line, usage.inputTokens, usage.outputTokens, usage.cachedTokens, usage.events);
        line.setIncludedUnits(Math.addExact(line.getIncludedUnits(), usage.includedUnits));
        line.setOverageUnits(Math.addExact(line.getOverageUnits(), usage.overageUnits));
        line.setOverageMicros(Math.addExact(line.getOverageMicros(), usage.overageMicros));
    }

    private static void addTokens(
            UsageLineState line,
            long inputTokens,
            long outputTokens,
            long cachedTokens,
            long events) {
        line.setInputTokens(Math.addExact(line.getInputTokens(), inputTokens));
        line.setOutputTokens(Math.addExact(line.getOutputTokens(), outputTokens));
        line.setCachedTokens(Math.addExact(line.getCachedTokens(), cachedTokens));
        line.setEvents(Math.addExact(line.getEvents(), events));
    }

    /**
     * Adds every line of {@code from} to the line of the same model and modality in {@code into}.
     */
    public static void addAll(List<UsageLineState> into, List<UsageLineState> from) {
        for (UsageLineState line : from) {
            UsageLineState target = findOrAdd(into, line.getModel(), line.getModality());
            target.setInputTokens(Math.addExact(target.getInputTokens(), line.getInputTokens()));
            target.setOutputTokens(Math.addExact(target.getOutputTokens(), line.getOutputTokens()));
            target.setCachedTokens(Math.addExact(target.getCachedTokens(), line.getCachedTokens()));
            target.setEvents(Math.addExact(target.getEvents(), line.getEvents()));
            target.setIncludedUnits(
                    Math.addExact(target.getIncludedUnits(), line.getIncludedUnits()));
            target.setOverageUnits(Math.addExact(target.getOverageUnits(), line.getOverageUnits()));
            target.setOverageMicros(
                    Math.addExact(target.getOverageMicros(), line.getOverageMicros()));
        }
    }

    private static UsageLineState findOrAdd(
            List<UsageLineState> lines, String model, Modality modality) {
        for (UsageLineState line : lines) {
            if (line.getModality() == modality && line.getModel().equals(model)) {
                return line;
            }
        }
        UsageLineState line =
                UsageLineState.newBuilder()
                        .setModel(model)
                        .setModality(modality)
                        .setInputTokens(0)
                        .setOutputTokens(0)
                        .setCachedTokens(0)
                        .setEvents(0)
                        .setIncludedUnits(0)
                        .setOverageUnits(0)
                        .setOverageMicros(0)
                        .build();
        lines.add(line);
        return line;
    }
}
