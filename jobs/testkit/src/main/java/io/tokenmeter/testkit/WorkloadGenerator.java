package io.tokenmeter.testkit;

import io.tokenmeter.avro.Modality;
import io.tokenmeter.avro.UsageEvent;
import io.tokenmeter.schema.AvroCodec;
import io.tokenmeter.testkit.GeneratedRecord.Kind;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Arrays;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.core.source64.SplitMix64;
import org.apache.commons.rng.sampling.distribution.RejectionInversionZipfSampler;
import org.apache.commons.rng.sampling.distribution.SharedStateDiscreteSampler;
import org.apache.commons.rng.sampling.distribution.ZigguratSampler;

/**
 * A realistic, seeded and deterministic usage workload. Record {@code i} is a pure function of the
 * seed and {@code i}, so the workload can be produced in any order or in parallel (as a Flink
 * source) and always holds the same records; {@link ExpectedTotals} says what a correct pipeline
 * must bill for it.
 *
 * <p>Shape: accounts drawn with Zipf skew (optionally one huge account on top); 31 provincial
 * regions weighted by population; a modality mix led by text and code with models per modality;
 * log-normal (heavy-tailed) token counts per modality; event times advancing evenly over the span
 * with ±30 s jitter; duplicates repeat an event from shortly before byte for byte; late events land
 * up to 6 h before the previous local midnight.
 */
public final class WorkloadGenerator {

    static final String[] REGIONS = {
        "CN-GD", "CN-SD", "CN-HA", "CN-JS", "CN-SC", "CN-HE", "CN-ZJ", "CN-HN", "CN-AH", "CN-HB",
                "CN-GX",
        "CN-YN", "CN-JX", "CN-LN", "CN-FJ", "CN-SN", "CN-GZ", "CN-SX", "CN-CQ", "CN-HL", "CN-XJ",
                "CN-SH",
        "CN-GS", "CN-NM", "CN-JL", "CN-BJ", "CN-TJ", "CN-HI", "CN-NX", "CN-QH", "CN-XZ"
    };

    /** Population in millions (2020 census, rounded), the weight of each region above. */
    private static final double[] REGION_WEIGHTS = {
        126, 102, 99, 85, 84, 75, 65, 66, 61, 58, 50, 47, 45, 43, 41, 40, 39, 35, 32, 32, 26, 25,
        25, 24, 24, 22, 14, 10, 7, 6, 4
    };

    private static final Modality[] MODALITIES = {
        Modality.TEXT, Modality.CODE, Modality.IMAGE, Modality.AUDIO, Modality.VIDEO
    };
    private static final double[] MODALITY_WEIGHTS = {0.70, 0.18, 0.06, 0.04, 0.02};
    private static final String[][] MODELS = {
        {
            "deepseek-v3.2",
            "qwen3-max",
            "doubao-seed-1.6",
            "glm-4.6",
            "kimi-k2",
            "ernie-4.5",
            "hunyuan-t1"
        },
        {"qwen3-coder-plus", "deepseek-v3.2", "glm-4.6", "kimi-k2"},
        {"qwen-image", "seedream-4.0", "hunyuan-image-3"},
        {"cosyvoice-2", "doubao-seed-tts"},
        {"wan2.5-t2v", "seedance-1.0"},
    };
    private static final double[][] MODEL_WEIGHTS = {
        {0.28, 0.20, 0.20, 0.10, 0.10, 0.07, 0.05},
        {0.45, 0.30, 0.15, 0.10},
        {0.40, 0.35, 0.25},
        {0.50, 0.50},
        {0.50, 0.50},
    };

    /** Per modality: median input tokens, its log-normal sigma, median output tokens, its sigma. */
    private static final double[][] TOKEN_SHAPE = {
        {900, 1.0, 350, 0.9},
        {3000, 1.1, 600, 1.0},
        {150, 0.5, 1300, 0.3},
        {200, 0.6, 2500, 0.7},
        {200, 0.5, 30000, 0.5},
    };

