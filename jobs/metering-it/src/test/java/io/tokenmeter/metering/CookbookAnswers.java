package io.tokenmeter.metering;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.testkit.ExpectedTotals;
import io.tokenmeter.testkit.GeneratedRecord;
import io.tokenmeter.testkit.GeneratedRecord.Kind;
import io.tokenmeter.testkit.WorkloadGenerator;
import io.tokenmeter.testkit.WorkloadSpec;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * What each cookbook query (docs/analytics.md) must answer for a workload, worked out from the
 * generated records themselves, never from the job's output. Answers are rows of strings, as both
 * Flink and PostgreSQL print them.
 */
final class CookbookAnswers {

    /**
     * The docs' queries name the days of a workload from this start (with {@link
     * TestRuns#LONG_PAST}).
     */
    static final Instant START = Instant.parse("2026-11-01T00:00:00+08:00");

    static final LocalDate FIRST_DAY = LocalDate.of(2026, 11, 1);
    static final LocalDate SECOND_DAY = LocalDate.of(2026, 11, 2);
    static final long THRESHOLD = 1_000_000;

    private final List<UsageEvent> billed = new ArrayList<>();
    private final List<UsageEvent> late = new ArrayList<>();
    private final ExpectedTotals expected;
    private final ZoneId zone;

    CookbookAnswers(WorkloadSpec spec, ExpectedTotals expected) {
        this.expected = expected;
        this.zone = spec.billingZone();
        WorkloadGenerator generator = new WorkloadGenerator(spec);
        for (long i = 0; i < spec.events(); i++) {
            GeneratedRecord record = generator.record(i);
            if (record.kind().billed()) {
                billed.add(record.event());
            }
            if (record.kind() == Kind.LATE) {
                late.add(record.event());
            }
        }
    }

    /** Checks the rows a query returned against what it must answer. */
    void check(String query, List<List<String>> rows) {
        switch (query) {
            case "national-tokens-by-modality" ->
                    assertThat(rows)
                            .as(query)
                            .containsExactlyElementsOf(
                                    rows(
                                            sum(
                                                    billed,
                                                    e -> day(e) + "|" + e.getModality(),
                                                    CookbookAnswers::tokens)));
            case "top-regions" ->
                    assertThat(rows)
                            .as(query)
                            .containsExactlyElementsOf(
                                    top(
                                            5,
                                            sum(
                                                    billed,
                                                    UsageEvent::getRegion,
                                                    CookbookAnswers::tokens),
                                            sum(billed, UsageEvent::getRegion, e -> 1L)));
            case "fastest-growing-models" ->
                    assertThat(rows).as(query).containsExactlyElementsOf(growth());
            case "heaviest-accounts" ->
                    assertThat(rows)
                            .as(query)
                            .containsExactlyElementsOf(
                                    top(
                                            10,
                                            sum(
                                                    billed,
                                                    UsageEvent::getAccountId,
                                                    CookbookAnswers::tokens),
                                            sum(billed, UsageEvent::getAccountId, e -> 1L)));
            case "adjustments-effect" ->
                    assertThat(rows).as(query).containsExactlyElementsOf(adjustments(rows));
            case "rejected-by-reason" ->
                    assertThat(rows)
                            .as(query)
                            .containsExactlyInAnyOrderElementsOf(
                                    expected.rejectedByReason().entrySet().stream()
                                            .map(
                                                    e ->
                                                            List.of(
                                                                    e.getKey().name(),
                                                                    Long.toString(e.getValue())))
                                            .toList());
            case "hourly-profile" -> {
                Map<String, Long> tokens = sum(onFirstDay(), this::hour, CookbookAnswers::tokens);
                Map<String, Long> events = sum(onFirstDay(), this::hour, e -> 1L);
                assertThat(rows)
                        .as(query)
                        .containsExactlyElementsOf(
                                tokens.keySet().stream()
                                        .map(
                                                h ->
                                                        List.of(
                                                                h,
                                                                Long.toString(tokens.get(h)),
                                                                Long.toString(events.get(h))))
                                        .toList());
            }
            case "accounts-over-threshold" ->
                    assertThat(rows).as(query).containsExactlyElementsOf(overThreshold());
            case "code-tokens-by-model" -> {
                List<UsageEvent> code =
                        billed.stream().filter(e -> e.getModality().name().equals("CODE")).toList();
                assertThat(rows)
                        .as(query)
                        .containsExactlyElementsOf(
                                top(
                                        Integer.MAX_VALUE,
                                        sum(code, UsageEvent::getModel, CookbookAnswers::tokens),
                                        null));
            }
            case "ledger-balance" ->
                    assertThat(rows)
                            .as(query)
                            .singleElement()
                            .satisfies(
                                    row ->
                                            assertThat(row)
                                                    .containsExactly(
                                                            row.get(0),
                                                            Long.toString(expected.totalRecords()),
                                                            Long.toString(expected.billedEvents()),
                                                            Long.toString(
                                                                    expected.records(
                                                                            Kind.DUPLICATE)),
                                                            Long.toString(
                                                                    expected.rejectedRecords()),
                                                            "0"));
            default -> throw new AssertionError("no check for cookbook query '" + query + "'");
        }
    }

