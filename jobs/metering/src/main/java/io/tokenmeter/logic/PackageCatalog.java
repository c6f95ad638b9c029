package io.tokenmeter.logic;

import io.tokenmeter.avro.Modality;
import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
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
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The token packages on sale (config/packages.yaml, format in docs/packages.md): how usage converts to package
 * units, the notice thresholds, and per package its allowance, validity, priority, rollover limit and tariffs.
 * Loaded and validated once on the client; the job ships it to the TaskManagers inside its functions.
 */
public record PackageCatalog(
        String currency,
        List<Integer> thresholds,
        Map<Modality, UnitRates> units,
        Map<String, Plan> packages) implements Serializable {

    /** Package units per token of each type, for one modality. */
    public record UnitRates(long input, long output, long cached) implements Serializable {

        public long units(long inputTokens, long outputTokens, long cachedTokens) {
            return Math.addExact(Math.addExact(Math.multiplyExact(inputTokens, input),
                    Math.multiplyExact(outputTokens, output)), Math.multiplyExact(cachedTokens, cached));
        }
    }

    /** One package: {@code validityDays} is 0 for calendar months in the billing zone. */
    public record Plan(String id, long includedUnits, int validityDays, int priority, long rolloverLimit,
            List<Tariff> tariffs) implements Serializable {

        /** The tariff in force at {@code time}: the latest effective at or before it, else the earliest. */
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

    /** From {@code effectiveFrom} (epoch millis, a whole local hour) on, overage costs this per million units. */
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

    /** Reads and validates {@code file}; local times in it are in {@code zone}. Errors name the offending path. */
    public static PackageCatalog load(Path file, ZoneId zone) {
        Object root;
        try (Reader reader = Files.newBufferedReader(file)) {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read package catalog " + file, e);
        }
        try {
            return parse(root, zone);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("package catalog " + file + ": " + e.getMessage(), e);
        }
    }

    /** Validates a parsed YAML document (see {@link #load}). */
    public static PackageCatalog parse(Object root, ZoneId zone) {
        Map<?, ?> doc = map(root, "(document)");
        known(doc, "", Set.of("currency", "thresholds", "units", "packages"));
        String currency = text(doc.get("currency"), "currency");
        List<Integer> thresholds = new ArrayList<>();
        if (doc.get("thresholds") == null) {
            thresholds.addAll(DEFAULT_THRESHOLDS);
        } else {
            List<?> list = list(doc.get("thresholds"), "thresholds");
            for (int i = 0; i < list.size(); i++) {
                int t = (int) number(list.get(i), "thresholds[" + i + "]", 1, 1000);
                check(!thresholds.contains(t), "thresholds[" + i + "]", "repeats " + t);
                thresholds.add(t);
            }
            check(!thresholds.isEmpty(), "thresholds", "must name at least one percentage");
        }
        thresholds.sort(Comparator.naturalOrder());

        Map<?, ?> unitsDoc = map(doc.get("units"), "units");
        Map<Modality, UnitRates> units = new EnumMap<>(Modality.class);
        for (Object key : unitsDoc.keySet()) {
            Modality modality;
            try {
                modality = Modality.valueOf(String.valueOf(key));
            } catch (IllegalArgumentException e) {
                throw problem("units." + key, "is not a modality; expected one of " + List.of(Modality.values()));
            }
            String path = "units." + key;
            Map<?, ?> rates = map(unitsDoc.get(key), path);
            known(rates, path + ".", Set.of("input", "output", "cached"));
            units.put(modality, new UnitRates(number(rates.get("input"), path + ".input", 0, 1_000_000),
                    number(rates.get("output"), path + ".output", 0, 1_000_000),
                    number(rates.get("cached"), path + ".cached", 0, 1_000_000)));
        }
        for (Modality modality : Modality.values()) {
            check(units.containsKey(modality), "units." + modality, "is missing: every modality needs unit rates");
        }

        List<?> packageList = list(doc.get("packages"), "packages");
        check(!packageList.isEmpty(), "packages", "must list at least one package");
        Map<String, Plan> packages = new LinkedHashMap<>();
        for (int i = 0; i < packageList.size(); i++) {
            Plan plan = plan(packageList.get(i), "packages[" + i + "]", zone);
            check(!packages.containsKey(plan.id()), "packages[" + i + "].id", "repeats '" + plan.id() + "'");
            packages.put(plan.id(), plan);
        }
        return new PackageCatalog(currency, thresholds, units, packages);
    }

    private static Plan plan(Object node, String path, ZoneId zone) {
        Map<?, ?> doc = map(node, path);
        known(doc, path + ".", Set.of("id", "included-units", "validity", "priority", "rollover-limit", "tariffs"));
        String id = text(doc.get("id"), path + ".id");
        check(!id.contains("/"), path + ".id", "must not contain '/'");
        long included = number(doc.get("included-units"), path + ".included-units", 1, Long.MAX_VALUE / 1000);
        String validity = text(doc.get("validity"), path + ".validity").trim();
        int days;
        if (validity.equals("month")) {
            days = 0;
        } else if (validity.matches("[0-9]{1,3} days?")) {
            days = Integer.parseInt(validity.split(" ")[0]);
            check(days >= 1, path + ".validity", "must be at least 1 day");
        } else {
            throw problem(path + ".validity", "'" + validity + "' is neither 'month' nor 'N days'");
        }
        int priority = (int) number(doc.get("priority"), path + ".priority", 0, 1000);
        long rollover = doc.get("rollover-limit") == null
                ? 0 : number(doc.get("rollover-limit"), path + ".rollover-limit", 0, included);
        List<?> tariffList = list(doc.get("tariffs"), path + ".tariffs");
        check(!tariffList.isEmpty(), path + ".tariffs", "must list at least one tariff");
        List<Tariff> tariffs = new ArrayList<>();
        for (int t = 0; t < tariffList.size(); t++) {
            String tPath = path + ".tariffs[" + t + "]";
            Map<?, ?> tariff = map(tariffList.get(t), tPath);
            known(tariff, tPath + ".", Set.of("effective-from", "overage-price-per-million"));
            String from = text(tariff.get("effective-from"), tPath + ".effective-from");
            LocalDateTime local;
            try {
                local = LocalDateTime.parse(from);
            } catch (DateTimeParseException e) {
                throw problem(tPath + ".effective-from", "'" + from + "' is not a local date-time like 2025-03-15T00:00");
            }
            // Usage reaches the balances summed per local hour, so a tariff can only start on an hour.
            check(local.getMinute() == 0 && local.getSecond() == 0 && local.getNano() == 0,
                    tPath + ".effective-from", "must be a whole hour, was " + from);
            long effectiveFrom = local.atZone(zone).toInstant().toEpochMilli();
            check(tariffs.isEmpty() || tariffs.get(tariffs.size() - 1).effectiveFrom() < effectiveFrom,
                    tPath + ".effective-from", "must be later than the tariff before it");
            tariffs.add(new Tariff(effectiveFrom, number(tariff.get("overage-price-per-million"),
                    tPath + ".overage-price-per-million", 0, 1_000_000_000)));
        }
        return new Plan(id, included, days, priority, rollover, List.copyOf(tariffs));
    }

    private static Map<?, ?> map(Object node, String path) {
        if (node instanceof Map<?, ?> m) {
            return m;
        }
        throw problem(path, node == null ? "is missing" : "must be a mapping");
    }

    private static List<?> list(Object node, String path) {
        if (node instanceof List<?> l) {
            return l;
        }
        throw problem(path, node == null ? "is missing" : "must be a list");
    }

    private static String text(Object node, String path) {
        if (node == null || String.valueOf(node).isBlank()) {
            throw problem(path, "is missing");
        }
        return String.valueOf(node);
    }

    private static long number(Object node, String path, long min, long max) {
        if (node == null) {
            throw problem(path, "is missing");
        }
        if (!(node instanceof Integer || node instanceof Long)) {
            throw problem(path, "must be a whole number, was '" + node + "'");
        }
        long value = ((Number) node).longValue();
        check(value >= min && value <= max, path, "must be between " + min + " and " + max + ", was " + value);
        return value;
    }

    private static void known(Map<?, ?> doc, String prefix, Set<String> keys) {
        for (Object key : doc.keySet()) {
            check(keys.contains(String.valueOf(key)), prefix + key, "is not a known key; known: " + keys);
        }
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
