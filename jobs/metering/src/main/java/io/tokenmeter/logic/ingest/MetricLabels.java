package io.tokenmeter.logic.ingest;

import java.io.Serializable;
import java.util.Locale;
import java.util.Set;

/**
 * The only source of metric label values. Every label takes values from a small fixed set, so the
 * number of time series stays bounded whatever the input holds: regions and models outside the
 * configured lists fold into {@link #OTHER}, and nothing that identifies an account or an event can
 * become a label.
 */
public final class MetricLabels implements Serializable {

    public static final String OTHER = "other";

    private final Set<String> regions;
    private final Set<String> models;

    /**
     * @param regions region codes that get their own label value
     * @param models the top models that get their own label value
     */
    public MetricLabels(Set<String> regions, Set<String> models) {
        this.regions = Set.copyOf(regions);
        this.models = Set.copyOf(models);
    }

    public String region(String region) {
        return regions.contains(region) ? region : OTHER;
    }

    public String model(String model) {
        return models.contains(model) ? model : OTHER;
    }

    /** Enum constants (modality, reject reason, record kind) as lower-case label values. */
    public static String of(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    /** How many distinct values {@link #region} and {@link #model} can return. */
    public int regionValues() {
        return regions.size() + 1;
    }

    public int modelValues() {
        return models.size() + 1;
    }
}
