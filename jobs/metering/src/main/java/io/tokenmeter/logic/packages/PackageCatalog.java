package io.tokenmeter.logic.packages;

import static io.tokenmeter.config.YamlBinding.require;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.tokenmeter.avro.Modality;
import io.tokenmeter.config.YamlBinding;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The token packages on sale (config/packages.yaml, format in docs/packages.md): how usage converts
 * to package units, the notice thresholds, and per package its allowance, validity, priority,
 * rollover limit and tariffs. Loaded and validated once on the client; the job ships it to the
 * TaskManagers inside its functions.
 */
public record PackageCatalog(
        String currency,
        List<Integer> thresholds,
        Map<Modality, UnitRates> units,
        Map<String, Plan> packages)
        implements Serializable {

    /** Package units per token of each type, for one modality. */
    public record UnitRates(long input, long output, long cached) implements Serializable {

        public long units(long inputTokens, long outputTokens, long cachedTokens) {
            return Math.addExact(
                    Math.addExact(
                            Math.multiplyExact(inputTokens, input),
                            Math.multiplyExact(outputTokens, output)),
                    Math.multiplyExact(cachedTokens, cached));
        }
    }

    /** One package: {@code validityDays} is 0 for calendar months in the billing zone. */
    public record Plan(
            String id,
            long includedUnits,
            int validityDays,
            int priority,
            long rolloverLimit,
            List<Tariff> tariffs)
            implements Serializable {

        /**
         * The tariff in force at {@code time}: the latest effective at or before it, else the
         * earliest.
         */
        public Tariff tariffAt(long time) {
            Tariff inForce = tariffs.get(0);
            for (Tariff tariff : tariffs) {
                if (tariff.effectiveFrom() <= time) {
                    inForce = tariff;
                }
            }
            return inForce;
        }
    }

    /**
     * From {@code effectiveFrom} (epoch millis, a whole local hour) on, overage costs this per
     * million units.
     */
    public record Tariff(long effectiveFrom, long overagePricePerMillion) implements Serializable {}

    public static final List<Integer> DEFAULT_THRESHOLDS = List.of(80, 100);

    public PackageCatalog {
        thresholds = List.copyOf(thresholds);
        units = Map.copyOf(units);
        packages = Map.copyOf(packages);
    }

    public Plan plan(String packageId) {
        Plan plan = packages.get(packageId);
        if (plan == null) {
            throw new IllegalArgumentException("package '" + packageId + "' is not in the catalog");
        }
        return plan;
    }

    public UnitRates rates(Modality modality) {
        return units.get(modality);
    }

    /** The one binding of catalog files; errors read {@code path: problem}. */
    private static final YamlBinding BINDING =
            new YamlBinding(YamlBinding.DOCUMENT, new SimpleModule());

    /**
     * Reads and validates {@code file}; local times in it are in {@code zone}. Errors name the
     * offending path.
     */
    public static PackageCatalog load(Path file, ZoneId zone) {
        JsonNode root = BINDING.readTree(file, "package catalog");
        try {
            return fromDocument(root, zone);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "package catalog " + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads and validates the YAML {@code text} of a catalog (see {@link #load}). */
    public static PackageCatalog parse(String text, ZoneId zone) {
        return fromDocument(BINDING.readTree(text), zone);
    }

    private static PackageCatalog fromDocument(JsonNode root, ZoneId zone) {
        CatalogFile doc = BINDING.bind(root, CatalogFile.class);
        Map<Modality, UnitRates> units = new EnumMap<>(Modality.class);
        doc.units()
                .forEach(
                        (key, rates) -> {
                            Modality modality;
                            try {
                                modality = Modality.valueOf(key);
                            } catch (IllegalArgumentException e) {
                                throw problem(
                                        "units." + key,
                                        "is not a modality; expected one of "
                                                + List.of(Modality.values()));
                            }
                            units.put(
                                    modality,
                                    new UnitRates(rates.input(), rates.output(), rates.cached()));
                        });
        for (Modality modality : Modality.values()) {
            check(
                    units.containsKey(modality),
                    "units." + modality,
                    "is missing: every modality needs unit rates");
        }
        Map<String, Plan> packages = new LinkedHashMap<>();
        for (int i = 0; i < doc.packages().size(); i++) {
            PlanFile plan = doc.packages().get(i);
            check(
                    !packages.containsKey(plan.id()),
                    "packages[" + i + "].id",
                    "repeats '" + plan.id() + "'");
            List<Tariff> tariffs = new ArrayList<>();
            for (int t = 0; t < plan.tariffs().size(); t++) {
                long effectiveFrom =
                        plan.tariffs()
                                .get(t)
                                .effectiveFrom()
                                .atZone(zone)
                                .toInstant()
                                .toEpochMilli();
                check(
                        tariffs.isEmpty()
                                || tariffs.get(tariffs.size() - 1).effectiveFrom() < effectiveFrom,
                        "packages[" + i + "].tariffs[" + t + "].effective-from",
                        "must be later than the tariff before it");
                tariffs.add(
                        new Tariff(effectiveFrom, plan.tariffs().get(t).overagePricePerMillion()));
            }
            packages.put(
                    plan.id(),
                    new Plan(
                            plan.id(),
                            plan.includedUnits(),
                            plan.validityDays(),
                            plan.priority().intValue(),
                            plan.rolloverLimit(),
                            List.copyOf(tariffs)));
        }
        List<Integer> thresholds = new ArrayList<>(doc.thresholdPercentages());
        thresholds.sort(Comparator.naturalOrder());
        return new PackageCatalog(doc.currency(), thresholds, units, packages);
    }

    /**
     * The catalog file as written; each record checks its own values, naming them relative to
     * itself.
     */
    private record CatalogFile(
            String currency,
            List<Long> thresholds,
            Map<String, RatesFile> units,
            List<PlanFile> packages) {

        CatalogFile {
            require(currency != null && !currency.isBlank(), "currency", "is missing");
            if (thresholds == null) {
                thresholds = DEFAULT_THRESHOLDS.stream().map(Long::valueOf).toList();
            }
            for (int i = 0; i < thresholds.size(); i++) {
                number(thresholds.get(i), "thresholds[" + i + "]", 1, 1000);
                require(
                        thresholds.indexOf(thresholds.get(i)) == i,
                        "thresholds[" + i + "]",
                        "repeats " + thresholds.get(i));
            }
            require(!thresholds.isEmpty(), "thresholds", "must name at least one percentage");
            require(units != null, "units", "is missing");
            require(packages != null, "packages", "is missing");
            require(!packages.isEmpty(), "packages", "must list at least one package");
        }

        List<Integer> thresholdPercentages() {
            return thresholds.stream().map(Long::intValue).toList();
        }
    }

    private record RatesFile(Long input, Long output, Long cached) {

        RatesFile {
            number(input, "input", 0, 1_000_000);
            number(output, "output", 0, 1_000_000);
            number(cached, "cached", 0, 1_000_000);
        }
    }

    private record PlanFile(
            String id,
            Long includedUnits,
            String validity,
            Long priority,
            Long rolloverLimit,
            List<TariffFile> tariffs) {

        PlanFile {
            require(id != null && !id.isBlank(), "id", "is missing");
            require(!id.contains("/"), "id", "must not contain '/'");
            number(includedUnits, "included-units", 1, Long.MAX_VALUE / 1000);
            require(validity != null && !validity.isBlank(), "validity", "is missing");
            validity = validity.trim();
            require(
                    validity.equals("month") || validity.matches("[0-9]{1,3} days?"),
                    "validity",
                    "'" + validity + "' is neither 'month' nor 'N days'");
            number(priority, "priority", 0, 1000);
            if (rolloverLimit == null) {
                rolloverLimit = 0L;
            }
            number(rolloverLimit, "rollover-limit", 0, includedUnits);
            require(tariffs != null, "tariffs", "is missing");
            require(!tariffs.isEmpty(), "tariffs", "must list at least one tariff");
            require(
                    days(validity) >= 1 || validity.equals("month"),
                    "validity",
                    "must be at least 1 day");
        }

        /** 0 for calendar months. */
        int validityDays() {
            return days(validity);
        }

        private static int days(String validity) {
            return validity.equals("month") ? 0 : Integer.parseInt(validity.split(" ")[0]);
        }
    }

    /** From {@code effectiveFrom}, a whole local hour, on. */
    private record TariffFile(LocalDateTime effectiveFrom, Long overagePricePerMillion) {

        @JsonCreator
        TariffFile(
                @JsonProperty("effective-from") String effectiveFrom,
                @JsonProperty("overage-price-per-million") Long overagePricePerMillion) {
            this(localHour(effectiveFrom), overagePricePerMillion);
            number(overagePricePerMillion, "overage-price-per-million", 0, 1_000_000_000);
        }

        private static LocalDateTime localHour(String text) {
            require(text != null && !text.isBlank(), "effective-from", "is missing");
            LocalDateTime local;
            try {
                local = LocalDateTime.parse(text);
            } catch (DateTimeParseException e) {
                throw new YamlBinding.InvalidValue(
                        "effective-from",
                        "'" + text + "' is not a local date-time like 2025-03-15T00:00");
            }
            // Usage reaches the balances summed per local hour, so a tariff can only start on an
            // hour.
            require(
                    local.getMinute() == 0 && local.getSecond() == 0 && local.getNano() == 0,
                    "effective-from",
                    "must be a whole hour, was " + text);
            return local;
        }
    }

    private static void number(Long value, String key, long min, long max) {
        require(value != null, key, "is missing");
        require(
                value >= min && value <= max,
                key,
                "must be between " + min + " and " + max + ", was " + value);
    }

    private static void check(boolean ok, String path, String problem) {
        if (!ok) {
            throw problem(path, problem);
        }
    }

    private static IllegalArgumentException problem(String path, String problem) {
        return new IllegalArgumentException(path + ": " + problem);
    }
}