    private List<UsageEvent> onFirstDay() {
        return billed.stream().filter(e -> day(e).equals(FIRST_DAY.toString())).toList();
    }

    private List<List<String>> growth() {
        Map<String, long[]> byModel = new TreeMap<>();
        for (UsageEvent e : billed) {
            String day = day(e);
            long[] t = byModel.computeIfAbsent(e.getModel(), m -> new long[2]);
            if (day.equals(FIRST_DAY.toString())) {
                t[0] += tokens(e);
            } else if (day.equals(SECOND_DAY.toString())) {
                t[1] += tokens(e);
            }
        }
        return byModel.entrySet().stream()
                .sorted(
                        Comparator.comparingLong(
                                        (Map.Entry<String, long[]> e) ->
                                                e.getValue()[1] - e.getValue()[0])
                                .reversed())
                .limit(5)
                .map(
                        e ->
                                List.of(
                                        e.getKey(),
                                        Long.toString(e.getValue()[0]),
                                        Long.toString(e.getValue()[1]),
                                        Long.toString(e.getValue()[1] - e.getValue()[0])))
                .toList();
    }

    private List<List<String>> adjustments(List<List<String>> rows) {
        // Late events are those of already closed days: exactly what the ADJUSTMENT records carry.
        Map<String, Long> billedTokens = sum(billed, this::day, CookbookAnswers::tokens);
        Map<String, Long> lateTokens = sum(late, this::day, CookbookAnswers::tokens);
        Map<String, String> adjustmentRecords = new HashMap<>();
        rows.forEach(r -> adjustmentRecords.put(r.get(0), r.get(4)));
        assertThat(lateTokens).as("the workload has late events").isNotEmpty();
        return billedTokens.keySet().stream()
                .map(
                        day -> {
                            long adjustment = lateTokens.getOrDefault(day, 0L);
                            long total = billedTokens.get(day);
                            // The number of ADJUSTMENT records depends on how late events group
                            // into them; it is taken from the answer, and must be positive exactly
                            // where there were late tokens.
                            String records = adjustmentRecords.getOrDefault(day, "?");
                            assertThat(Long.parseLong(records) > 0)
                                    .as("adjustment records on " + day)
                                    .isEqualTo(adjustment > 0);
                            return List.of(
                                    day,
                                    Long.toString(total - adjustment),
                                    Long.toString(adjustment),
                                    Long.toString(total),
                                    records);
                        })
                .toList();
    }

    private List<List<String>> overThreshold() {
        Map<String, Long> byAccountDay =
                sum(billed, e -> day(e) + "|" + e.getAccountId(), CookbookAnswers::tokens);
        Map<String, long[]> byDay = new TreeMap<>();
        byAccountDay.forEach(
                (key, tokens) -> {
                    if (tokens >= THRESHOLD) {
                        long[] d = byDay.computeIfAbsent(key.split("\\|")[0], k -> new long[2]);
                        d[0]++;
                        d[1] += tokens;
                    }
                });
        assertThat(byDay).as("some accounts cross the threshold").isNotEmpty();
        return byDay.entrySet().stream()
                .map(
                        e ->
                                List.of(
                                        e.getKey(),
                                        Long.toString(e.getValue()[0]),
                                        Long.toString(e.getValue()[1])))
                .toList();
    }

    /** The top {@code n} keys by {@code tokens}, as rows key, tokens[, events]. */
    private static List<List<String>> top(
            int n, Map<String, Long> tokens, Map<String, Long> events) {
        return tokens.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(n)
                .map(
                        e ->
                                events == null
                                        ? List.of(e.getKey(), Long.toString(e.getValue()))
                                        : List.of(
                                                e.getKey(),
                                                Long.toString(e.getValue()),
                                                Long.toString(events.get(e.getKey()))))
                .toList();
    }

    /** Sums per key, keys in order; a key "a|b" becomes the columns a, b. */
    private static List<List<String>> rows(Map<String, Long> sums) {
        return sums.entrySet().stream()
                .map(
                        e -> {
                            List<String> row = new ArrayList<>(List.of(e.getKey().split("\\|")));
                            row.add(Long.toString(e.getValue()));
                            return List.copyOf(row);
                        })
                .toList();
    }

    private static Map<String, Long> sum(
            List<UsageEvent> events,
            Function<UsageEvent, String> key,
            Function<UsageEvent, Long> value) {
        Map<String, Long> sums = new TreeMap<>();
        for (UsageEvent e : events) {
            sums.merge(key.apply(e), value.apply(e), Long::sum);
        }
        return sums;
    }

    private String day(UsageEvent e) {
        return LocalDate.ofInstant(e.getEventTime(), zone).toString();
    }

    private String hour(UsageEvent e) {
        return ZonedDateTime.ofInstant(e.getEventTime(), zone)
                .format(DateTimeFormatter.ofPattern("HH:00"));
    }

    private static long tokens(UsageEvent e) {
        return e.getInputTokens() + e.getOutputTokens() + e.getCachedTokens();
    }
}