    private static final long MAX_TOKENS_PER_FIELD = 2_000_000;
    private static final int GATEWAYS = 12;
    private static final long JITTER_MILLIS = 30_000;
    private static final long LATE_MAX_BACK_MILLIS = 6 * 3600_000L;
    private static final int DUPLICATE_LOOKBACK = 10_000;

    /**
     * A retry repeats a record at most this much stream time earlier: well inside the default 24 h
     * dedup horizon.
     */
    private static final long DUPLICATE_MAX_BACK_MILLIS = 12 * 3600_000L;

    /** Beyond the 35-day correction horizon whatever the watermark, once the stream has started. */
    private static final long TOO_LATE_BACK_MILLIS = 60 * 86_400_000L;

    private static final Instant FAR_FUTURE = Instant.parse("2100-01-01T00:00:00Z");
    private static final int OVERSIZED_BYTES = 100_000;

    private final WorkloadSpec spec;

    /**
     * How many records back a retry may reach: DUPLICATE_LOOKBACK, fewer in a workload too thin for
     * 12 h of it.
     */
    private final long duplicateLookback;

    private final AvroCodec<UsageEvent> codec = AvroCodec.usageEvents();
    private final SharedStateDiscreteSampler accountSampler;
    private final ZigguratSampler.NormalizedGaussian gaussian;
    private final double[] regionCdf = cdf(REGION_WEIGHTS);
    private final double[] modalityCdf = cdf(MODALITY_WEIGHTS);
    private final double[][] modelCdfs =
            Arrays.stream(MODEL_WEIGHTS).map(WorkloadGenerator::cdf).toArray(double[][]::new);
    private final int accountDigits;

    public WorkloadGenerator(WorkloadSpec spec) {
        this.spec = spec;
        SplitMix64 seedRng = new SplitMix64(spec.seed());
        this.accountSampler =
                RejectionInversionZipfSampler.of(seedRng, spec.accounts(), spec.zipfExponent());
        this.gaussian = ZigguratSampler.NormalizedGaussian.of(seedRng);
        this.accountDigits = Integer.toString(spec.accounts()).length();
        double recordsPerMilli = (double) spec.events() / Math.max(1, spec.span().toMillis());
        this.duplicateLookback =
                Math.max(
                        1,
                        Math.min(
                                DUPLICATE_LOOKBACK,
                                (long) (recordsPerMilli * DUPLICATE_MAX_BACK_MILLIS)));
    }

    public WorkloadSpec spec() {
        return spec;
    }

    /** Record {@code index} of the workload, 0 ≤ index < events. */
    public GeneratedRecord record(long index) {
        UniformRandomProvider rng = rngFor(index);
        double u = rng.nextDouble();
        double malformed = spec.malformedRate();
        double duplicate = malformed + spec.duplicateRate();
        double late = duplicate + spec.lateRate();
        if (u < malformed) {
            return malformedRecord(index, rng);
        }
        if (u < duplicate && index > 0) {
            long original = index - 1 - rng.nextLong(Math.min(index, duplicateLookback));
            Kind originalKind = kindOf(original);
            if (originalKind == Kind.VALID || originalKind == Kind.LATE) {
                GeneratedRecord first = record(original);
                return new GeneratedRecord(
                        first.key(), first.value(), Kind.DUPLICATE, first.event());
            }
            // Nothing to repeat there: this one is a first delivery.
        }
        UsageEvent event = event(index, rng);
        Kind kind = Kind.VALID;
        if (u >= duplicate && u < late) {
            long eventTime = event.getEventTime().toEpochMilli();
            long dayStart = dayStart(eventTime);
            // Only an hour into a day is the previous day surely closed (2 min out-of-orderness +
            // 15 min grace).
            if (eventTime - dayStart >= 3600_000L) {
                event.setEventTime(
                        Instant.ofEpochMilli(dayStart - 1 - rng.nextLong(LATE_MAX_BACK_MILLIS)));
                kind = Kind.LATE;
            }
        }
        return new GeneratedRecord(event.getAccountId(), codec.encode(event), kind, event);
    }

    private Kind kindOf(long index) {
        double u = rngFor(index).nextDouble();
        if (u < spec.malformedRate()) {
            return Kind.MALFORMED;
        }
        if (u < spec.malformedRate() + spec.duplicateRate() && index > 0) {
            return Kind.DUPLICATE;
        }
        if (u < spec.malformedRate() + spec.duplicateRate() + spec.lateRate()) {
            return Kind.LATE; // or VALID, when too early in its day: either way a first delivery
        }
        return Kind.VALID;
    }

    /** A record the job must reject, of one of the kinds with a reject reason. */
    private GeneratedRecord malformedRecord(long index, UniformRandomProvider rng) {
        UsageEvent event = event(index, rng);
        byte[] valid = codec.encode(event);
        String key = event.getAccountId();
        switch (rng.nextInt(10)) {
            case 0 -> {
                byte[] garbage = new byte[1 + rng.nextInt(200)];
                rng.nextBytes(garbage);
                garbage[0] &= 0x7F; // never the single-object marker C3
                if (garbage[0] == 0) {
                    garbage[0] =
                            1; // nor the registry framing's magic byte 00: garbage, not a schema id
                }
                return new GeneratedRecord(key, garbage, Kind.MALFORMED, null);
            }
            case 1 -> {
                return new GeneratedRecord(
                        key, Arrays.copyOf(valid, rng.nextInt(valid.length)), Kind.MALFORMED, null);
            }
            case 2 -> {
                valid[1] ^= (byte) 0xFF;
                return new GeneratedRecord(key, valid, Kind.MALFORMED, null);
            }
            case 3 -> {
                for (int i = 2; i < 10; i++) {
                    valid[i] = (byte) rng.nextInt();
                }
                return new GeneratedRecord(key, valid, Kind.UNKNOWN_SCHEMA, null);
            }
            case 4 -> {
                event.setAccountId("");
                return new GeneratedRecord(null, codec.encode(event), Kind.MISSING_FIELD, null);
            }
            case 5 -> {
                if (rng.nextBoolean()) {
                    event.setOutputTokens(-event.getOutputTokens());
                } else {
                    event.setInputTokens(1_000_000_000_000L);
                }
                return new GeneratedRecord(
                        key, codec.encode(event), Kind.TOKENS_OUT_OF_RANGE, null);
            }
            case 6 -> {
                event.setEventTime(FAR_FUTURE);
                return new GeneratedRecord(key, codec.encode(event), Kind.FUTURE_TIMESTAMP, null);
            }
            case 7 -> {
                event.setModel("x".repeat(OVERSIZED_BYTES));
                return new GeneratedRecord(key, codec.encode(event), Kind.OVERSIZED, null);
            }
            case 8 -> {
                GeneratedRecord conflicting = conflictingDuplicate(index, rng);
                if (conflicting != null) {
                    return conflicting;
                }
                return new GeneratedRecord(key, new byte[] {0}, Kind.MALFORMED, null);
            }
            default -> {
                // Only once the stream is well under way is the watermark surely past the horizon's
                // deadline.
                if (index < spec.events() / 2) {
                    return new GeneratedRecord(key, new byte[] {1}, Kind.MALFORMED, null);
                }
                event.setEventTime(
                        Instant.ofEpochMilli(
                                event.getEventTime().toEpochMilli() - TOO_LATE_BACK_MILLIS));
                return new GeneratedRecord(key, codec.encode(event), Kind.TOO_LATE, null);
            }
        }
    }

    /**
     * An earlier first delivery's (source, event_id) with one more output token, or null if there
     * is none.
     */
    private GeneratedRecord conflictingDuplicate(long index, UniformRandomProvider rng) {
        if (index == 0) {
            return null;
        }
        long original = index - 1 - rng.nextLong(Math.min(index, duplicateLookback));
        Kind originalKind = kindOf(original);
        if (originalKind != Kind.VALID && originalKind != Kind.LATE) {
            return null;
        }
        UsageEvent event = UsageEvent.newBuilder(record(original).event()).build();
        event.setOutputTokens(event.getOutputTokens() + 1);
        return new GeneratedRecord(
                event.getAccountId(), codec.encode(event), Kind.CONFLICTING_DUPLICATE, null);
    }

    private UsageEvent event(long index, UniformRandomProvider rng) {
        int rank =
                spec.hotAccountShare() > 0 && rng.nextDouble() < spec.hotAccountShare()
                        ? 1
                        : accountSampler.withUniformRandomProvider(rng).sample();
        int modality = pick(modalityCdf, rng);
        String model = MODELS[modality][pick(modelCdfs[modality], rng)];
        double[] shape = TOKEN_SHAPE[modality];
        long input = logNormal(shape[0], shape[1], rng);
        long output = logNormal(shape[2], shape[3], rng);
        long cached = 0;
        if (modality <= 1 && rng.nextDouble() < 0.4) {
            cached = (long) (input * (0.2 + 0.7 * rng.nextDouble()));
            input -= cached;
        }
        long nominal = spec.start().toEpochMilli() + spec.span().toMillis() * index / spec.events();
        long eventTime = nominal - JITTER_MILLIS + rng.nextLong(2 * JITTER_MILLIS + 1);
        return UsageEvent.newBuilder()
                .setEventId(Long.toHexString(mix(spec.seed() ^ index)) + "-" + index)
                .setSource("gateway-" + rng.nextInt(GATEWAYS))
                .setAccountId(accountId(rank))
                .setRegion(REGIONS[regionOf(rank)])
                .setModel(model)
                .setModality(MODALITIES[modality])
                .setInputTokens(input)
                .setOutputTokens(output)
                .setCachedTokens(cached)
                .setEventTime(Instant.ofEpochMilli(eventTime))
                .build();
    }

    /** "acct-" and the account's rank, zero-padded so that ids sort by rank. */
    public String accountId(int rank) {
        String digits = Integer.toString(rank);
        return "acct-" + "0".repeat(accountDigits - digits.length()) + digits;
    }

    /** An account's region never changes: a hash of the account, weighted by population. */
    private int regionOf(int rank) {
        double u = (mix(spec.seed() * 31 + rank) >>> 11) * 0x1.0p-53;
        return search(regionCdf, u);
    }

    private long logNormal(double median, double sigma, UniformRandomProvider rng) {
        double value = median * Math.exp(sigma * gaussian.withUniformRandomProvider(rng).sample());
        return Math.max(1, Math.min(MAX_TOKENS_PER_FIELD, Math.round(value)));
    }

    private long dayStart(long eventTime) {
        LocalDate day = LocalDate.ofInstant(Instant.ofEpochMilli(eventTime), spec.billingZone());
        return day.atStartOfDay(spec.billingZone()).toInstant().toEpochMilli();
    }

    private UniformRandomProvider rngFor(long index) {
        return new SplitMix64(mix(spec.seed() + 0x9E3779B97F4A7C15L * (index + 1)));
    }

    private static int pick(double[] cdf, UniformRandomProvider rng) {
        return search(cdf, rng.nextDouble());
    }

    private static int search(double[] cdf, double u) {
        for (int i = 0; i < cdf.length - 1; i++) {
            if (u < cdf[i]) {
                return i;
            }
        }
        return cdf.length - 1;
    }

    private static double[] cdf(double[] weights) {
        double total = Arrays.stream(weights).sum();
        double[] cdf = new double[weights.length];
        double running = 0;
        for (int i = 0; i < weights.length; i++) {
            running += weights[i] / total;
            cdf[i] = running;
        }
        return cdf;
    }

    /** The SplitMix64 finaliser: spreads consecutive seeds over the whole 64-bit range. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
